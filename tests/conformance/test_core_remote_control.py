"""Core profile, remote start and stop: OCTT TC_010, TC_011_1, TC_011_2, TC_012, TC_026 and
TC_028 (test-case document 3.4, 3.9; spec 5.11 RemoteStartTransaction, 5.12
RemoteStopTransaction, 4.8 StartTransaction, 4.10 StopTransaction).

The operator's request goes out exactly as given: connectorId > 0 for a remote start (a
connectorId of 0 is invalid, TC_027_CS), and any transactionId for a remote stop (TC_028).
TC_010 and the rejected cases use the generic command endpoint; TC_011_1/2 the remote-start
operation, which waits for the transaction the remote start leads to."""

from __future__ import annotations

import asyncio
from typing import Any

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CONNECTOR_ID,
    IdTags,
    Wire,
    charging,
    connector_statuses,
    no_unsolicited_calls,
    operator,
    stored_transaction,
    transactions_of,
)
from tests.harness import Harness


def _remote_start(id_tags: IdTags) -> dict[str, Any]:
    return {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}


async def _started(cp: SimulatedChargePoint, id_tag: str) -> int:
    start = await cp.start_transaction(CONNECTOR_ID, id_tag)
    assert start["idTagInfo"]["status"] == "Accepted"
    transaction_id = start["transactionId"]
    assert isinstance(transaction_id, int)
    return transaction_id


async def test_tc_010_remote_start_charging_session_cable_plugged_in_first(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_010_CSMS (3.4.1): cable plugged in (Preparing), then the operator starts a session:
    RemoteStartTransaction with the valid tag on the connector (Accepted). The charge point
    authorizes the tag (AuthorizeRemoteTxRequests) and starts: both Accepted."""
    wire = Wire(cp)
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    answer, call = await operator(harness, cp, "RemoteStartTransaction", _remote_start(id_tags))
    assert call.payload == {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}
    assert answer == {"status": "Accepted"}
    assert (await cp.authorize(id_tags.valid))["idTagInfo"]["status"] == "Accepted"
    transaction_id = await _started(cp, id_tags.valid)
    assert await cp.status_notification(CONNECTOR_ID, "Charging") == {}

    assert wire.calls() == [
        "CP→ StatusNotification",
        "CS→ RemoteStartTransaction",
        "CP→ Authorize",
        "CP→ StartTransaction",
        "CP→ StatusNotification",
    ]
    stored = await stored_transaction(harness, transaction_id)
    assert (stored["active"], stored["connectorId"], stored["idTag"]) == (
        True,
        CONNECTOR_ID,
        id_tags.valid,
    )
    await no_unsolicited_calls(cp)


async def test_tc_011_1_remote_start_charging_session_remote_start_first(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_011_1_CSMS (3.4.2): the remote start comes before the cable: RemoteStartTransaction
    (Accepted), Authorize (Accepted), Preparing, then the cable and StartTransaction
    (Accepted), Charging.

    The operator uses the remote-start operation, which also tells which transaction the
    remote start led to (the CSMS matches the StartTransaction by connector and idTag)."""
    wire = Wire(cp)
    remote_start = asyncio.create_task(
        harness.api.post(
            f"/charge-points/{cp.charge_point_id}/remote-start",
            params={"wait": 30},
            json={"idTag": id_tags.valid, "connectorId": CONNECTOR_ID},
        )
    )
    call = await cp.expect_call("RemoteStartTransaction")
    assert call.payload == {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}
    assert (await cp.authorize(id_tags.valid))["idTagInfo"]["status"] == "Accepted"
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    transaction_id = await _started(cp, id_tags.valid)
    assert await cp.status_notification(CONNECTOR_ID, "Charging") == {}
    response = await asyncio.wait_for(remote_start, 10)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "Accepted", "transactionId": transaction_id}

    assert wire.calls() == [
        "CS→ RemoteStartTransaction",
        "CP→ Authorize",
        "CP→ StatusNotification",
        "CP→ StartTransaction",
        "CP→ StatusNotification",
    ]
    assert [t["id"] for t in await transactions_of(harness, active=True)] == [transaction_id]
    await no_unsolicited_calls(cp)


