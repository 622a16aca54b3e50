"""A composite comparison that tells the truth, Absolute profiles without startSchedule, and
state that follows the charge point (availability Scheduled, local list status), with the
simulator acting like the charger stacks of issue 15 (simulator/stacks.py) against a real CSMS
on SQLite and PostgreSQL (docs/charger-compatibility.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.simulator import SimulatedChargePoint
from csms.simulator.state import InstalledProfile
from tests.harness import Harness

TAG = "STATE-TAG"


@pytest.fixture
async def tagged(harness: Harness) -> AsyncIterator[Harness]:
    response = await harness.api.put(f"/id-tags/{TAG}", json={"status": "Accepted"})
    assert response.status_code == 200, response.text
    yield harness


async def get(harness: Harness, path: str, **params: Any) -> Any:
    response = await harness.api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def post(harness: Harness, path: str, body: Any) -> Any:
    response = await harness.api.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def wire(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def schedule(*periods: tuple[int, float], duration: int | None = None) -> dict[str, Any]:
    made: dict[str, Any] = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": limit} for s, limit in periods],
    }
    if duration is not None:
        made["duration"] = duration
    return made


def profile(
    profile_id: int, purpose: str, kind: str, sched: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": sched,
        **fields,
    }


async def install(harness: Harness, cp: SimulatedChargePoint, wire_profile: dict[str, Any]) -> Any:
    answer = await post(
        harness,
        f"/charge-points/{cp.charge_point_id}/charging-profiles",
        {"connectorId": 1, "csChargingProfiles": wire_profile},
    )
    call = await cp.expect_call("SetChargingProfile")
    assert answer["status"] == "Accepted", answer
    return call.payload["csChargingProfiles"]


async def compare(harness: Harness, cp: SimulatedChargePoint, duration: int = 60) -> Any:
    body = await get(
        harness,
        f"/charge-points/{cp.charge_point_id}/composite-schedule",
        connectorId=1,
        duration=duration,
        chargingRateUnit="A",
        compare="true",
    )
    await cp.expect_call("GetCompositeSchedule")
    return body


def reported(body: dict[str, Any]) -> list[tuple[int, float]]:
    periods = body["chargePoint"]["chargingSchedule"]["chargingSchedulePeriod"]
    return [(p["startPeriod"], p["limit"]) for p in periods]


# -- the composite comparison -----------------------------------------------------------------


async def charging_with_a_short_tx_profile(harness: Harness, cp: SimulatedChargePoint) -> None:
    """TxDefaultProfile 16 A; the transaction's TxProfile 8 A for its first 30 s."""
    await cp.boot_and_report()
    await install(harness, cp, profile(1, "TxDefaultProfile", "Relative", schedule((0, 16))))
    await cp.start_transaction(1, TAG)
    await install(harness, cp, profile(2, "TxProfile", "Relative", schedule((0, 8), duration=30)))


async def test_the_tx_default_fallback_of_a_stack_is_named(tagged: Harness) -> None:
    harness = tagged
    async with harness.charge_point("CPP", stack="cpp") as cp:
        await charging_with_a_short_tx_profile(harness, cp)
        body = await compare(harness, cp)
        # Spec 3.13.1 as the CSMS reads it: after the TxProfile no limit; the stack: 16 A.
        (difference,) = body["differences"]
        assert 25 <= difference["startPeriod"] <= 31 and difference["endPeriod"] == 60
        assert (difference["csms"], difference["chargePoint"]) == (None, 16.0)
        assert difference["txDefaultFallback"] is True
        assert body["agree"] is False
        assert (body["chargePointReading"], body["expectedReading"]) == (
            "txDefaultFallback",
            "txDefaultFallback",
        )
        # Its millisecond clock: a scheduleStart inside a second.
        assert body["chargePoint"]["scheduleStart"].endswith("Z")
        assert "." in body["chargePoint"]["scheduleStart"]


async def test_a_stack_that_reads_it_as_the_csms_agrees(tagged: Harness) -> None:
    harness = tagged
    async with harness.charge_point("PLAIN") as cp:
        await charging_with_a_short_tx_profile(harness, cp)
        body = await compare(harness, cp)
        # Its own maximum (32 A, its charger profile's localLimitAmps) where the CSMS has none.
        assert reported(body)[-1][1] == 32
        assert (body["agree"], body["differences"]) == (True, []), body
        assert (body["chargePointReading"], body["expectedReading"]) == (None, None)


async def test_minus_one_is_no_limit_and_no_limit_differs_from_a_limit(tagged: Harness) -> None:
    harness = tagged
    async with harness.charge_point("CPP", stack="cpp") as cpp:
        await cpp.boot()
        body = await compare(harness, cpp)
        assert reported(body) == [(0, -1)]
        assert (body["agree"], body["differences"]) == (True, [])
    async with harness.charge_point("PLAIN") as plain:
        await plain.boot()
        # A profile the CSMS does not know about (installed behind its back).
        plain.state.charging_profiles.append(
            InstalledProfile(
                connector_id=1, profile=profile(9, "TxDefaultProfile", "Relative", schedule((0, 6)))
            )
        )
        body = await compare(harness, plain)
        assert body["agree"] is False
        assert body["differences"] == [
            {
                "startPeriod": 0,
                "endPeriod": 60,
                "csms": None,
                "chargePoint": 6.0,
                "covered": True,
                "txDefaultFallback": False,
            }
        ]


