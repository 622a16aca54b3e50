"""Site load management on a real server with simulated charge points: what is sent when a
transaction starts or stops, a car stops drawing or draws less, a limit changes, a charge point
is offline or refuses; lowerings before raises; paused below the minimum; nested groups, W
limits, priorities; the fallback TxDefaultProfile; off in certification mode."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness import Harness, csms

from csms.ocppj import Call
from csms.simulator import SimulatedChargePoint
from csms.simulator.meter import default_sampled_values
from csms.storage import IdTag

TAGS = [f"TAG-{n}" for n in range(8)]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """Outside certification mode (load management on), without the configuration read at
    boot (so that the charge points see only load management's CALLs)."""
    async with csms(
        tmp_path / "csms.db", certification_mode=False, fetch_configuration_on_boot=False
    ) as running:
        for tag in TAGS:
            await running.store.put_id_tag(IdTag(id_tag=tag, status="Accepted"))
        yield running


async def settled(harness: Harness) -> None:
    await harness.app.services.load.wait_idle()


async def booted(harness: Harness, name: str, connectors: int = 1) -> SimulatedChargePoint:
    cp = harness.charge_point(name, connectors=connectors)
    await cp.connect()
    await cp.boot_and_report()
    return cp


async def group(harness: Harness, **fields: Any) -> int:
    response = await harness.api.post("/load-groups", json={"name": "site", **fields})
    assert response.status_code == 201, response.text
    group_id: int = response.json()["id"]
    return group_id


async def join(harness: Harness, group_id: int, cp: SimulatedChargePoint, **fields: Any) -> None:
    response = await harness.api.put(
        f"/load-groups/{group_id}/members/{cp.charge_point_id}", json=fields
    )
    assert response.status_code == 200, response.text
    await settled(harness)


async def calls(cp: SimulatedChargePoint) -> list[Call]:
    found = []
    while True:
        try:
            found.append(await cp.expect_call(timeout=0.001))
        except AssertionError:
            return found


async def limits(cp: SimulatedChargePoint) -> list[tuple[str, int, float]]:
    """The SetChargingProfile calls received since last asked: (purpose, connector, limit)."""
    found = []
    for call in await calls(cp):
        assert call.action == "SetChargingProfile", call
        profile = call.payload["csChargingProfiles"]
        period = profile["chargingSchedule"]["chargingSchedulePeriod"]
        assert len(period) == 1 and period[0]["startPeriod"] == 0
        found.append(
            (profile["chargingProfilePurpose"], call.payload["connectorId"], period[0]["limit"])
        )
    return found


async def start(harness: Harness, cp: SimulatedChargePoint, connector_id: int, tag: str) -> int:
    await cp.status_notification(connector_id, "Preparing")
    answer = await cp.start_transaction(connector_id, tag)
    await cp.status_notification(connector_id, "Charging")
    await settled(harness)
    transaction_id: int = answer["transactionId"]
    return transaction_id


async def stop(harness: Harness, cp: SimulatedChargePoint, transaction_id: int) -> None:
    connector_id = cp.transactions[transaction_id].connector_id
    await cp.stop_transaction(transaction_id, 1000)
    await cp.status_notification(connector_id, "Finishing")
    await settled(harness)


async def allocation(harness: Harness, group_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/load-groups/{group_id}/allocation")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def in_force(harness: Harness, group_id: int) -> dict[int, float]:
    return {
        row["transactionId"]: row["inForce"]
        for row in (await allocation(harness, group_id))["transactions"]
    }


def frame_time(cp: SimulatedChargePoint, direction: str, predicate: Any) -> float:
    for frame in cp.log:
        message = json.loads(frame.text)
        if frame.direction == direction and predicate(message):
            return frame.time
    raise AssertionError(f"{cp.charge_point_id}: no such frame")


async def two_on_32_a(harness: Harness) -> tuple[int, SimulatedChargePoint, SimulatedChargePoint]:
    group_id = await group(harness, limit=32)
    cp1, cp2 = await booted(harness, "CP1"), await booted(harness, "CP2")
    await join(harness, group_id, cp1)
    await join(harness, group_id, cp2)
    assert await limits(cp1) == [("TxDefaultProfile", 0, 32), ("TxDefaultProfile", 0, 16)]
    assert await limits(cp2) == [("TxDefaultProfile", 0, 16)]
    return group_id, cp1, cp2


async def test_tx_profile_of_a_new_transaction_with_its_id_and_stack_level(
    harness: Harness,
) -> None:
    group_id, cp1, cp2 = await two_on_32_a(harness)
    transaction_id = await start(harness, cp1, 1, TAGS[0])

    (call,) = await calls(cp1)
    assert call.action == "SetChargingProfile"
    assert call.payload == {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 900001,
            "transactionId": transaction_id,
            "stackLevel": 8,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32, "numberPhases": 3}],
            },
        },
    }
    # The fallback TxDefaultProfile is one stack level lower, on connector 0.
    stored = (await harness.api.get("/charge-points/CP1/charging-profiles")).json()
    by_connector = {c["connectorId"]: c["chargingProfiles"] for c in stored["connectors"]}
    assert [(p["chargingProfilePurpose"], p["stackLevel"]) for p in by_connector[0]] == [
        ("TxDefaultProfile", 7)
    ]
    assert by_connector[1][0]["transactionId"] == transaction_id
    assert await in_force(harness, group_id) == {transaction_id: 32}
    cp1.no_unexpected_calls()
    cp2.no_unexpected_calls()


