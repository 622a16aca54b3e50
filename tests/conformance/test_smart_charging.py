"""Smart Charging: OCTT TC_056, TC_057, TC_059, TC_066 and TC_067 in both published variants
(test-case document 3.19; catalogue 3.6, 3.10.1-3.10.4; spec 5.5, 5.7, 5.16, errata 3.41, 3.57).

The manual actions go through the typed smart charging endpoints. The values the tool is
configured with and validates (catalogue 2.4-3: stack level, rate unit, duration, start period,
number of phases, limit 6 A or 6000 W) are what the operator puts in each request; the tests
assert that the CALL carries exactly them, that the charge point's answer is Accepted, and what
the CSMS then believes installed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CHARGE_POINT_ID,
    CONNECTOR_ID,
    IdTags,
    Wire,
    charging,
    no_unsolicited_calls,
    wire_time,
)
from tests.harness import Harness

# The OCTT configuration (catalogue 2.4-3, 3.10.1): <Configured stackLevel>, <Configured
# duration>, <Configured startPeriod>, and per <Configured chargingRateUnit> the limit the tool
# checks (6.0 A or 6000.0 W) with a <Configured numberPhases> (3 may also be omitted).
STACK_LEVEL = 1
DURATION = 300
START_PERIOD = 0
LIMITS = {"A": (6.0, 1), "W": (6000.0, 3)}

PROFILES = f"/charge-points/{CHARGE_POINT_ID}/charging-profiles"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def absolute_profile(
    charging_profile_id: int,
    purpose: str,
    *,
    unit: str = "A",
    stack_level: int = STACK_LEVEL,
    transaction_id: int | None = None,
) -> dict[str, Any]:
    """An Absolute profile with every field TC_056 (and TC_057/TC_067 in 2025) checks:
    validFrom, validTo, startSchedule, duration, and no recurrencyKind."""
    limit, phases = LIMITS[unit]
    now = _now()
    profile: dict[str, Any] = {
        "chargingProfileId": charging_profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "validFrom": wire_time(now - timedelta(minutes=1)),
        "validTo": wire_time(now + timedelta(days=1)),
        "chargingSchedule": {
            "duration": DURATION,
            "startSchedule": wire_time(now),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [
                {"startPeriod": START_PERIOD, "limit": limit, "numberPhases": phases}
            ],
        },
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile


async def set_profile(
    harness: Harness, cp: SimulatedChargePoint, connector_id: int, profile: dict[str, Any]
) -> dict[str, Any]:
    """[Manual action] set a charging profile; the CALL must carry exactly it."""
    response = await harness.api.post(
        PROFILES, json={"connectorId": connector_id, "csChargingProfiles": profile}
    )
    assert response.status_code == 200, response.text
    call = await cp.expect_call("SetChargingProfile")
    assert call.payload == {"connectorId": connector_id, "csChargingProfiles": profile}
    body: dict[str, Any] = response.json()
    return body


async def clear_profiles(
    harness: Harness, cp: SimulatedChargePoint, **filters: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """[Manual action] clear charging profiles with exactly these filters; (API answer, CALL)."""
    response = await harness.api.delete(PROFILES, params=filters)
    assert response.status_code == 200, response.text
    call = await cp.expect_call("ClearChargingProfile")
    return response.json(), call.payload


async def installed(harness: Harness) -> dict[int, list[dict[str, Any]]]:
    """What the CSMS believes installed: connectorId -> profiles (stack level, then id)."""
    response = await harness.api.get(PROFILES)
    assert response.status_code == 200, response.text
    return {
        connector["connectorId"]: connector["chargingProfiles"]
        for connector in response.json()["connectors"]
    }


def ids(profiles: dict[int, list[dict[str, Any]]]) -> dict[int, list[int]]:
    return {
        connector: [p["chargingProfileId"] for p in items] for connector, items in profiles.items()
    }


@pytest.mark.parametrize("unit", ["A", "W"])
async def test_tc_056_central_smart_charging_tx_default_profile(
    harness: Harness, cp: SimulatedChargePoint, unit: str
) -> None:
    """TC_056_CSMS (3.19.1): SetChargingProfile with a TxDefaultProfile, Absolute, on the
    configured connector with the configured stack level, unit, duration, start period, number
    of phases and the limit 6.0 A or 6000.0 W (catalogue 3.10.1, 2025: no transactionId and no
    recurrencyKind). Accepted."""
    wire = Wire(cp)
    profile = absolute_profile(56, "TxDefaultProfile", unit=unit)
    answer = await set_profile(harness, cp, CONNECTOR_ID, profile)
    assert answer == {"status": "Accepted", "replacedChargingProfileIds": []}

    # The tool's validations of step 1, one by one.
    limit, phases = LIMITS[unit]
    schedule = profile["chargingSchedule"]
    assert profile["stackLevel"] == STACK_LEVEL
    assert (profile["chargingProfilePurpose"], profile["chargingProfileKind"]) == (
        "TxDefaultProfile",
        "Absolute",
    )
    assert "validFrom" in profile and "validTo" in profile and "startSchedule" in schedule
    assert "transactionId" not in profile and "recurrencyKind" not in profile
    assert (schedule["chargingRateUnit"], schedule["duration"]) == (unit, DURATION)
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": START_PERIOD, "limit": limit, "numberPhases": phases}
    ]

    stored = await installed(harness)
    assert list(stored) == [CONNECTOR_ID]
    (record,) = stored[CONNECTOR_ID]
    assert record["csChargingProfiles"] == profile
    assert (record["stackLevel"], record["transactionId"]) == (STACK_LEVEL, None)
    assert wire.calls() == ["CS→ SetChargingProfile"]
    await no_unsolicited_calls(cp)


async def test_tc_057_central_smart_charging_tx_profile(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_057_CSMS (3.19.1): in the Charging state, SetChargingProfile with a TxProfile for
    the transaction the CSMS generated in this case, on the configured connector. Accepted.
    (2025: kind Absolute with validFrom, validTo, startSchedule and duration; no
    recurrencyKind, catalogue 3.10.2.)"""
    transaction_id = await charging(cp, id_tags.valid)
    earlier = set(ids(await installed(harness)).get(CONNECTOR_ID, []))
    wire = Wire(cp)
    profile = absolute_profile(57, "TxProfile", transaction_id=transaction_id)
    answer = await set_profile(harness, cp, CONNECTOR_ID, profile)
    assert answer == {"status": "Accepted", "replacedChargingProfileIds": []}
    assert profile["transactionId"] == transaction_id
    assert profile["chargingProfilePurpose"] == "TxProfile"

    # Besides it, only what the CSMS believed installed before (nothing, on a fresh CSMS).
    on_connector = (await installed(harness))[CONNECTOR_ID]
    (record,) = [p for p in on_connector if p["chargingProfileId"] == 57]
    assert (record["chargingProfileId"], record["transactionId"]) == (57, transaction_id)
    assert {p["chargingProfileId"] for p in on_connector} <= earlier | {57}
    assert wire.calls() == ["CS→ SetChargingProfile"]
    await no_unsolicited_calls(cp)


