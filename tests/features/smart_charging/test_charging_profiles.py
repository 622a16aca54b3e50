"""Charging profile management (spec 3.13, 5.5, 5.16): what the CSMS refuses to send and why,
what it believes installed after each answer (replacement, clearing, remote start profiles),
and TxProfiles ending with their transaction. Real server, simulated charge point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.harness import Harness

from csms.features.smart_charging.profiles import Capabilities, capabilities_of, engine_profile
from csms.ocppj import CallError, ErrorCode
from csms.simulator import SimulatedChargePoint
from csms.storage import Configuration, ConfigurationEntry, IdTag

CP = "/charge-points/CP1"
TAG = "TAG-1"
TAG_2 = "TAG-2"  # for a second transaction at the same time


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def profile(
    charging_profile_id: int,
    purpose: str = "TxDefaultProfile",
    *,
    stack_level: int = 0,
    unit: str = "A",
    periods: tuple[tuple[int, float], ...] = ((0, 16.0),),
    kind: str = "Relative",
    start: datetime | None = None,
    duration: int | None = None,
    transaction_id: int | None = None,
    number_phases: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A csChargingProfiles payload."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": start_period, "limit": limit}
            | ({"numberPhases": number_phases} if number_phases else {})
            for start_period, limit in periods
        ],
    }
    if start is not None:
        schedule["startSchedule"] = iso(start)
    if duration is not None:
        schedule["duration"] = duration
    wire: dict[str, Any] = {
        "chargingProfileId": charging_profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
        **extra,
    }
    if transaction_id is not None:
        wire["transactionId"] = transaction_id
    return wire


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    """CP1 with two connectors, booted, all Available; TAG and TAG_2 are valid tags."""
    for id_tag in (TAG, TAG_2):
        await harness.store.put_id_tag(IdTag(id_tag=id_tag, status="Accepted"))
    async with harness.charge_point("CP1", connectors=2) as cp:
        await cp.boot_and_report()
        yield cp


async def read_configuration(harness: Harness, cp: SimulatedChargePoint, **keys: str) -> None:
    """Give the charge point these configuration values, and let the CSMS read them all."""
    for key, value in keys.items():
        cp.configuration[key] = (value, True)
    response = await harness.api.post(f"{CP}/get-configuration", json={})
    assert response.status_code == 200, response.text
    await cp.expect_call("GetConfiguration")


async def start_charging(cp: SimulatedChargePoint, connector_id: int = 1, id_tag: str = TAG) -> int:
    answer = await cp.start_transaction(connector_id, id_tag)
    assert answer["idTagInfo"]["status"] == "Accepted"
    transaction_id: int = answer["transactionId"]
    return transaction_id


async def set_profile(
    harness: Harness, cp: SimulatedChargePoint, connector_id: int, wire: dict[str, Any]
) -> dict[str, Any]:
    response = await harness.api.post(
        f"{CP}/charging-profiles", json={"connectorId": connector_id, "csChargingProfiles": wire}
    )
    assert response.status_code == 200, response.text
    call = await cp.expect_call("SetChargingProfile")
    assert call.payload == {"connectorId": connector_id, "csChargingProfiles": wire}
    answer: dict[str, Any] = response.json()
    return answer


async def installed(harness: Harness, **params: Any) -> dict[int, list[dict[str, Any]]]:
    response = await harness.api.get(f"{CP}/charging-profiles", params=params)
    assert response.status_code == 200, response.text
    return {c["connectorId"]: c["chargingProfiles"] for c in response.json()["connectors"]}


async def installed_ids(harness: Harness) -> dict[int, list[int]]:
    return {
        connector: [p["chargingProfileId"] for p in profiles]
        for connector, profiles in (await installed(harness)).items()
    }


def simulator_ids(cp: SimulatedChargePoint) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for item in sorted(
        cp.state.charging_profiles, key=lambda p: (p.stack_level, p.profile["chargingProfileId"])
    ):
        found.setdefault(item.connector_id, []).append(item.charging_profile_id)
    return dict(sorted(found.items()))


# -- refused before sending -------------------------------------------------------------------

DECLARED = {
    "ChargeProfileMaxStackLevel": "2",
    "ChargingScheduleAllowedChargingRateUnit": "Current",
    "ChargingScheduleMaxPeriods": "3",
    "NumberOfConnectors": "2",
}
START = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("connector_id", "wire", "reason"),
    [
        (1, profile(1, stack_level=3), "ChargeProfileMaxStackLevel is 2: stackLevel 3 is above it"),
        (
            1,
            profile(1, unit="W", periods=((0, 6000.0),)),
            "ChargingScheduleAllowedChargingRateUnit is Current: chargingRateUnit W is not allowed",
        ),
        (
            1,
            profile(1, periods=((0, 6.0), (60, 7.0), (120, 8.0), (180, 9.0))),
            "ChargingScheduleMaxPeriods is 3: the schedule has 4 periods",
        ),
        (3, profile(1), "NumberOfConnectors is 2: connector 3 does not exist"),
        (1, profile(1, "TxProfile"), "no transaction is active on connector 1"),
        (0, profile(1, "TxProfile"), "a TxProfile can only be set on a connector > 0"),
        (
            1,
            profile(1, "ChargePointMaxProfile"),
            "a ChargePointMaxProfile can only be set on connector 0 (spec 3.13.1), not on "
            "connector 1",
        ),
        (
            1,
            profile(1, start=START),
            "invalid charging profile: a Relative profile has no start_schedule",
        ),
        (
            1,
            profile(1, periods=((10, 6.0),)),
            "invalid charging profile: the first charging schedule period must start at 0",
        ),
        (
            1,
            profile(1, kind="Recurring", start=START),
            "invalid charging profile: recurrency_kind is required with Recurring",
        ),
        (1, profile(1, periods=((0, 6.15),)), "PropertyConstraintViolation"),
    ],
)
async def test_each_refusal_names_its_reason_and_nothing_is_sent(
    harness: Harness,
    cp: SimulatedChargePoint,
    connector_id: int,
    wire: dict[str, Any],
    reason: str,
) -> None:
    await read_configuration(harness, cp, **DECLARED)
    response = await harness.api.post(
        f"{CP}/charging-profiles", json={"connectorId": connector_id, "csChargingProfiles": wire}
    )
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    assert await installed(harness) == {}
    assert await cp.heartbeat()
    cp.no_unexpected_calls()


async def test_a_tx_profile_must_be_for_the_running_transaction(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    transaction_id = await start_charging(cp)
    response = await harness.api.post(
        f"{CP}/charging-profiles",
        json={
            "connectorId": 1,
            "csChargingProfiles": profile(1, "TxProfile", transaction_id=transaction_id + 1),
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"transactionId {transaction_id + 1} is not the transaction active on connector 1 "
        f"({transaction_id})"
    )
    # On the other connector there is no transaction at all.
    response = await harness.api.post(
        f"{CP}/charging-profiles",
        json={
            "connectorId": 2,
            "csChargingProfiles": profile(1, "TxProfile", transaction_id=transaction_id),
        },
    )
    assert response.status_code == 422
    assert "no transaction is active on connector 2" in response.json()["detail"]
    await cp.heartbeat()
    cp.no_unexpected_calls()

    # Its own transaction's id, or none (then it is the running transaction's, 5.16.3).
    answer = await set_profile(
        harness, cp, 1, profile(1, "TxProfile", transaction_id=transaction_id)
    )
    assert answer["status"] == "Accepted"
    answer = await set_profile(harness, cp, 1, profile(2, "TxProfile", stack_level=1))
    assert answer["status"] == "Accepted"
    assert [p["transactionId"] for p in (await installed(harness))[1]] == [transaction_id] * 2

    # Nor that of another transaction running before this one (a lower id).
    second = await start_charging(cp, 2, TAG_2)
    assert transaction_id < second
    response = await harness.api.post(
        f"{CP}/charging-profiles",
        json={
            "connectorId": 2,
            "csChargingProfiles": profile(3, "TxProfile", transaction_id=transaction_id),
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"transactionId {transaction_id} is not the transaction active on connector 2 ({second})"
    )


async def test_max_profiles_installed_counts_what_the_new_profile_replaces(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    await read_configuration(harness, cp, MaxChargingProfilesInstalled="2")
    await set_profile(harness, cp, 1, profile(1, stack_level=0))
    await set_profile(harness, cp, 0, profile(2, stack_level=0))

    response = await harness.api.post(
        f"{CP}/charging-profiles",
        json={"connectorId": 1, "csChargingProfiles": profile(3, stack_level=1)},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "MaxChargingProfilesInstalled is 2: 2 other profiles are installed already"
    )
    # Replacing one (same stack level, purpose and connector; or the same id) is fine.
    answer = await set_profile(harness, cp, 1, profile(3, stack_level=0))
    assert answer == {"status": "Accepted", "replacedChargingProfileIds": [1]}
    answer = await set_profile(harness, cp, 1, profile(2, stack_level=5, periods=((0, 8.0),)))
    assert answer == {"status": "Accepted", "replacedChargingProfileIds": []}
    assert await installed_ids(harness) == {1: [3, 2]} == simulator_ids(cp)


async def test_keys_the_csms_has_not_read_are_not_checked(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    # No GetConfiguration yet: the charge point (ChargeProfileMaxStackLevel 10) decides.
    answer = await set_profile(harness, cp, 1, profile(1, stack_level=11))
    assert answer == {"status": "Rejected"}
    assert await installed(harness) == {}

    # A value the CSMS cannot read is as good as unknown.
    await read_configuration(
        harness, cp, ChargeProfileMaxStackLevel="many", ChargingScheduleAllowedChargingRateUnit=""
    )
    answer = await set_profile(harness, cp, 1, profile(1, unit="W", periods=((0, 6000.0),)))
    assert answer["status"] == "Rejected"  # the simulator allows nothing either


async def test_the_generic_endpoint_sends_what_the_typed_one_refuses(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    await read_configuration(harness, cp, ChargeProfileMaxStackLevel="2")
    payload = {"connectorId": 1, "csChargingProfiles": profile(1, stack_level=3)}
    response = await harness.api.post(f"{CP}/commands/SetChargingProfile", json=payload)
    assert response.status_code == 200
    assert response.json() == {"status": "Rejected"}
    assert (await cp.expect_call("SetChargingProfile")).payload == payload
    assert await installed(harness) == {}

    # What it sends and the charge point accepts is recorded all the same.
    cp.answers["SetChargingProfile"] = {"status": "Accepted"}
    response = await harness.api.post(f"{CP}/commands/SetChargingProfile", json=payload)
    assert response.json() == {"status": "Accepted"}
    await cp.expect_call("SetChargingProfile")
    assert await installed_ids(harness) == {1: [1]}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"connectorId": 1, "chargingProfile": profile(1, "TxDefaultProfile")},
            "must be a TxProfile (spec 5.16.2), not a TxDefaultProfile",
        ),
        (
            {"connectorId": 1, "chargingProfile": profile(1, "TxProfile", transaction_id=5)},
            "has no transactionId (errata 3.41)",
        ),
        (
            {"chargingProfile": profile(1, "TxProfile")},
            "a RemoteStartTransaction with a chargingProfile needs a connectorId",
        ),
        (
            {"connectorId": 1, "chargingProfile": profile(1, "TxProfile", stack_level=3)},
            "ChargeProfileMaxStackLevel is 2: stackLevel 3 is above it",
        ),
        (
            {"connectorId": 1, "chargingProfile": profile(1, "TxProfile", start=START)},
            "a Relative profile has no start_schedule",
        ),
    ],
)
async def test_remote_start_profiles_are_checked(
    harness: Harness, cp: SimulatedChargePoint, body: dict[str, Any], reason: str
) -> None:
    await read_configuration(harness, cp, ChargeProfileMaxStackLevel="2")
    response = await harness.api.post(f"{CP}/remote-start", json={"idTag": TAG, **body})
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    await cp.heartbeat()
    cp.no_unexpected_calls()


# -- what the answers change ------------------------------------------------------------------


async def test_replacement_follows_the_charge_point(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    assert (await set_profile(harness, cp, 1, profile(1)))["replacedChargingProfileIds"] == []
    # Connector 0's TxDefaultProfile of the same stack level stays (3.13.1), as do other levels.
    await set_profile(harness, cp, 0, profile(2))
    await set_profile(harness, cp, 1, profile(3, stack_level=1))
    # Same stack level, purpose and connector (3.13.2): replaced.
    answer = await set_profile(harness, cp, 1, profile(4, periods=((0, 10.0),)))
    assert answer == {"status": "Accepted", "replacedChargingProfileIds": [1]}
    assert await installed_ids(harness) == {0: [2], 1: [4, 3]} == simulator_ids(cp)
    # The same chargingProfileId (5.16.3) moves, and replaces what it lands on.
    answer = await set_profile(harness, cp, 2, profile(3, stack_level=1))
    assert answer == {"status": "Accepted", "replacedChargingProfileIds": []}
    assert await installed_ids(harness) == {0: [2], 1: [4], 2: [3]} == simulator_ids(cp)

    # Not Accepted: nothing changes.
    for refusal in ({"status": "Rejected"}, {"status": "NotSupported"}):
        cp.answers["SetChargingProfile"] = refusal
        assert await set_profile(harness, cp, 1, profile(9)) == refusal
    cp.answers["SetChargingProfile"] = CallError(
        unique_id="", error_code=ErrorCode.NOT_SUPPORTED, error_description="no smart charging"
    )
    response = await harness.api.post(
        f"{CP}/charging-profiles", json={"connectorId": 1, "csChargingProfiles": profile(9)}
    )
    assert response.status_code == 502
    assert response.json()["errorCode"] == "NotSupported"
    await cp.expect_call("SetChargingProfile")
    assert await installed_ids(harness) == {0: [2], 1: [4], 2: [3]}

    # The view per connector.
    (only,) = (await installed(harness, connectorId=2))[2]
    assert (only["chargingProfileId"], only["stackLevel"], only["chargingProfilePurpose"]) == (
        3,
        1,
        "TxDefaultProfile",
    )
    assert list(await installed(harness, connectorId=2)) == [2]


async def test_clearing_follows_the_charge_point(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    transaction_id = await start_charging(cp)
    await set_profile(harness, cp, 0, profile(1, "ChargePointMaxProfile", periods=((0, 30.0),)))
    await set_profile(harness, cp, 0, profile(2, stack_level=1))
    await set_profile(harness, cp, 1, profile(3, stack_level=1))
    await set_profile(
        harness, cp, 1, profile(4, "TxProfile", stack_level=1, transaction_id=transaction_id)
    )
    await set_profile(harness, cp, 2, profile(5, stack_level=2))

    async def clear(**filters: Any) -> dict[str, Any]:
        response = await harness.api.delete(f"{CP}/charging-profiles", params=filters)
        assert response.status_code == 200, response.text
        call = await cp.expect_call("ClearChargingProfile")
        assert call.payload == filters
        body: dict[str, Any] = response.json()
        return body

    # An id clears that one, whatever else is given (errata 3.26).
    answer = await clear(id=3, connectorId=2, chargingProfilePurpose="TxProfile")
    assert answer == {"status": "Accepted", "clearedChargingProfileIds": [3]}
    # Fields are AND-ed (errata 3.25).
    answer = await clear(chargingProfilePurpose="TxDefaultProfile", stackLevel=1)
    assert answer == {"status": "Accepted", "clearedChargingProfileIds": [2]}
    answer = await clear(connectorId=1)
    assert answer == {"status": "Accepted", "clearedChargingProfileIds": [4]}
    assert await installed_ids(harness) == {0: [1], 2: [5]} == simulator_ids(cp)

    # Unknown: the charge point has none that match, so the CSMS must not believe otherwise.
    cp.state.charging_profiles[:] = [
        p for p in cp.state.charging_profiles if p.charging_profile_id != 5
    ]
    answer = await clear(stackLevel=2)
    assert answer == {"status": "Unknown", "clearedChargingProfileIds": [5]}
    # A CALLERROR changes nothing.
    cp.answers["ClearChargingProfile"] = CallError(
        unique_id="", error_code=ErrorCode.INTERNAL_ERROR, error_description="busy"
    )
    response = await harness.api.delete(f"{CP}/charging-profiles")
    assert response.status_code == 502
    await cp.expect_call("ClearChargingProfile")
    assert await installed_ids(harness) == {0: [1]}
    del cp.answers["ClearChargingProfile"]
    assert await clear() == {"status": "Accepted", "clearedChargingProfileIds": [1]}
    assert await installed(harness) == {}


async def test_tx_profiles_end_with_their_transaction(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    first = await start_charging(cp, 1)
    second = await start_charging(cp, 2, TAG_2)
    await set_profile(harness, cp, 1, profile(1, "TxProfile", transaction_id=first))
    await set_profile(harness, cp, 1, profile(2, "TxProfile", stack_level=1))
    await set_profile(harness, cp, 2, profile(3, "TxProfile", transaction_id=second))
    await set_profile(harness, cp, 1, profile(4))
    assert await installed_ids(harness) == {1: [1, 4, 2], 2: [3]}

    await cp.stop_transaction(first, 1000)
    assert await installed_ids(harness) == {1: [4], 2: [3]} == simulator_ids(cp)
    await cp.stop_transaction(second, 1000, reason="EVDisconnected")
    assert await installed_ids(harness) == {1: [4]} == simulator_ids(cp)


async def test_a_remote_start_profile_belongs_to_the_transaction_it_starts(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    wire = profile(7, "TxProfile", stack_level=1, periods=((0, 10.0),))
    response = await harness.api.post(
        f"{CP}/remote-start",
        params={"wait": 0},
        json={"idTag": TAG, "connectorId": 1, "chargingProfile": wire},
    )
    assert response.json() == {"status": "Accepted", "transactionId": None}
    await cp.expect_call("RemoteStartTransaction")
    (waiting,) = (await installed(harness))[1]
    assert (waiting["transactionId"], waiting["remoteStartIdTag"]) == (None, TAG)
    assert waiting["csChargingProfiles"] == wire

    # The charge point starts it (idTags are case-insensitive, spec 7.28).
    answer = await cp.start_transaction(1, TAG.lower())
    (bound,) = (await installed(harness))[1]
    assert (bound["transactionId"], bound["remoteStartIdTag"]) == (answer["transactionId"], None)

    # SetChargingProfile for that transaction with the same stack level replaces it (5.16.2).
    replacing = profile(8, "TxProfile", stack_level=1, transaction_id=answer["transactionId"])
    assert (await set_profile(harness, cp, 1, replacing))["replacedChargingProfileIds"] == [7]
    await cp.stop_transaction(answer["transactionId"], 500)
    assert await installed(harness) == {}


async def test_a_remote_start_profile_of_another_tag_is_dropped_by_a_start(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    await harness.store.put_id_tag(IdTag(id_tag="OTHER", status="Accepted"))
    response = await harness.api.post(
        f"{CP}/remote-start",
        params={"wait": 0},
        json={"idTag": TAG, "connectorId": 1, "chargingProfile": profile(7, "TxProfile")},
    )
    assert response.json()["status"] == "Accepted"
    await cp.expect_call("RemoteStartTransaction")
    await cp.start_transaction(1, "OTHER")
    assert await installed(harness) == {}


async def test_a_rejected_remote_start_installs_nothing(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    cp.answers["RemoteStartTransaction"] = {"status": "Rejected"}
    response = await harness.api.post(
        f"{CP}/remote-start",
        json={"idTag": TAG, "connectorId": 1, "chargingProfile": profile(7, "TxProfile")},
    )
    assert response.json() == {"status": "Rejected", "transactionId": None}
    await cp.expect_call("RemoteStartTransaction")
    assert await installed(harness) == {}


async def test_unknown_charge_point(harness: Harness) -> None:
    for method, path in [
        ("GET", "/charge-points/NOPE/charging-profiles"),
        ("DELETE", "/charge-points/NOPE/charging-profiles"),
        ("GET", "/charge-points/NOPE/composite-schedule?connectorId=1&duration=60"),
    ]:
        response = await harness.api.request(method, path)
        assert response.status_code == 404, (method, path)
    response = await harness.api.post(
        "/charge-points/NOPE/charging-profiles",
        json={"connectorId": 1, "csChargingProfiles": profile(1)},
    )
    assert response.status_code == 404


async def test_an_offline_charge_point_gets_409(harness: Harness) -> None:
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
    response = await harness.api.post(
        f"{CP}/charging-profiles", json={"connectorId": 1, "csChargingProfiles": profile(1)}
    )
    assert response.status_code == 409
    assert await installed(harness) == {}


def test_an_absolute_profile_without_start_schedule_starts_at_valid_from_else_when_installed() -> (
    None
):
    """Spec 7.13 leaves startSchedule optional, also for Absolute profiles: such a profile
    starts, as the charge points we test against read it, at its validFrom, else when it was
    installed (docs/charger-compatibility.md). A Relative one keeps none."""
    installed_at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    valid_from = datetime(2026, 5, 2, 6, 0, tzinfo=UTC)
    absolute = profile(1, kind="Absolute")
    assert "startSchedule" not in absolute["chargingSchedule"]
    started = engine_profile(absolute, installed_at=installed_at)
    assert started.charging_schedule.start_schedule == installed_at
    later = engine_profile(absolute | {"validFrom": iso(valid_from)}, installed_at=installed_at)
    assert later.charging_schedule.start_schedule == valid_from
    relative = engine_profile(profile(1, kind="Relative"), installed_at=installed_at)
    assert relative.charging_schedule.start_schedule is None


def test_a_negative_declared_limit_is_no_limit_and_zero_is_one() -> None:
    """Some stacks declare -1 for "no limit" (docs/charger-compatibility.md): the CSMS then
    checks nothing against the key; 0 is a limit (ChargeProfileMaxStackLevel 0: stack level 0
    only)."""

    def declared(value: str) -> Capabilities:
        keys = (
            "ChargeProfileMaxStackLevel",
            "ChargingScheduleMaxPeriods",
            "MaxChargingProfilesInstalled",
            "NumberOfConnectors",
        )
        return capabilities_of(
            Configuration(
                charge_point_id="CP1",
                entries=[ConfigurationEntry(key=key, value=value, readonly=True) for key in keys],
                unknown_keys=[],
                complete_at=None,
                updated_at=None,
            )
        )

    assert declared("-1") == Capabilities()
    assert declared(" 0 ") == Capabilities(
        max_stack_level=0, max_periods=0, max_installed=0, number_of_connectors=0
    )
