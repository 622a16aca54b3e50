"""Core profile, unlocking a connector: OCTT TC_017_1, TC_017_2, TC_018_1, TC_030 and TC_031
(test-case document 3.6, 3.10; spec 5.18 UnlockConnector, errata 3.87)."""

from __future__ import annotations

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CONNECTOR_ID,
    UNKNOWN_CONNECTOR_ID,
    IdTags,
    Wire,
    charging,
    connector_statuses,
    no_unsolicited_calls,
    operator,
    stored_transaction,
)
from tests.harness import Harness


async def _unlock(
    harness: Harness, cp: SimulatedChargePoint, connector_id: int, expected_status: str
) -> None:
    wire = Wire(cp)
    answer, call = await operator(harness, cp, "UnlockConnector", {"connectorId": connector_id})
    assert call.payload == {"connectorId": connector_id}
    assert answer == {"status": expected_status}
    assert wire.calls() == ["CS→ UnlockConnector"]
    await no_unsolicited_calls(cp)


async def test_tc_017_1_unlock_connector_no_charging_session_not_fixed_cable(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_017_1_CSMS (3.6.1): no session runs; the operator unlocks the connector and the
    charge point answers Unlocked."""
    await _unlock(harness, cp, CONNECTOR_ID, "Unlocked")


async def test_tc_017_2_unlock_connector_no_charging_session_fixed_cable(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_017_2_CSMS (3.6.2): a fixed cable cannot be unlocked: NotSupported (errata 3.87),
    handled like any answer."""
    cp.answers["UnlockConnector"] = {"status": "NotSupported"}
    await _unlock(harness, cp, CONNECTOR_ID, "NotSupported")


async def test_tc_018_1_unlock_connector_with_charging_session(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_018_1_CSMS (3.6.3): in the Charging state the operator unlocks the connector
    (Unlocked); the charge point reports Finishing, stops the transaction with reason
    UnlockCommand (spec 5.18) and, once unplugged, Available."""
    transaction_id = await charging(cp, id_tags.valid)
    wire = Wire(cp)

    answer, call = await operator(harness, cp, "UnlockConnector", {"connectorId": CONNECTOR_ID})
    assert call.payload == {"connectorId": CONNECTOR_ID}
    assert answer == {"status": "Unlocked"}
    assert await cp.status_notification(CONNECTOR_ID, "Finishing") == {}
    await cp.stop_transaction(transaction_id, 3100, reason="UnlockCommand")
    assert await cp.status_notification(CONNECTOR_ID, "Available") == {}

    assert wire.calls() == [
        "CS→ UnlockConnector",
        "CP→ StatusNotification",
        "CP→ StopTransaction",
        "CP→ StatusNotification",
    ]
    stored = await stored_transaction(harness, transaction_id)
    assert (stored["active"], stored["stopReason"], stored["meterStop"]) == (
        False,
        "UnlockCommand",
        3100,
    )
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Available"
    await no_unsolicited_calls(cp)


async def test_tc_030_unlock_connector_unlock_failure(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_030_CSMS (3.10.1): the connector cannot be unlocked: UnlockFailed, handled."""
    cp.answers["UnlockConnector"] = {"status": "UnlockFailed"}
    await _unlock(harness, cp, CONNECTOR_ID, "UnlockFailed")


async def test_tc_031_unlock_connector_unknown_connector(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_031_CSMS (3.10.2): the operator asks to unlock a connector the charge point does not
    have (NumberOfConnectors + 1); the CSMS sends it as asked (catalogue 2.4-2) and handles
    NotSupported (errata 3.87)."""
    await _unlock(harness, cp, UNKNOWN_CONNECTOR_ID, "NotSupported")