async def test_lowering_accepted_before_the_raise_is_sent(harness: Harness) -> None:
    group_id, cp1, cp2 = await two_on_32_a(harness)
    first = await start(harness, cp1, 1, TAGS[0])
    assert await limits(cp1) == [("TxProfile", 1, 32)]

    second = await start(harness, cp2, 1, TAGS[1])

    assert await limits(cp1) == [("TxProfile", 1, 16)]
    assert await limits(cp2) == [("TxProfile", 1, 16)]
    lowered = frame_time(cp1, "sent", lambda m: m[0] == 3 and m[2] == {"status": "Accepted"})
    raised = frame_time(cp2, "received", lambda m: m[0] == 2 and m[2] == "SetChargingProfile")
    assert lowered < raised
    assert await in_force(harness, group_id) == {first: 16, second: 16}

    await stop(harness, cp2, second)
    assert await limits(cp1) == [("TxProfile", 1, 32)]
    assert await limits(cp2) == []
    assert await in_force(harness, group_id) == {first: 32}


async def test_paused_below_the_minimum_and_resumed(harness: Harness) -> None:
    group_id = await group(harness, limit=16)
    cp = await booted(harness, "CP1", connectors=3)
    await join(harness, group_id, cp)
    assert await limits(cp) == [("TxDefaultProfile", 0, 5.3)]
    first = await start(harness, cp, 1, TAGS[0])
    second = await start(harness, cp, 2, TAGS[1])
    third = await start(harness, cp, 3, TAGS[2])
    await limits(cp)

    # 16 A: two transactions at 8 A; the third would get less than 6 A: paused (limit 0).
    assert await in_force(harness, group_id) == {first: 8, second: 8, third: 0}
    rows = (await allocation(harness, group_id))["transactions"]
    assert [row["paused"] for row in rows] == [False, False, True]
    assert rows[2]["reason"].startswith("paused: site (16 A) cannot give every transaction")

    await stop(harness, cp, first)
    assert await limits(cp) == [("TxProfile", 3, 8)]
    assert await in_force(harness, group_id) == {second: 8, third: 8}
    cp.no_unexpected_calls()


async def test_suspended_ev_gives_its_share_and_gets_it_back(harness: Harness) -> None:
    group_id, cp1, cp2 = await two_on_32_a(harness)
    first = await start(harness, cp1, 1, TAGS[0])
    second = await start(harness, cp2, 1, TAGS[1])
    await limits(cp1), await limits(cp2)

    await cp1.status_notification(1, "SuspendedEV")
    await settled(harness)
    assert await limits(cp1) == [("TxProfile", 1, 6)]
    assert await limits(cp2) == [("TxProfile", 1, 26)]
    row = (await allocation(harness, group_id))["transactions"][0]
    assert (
        row["reason"] == "not drawing (SuspendedEV): its group's minimum, after every charging car"
    )

    await cp1.status_notification(1, "Charging")
    await settled(harness)
    assert await limits(cp2) == [("TxProfile", 1, 16)]  # lowered first ...
    assert await limits(cp1) == [("TxProfile", 1, 16)]  # ... then raised
    assert await in_force(harness, group_id) == {first: 16, second: 16}


