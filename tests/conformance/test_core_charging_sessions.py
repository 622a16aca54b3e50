"""Core profile, charging sessions the charge point starts and ends on its own: OCTT TC_003,
TC_004_1, TC_004_2, TC_005_1 and TC_024 (test-case document 3.2, 3.8.4; spec 4.1 Authorize,
4.8 StartTransaction, 4.9 StatusNotification, 4.10 StopTransaction)."""

from __future__ import annotations

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CONNECTOR_ID,
    IdTags,
    Wire,
    authorized,
    charging,
    connector_statuses,
    no_unsolicited_calls,
    parse_time,
    stored_transaction,
    transactions_of,
)
from tests.harness import Harness

CHARGING_STATE = [
    "CP→ Authorize",
    "CP→ StatusNotification",
    "CP→ StartTransaction",
    "CP→ StatusNotification",
]


async def test_tc_003_regular_charging_session_plugin_first(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_003_CSMS (3.2.1): cable first (StatusNotification Preparing), then the driver's
    identification: Authorize and StartTransaction are both Accepted (spec 4.1, 4.8), and the
    Charging status is answered."""
    wire = Wire(cp)
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    authorize = await cp.authorize(id_tags.valid)
    assert authorize["idTagInfo"]["status"] == "Accepted"
    start = await cp.start_transaction(CONNECTOR_ID, id_tags.valid, meter_start=1000)
    assert start["idTagInfo"]["status"] == "Accepted"
    transaction_id = start["transactionId"]
    assert isinstance(transaction_id, int)
    assert await cp.status_notification(CONNECTOR_ID, "Charging") == {}

    assert wire.calls() == [
        "CP→ StatusNotification",
        "CP→ Authorize",
        "CP→ StartTransaction",
        "CP→ StatusNotification",
    ]
    stored = await stored_transaction(harness, transaction_id)
    assert stored["active"] is True
    assert (stored["connectorId"], stored["idTag"], stored["idTagStatus"]) == (
        CONNECTOR_ID,
        id_tags.valid,
        "Accepted",
    )
    assert stored["meterStart"] == 1000
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Charging"
    await no_unsolicited_calls(cp)


async def test_tc_004_1_regular_charging_session_identification_first(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_004_1_CSMS (3.2.2): the scenario is the reusable state Charging (3.22): Authorize
    first, then Preparing, StartTransaction (Accepted) and Charging."""
    wire = Wire(cp)
    transaction_id = await charging(cp, id_tags.valid)

    assert wire.calls() == CHARGING_STATE
    active = await transactions_of(harness, active=True)
    assert [transaction["id"] for transaction in active] == [transaction_id]
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Charging"
    await no_unsolicited_calls(cp)


async def test_tc_004_2_identification_first_connection_timeout(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_004_2_CSMS (3.2.3): after the Authorized state the connector goes Preparing, and
    back to Available when ConnectionTimeOut expires without a cable (spec 9.1.6). Both
    StatusNotifications are answered; an Authorize alone starts no transaction."""
    await authorized(cp, id_tags.valid)
    wire = Wire(cp)
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    # [the configured ConnectionTimeOut expires]
    assert await cp.status_notification(CONNECTOR_ID, "Available") == {}

    assert wire.calls() == ["CP→ StatusNotification", "CP→ StatusNotification"]
    assert await transactions_of(harness) == []
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Available"
    await no_unsolicited_calls(cp)


async def test_tc_005_1_ev_side_disconnected(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_005_1_CSMS (3.2.4): with StopTransactionOnEVSideDisconnect and
    UnlockConnectorOnEVSideDisconnect true, unplugging at the EV side suspends the session
    (SuspendedEV) and stops the transaction with reason EVDisconnected; then Finishing and,
    once the cable is removed, Available. The CSMS closes the transaction as reported."""
    transaction_id = await charging(cp, id_tags.valid)
    wire = Wire(cp)

    assert await cp.status_notification(CONNECTOR_ID, "SuspendedEV") == {}
    stop = await cp.stop_transaction(
        transaction_id, 4200, reason="EVDisconnected", id_tag=id_tags.valid
    )
    # With an idTag in the request, the answer's idTagInfo refreshes the cache (spec 4.10).
    assert stop["idTagInfo"]["status"] == "Accepted"
    assert await cp.status_notification(CONNECTOR_ID, "Finishing") == {}
    assert await cp.status_notification(CONNECTOR_ID, "Available") == {}

    assert wire.calls() == [
        "CP→ StatusNotification",
        "CP→ StopTransaction",
        "CP→ StatusNotification",
        "CP→ StatusNotification",
    ]
    stored = await stored_transaction(harness, transaction_id)
    assert stored["active"] is False
    assert (stored["stopReason"], stored["meterStop"], stored["stopIdTag"]) == (
        "EVDisconnected",
        4200,
        id_tags.valid,
    )
    assert parse_time(stored["stopTime"]) >= parse_time(stored["startTime"])
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Available"
    await no_unsolicited_calls(cp)


async def test_tc_024_start_charging_session_lock_failure(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_024_CSMS (3.8.4): after the Authorized state the connector goes Preparing, and the
    lock fails when the cable is plugged in: Faulted with errorCode ConnectorLockFailure
    (spec 7.6). Both are answered and the CSMS holds the fault; no transaction starts."""
    await authorized(cp, id_tags.valid)
    wire = Wire(cp)
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    assert (
        await cp.status_notification(CONNECTOR_ID, "Faulted", error_code="ConnectorLockFailure")
        == {}
    )

    assert wire.calls() == ["CP→ StatusNotification", "CP→ StatusNotification"]
    connector = (await connector_statuses(harness))[CONNECTOR_ID]
    assert (connector["status"], connector["errorCode"]) == ("Faulted", "ConnectorLockFailure")
    assert await transactions_of(harness) == []
    await no_unsolicited_calls(cp)