async def test_tc_059_remote_start_transaction_with_charging_profile(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_059_CSMS (3.19.4): RemoteStartTransaction with the valid tag on the configured
    connector and a TxProfile: Relative, no transactionId (errata 3.41), first startPeriod 0
    (and no recurrencyKind, 2025). Accepted; Authorize, Preparing, StartTransaction and
    Charging follow, Authorize and StartTransaction Accepted. The CSMS then holds the profile
    as the transaction's."""
    earlier = set(ids(await installed(harness)).get(CONNECTOR_ID, []))
    wire = Wire(cp)
    profile = {
        "chargingProfileId": 59,
        "stackLevel": STACK_LEVEL,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
        },
    }
    body = {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid, "chargingProfile": profile}
    # The typed endpoint answers once the transaction has started (or its wait is over).
    request = asyncio.create_task(
        harness.api.post(f"/charge-points/{CHARGE_POINT_ID}/remote-start", json=body)
    )
    call = await cp.expect_call("RemoteStartTransaction")
    assert call.payload == body
    assert (
        call.payload["chargingProfile"]["chargingSchedule"]["chargingSchedulePeriod"][0][
            "startPeriod"
        ]
        == 0
    )
    assert "transactionId" not in call.payload["chargingProfile"]

    assert (await cp.authorize(id_tags.valid))["idTagInfo"]["status"] == "Accepted"
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    start = await cp.start_transaction(CONNECTOR_ID, id_tags.valid)
    assert start["idTagInfo"]["status"] == "Accepted"
    assert await cp.status_notification(CONNECTOR_ID, "Charging") == {}
    response = await request
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "Accepted", "transactionId": start["transactionId"]}

    # Besides it, only what the CSMS believed installed before (nothing, on a fresh CSMS).
    on_connector = (await installed(harness))[CONNECTOR_ID]
    (record,) = [p for p in on_connector if p["chargingProfileId"] == 59]
    assert {p["chargingProfileId"] for p in on_connector} <= earlier | {59}
    assert record["csChargingProfiles"] == profile
    assert (record["transactionId"], record["remoteStartIdTag"]) == (start["transactionId"], None)
    assert wire.calls() == [
        "CS→ RemoteStartTransaction",
        "CP→ Authorize",
        "CP→ StatusNotification",
        "CP→ StartTransaction",
        "CP→ StatusNotification",
    ]
    await no_unsolicited_calls(cp)