async def meter(cp: SimulatedChargePoint, transaction_id: int, current: float) -> None:
    connector_id = cp.transactions[transaction_id].connector_id
    await cp.meter_values(
        connector_id,
        transaction_id=transaction_id,
        sampled_values=default_sampled_values(1000, charging=True, current_a=current),
    )


async def test_measured_draw_gives_headroom_and_raises_back(harness: Harness) -> None:
    group_id, cp1, cp2 = await two_on_32_a(harness)
    first = await start(harness, cp1, 1, TAGS[0])
    second = await start(harness, cp2, 1, TAGS[1])
    await limits(cp1), await limits(cp2)

    # Allowed 16 A, the car takes 8 A: it keeps 8 + 2 A margin, the other gets the rest.
    await meter(cp1, first, 8.0)
    await harness.app.services.load.wait_idle()
    assert await limits(cp1) == [("TxProfile", 1, 10)]
    assert await limits(cp2) == [("TxProfile", 1, 22)]
    row = (await allocation(harness, group_id))["transactions"][0]
    assert (row["measuredDraw"], row["demand"]) == (8.0, 10.0)
    assert row["reason"] == "measured draw 8.0 A plus the 2 A margin"

    # Steady at 8 A: nothing new is sent.
    await meter(cp1, first, 8.0)
    await settled(harness)
    assert await limits(cp1) == [] and await limits(cp2) == []

    # It takes all it may again: back to an equal share.
    await meter(cp1, first, 10.0)
    await settled(harness)
    assert await limits(cp2) == [("TxProfile", 1, 16)]
    assert await limits(cp1) == [("TxProfile", 1, 16)]
    assert await in_force(harness, group_id) == {first: 16, second: 16}


async def test_group_limit_change(harness: Harness) -> None:
    group_id, cp1, cp2 = await two_on_32_a(harness)
    first = await start(harness, cp1, 1, TAGS[0])
    second = await start(harness, cp2, 1, TAGS[1])
    await limits(cp1), await limits(cp2)

    response = await harness.api.patch(f"/load-groups/{group_id}", json={"limit": 20})
    assert response.status_code == 200, response.text
    await settled(harness)

    assert await limits(cp1) == [("TxDefaultProfile", 0, 10), ("TxProfile", 1, 10)]
    assert await limits(cp2) == [("TxDefaultProfile", 0, 10), ("TxProfile", 1, 10)]
    assert await in_force(harness, group_id) == {first: 10, second: 10}
    history = (await harness.api.get(f"/load-groups/{group_id}/allocation/history")).json()
    assert [(h["chargePointId"], h["limit"], h["status"]) for h in history[:2]] == [
        ("CP2", 10.0, "Accepted"),
        ("CP1", 10.0, "Accepted"),
    ] or [(h["chargePointId"], h["limit"], h["status"]) for h in history[:2]] == [
        ("CP1", 10.0, "Accepted"),
        ("CP2", 10.0, "Accepted"),
    ]
    # Each record names what was sent: the fallback on connector 0, the TxProfile with its
    # transaction on connector 1.
    assert {
        (h["chargePointId"], h["chargingProfilePurpose"], h["connectorId"], h["transactionId"])
        for h in history
        if h["limit"] == 10.0
    } == {
        ("CP1", "TxDefaultProfile", 0, None),
        ("CP1", "TxProfile", 1, first),
        ("CP2", "TxDefaultProfile", 0, None),
        ("CP2", "TxProfile", 1, second),
    }


