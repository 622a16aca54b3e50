"""Composite schedules (spec 3.13.3, 5.7): the CSMS's, computed with its engine from what it
believes installed, compared with the simulator's own (computed second by second, separately);
the simulator's meter values kept under the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.features.smart_charging.test_charging_profiles import (
    CP,
    TAG,
    cp,
    installed,
    profile,
    set_profile,
    start_charging,
)
from tests.harness import Harness

from csms.features import smart_charging
from csms.features.commands import InvalidCommand
from csms.simulator import SimulatedChargePoint

# `cp` is the fixture of test_charging_profiles.py, imported so that pytest finds it here.
__all__ = ["cp"]


def _whole_second() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def composite(harness: Harness, **params: Any) -> dict[str, Any]:
    response = await harness.api.get(f"{CP}/composite-schedule", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def compare(harness: Harness, cp: SimulatedChargePoint, **params: Any) -> dict[str, Any]:
    body = await composite(harness, compare="true", **params)
    call = await cp.expect_call("GetCompositeSchedule")
    assert call.payload == {
        key: value for key, value in params.items() if key in ("connectorId", "duration")
    } | ({"chargingRateUnit": params["chargingRateUnit"]} if "chargingRateUnit" in params else {})
    return body


# A difference where the charge point said a value (its schedule covers the time) that is not
# the TxDefaultProfile fallback reading's.
SAID = {"covered": True, "txDefaultFallback": False}


def limits(body: dict[str, Any]) -> list[tuple[int, float | None]]:
    return [(p["startPeriod"], p["limit"]) for p in body["chargingSchedulePeriod"]]


async def install_a_day_of_profiles(
    harness: Harness, cp: SimulatedChargePoint, transaction_id: int
) -> None:
    """Every purpose and kind, stacked, with limits changing within the next few minutes."""
    now = _whole_second()
    # The grid connection: 11 kW, then 7 kW after a minute (W, three phases).
    await set_profile(
        harness,
        cp,
        0,
        profile(
            1,
            "ChargePointMaxProfile",
            unit="W",
            kind="Absolute",
            start=now - timedelta(seconds=10),
            duration=3600,
            periods=((0, 11000.0), (70, 7000.0)),
        ),
    )
    # Defaults for every connector, and a daily one on connector 2 on top of it.
    await set_profile(harness, cp, 0, profile(2, periods=((0, 16.0),)))
    await set_profile(
        harness,
        cp,
        2,
        profile(
            3,
            stack_level=1,
            kind="Recurring",
            recurrencyKind="Daily",
            start=now - timedelta(days=3, seconds=30),
            duration=150,
            periods=((0, 10.0), (45, 8.0)),
            number_phases=1,
        ),
    )
    # The transaction on connector 1: 13 A, then 6 A after 90 s of charging; and a stacked
    # 20 A profile valid for two more minutes only.
    await set_profile(
        harness,
        cp,
        1,
        profile(4, "TxProfile", transaction_id=transaction_id, periods=((0, 13.0), (90, 6.0))),
    )
    await set_profile(
        harness,
        cp,
        1,
        profile(
            5,
            "TxProfile",
            stack_level=3,
            periods=((0, 20.0),),
            validTo=(now + timedelta(seconds=120)).isoformat().replace("+00:00", "Z"),
        ),
    )


@pytest.mark.parametrize(
    "params",
    [
        {"connectorId": 1, "duration": 300, "chargingRateUnit": "A"},
        {"connectorId": 1, "duration": 300, "chargingRateUnit": "W"},
        {"connectorId": 2, "duration": 400},
        {"connectorId": 2, "duration": 400, "chargingRateUnit": "W"},
        {"connectorId": 0, "duration": 200, "chargingRateUnit": "W"},
    ],
)
async def test_the_simulator_and_the_csms_agree(
    harness: Harness, cp: SimulatedChargePoint, params: dict[str, Any]
) -> None:
    transaction_id = await start_charging(cp, 1)
    await install_a_day_of_profiles(harness, cp, transaction_id)

    body = await compare(harness, cp, **params)
    assert body["reason"] is None
    assert (body["agree"], body["differences"]) == (True, []), body
    reported = body["chargePoint"]
    assert reported["status"] == "Accepted"
    assert body["scheduleStart"].replace("+00:00", "Z") == reported["scheduleStart"]
    assert body["chargingRateUnit"] == reported["chargingSchedule"]["chargingRateUnit"]
    # Not a trivial agreement: the limit changes within the window.
    assert len(body["chargingSchedulePeriod"]) >= 2, body
    assert all(period["limit"] is not None for period in body["chargingSchedulePeriod"])


async def test_the_csms_composite_values(harness: Harness, cp: SimulatedChargePoint) -> None:
    transaction_id = await start_charging(cp, 1)
    await install_a_day_of_profiles(harness, cp, transaction_id)
    (stacked,) = [p for p in (await installed(harness))[1] if p["chargingProfileId"] == 5]
    valid_to = datetime.fromisoformat(stacked["csChargingProfiles"]["validTo"])
    start = valid_to - timedelta(seconds=100)

    body = await composite(
        harness, connectorId=1, duration=60, chargingRateUnit="A", start=start.isoformat()
    )
    # 20 A (stack level 3) capped by 11 kW over three phases (15.9 A), and the
    # ChargePointMaxProfile drops to 7 kW (10.1 A) 80 s after its start.
    max_start = datetime.fromisoformat(
        (await installed(harness))[0][0]["csChargingProfiles"]["chargingSchedule"]["startSchedule"]
    )
    drop = int((max_start + timedelta(seconds=70) - start).total_seconds())
    expected = [(0, 15.9)] + ([(drop, 10.1)] if 0 < drop < 60 else [])
    assert limits(body) == expected
    assert body["ignoredProfiles"] == []
    assert "agree" not in body and "chargePoint" not in body
    # Where nothing limits charging, the limit is null.
    body = await composite(harness, connectorId=1, duration=60, start="2000-01-01T00:00:00Z")
    assert limits(body) == [(0, None)]


async def test_a_charge_point_that_disagrees(harness: Harness, cp: SimulatedChargePoint) -> None:
    await set_profile(harness, cp, 1, profile(1, stack_level=0, periods=((0, 10.0),)))
    await set_profile(harness, cp, 1, profile(2, stack_level=1, periods=((0, 6.0),)))
    body = await compare(harness, cp, connectorId=1, duration=120, chargingRateUnit="A")
    assert (body["agree"], limits(body)) == (True, [(0, 6.0)])

    # The charge point says it cleared stack level 1, but keeps it.
    cp.answers["ClearChargingProfile"] = {"status": "Accepted"}
    response = await harness.api.delete(f"{CP}/charging-profiles", params={"stackLevel": 1})
    assert response.json() == {"status": "Accepted", "clearedChargingProfileIds": [2]}
    await cp.expect_call("ClearChargingProfile")

    body = await compare(harness, cp, connectorId=1, duration=120, chargingRateUnit="A")
    assert body["agree"] is False
    assert limits(body) == [(0, 10.0)]
    assert body["differences"] == [
        {"startPeriod": 0, "endPeriod": 120, "csms": 10.0, "chargePoint": 6.0} | SAID
    ]
    assert body["chargePoint"]["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 6, "numberPhases": 3}
    ]


async def test_partial_disagreement_and_what_the_charge_point_leaves_out(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    await set_profile(harness, cp, 1, profile(1, periods=((0, 10.0), (60, 8.0))))
    reported = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": _whole_second().isoformat().replace("+00:00", "Z"),
        "chargingSchedule": {
            "duration": 90,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 10.0},
                {"startPeriod": 30, "limit": 9.0},
            ],
        },
    }
    cp.answers["GetCompositeSchedule"] = reported
    body = await compare(harness, cp, connectorId=1, duration=120)
    assert body["agree"] is False
    assert body["differences"] == [
        {"startPeriod": 30, "endPeriod": 60, "csms": 10.0, "chargePoint": 9.0} | SAID,
        {"startPeriod": 60, "endPeriod": 90, "csms": 8.0, "chargePoint": 9.0} | SAID,
        {"startPeriod": 90, "endPeriod": 120, "csms": 8.0, "chargePoint": None}
        | {"covered": False, "txDefaultFallback": False},
    ]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"status": "Rejected"}, "the charge point answered Rejected"),
        ({"status": "Accepted", "connectorId": 1}, "the charge point reported no schedule"),
    ],
)
async def test_nothing_to_compare(
    harness: Harness, cp: SimulatedChargePoint, answer: dict[str, Any], reason: str
) -> None:
    cp.answers["GetCompositeSchedule"] = answer
    body = await compare(harness, cp, connectorId=1, duration=60, chargingRateUnit="A")
    assert (body["agree"], body["differences"], body["reason"]) == (False, [], reason)
    assert body["chargePoint"] == answer
    assert limits(body) == [(0, None)]


async def test_composite_request_errors(harness: Harness, cp: SimulatedChargePoint) -> None:
    for params in [
        {"connectorId": 1, "duration": 60, "compare": "true", "start": "2030-01-01T00:00:00Z"},
        {"connectorId": 1, "duration": 60, "start": "2030-01-01T00:00:00"},  # naive
        {"connectorId": -1, "duration": 60},
        {"connectorId": 1, "duration": -1},
        {"connectorId": 1, "duration": 60, "chargingRateUnit": "kW"},
        {"duration": 60},
    ]:
        response = await harness.api.get(f"{CP}/composite-schedule", params=params)
        assert response.status_code == 422, (params, response.text)
    await cp.heartbeat()
    cp.no_unexpected_calls()


async def test_a_remote_start_profile_is_left_out_until_its_transaction_starts(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    response = await harness.api.post(
        f"{CP}/remote-start",
        params={"wait": 0},
        json={
            "idTag": TAG,
            "connectorId": 1,
            "chargingProfile": profile(7, "TxProfile", periods=((0, 9.0),)),
        },
    )
    assert response.json()["status"] == "Accepted"
    await cp.expect_call("RemoteStartTransaction")
    body = await composite(harness, connectorId=1, duration=60)
    assert limits(body) == [(0, None)]
    assert body["ignoredProfiles"] == [
        {
            "chargingProfileId": 7,
            "connectorId": 1,
            "reason": "a RemoteStartTransaction profile waiting for its transaction to start",
        }
    ]
    await start_charging(cp, 1)
    body = await compare(harness, cp, connectorId=1, duration=60, chargingRateUnit="A")
    assert (limits(body), body["ignoredProfiles"], body["agree"]) == ([(0, 9.0)], [], True)


async def test_meter_values_stay_under_the_limit(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    transaction_id = await start_charging(cp, 1)

    async def sampled() -> dict[str, set[float]]:
        await cp.meter_values(1, transaction_id=transaction_id)
        samples = await harness.store.meter_values(transaction_id)
        last = [s for s in samples if s.timestamp == samples[-1].timestamp]
        found: dict[str, set[float]] = {}
        for sample in last:
            found.setdefault(sample.measurand or "", set()).add(float(sample.value))
        return found

    assert (await sampled())["Current.Import"] == {16.0}  # the car's own maximum
    await set_profile(harness, cp, 1, profile(1, "TxProfile", periods=((0, 6.0),)))
    values = await sampled()
    assert values["Current.Import"] == {6.0}
    assert values["Power.Active.Import"] == {6.0 * 230}
    # 4 kW over three phases: 5.7 A per phase, 3933 W in all.
    await set_profile(
        harness, cp, 0, profile(2, "ChargePointMaxProfile", unit="W", periods=((0, 4000.0),))
    )
    values = await sampled()
    assert values["Current.Import"] == {5.7}
    assert 3 * max(values["Power.Active.Import"]) <= 4000


async def test_a_relative_tx_profile_starts_when_a_start_stamped_1970_was_received(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    # The charge point lost its clock: its start time is kept as sent but is clock suspect
    # (docs/field-behaviour.md, "Replays and clocks"), so the Relative schedule runs from the
    # receipt of the StartTransaction, not from 1970 (where its first hour is long past).
    answer = await cp.start_transaction(1, TAG, timestamp="1970-01-01T00:00:00Z")
    transaction_id = answer["transactionId"]
    await set_profile(
        harness,
        cp,
        1,
        profile(4, "TxProfile", transaction_id=transaction_id, periods=((0, 13.0), (3600, 6.0))),
    )
    body = await composite(harness, connectorId=1, duration=60, chargingRateUnit="A")
    assert limits(body) == [(0, 13.0)]


@pytest.mark.parametrize(
    ("duration", "start", "message"),
    [
        (-1, datetime(2026, 1, 1, tzinfo=UTC), "duration and connector_id must be >= 0"),
        (60, datetime(2026, 1, 1), "start must be an aware datetime"),
    ],
)
async def test_bad_arguments_to_the_csms_composite_are_an_invalid_command(
    harness: Harness, duration: int, start: datetime, message: str
) -> None:
    """What the API validates before, the function refuses as an InvalidCommand (answered 422),
    not as an error of the server, for any other caller."""
    with pytest.raises(InvalidCommand, match=message):
        await smart_charging.csms_composite(
            harness.app.services, "CP1", connector_id=1, duration=duration, start=start
        )