# The tool answers GetCompositeSchedule with a hard-coded schedule (test-case document 3.19.2),
# without startSchedule (errata 3.57): periods are relative to scheduleStart.
def hard_coded_schedule(unit: str) -> dict[str, Any]:
    limit, phases = LIMITS[unit]
    return {
        "status": "Accepted",
        "connectorId": CONNECTOR_ID,
        "scheduleStart": wire_time(_now()),
        "chargingSchedule": {
            "duration": DURATION,
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": limit, "numberPhases": phases},
                {"startPeriod": 120, "limit": limit * 2, "numberPhases": phases},
            ],
        },
    }


@pytest.mark.parametrize("unit", ["A", "W"])
async def test_tc_066_get_composite_schedule(
    harness: Harness, cp: SimulatedChargePoint, unit: str
) -> None:
    """TC_066_CSMS (3.19.2): GetCompositeSchedule with connectorId, duration and
    chargingRateUnit all present and as configured; the CSMS parses the answer.

    The tool's charge point has no profile installed (test-case document 1.3); whether the
    CSMS's own composite agrees with it depends on what the CSMS believes installed: nothing
    on a fresh CSMS, the profiles earlier cases left in a certification session."""
    believed = await harness.api.get(f"/charge-points/{CHARGE_POINT_ID}/charging-profiles")
    assert believed.status_code == 200, believed.text
    limited = any(
        connector["chargingProfiles"] and connector["connectorId"] in (0, CONNECTOR_ID)
        for connector in believed.json()["connectors"]
    )
    wire = Wire(cp)
    reported = hard_coded_schedule(unit)
    cp.answers["GetCompositeSchedule"] = reported
    response = await harness.api.get(
        f"/charge-points/{CHARGE_POINT_ID}/composite-schedule",
        params={
            "connectorId": CONNECTOR_ID,
            "duration": DURATION,
            "chargingRateUnit": unit,
            "compare": "true",
        },
    )
    assert response.status_code == 200, response.text
    call = await cp.expect_call("GetCompositeSchedule")
    assert call.payload == {
        "connectorId": CONNECTOR_ID,
        "duration": DURATION,
        "chargingRateUnit": unit,
    }

    body = response.json()
    assert body["chargePoint"] == reported
    # The CSMS computed its own from the reported scheduleStart, in the reported unit: no
    # profile is installed, so nothing limits charging; the tool's limits are not its own
    # maximum by any charger profile, so "no limit" against them is a difference
    # (docs/charger-compatibility.md).
    assert body["scheduleStart"] == reported["scheduleStart"]
    assert (body["connectorId"], body["duration"], body["chargingRateUnit"]) == (
        CONNECTOR_ID,
        DURATION,
        unit,
    )
    if not limited:
        assert body["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": None, "numberPhases": None}
        ]
        limit = LIMITS[unit][0]
        assert body["agree"] is False
        assert [(d["startPeriod"], d["csms"], d["chargePoint"]) for d in body["differences"]] == [
            (0, None, limit),
            (120, None, limit * 2),
        ]
    else:
        assert body["chargingSchedulePeriod"] and isinstance(body["agree"], bool)
    assert wire.calls() == ["CS→ GetCompositeSchedule"]
    await no_unsolicited_calls(cp)