async def test_an_edge_inside_a_second_of_a_millisecond_clock_agrees(tagged: Harness) -> None:
    harness = tagged
    async with harness.charge_point("CPP", stack="cpp") as cp:
        await cp.boot()
        start = datetime.now(UTC).replace(microsecond=0)
        await install(
            harness,
            cp,
            profile(
                3,
                "TxDefaultProfile",
                "Absolute",
                schedule((0, 10), (20, 6)),
                validFrom=wire(start - timedelta(hours=1)),
            )
            | {"chargingSchedule": schedule((0, 10), (20, 6)) | {"startSchedule": wire(start)}},
        )
        body = await compare(harness, cp)
        assert [limit for _, limit in reported(body)] == [10, 6]
        assert (body["agree"], body["differences"]) == (True, []), body


# -- Absolute profiles without startSchedule (spec 7.13) ---------------------------------------


async def test_absolute_without_start_schedule_starts_when_installed(tagged: Harness) -> None:
    harness = tagged
    async with harness.charge_point("PLAIN") as cp:
        await cp.boot()
        sent = await install(
            harness,
            cp,
            profile(4, "TxDefaultProfile", "Absolute", schedule((0, 6), duration=120)),
        )
        assert "startSchedule" not in sent["chargingSchedule"]  # no rule for this stack
        ours = await get(
            harness, "/charge-points/PLAIN/composite-schedule", connectorId=1, duration=300
        )
        assert ours["ignoredProfiles"] == []
        (first, second) = ours["chargingSchedulePeriod"]
        assert first["limit"] == 6.0 and second["limit"] is None
        assert 115 <= second["startPeriod"] <= 121
        body = await compare(harness, cp, duration=300)
        assert (body["agree"], body["differences"]) == (True, []), body


async def test_absolute_without_start_schedule_gets_one_under_the_rule(tagged: Harness) -> None:
    harness = tagged
    async with harness.charge_point("CPP", stack="cpp") as cp:
        await cp.boot()
        before = datetime.now(UTC) - timedelta(seconds=1)
        sent = await install(
            harness, cp, profile(5, "TxDefaultProfile", "Absolute", schedule((0, 6)))
        )
        start = datetime.fromisoformat(sent["chargingSchedule"]["startSchedule"])
        assert before <= start <= datetime.now(UTC)
        valid_from = wire(datetime.now(UTC) + timedelta(minutes=5))
        sent = await install(
            harness,
            cp,
            profile(6, "TxDefaultProfile", "Absolute", schedule((0, 8)), stackLevel=1)
            | {"validFrom": valid_from},
        )
        assert sent["chargingSchedule"]["startSchedule"] == valid_from
        described = await get(harness, "/charge-points/CPP/charger-profile")
        assert ("startSchedule", "SetChargingProfile") in [
            (a["rule"], a["action"]) for a in described["adaptations"]
        ]


# -- state that matches the charge point ------------------------------------------------------


async def availability(harness: Harness, charge_point_id: str) -> list[tuple[int, str, str]]:
    body = await get(harness, f"/charge-points/{charge_point_id}")
    return [(a["connectorId"], a["requested"], a["status"]) for a in body["availability"]]


async def test_scheduled_availability_takes_effect_when_the_transaction_ends(
    tagged: Harness,
) -> None:
    harness = tagged
    async with harness.charge_point("AV") as cp:
        await cp.boot_and_report()
        started = await cp.start_transaction(1, TAG)
        await cp.status_notification(1, "Charging")
        answer = await post(
            harness,
            "/charge-points/AV/change-availability",
            {"connectorId": 1, "type": "Inoperative"},
        )
        await cp.expect_call("ChangeAvailability")
        assert answer == {"status": "Scheduled"}
        assert await availability(harness, "AV") == [(1, "Inoperative", "Scheduled")]
        await cp.status_notification(1, "Finishing")
        await cp.stop_transaction(started["transactionId"], 10)
        assert await availability(harness, "AV") == [(1, "Inoperative", "Scheduled")]
        # The connection lost and back without a boot; the report's answer lost once.
        await cp.drop_and_reconnect()
        cp.lose_next_answer()
        await cp.status_notification(1, "Unavailable")
        assert await availability(harness, "AV") == [(1, "Inoperative", "Accepted")]
        # Another connector's report changes nothing of it.
        await cp.status_notification(2, "Available")
        assert await availability(harness, "AV") == [(1, "Inoperative", "Accepted")]


async def test_local_list_is_never_in_sync_next_to_pending_changes(harness: Harness) -> None:
    for tag in "ABCDEF":
        response = await harness.api.put(f"/id-tags/{tag}", json={"status": "Accepted"})
        assert response.status_code == 200, response.text
    response = await harness.api.put("/local-list-policies/everyone", json={"kind": "all"})
    assert response.status_code in (200, 201), response.text
    async with harness.charge_point("LL") as cp:
        await cp.boot()
        response = await harness.api.put(
            "/charge-points/LL/local-list/policy", json={"policy": "everyone"}
        )
        assert response.status_code == 200, response.text
        raw = {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}],
        }
        assert await post(harness, "/charge-points/LL/commands/SendLocalList", raw) == {
            "status": "Accepted"
        }
        await cp.expect_call("SendLocalList")
        stored = await get(harness, "/charge-points/LL/local-list")
        assert (stored["status"], stored["version"], len(stored["pendingChanges"])) == (
            "PendingChanges",
            1,
            5,
        )
        # The pending changes sent: in sync.
        sent = await post(
            harness, "/charge-points/LL/local-list/send", {"updateType": "Differential"}
        )
        call = await cp.expect_call("SendLocalList")
        assert len(call.payload["localAuthorizationList"]) == 5, sent
        stored = await get(harness, "/charge-points/LL/local-list")
        assert (stored["status"], stored["version"], stored["pendingChanges"]) == (
            "InSync",
            2,
            [],
        )
        assert sorted(cp.state.local_list) == list("ABCDEF")