async def test_offline_charge_point_keeps_its_limit_reserved(harness: Harness) -> None:
    group_id = await group(harness, limit=32)
    cp1, cp2 = await booted(harness, "CP1"), await booted(harness, "CP2", connectors=2)
    await join(harness, group_id, cp1)
    await join(harness, group_id, cp2)
    first = await start(harness, cp1, 1, TAGS[0])
    second = await start(harness, cp2, 1, TAGS[1])
    await limits(cp1), await limits(cp2)
    assert await in_force(harness, group_id) == {first: 16, second: 16}

    await cp1.close()
    third = await start(harness, cp2, 2, TAGS[2])

    # CP1 may still draw its 16 A: the two on CP2 share the other 16 A.
    assert await limits(cp2) == [("TxProfile", 1, 8), ("TxProfile", 2, 8)]
    rows = {
        row["transactionId"]: row for row in (await allocation(harness, group_id))["transactions"]
    }
    assert rows[first]["reserved"] and rows[first]["inForce"] == 16
    assert "offline" in rows[first]["reason"]

    # Back online: it is allocated like the others again.
    await cp1.connect()
    await cp1.boot()
    await settled(harness)
    # Lowered first; the fallback (reinstalled after the boot) is no lowering.
    assert await limits(cp1) == [("TxProfile", 1, 10.6), ("TxDefaultProfile", 0, 10.6)]
    assert await limits(cp2) == [("TxProfile", 1, 10.6), ("TxProfile", 2, 10.6)]
    assert await in_force(harness, group_id) == {first: 10.6, second: 10.6, third: 10.6}


async def test_refused_lowering_keeps_the_old_limit_reserved(harness: Harness) -> None:
    group_id, cp1, cp2 = await two_on_32_a(harness)
    first = await start(harness, cp1, 1, TAGS[0])
    await limits(cp1)
    cp1.answers["SetChargingProfile"] = {"status": "Rejected"}

    second = await start(harness, cp2, 1, TAGS[1])

    assert await limits(cp1) == [("TxProfile", 1, 16)]  # refused: 32 A still in force
    # Nothing is left for the second transaction: it is paused.
    assert await limits(cp2) == [("TxProfile", 1, 0)]
    assert await in_force(harness, group_id) == {first: 32, second: 0}
    history = (await harness.api.get(f"/load-groups/{group_id}/allocation/history")).json()
    refused = [h for h in history if h["status"] == "Rejected"]
    assert [(h["chargePointId"], h["transactionId"], h["limit"]) for h in refused] == [
        ("CP1", first, 16.0)
    ]
    # The allocation's figures count the same: every profile sent once, the refused one failed.
    allocation = (await harness.api.get(f"/load-groups/{group_id}/allocation")).json()
    rounds = allocation["rounds"]
    assert allocation["profilesSent"] == len(history)
    assert sum(r["lowerings"] + r["raises"] for r in rounds) == len(history)
    assert sum(r["failed"] for r in rounds) == 1


async def test_nested_groups(harness: Harness) -> None:
    site = await group(harness, limit=40)
    response = await harness.api.post(
        "/load-groups", json={"name": "feeder", "parentId": site, "limit": 16}
    )
    feeder = response.json()["id"]
    cp1, cp2 = await booted(harness, "CP1", connectors=2), await booted(harness, "CP2")
    await join(harness, feeder, cp1)
    await join(harness, site, cp2)
    # Fallbacks: the feeder's 2 connectors 8 A each; the site's 3 connectors 13.3 A each.
    assert (await limits(cp1))[-1] == ("TxDefaultProfile", 0, 8)
    assert (await limits(cp2))[-1] == ("TxDefaultProfile", 0, 13.3)

    a = await start(harness, cp1, 1, TAGS[0])
    b = await start(harness, cp1, 2, TAGS[1])
    c = await start(harness, cp2, 1, TAGS[2])

    assert await in_force(harness, site) == {a: 8, b: 8, c: 24}
    body = await allocation(harness, site)
    assert [(g["name"], g["allocated"]) for g in body["groups"]] == [("site", 40), ("feeder", 16)]
    rows = {row["transactionId"]: row for row in body["transactions"]}
    assert rows[a]["reason"] == "equal share of feeder (16 A)"
    assert rows[c]["reason"] == "equal share of site (40 A)"
    assert await in_force(harness, feeder) == {a: 8, b: 8}