async def test_tc_067_clear_charging_profile_published_2024_04(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_067_CSMS (3.19.3, FINAL 2024-04): three TxDefaultProfiles on the configured connector
    with stack levels L, L+1, L+2; clear profile 1 by id alone; clear by connectorId, purpose
    TxDefaultProfile and stackLevel L+1 (no id); clear with every field omitted. All
    Accepted (catalogue 3.10.4 S1).

    The CSMS's belief is checked for this case's profiles; in a certification session it may
    also hold profiles earlier cases left (a TxProfile of a transaction never stopped)."""

    async def ours() -> dict[int, list[int]]:
        return {
            connector: [i for i in profile_ids if i in (671, 672, 673)]
            for connector, profile_ids in ids(await installed(harness)).items()
            if any(i in (671, 672, 673) for i in profile_ids)
        }

    wire = Wire(cp)
    for offset, profile_id in enumerate((671, 672, 673)):
        profile = absolute_profile(profile_id, "TxDefaultProfile", stack_level=STACK_LEVEL + offset)
        assert (await set_profile(harness, cp, CONNECTOR_ID, profile))["status"] == "Accepted"
    assert await ours() == {CONNECTOR_ID: [671, 672, 673]}
    others = {i for profile_ids in ids(await installed(harness)).values() for i in profile_ids}
    others -= {671, 672, 673}

    answer, request = await clear_profiles(harness, cp, id=671)
    assert request == {"id": 671}
    assert answer == {"status": "Accepted", "clearedChargingProfileIds": [671]}
    assert await ours() == {CONNECTOR_ID: [672, 673]}

    answer, request = await clear_profiles(
        harness,
        cp,
        connectorId=CONNECTOR_ID,
        chargingProfilePurpose="TxDefaultProfile",
        stackLevel=STACK_LEVEL + 1,
    )
    assert request == {
        "connectorId": CONNECTOR_ID,
        "chargingProfilePurpose": "TxDefaultProfile",
        "stackLevel": STACK_LEVEL + 1,
    }
    assert answer == {"status": "Accepted", "clearedChargingProfileIds": [672]}
    assert await ours() == {CONNECTOR_ID: [673]}

    answer, request = await clear_profiles(harness, cp)
    assert request == {}
    assert answer == {
        "status": "Accepted",
        "clearedChargingProfileIds": sorted({673} | others),
    }
    assert await installed(harness) == {}
    assert cp.state.charging_profiles == []
    assert wire.calls() == ["CS→ SetChargingProfile"] * 3 + ["CS→ ClearChargingProfile"] * 3
    await no_unsolicited_calls(cp)


async def test_tc_067_clear_charging_profile_2025_charging(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_067_CSMS (3.19.3, 2025-06 draft / 2025-11 / 2026-02): in the Charging state, a
    ChargePointMaxProfile on connector 0, a TxDefaultProfile and a TxProfile (with the
    generated transactionId) on the configured connector, all with stack level L; clear
    profile 1 by id alone; clear by connectorId, TxDefaultProfile and L; clear all. All
    Accepted (catalogue 3.10.4)."""
    transaction_id = await charging(cp, id_tags.valid)
    wire = Wire(cp)
    profiles = [
        (0, absolute_profile(1671, "ChargePointMaxProfile")),
        (CONNECTOR_ID, absolute_profile(1672, "TxDefaultProfile")),
        (CONNECTOR_ID, absolute_profile(1673, "TxProfile", transaction_id=transaction_id)),
    ]
    for connector_id, profile in profiles:
        assert (await set_profile(harness, cp, connector_id, profile))["status"] == "Accepted"
    assert "transactionId" not in profiles[0][1] and "transactionId" not in profiles[1][1]
    stored = await installed(harness)
    assert ids(stored) == {0: [1671], CONNECTOR_ID: [1672, 1673]}
    assert [p["transactionId"] for p in stored[CONNECTOR_ID]] == [None, transaction_id]

    answer, request = await clear_profiles(harness, cp, id=1671)
    assert request == {"id": 1671}
    assert answer == {"status": "Accepted", "clearedChargingProfileIds": [1671]}

    answer, request = await clear_profiles(
        harness,
        cp,
        connectorId=CONNECTOR_ID,
        chargingProfilePurpose="TxDefaultProfile",
        stackLevel=STACK_LEVEL,
    )
    assert request == {
        "connectorId": CONNECTOR_ID,
        "chargingProfilePurpose": "TxDefaultProfile",
        "stackLevel": STACK_LEVEL,
    }
    assert answer == {"status": "Accepted", "clearedChargingProfileIds": [1672]}
    assert ids(await installed(harness)) == {CONNECTOR_ID: [1673]}

    answer, request = await clear_profiles(harness, cp)
    assert request == {}
    assert answer == {"status": "Accepted", "clearedChargingProfileIds": [1673]}
    assert await installed(harness) == {}
    assert wire.calls() == ["CS→ SetChargingProfile"] * 3 + ["CS→ ClearChargingProfile"] * 3
    await no_unsolicited_calls(cp)
