"""Core profile, booting and resetting: OCTT TC_001, TC_013, TC_014 and TC_032_1 (test-case
document 3.1, 3.5, 3.11; spec 4.2 BootNotification, 4.6 Heartbeat, 4.9 StatusNotification,
5.14 Reset)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CONNECTOR_ID,
    CONNECTORS,
    HEARTBEAT_INTERVAL,
    MODEL,
    VENDOR,
    IdTags,
    Wire,
    ago,
    charging,
    connector_statuses,
    is_utc,
    no_unsolicited_calls,
    operator,
    parse_time,
    stored_charge_point,
    stored_transaction,
)
from tests.harness import Harness

AVAILABLE_EVERYWHERE = ["CP→ StatusNotification"] * (CONNECTORS + 1)


def _close_to_now(moment: datetime) -> bool:
    return abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


async def test_tc_001_cold_boot_charge_point(
    harness: Harness, connected_cp: SimulatedChargePoint
) -> None:
    """TC_001_CSMS (3.1.1): a charge point registers itself after a cold boot.

    BootNotification (configured vendor and model) is Accepted with the CSMS time and an integer
    heartbeat interval (spec 4.2); a StatusNotification Available for connector 0 and each
    connector (errata 3.22) and a Heartbeat at that interval are answered (spec 4.6, 4.9)."""
    cp = connected_cp
    wire = Wire(cp)

    boot = await cp.boot()
    assert boot["status"] == "Accepted"
    assert isinstance(boot["interval"], int) and boot["interval"] == HEARTBEAT_INTERVAL
    assert _close_to_now(parse_time(boot["currentTime"])) and is_utc(boot["currentTime"])
    # The charge point adopts the interval as its HeartbeatInterval (spec 4.2).
    assert cp.configuration["HeartbeatInterval"][0] == str(HEARTBEAT_INTERVAL)

    for connector_id in range(CONNECTORS + 1):
        assert await cp.status_notification(connector_id, "Available") == {}

    heartbeat = await cp.heartbeat()
    assert _close_to_now(parse_time(heartbeat["currentTime"])) and is_utc(heartbeat["currentTime"])

    assert wire.calls() == [
        "CP→ BootNotification",
        *AVAILABLE_EVERYWHERE,
        "CP→ Heartbeat",
    ]
    # What the CSMS recorded: the identity of the boot and every connector Available.
    stored = await stored_charge_point(harness)
    assert stored["connected"] is True
    assert stored["registrationStatus"] == "Accepted"
    assert (stored["boot"]["chargePointVendor"], stored["boot"]["chargePointModel"]) == (
        VENDOR,
        MODEL,
    )
    assert stored["lastBootAt"] is not None
    statuses = await connector_statuses(harness)
    assert {n: s["status"] for n, s in statuses.items()} == dict.fromkeys(
        range(CONNECTORS + 1), "Available"
    )
    await no_unsolicited_calls(cp)


async def _reset_and_reboot(
    harness: Harness, cp: SimulatedChargePoint, reset_type: str, *, new_connection: bool
) -> None:
    """The common body of TC_013 and TC_014: the operator resets the charge point, which
    answers Accepted, reboots and boots again (Accepted), reporting each connector Available."""
    before = (await stored_charge_point(harness))["lastBootAt"]
    wire = Wire(cp)

    answer, reset = await operator(harness, cp, "Reset", {"type": reset_type})
    assert reset.payload == {"type": reset_type}
    assert answer == {"status": "Accepted"}

    # The reboot: a charge point may come back on a new WebSocket connection (catalogue TC_013).
    if new_connection:
        await cp.reconnect()
    boot = await cp.boot()
    assert boot["status"] == "Accepted"
    assert boot["interval"] == HEARTBEAT_INTERVAL
    for connector_id in range(CONNECTORS + 1):
        assert await cp.status_notification(connector_id, "Available") == {}

    assert wire.calls() == ["CS→ Reset", "CP→ BootNotification", *AVAILABLE_EVERYWHERE]
    after = (await stored_charge_point(harness))["lastBootAt"]
    assert parse_time(after) >= parse_time(before)
    statuses = await connector_statuses(harness)
    assert all(status["status"] == "Available" for status in statuses.values())
    assert len(statuses) == CONNECTORS + 1
    await no_unsolicited_calls(cp)


async def test_tc_013_hard_reset(harness: Harness, cp: SimulatedChargePoint) -> None:
    """TC_013_CSMS (3.5.1): the CSMS sends Reset with type Hard (spec 5.14), and accepts the
    BootNotification of the charge point coming back on a new connection."""
    await _reset_and_reboot(harness, cp, "Hard", new_connection=True)


async def test_tc_014_soft_reset(harness: Harness, cp: SimulatedChargePoint) -> None:
    """TC_014_CSMS (3.5.2): the CSMS sends Reset with type Soft (spec 5.14), and accepts the
    BootNotification that follows, here on the same connection."""
    await _reset_and_reboot(harness, cp, "Soft", new_connection=False)


async def test_tc_032_1_power_failure_boot_stops_transactions(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_032_1_CSMS (3.11.1): in the Charging state the charge point loses power. It boots
    again on a new connection (Accepted), reports the transaction's connector Finishing and
    the others Available, and then stops the transaction of before the reboot with reason
    PowerLoss (spec 4.10, errata 3.36). The transaction must survive the disconnection and
    the new boot, and be closed with the charge point's stop time and meter reading."""
    transaction_id = await charging(cp, id_tags.valid)
    power_lost_at = ago(seconds=30)

    await cp.close()  # [the power of the charge point is cut and restored]
    await cp.connect()
    wire = Wire(cp)
    boot = await cp.boot()
    assert boot["status"] == "Accepted"
    # The new boot does not end the transaction: only its StopTransaction does.
    assert (await stored_transaction(harness, transaction_id))["active"] is True
    for connector_id in range(CONNECTORS + 1):
        status = "Finishing" if connector_id == CONNECTOR_ID else "Available"
        assert await cp.status_notification(connector_id, status) == {}
    answer = await cp.stop_transaction(
        transaction_id, 1500, reason="PowerLoss", timestamp=power_lost_at
    )
    assert "idTagInfo" not in answer or answer["idTagInfo"]["status"] == "Accepted"

    assert wire.calls() == [
        "CP→ BootNotification",
        *AVAILABLE_EVERYWHERE,
        "CP→ StopTransaction",
    ]
    stored = await stored_transaction(harness, transaction_id)
    assert stored["active"] is False
    assert stored["stopReason"] == "PowerLoss"
    assert stored["meterStop"] == 1500
    assert parse_time(stored["stopTime"]) == power_lost_at
    statuses = await connector_statuses(harness)
    assert statuses[CONNECTOR_ID]["status"] == "Finishing"
    assert all(
        status["status"] == "Available"
        for connector_id, status in statuses.items()
        if connector_id != CONNECTOR_ID
    )
    await no_unsolicited_calls(cp)