async def test_power_limit_in_watts(harness: Harness) -> None:
    group_id = await group(harness, limit=22080, unit="W", voltage=230, phases=3)
    assert (await harness.api.get(f"/load-groups/{group_id}")).json()["limitAmps"] == 32
    cp = await booted(harness, "CP1", connectors=2)
    await join(harness, group_id, cp, phases=1)
    a = await start(harness, cp, 1, TAGS[0])
    b = await start(harness, cp, 2, TAGS[1])
    assert await in_force(harness, group_id) == {a: 16, b: 16}
    profiles = (await harness.api.get("/charge-points/CP1/charging-profiles")).json()
    periods = [
        p["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]
        for c in profiles["connectors"]
        for p in c["chargingProfiles"]
    ]
    assert {period["numberPhases"] for period in periods} == {1}


async def test_priority_per_charge_point_and_per_transaction(harness: Harness) -> None:
    group_id = await group(harness, limit=20, strategy="Priority")
    cp1, cp2 = await booted(harness, "CP1"), await booted(harness, "CP2")
    await join(harness, group_id, cp1, priority=1)
    await join(harness, group_id, cp2)
    a = await start(harness, cp1, 1, TAGS[0])
    b = await start(harness, cp2, 1, TAGS[1])
    assert await in_force(harness, group_id) == {a: 14, b: 6}

    response = await harness.api.put(f"/transactions/{b}/load-priority", json={"priority": 5})
    assert response.status_code == 200, response.text
    await settled(harness)
    assert await in_force(harness, group_id) == {a: 6, b: 14}
    response = await harness.api.put("/transactions/999/load-priority", json={"priority": 5})
    assert response.status_code == 404


async def test_member_leaving_is_cleared_of_our_profiles(harness: Harness) -> None:
    group_id, cp1, cp2 = await two_on_32_a(harness)
    first = await start(harness, cp1, 1, TAGS[0])
    await limits(cp1), await limits(cp2)

    response = await harness.api.delete(f"/load-groups/{group_id}/members/CP1")
    assert response.status_code == 204
    await settled(harness)

    cleared = await calls(cp1)
    assert sorted(call.payload["id"] for call in cleared) == [900000, 900001]
    assert {call.action for call in cleared} == {"ClearChargingProfile"}
    assert cp1.state.charging_profiles == []
    assert await limits(cp2) == [("TxDefaultProfile", 0, 32)]
    assert first not in await in_force(harness, group_id)


async def test_boot_reinstalls_the_fallback(harness: Harness) -> None:
    group_id, cp1, cp2 = await two_on_32_a(harness)
    cp1.state.charging_profiles.clear()  # a charge point that lost its profiles
    await cp1.boot()
    await settled(harness)
    assert await limits(cp1) == [("TxDefaultProfile", 0, 16)]
    assert await limits(cp2) == []
    del group_id


async def test_stack_level_and_unit_from_the_charge_point_keys(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db", certification_mode=False) as harness:
        await harness.store.put_id_tag(IdTag(id_tag=TAGS[0], status="Accepted"))
        group_id = await group(harness, limit=16, voltage=240)
        cp = harness.charge_point("CP1", connectors=1)
        cp.configuration["ChargeProfileMaxStackLevel"] = ("3", True)
        cp.configuration["ChargingScheduleAllowedChargingRateUnit"] = ("Power", True)
        async with cp:
            await cp.boot_and_report()
            await cp.expect_call("GetConfiguration")  # the CSMS reads the keys after the boot
            await join(harness, group_id, cp)
            await start(harness, cp, 1, TAGS[0])
            sent = [call for call in await calls(cp) if call.action == "SetChargingProfile"]
            profiles = [call.payload["csChargingProfiles"] for call in sent]
            assert [(p["chargingProfilePurpose"], p["stackLevel"]) for p in profiles] == [
                ("TxDefaultProfile", 2),
                ("TxProfile", 3),
            ]
            # 16 A on three phases at the group's 240 V (not the usual 230) is 11520 W.
            assert [p["chargingSchedule"]["chargingRateUnit"] for p in profiles] == ["W", "W"]
            assert profiles[1]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 11520


async def test_off_in_certification_mode(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db") as harness:  # certification mode, like OCTT
        await harness.store.put_id_tag(IdTag(id_tag=TAGS[0], status="Accepted"))
        group_id = await group(harness, limit=16)
        async with harness.charge_point("CP1", connectors=1) as cp:
            await cp.boot_and_report()
            await join(harness, group_id, cp)
            await cp.start_transaction(1, TAGS[0])
            await cp.status_notification(1, "Charging")
            body = await allocation(harness, group_id)
            assert body["enabled"] is False and body["transactions"] == []
            cp.no_unexpected_calls()


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    """What the charge points accepted is read back: nothing is sent again."""
    database = tmp_path / "csms.db"
    async with csms(database, certification_mode=False, fetch_configuration_on_boot=False) as h:
        for tag in TAGS[:2]:
            await h.store.put_id_tag(IdTag(id_tag=tag, status="Accepted"))
        group_id = await group(h, limit=32)
        cp1, cp2 = await booted(h, "CP1"), await booted(h, "CP2")
        await join(h, group_id, cp1)
        await join(h, group_id, cp2)
        first = await start(h, cp1, 1, TAGS[0])
        second = await start(h, cp2, 1, TAGS[1])
        await cp1.close()
        await cp2.close()
    async with csms(database, certification_mode=False, fetch_configuration_on_boot=False) as h:
        again = []
        for before in (cp1, cp2):  # the same charge points (state) on the new server's port
            cp = h.charge_point(before.charge_point_id, connectors=1)
            cp.state = before.state
            await cp.connect()
            await cp.heartbeat()
            again.append(cp)
        await settled(h)
        assert await in_force(h, group_id) == {first: 16, second: 16}
        for cp in again:
            cp.no_unexpected_calls()
            await cp.close()


async def test_no_answer_keeps_the_old_limit_reserved_until_tried_again(tmp_path: Path) -> None:
    async with csms(
        tmp_path / "csms.db",
        certification_mode=False,
        fetch_configuration_on_boot=False,
        call_timeout=0.5,
        load_retry_interval=0.5,
    ) as harness:
        for tag in TAGS[:2]:
            await harness.store.put_id_tag(IdTag(id_tag=tag, status="Accepted"))
        group_id, cp1, cp2 = await two_on_32_a(harness)
        first = await start(harness, cp1, 1, TAGS[0])
        assert await limits(cp1) == [("TxProfile", 1, 32)]

        async def too_late(payload: dict[str, Any]) -> dict[str, Any]:
            await asyncio.sleep(1.0)  # past the CSMS's 0.5 s response timeout (J 4.1.1)
            return {"status": "Accepted"}

        cp1.answers["SetChargingProfile"] = too_late
        second = await start(harness, cp2, 1, TAGS[1])

        # No answer to the lowering: CP1 may still draw 32 A, nothing is left for CP2.
        assert await limits(cp2) == [("TxProfile", 1, 0)]
        assert await in_force(harness, group_id) == {first: 32, second: 0}
        history = (await harness.api.get(f"/load-groups/{group_id}/allocation/history")).json()
        assert [(h["chargePointId"], h["limit"], h["status"]) for h in history[:2]] == [
            ("CP2", 0.0, "Accepted"),
            ("CP1", 16.0, "Timeout"),
        ]

        # It answers again: after the retry interval the lowering goes again, then the raise.
        del cp1.answers["SetChargingProfile"]
        assert (await cp1.expect_call("SetChargingProfile", timeout=5)).payload[
            "csChargingProfiles"
        ]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16  # the late one
        retried = await cp1.expect_call("SetChargingProfile", timeout=5)
        assert retried.payload["csChargingProfiles"]["transactionId"] == first
        raised = await cp2.expect_call("SetChargingProfile", timeout=5)
        assert (
            raised.payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0][
                "limit"
            ]
            == 16
        )
        await settled(harness)
        assert await in_force(harness, group_id) == {first: 16, second: 16}
        cp1.no_unexpected_calls()
        cp2.no_unexpected_calls()


async def test_several_members_join_at_once(harness: Harness) -> None:
    group_id = await group(harness, limit=30)
    cps = [await booted(harness, f"CP{n}", connectors=2) for n in range(3)]
    members = [{"chargePointId": cp.charge_point_id, "priority": n} for n, cp in enumerate(cps)]

    response = await harness.api.put(
        f"/load-groups/{group_id}/members", json=[*members, {"chargePointId": "CP9"}]
    )
    assert response.status_code == 404  # all or none
    assert (await harness.api.get(f"/load-groups/{group_id}/members")).json() == []

    response = await harness.api.put(f"/load-groups/{group_id}/members", json=members)
    assert response.status_code == 200, response.text
    assert [m["priority"] for m in response.json()] == [0, 1, 2]
    await settled(harness)
    # One allocation for the three: each gets its fallback once, 30 A / 6 connectors.
    for cp in cps:
        assert await limits(cp) == [("TxDefaultProfile", 0, 5)]
