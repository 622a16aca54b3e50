"""Core profile, transactions of an offline charge point: OCTT TC_037_1, TC_037_3 and TC_039
(test-case document 3.12; spec 3.7 transaction-related messages, 4.8 StartTransaction, 4.10
StopTransaction; errata 3.17).

Connectivity is removed by closing the WebSocket, and restored by reconnecting without a new
BootNotification (J 5.4). The queued messages then arrive with the timestamps of when things
happened, which is what the CSMS must store, not the time they arrived."""

from __future__ import annotations

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CONNECTOR_ID,
    IdTags,
    Wire,
    ago,
    connector_statuses,
    no_unsolicited_calls,
    parse_time,
    stored_transaction,
)
from tests.harness import Harness


async def test_tc_037_1_offline_start_transaction_valid_id_tag(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_037_1_CSMS (3.12.1): a transaction started offline with a valid tag is delivered
    after the connection is back: StartTransaction with its past timestamp is Accepted, and
    the transaction starts at that timestamp; then Charging."""
    await cp.close()  # [connectivity removed]
    started_at = ago(minutes=20)  # [the driver starts a transaction offline]
    await cp.connect()  # [connectivity restored]
    wire = Wire(cp)

    start = await cp.start_transaction(
        CONNECTOR_ID, id_tags.valid, meter_start=700, timestamp=started_at
    )
    assert start["idTagInfo"]["status"] == "Accepted"
    assert isinstance(start["transactionId"], int)
    assert await cp.status_notification(CONNECTOR_ID, "Charging") == {}

    assert wire.calls() == ["CP→ StartTransaction", "CP→ StatusNotification"]
    stored = await stored_transaction(harness, start["transactionId"])
    assert parse_time(stored["startTime"]) == started_at
    assert (stored["active"], stored["meterStart"], stored["idTagStatus"]) == (
        True,
        700,
        "Accepted",
    )
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Charging"
    await no_unsolicited_calls(cp)


async def test_tc_037_3_offline_start_transaction_invalid_id_tag(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_037_3_CSMS (3.12.2): a transaction started offline with a tag the CSMS does not
    know: StartTransaction is answered Invalid and still gets a transactionId (spec 4.8, never
    a CALLERROR); with StopTransactionOnInvalidId the charge point stops it (DeAuthorized,
    errata 3.17), then Finishing. Both times are the charge point's."""
    await cp.close()  # [connectivity removed]
    started_at = ago(minutes=20)  # [a transaction starts offline with an invalid tag]
    await cp.connect()  # [connectivity restored]
    wire = Wire(cp)

    start = await cp.start_transaction(
        CONNECTOR_ID, id_tags.invalid, meter_start=100, timestamp=started_at
    )
    assert start["idTagInfo"]["status"] == "Invalid"
    transaction_id = start["transactionId"]
    assert isinstance(transaction_id, int)
    assert await cp.status_notification(CONNECTOR_ID, "Charging") == {}
    stopped_at = ago(seconds=1)
    await cp.stop_transaction(transaction_id, 180, reason="DeAuthorized", timestamp=stopped_at)
    assert await cp.status_notification(CONNECTOR_ID, "Finishing") == {}

    assert wire.calls() == [
        "CP→ StartTransaction",
        "CP→ StatusNotification",
        "CP→ StopTransaction",
        "CP→ StatusNotification",
    ]
    stored = await stored_transaction(harness, transaction_id)
    assert (stored["idTag"], stored["idTagStatus"]) == (id_tags.invalid, "Invalid")
    assert (stored["active"], stored["stopReason"], stored["meterStop"]) == (
        False,
        "DeAuthorized",
        180,
    )
    assert parse_time(stored["startTime"]) == started_at
    assert parse_time(stored["stopTime"]) == stopped_at
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Finishing"
    await no_unsolicited_calls(cp)


async def test_tc_039_offline_transaction(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_039_CSMS (3.12.3): a whole transaction happened offline (start, stop, unplug).
    After the connection is back the queued StartTransaction (Accepted) and StopTransaction
    (reason Local) arrive back to back; the transaction runs from the start to the stop
    timestamp, not over the moment of delivery."""
    await cp.close()  # [connectivity removed]
    started_at, stopped_at = ago(hours=2), ago(hours=1, minutes=30)
    await cp.connect()  # [connectivity restored]
    wire = Wire(cp)

    start = await cp.start_transaction(
        CONNECTOR_ID, id_tags.valid, meter_start=10_000, timestamp=started_at
    )
    assert start["idTagInfo"]["status"] == "Accepted"
    transaction_id = start["transactionId"]
    stop = await cp.stop_transaction(
        transaction_id, 17_500, reason="Local", id_tag=id_tags.valid, timestamp=stopped_at
    )
    assert stop["idTagInfo"]["status"] == "Accepted"

    assert wire.calls() == ["CP→ StartTransaction", "CP→ StopTransaction"]
    stored = await stored_transaction(harness, transaction_id)
    assert (stored["active"], stored["stopReason"]) == (False, "Local")
    assert (stored["meterStart"], stored["meterStop"]) == (10_000, 17_500)
    assert parse_time(stored["startTime"]) == started_at
    assert parse_time(stored["stopTime"]) == stopped_at
    await no_unsolicited_calls(cp)