async def test_tc_011_2_remote_start_charging_session_time_out(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_011_2_CSMS (3.4.3): a remote start (Accepted, then Authorize Accepted and Preparing)
    that never sees a cable: after ConnectionTimeOut the connector is Available again. No
    transaction exists, the remote-start operation reports none, and nothing of the failed
    start is left over: the next session on that connector is an ordinary one."""
    wire = Wire(cp)
    remote_start = asyncio.create_task(
        harness.api.post(
            f"/charge-points/{cp.charge_point_id}/remote-start",
            params={"wait": 0.5},
            json={"idTag": id_tags.valid, "connectorId": CONNECTOR_ID},
        )
    )
    call = await cp.expect_call("RemoteStartTransaction")
    assert call.payload == {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}
    assert (await cp.authorize(id_tags.valid))["idTagInfo"]["status"] == "Accepted"
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    # [the configured connection timeout is reached]
    assert await cp.status_notification(CONNECTOR_ID, "Available") == {}
    response = await asyncio.wait_for(remote_start, 10)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "Accepted", "transactionId": None}

    assert wire.calls() == [
        "CS→ RemoteStartTransaction",
        "CP→ Authorize",
        "CP→ StatusNotification",
        "CP→ StatusNotification",
    ]
    assert await transactions_of(harness) == []
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Available"
    await no_unsolicited_calls(cp)

    # Not part of the case: no dangling "pending remote start" changes the next session.
    transaction_id = await charging(cp, id_tags.valid)
    stored = await stored_transaction(harness, transaction_id)
    assert (stored["idTag"], stored["idTagStatus"]) == (id_tags.valid, "Accepted")
    await no_unsolicited_calls(cp)


async def test_tc_012_remote_stop_charging_session(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_012_CSMS (3.4.4): in the Charging state the operator stops the session: the CSMS
    sends RemoteStopTransaction with the running transaction's id (Accepted); the charge point
    stops it with reason Remote, then Finishing and, once unplugged, Available."""
    transaction_id = await charging(cp, id_tags.valid)
    wire = Wire(cp)

    answer, call = await operator(
        harness, cp, "RemoteStopTransaction", {"transactionId": transaction_id}
    )
    assert call.payload == {"transactionId": transaction_id}
    assert answer == {"status": "Accepted"}
    await cp.stop_transaction(transaction_id, 2500, reason="Remote")
    assert await cp.status_notification(CONNECTOR_ID, "Finishing") == {}
    assert await cp.status_notification(CONNECTOR_ID, "Available") == {}

    assert wire.calls() == [
        "CS→ RemoteStopTransaction",
        "CP→ StopTransaction",
        "CP→ StatusNotification",
        "CP→ StatusNotification",
    ]
    stored = await stored_transaction(harness, transaction_id)
    assert (stored["active"], stored["stopReason"], stored["meterStop"]) == (
        False,
        "Remote",
        2500,
    )
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Available"
    await no_unsolicited_calls(cp)


async def test_tc_026_remote_start_charging_session_rejected(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_026_CSMS (3.9.1): the charge point rejects the operator's remote start. The CSMS
    reports Rejected and assumes no transaction."""
    cp.answers["RemoteStartTransaction"] = {"status": "Rejected"}
    wire = Wire(cp)
    answer, call = await operator(harness, cp, "RemoteStartTransaction", _remote_start(id_tags))
    assert call.payload == {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}
    assert answer == {"status": "Rejected"}

    assert wire.calls() == ["CS→ RemoteStartTransaction"]
    assert await transactions_of(harness) == []
    await no_unsolicited_calls(cp)


async def test_tc_028_remote_stop_transaction_rejected(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_028_CSMS (3.9.2): in the Charging state the operator asks to stop a transaction the
    charge point does not know; it answers Rejected. The CSMS reports it and the running
    transaction stays open."""
    transaction_id = await charging(cp, id_tags.valid)
    unknown_transaction_id = transaction_id + 1000
    wire = Wire(cp)

    answer, call = await operator(
        harness, cp, "RemoteStopTransaction", {"transactionId": unknown_transaction_id}
    )
    assert call.payload == {"transactionId": unknown_transaction_id}
    assert answer == {"status": "Rejected"}

    assert wire.calls() == ["CS→ RemoteStopTransaction"]
    stored = await stored_transaction(harness, transaction_id)
    assert (stored["active"], stored["stopTime"]) == (True, None)
    await no_unsolicited_calls(cp)
