"""Scenarios OCTT does not test but real charge points produce (catalogue 4.4), named after
their catalogue ids. Those already covered by tests/transport (R-CONN-01..05 and 07, R-RPC-01
to 10, a never-booted charge point of R-BOOT-03) are not repeated here."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from csms.ocppj import Call, CallResult, parse
from csms.simulator import CallErrorReceived, SimulatedChargePoint
from tests.conformance.octt import (
    CHARGE_POINT_ID,
    CONNECTOR_ID,
    CONNECTORS,
    HEARTBEAT_INTERVAL,
    MODEL,
    VENDOR,
    IdTags,
    Wire,
    ago,
    booted,
    charging,
    no_unsolicited_calls,
    operator,
    parse_time,
    provision_id_tags,
    register,
    stored_charge_point,
    stored_transaction,
    transactions_of,
    wire_time,
)
from tests.harness import Harness, csms


def _charge_point(harness: Harness, charge_point_id: str = CHARGE_POINT_ID) -> SimulatedChargePoint:
    return harness.charge_point(charge_point_id, connectors=CONNECTORS, vendor=VENDOR, model=MODEL)


# -- R-CONN-06: reconnect without a BootNotification ------------------------------------------


async def test_r_conn_06_reconnect_without_boot_notification(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """R-CONN-06 (J 5.4): a charge point that was Accepted and loses its connection comes
    back without a new BootNotification (its boot data did not change). The CSMS serves it at
    once: a whole session is answered, and operator commands reach it on the new connection."""
    await cp.close()
    await cp.connect()
    wire = Wire(cp)

    transaction_id = await charging(cp, id_tags.valid)
    assert await cp.meter_values(CONNECTOR_ID, transaction_id=transaction_id, energy_wh=900) == {}
    answer, call = await operator(harness, cp, "GetConfiguration", {"key": ["HeartbeatInterval"]})
    assert call.payload == {"key": ["HeartbeatInterval"]}
    assert [entry["key"] for entry in answer["configurationKey"]] == ["HeartbeatInterval"]
    await cp.stop_transaction(transaction_id, 900, reason="Local")

    assert wire.calls() == [
        "CP→ Authorize",
        "CP→ StatusNotification",
        "CP→ StartTransaction",
        "CP→ StatusNotification",
        "CP→ MeterValues",
        "CS→ GetConfiguration",
        "CP→ StopTransaction",
    ]
    assert (await stored_charge_point(harness))["connected"] is True
    assert (await stored_transaction(harness, transaction_id))["stopReason"] == "Local"
    await no_unsolicited_calls(cp)


async def test_r_conn_06_reconnect_without_boot_after_a_csms_restart(
    tmp_path: Path,
) -> None:
    """R-CONN-06 (J 5.4) across a restart of the CSMS (an upgrade, a crash): the registration
    and the running transaction are in the database, so the charge point is served without a
    new boot and its transaction is closed when it reports the stop."""
    database = tmp_path / "csms.db"
    async with csms(database, certification_mode=True) as first:
        id_tags = await provision_id_tags(first)
        await register(first)
        async with _charge_point(first) as cp:
            await booted(cp)
            transaction_id = await charging(cp, id_tags.valid)

    async with csms(database, certification_mode=True) as second, _charge_point(second) as cp:
        wire = Wire(cp)
        assert "currentTime" in await cp.heartbeat()
        assert await cp.meter_values(CONNECTOR_ID, transaction_id=transaction_id) == {}
        stop = await cp.stop_transaction(transaction_id, 1200, reason="Local", id_tag=id_tags.valid)
        assert stop["idTagInfo"]["status"] == "Accepted"
        assert wire.calls() == ["CP→ Heartbeat", "CP→ MeterValues", "CP→ StopTransaction"]
        stored = await stored_transaction(second, transaction_id)
        assert (stored["active"], stored["meterStop"]) == (False, 1200)
        await no_unsolicited_calls(cp)


# -- R-BOOT-01/02/03: the registration state machine (spec 4.2, J errata 3.10) ---------------


async def _expect_security_error(step: Any) -> None:
    with pytest.raises(CallErrorReceived) as refused:
        await step
    assert refused.value.error_code == "SecurityError"


async def test_r_boot_01_pending_then_accepted(harness: Harness, id_tags: IdTags) -> None:
    """R-BOOT-01 (spec 4.2): the operator holds a new charge point in Pending. Its boot gets
    Pending with the retry interval; meanwhile the CSMS may read and set its configuration,
    while the charge point's own requests are refused (J errata 3.10). Once the operator
    accepts it, the next BootNotification is Accepted and the charge point is served."""
    await register(harness, status="Pending")
    async with _charge_point(harness) as cp:
        wire = Wire(cp)
        pending = await cp.boot()
        assert pending["status"] == "Pending"
        assert pending["interval"] == harness.app.services.settings.boot_retry_interval
        assert parse_time(pending["currentTime"])

        answer, call = await operator(
            harness, cp, "GetConfiguration", {"key": ["NumberOfConnectors"]}
        )
        assert call.payload == {"key": ["NumberOfConnectors"]}
        assert answer["configurationKey"][0]["value"] == str(CONNECTORS)
        answer, call = await operator(
            harness, cp, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "20"}
        )
        assert call.payload == {"key": "HeartbeatInterval", "value": "20"}
        assert answer == {"status": "Accepted"}
        await _expect_security_error(cp.heartbeat())

        response = await harness.api.put(
            f"/charge-points/{CHARGE_POINT_ID}", json={"registrationStatus": "Accepted"}
        )
        assert response.status_code == 200
        # The HeartbeatInterval the operator set is the one the boot answers: a boot never
        # undoes it (docs/charger-compatibility.md).
        accepted = await booted(cp)
        assert accepted["interval"] == 20
        assert (await cp.authorize(id_tags.valid))["idTagInfo"]["status"] == "Accepted"

        assert wire.calls(allow_call_errors=True) == [
            "CP→ BootNotification",
            "CS→ GetConfiguration",
            "CS→ ChangeConfiguration",
            "CP→ Heartbeat (CALLERROR)",
            "CP→ BootNotification",
            *["CP→ StatusNotification"] * (CONNECTORS + 1),
            "CP→ Authorize",
        ]
        assert (await stored_charge_point(harness))["registrationStatus"] == "Accepted"
        await no_unsolicited_calls(cp)
        # Set back, as a tester would, for the cases after it in a session.
        answer, _ = await operator(
            harness,
            cp,
            "ChangeConfiguration",
            {"key": "HeartbeatInterval", "value": str(HEARTBEAT_INTERVAL)},
        )
        assert answer == {"status": "Accepted"}


async def test_r_boot_01_no_remote_start_or_stop_while_pending(
    harness: Harness, id_tags: IdTags
) -> None:
    """R-BOOT-01 (spec 4.2): RemoteStartTransaction and RemoteStopTransaction are not allowed
    while a charge point is Pending: the CSMS refuses the operator's request and sends
    nothing."""
    await register(harness, status="Pending")
    async with _charge_point(harness) as cp:
        assert (await cp.boot())["status"] == "Pending"
        for action, payload in (
            ("RemoteStartTransaction", {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}),
            ("RemoteStopTransaction", {"transactionId": 1}),
        ):
            response = await harness.api.post(
                f"/charge-points/{CHARGE_POINT_ID}/commands/{action}", json=payload
            )
            assert response.status_code == 409, (action, response.status_code, response.text)
            assert "Pending" in response.json()["detail"]
        # What the CSMS may do while Pending: query, and ask for a message with TriggerMessage,
        # which the charge point may then send although it is not accepted (spec 4.2).
        response = await harness.api.post(
            f"/charge-points/{CHARGE_POINT_ID}/commands/TriggerMessage",
            json={"requestedMessage": "StatusNotification", "connectorId": CONNECTOR_ID},
        )
        assert response.status_code == 200
        await cp.expect_call("TriggerMessage")
        assert await cp.status_notification(CONNECTOR_ID, "Available") == {}
        # Only what was asked for, and only once.
        with pytest.raises(CallErrorReceived) as refused:
            await cp.status_notification(CONNECTOR_ID, "Available")
        assert refused.value.error_code == "SecurityError"
        cp.no_unexpected_calls()


async def test_r_boot_02_rejected_charge_point_is_not_served(
    harness: Harness, id_tags: IdTags
) -> None:
    """R-BOOT-02 (spec 4.2): a Rejected charge point gets a retry interval > 0 and nothing
    else: its requests are refused with SecurityError (J errata 3.10), or the CSMS closes the
    connection, which it MAY; the CSMS sends it nothing on its own."""
    await register(harness, status="Rejected")
    async with _charge_point(harness) as cp:
        rejected = await cp.boot()
        assert rejected["status"] == "Rejected"
        assert isinstance(rejected["interval"], int) and rejected["interval"] > 0
        for step in (cp.authorize(id_tags.valid), cp.heartbeat()):
            try:
                await step
            except CallErrorReceived as refused:
                assert refused.error_code == "SecurityError"
            except ConnectionError:
                pass  # the CSMS closed the connection
            else:
                pytest.fail("a Rejected charge point was served")
        cp.no_unexpected_calls()
        assert (await stored_charge_point(harness))["registrationStatus"] == "Rejected"


async def test_r_boot_02_no_operator_command_reaches_a_rejected_charge_point(
    harness: Harness,
) -> None:
    """R-BOOT-02 (spec 4.2): the CSMS initiates nothing towards a Rejected charge point: an
    operator command is refused without being sent."""
    await register(harness, status="Rejected")
    async with _charge_point(harness) as cp:
        assert (await cp.boot())["status"] == "Rejected"
        response = await harness.api.post(
            f"/charge-points/{CHARGE_POINT_ID}/commands/ClearCache", json={}
        )
        cp.no_unexpected_calls()
        assert response.status_code == 409, (response.status_code, response.text)
        assert "Rejected" in response.json()["detail"]


async def test_r_boot_03_requests_before_acceptance_get_security_error(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """R-BOOT-03 (J errata 3.10): a charge point that was Accepted is put back to Pending by
    the operator and reboots: from its Pending boot on, its transaction and status messages get
    the CALLERROR SecurityError, also after a reconnect without a boot, never a silent
    acceptance; nothing is stored from them."""
    response = await harness.api.put(
        f"/charge-points/{CHARGE_POINT_ID}", json={"registrationStatus": "Pending"}
    )
    assert response.status_code == 200
    await cp.reconnect()
    assert (await cp.boot())["status"] == "Pending"
    for _ in range(2):  # on the boot's connection, then after a reconnect without a boot
        await _expect_security_error(cp.authorize(id_tags.valid))
        await _expect_security_error(cp.start_transaction(CONNECTOR_ID, id_tags.valid))
        await _expect_security_error(cp.status_notification(CONNECTOR_ID, "Preparing"))
        await _expect_security_error(cp.meter_values(CONNECTOR_ID, energy_wh=5))
        await cp.reconnect()
    assert await transactions_of(harness) == []
    statuses = (await stored_charge_point(harness))["connectors"]
    assert {status["status"] for status in statuses} == {"Available"}
    cp.no_unexpected_calls()


# -- R-RPC-14: a CALL retransmitted with the same message id (J errata 3.1) --------------------


async def _raw_call(cp: SimulatedChargePoint, unique_id: str, action: str, payload: Any) -> Any:
    await cp.send_raw(json.dumps([2, unique_id, action, payload]))
    frame = parse(await cp.receive_raw())
    assert isinstance(frame, CallResult) and frame.unique_id == unique_id, frame
    return frame.payload


async def test_r_rpc_14_retransmitted_calls_with_the_same_message_id(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """R-RPC-14 (J errata 3.1: a retried message MAY keep its message id): StartTransaction
    and StopTransaction retransmitted with the same id, on the same connection and after a
    reconnect (the answer was lost), get the same answers and make one transaction, stopped
    once."""
    start = {
        "connectorId": CONNECTOR_ID,
        "idTag": id_tags.valid,
        "meterStart": 50,
        "timestamp": wire_time(ago(minutes=5)),
    }
    first = await _raw_call(cp, "start-0001", "StartTransaction", start)
    assert first["idTagInfo"]["status"] == "Accepted"
    assert await _raw_call(cp, "start-0001", "StartTransaction", start) == first
    await cp.reconnect()  # the answer was lost: the queued message goes again
    assert await _raw_call(cp, "start-0001", "StartTransaction", start) == first
    transaction_id = first["transactionId"]
    assert [t["id"] for t in await transactions_of(harness)] == [transaction_id]

    stopped_at = ago(minutes=1)
    stop = {
        "transactionId": transaction_id,
        "idTag": id_tags.valid,
        "meterStop": 650,
        "timestamp": wire_time(stopped_at),
        "reason": "Local",
    }
    answer = await _raw_call(cp, "stop-0001", "StopTransaction", stop)
    assert answer["idTagInfo"]["status"] == "Accepted"
    await cp.reconnect()
    assert await _raw_call(cp, "stop-0001", "StopTransaction", stop) == answer

    stored = await stored_transaction(harness, transaction_id)
    assert (stored["meterStart"], stored["meterStop"], stored["stopReason"]) == (50, 650, "Local")
    assert parse_time(stored["stopTime"]) == stopped_at
    assert len(await transactions_of(harness)) == 1
    await no_unsolicited_calls(cp)


# -- R-TX-01 and R-TX-05: delayed transaction messages (spec 3.7, errata 3.18) ------------------


async def test_r_tx_01_messages_with_transaction_id_minus_one(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """R-TX-01 (errata 3.18): the charge point could not deliver a StartTransaction and never
    got a transactionId, so its MeterValues and StopTransaction carry transactionId -1. The
    CSMS answers them as if the id were valid (StopTransaction with the tag's idTagInfo) and
    leaves the transactions it knows alone."""
    running = await charging(cp, id_tags.group_a, connector_id=2)
    wire = Wire(cp)
    meter_values = await cp.meter_values(
        CONNECTOR_ID, transaction_id=-1, energy_wh=300, timestamp=ago(minutes=10)
    )
    assert meter_values == {}
    stop = await cp.stop_transaction(
        -1, 600, reason="Local", id_tag=id_tags.valid, timestamp=ago(minutes=5)
    )
    assert stop["idTagInfo"]["status"] == "Accepted"

    assert wire.calls() == ["CP→ MeterValues", "CP→ StopTransaction"]
    assert [t["id"] for t in await transactions_of(harness, active=True)] == [running]
    await no_unsolicited_calls(cp)


async def test_r_tx_05_offline_transaction_replayed_with_old_timestamps(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """R-TX-05 (spec 3.7): a session of three hours ago, queued while offline, is delivered
    after the reconnect in order: StartTransaction, two MeterValues and a StopTransaction with
    transactionData. The CSMS stores every message with its own timestamp: the transaction's
    start and stop, and each sample's time."""
    await cp.close()
    started_at, stopped_at = ago(hours=3), ago(hours=2, minutes=30)
    samples_at = [ago(hours=2, minutes=50), ago(hours=2, minutes=40)]
    await cp.connect()
    wire = Wire(cp)

    start = await cp.start_transaction(
        CONNECTOR_ID, id_tags.valid, meter_start=20_000, timestamp=started_at
    )
    assert start["idTagInfo"]["status"] == "Accepted"
    transaction_id = start["transactionId"]
    for moment, energy in zip(samples_at, (21_000, 22_000), strict=True):
        assert (
            await cp.meter_values(
                CONNECTOR_ID, transaction_id=transaction_id, energy_wh=energy, timestamp=moment
            )
            == {}
        )

    def register_reading(moment: datetime, value: int, context: str) -> dict[str, Any]:
        return {
            "timestamp": wire_time(moment),
            "sampledValue": [
                {
                    "value": str(value),
                    "context": context,
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                }
            ],
        }

    stop = await cp.stop_transaction(
        transaction_id,
        23_000,
        reason="EVDisconnected",
        id_tag=id_tags.valid,
        timestamp=stopped_at,
        transaction_data=[
            register_reading(started_at, 20_000, "Transaction.Begin"),
            register_reading(stopped_at, 23_000, "Transaction.End"),
        ],
    )
    assert stop["idTagInfo"]["status"] == "Accepted"
    assert await cp.status_notification(CONNECTOR_ID, "Available") == {}

    assert wire.calls() == [
        "CP→ StartTransaction",
        "CP→ MeterValues",
        "CP→ MeterValues",
        "CP→ StopTransaction",
        "CP→ StatusNotification",
    ]
    stored = await stored_transaction(harness, transaction_id)
    assert parse_time(stored["startTime"]) == started_at
    assert parse_time(stored["stopTime"]) == stopped_at
    assert (stored["meterStart"], stored["meterStop"], stored["active"]) == (20_000, 23_000, False)
    registers = [
        (parse_time(sample["timestamp"]), sample["value"], sample["context"])
        for sample in stored["meterValues"]
        if sample["measurand"] == "Energy.Active.Import.Register"
    ]
    # In the order received, each with the timestamp of its MeterValue.
    assert registers == [
        (samples_at[0], "21000", "Sample.Periodic"),
        (samples_at[1], "22000", "Sample.Periodic"),
        (started_at, "20000", "Transaction.Begin"),
        (stopped_at, "23000", "Transaction.End"),
    ]
    await no_unsolicited_calls(cp)


# -- R-RPC-11 and R-RPC-12: the CSMS's CALLs, one at a time (J 4.1.1) ---------------------------


async def test_r_rpc_11_two_queued_operator_commands(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """R-RPC-11 (J 4.1.1, J errata 3.5): two operator commands for one charge point: the second
    CALL goes out only after the first is answered, while another charge point is served at
    once and the charge point's own CALLs are still answered."""
    await register(harness, "OCTT-CP-02")
    arrived, release = asyncio.Event(), asyncio.Event()

    async def slow_clear_cache(payload: dict[str, Any]) -> dict[str, Any]:
        arrived.set()
        await release.wait()
        return {"status": "Accepted"}

    cp.answers["ClearCache"] = slow_clear_cache
    wire = Wire(cp)
    commands = f"/charge-points/{CHARGE_POINT_ID}/commands"
    first = asyncio.create_task(harness.api.post(f"{commands}/ClearCache", json={}))
    await asyncio.wait_for(arrived.wait(), 5)
    second = asyncio.create_task(
        harness.api.post(f"{commands}/GetConfiguration", json={"key": ["HeartbeatInterval"]})
    )
    async with _charge_point(harness, "OCTT-CP-02") as other:
        await booted(other)
        answer, _ = await operator(harness, other, "ClearCache", {})
        assert answer == {"status": "Accepted"}
        await no_unsolicited_calls(other)
    assert "currentTime" in await cp.heartbeat()
    assert not first.done() and not second.done()
    received = [e.frame for e in cp.log[wire.start :] if e.direction == "received"]
    assert [f.action for f in received if isinstance(f, Call)] == ["ClearCache"]

    release.set()
    responses = await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert [response.status_code for response in responses] == [200, 200]
    assert responses[0].json() == {"status": "Accepted"}
    assert [entry["key"] for entry in responses[1].json()["configurationKey"]] == [
        "HeartbeatInterval"
    ]
    assert (await cp.expect_call("ClearCache")).payload == {}
    assert (await cp.expect_call("GetConfiguration")).payload == {"key": ["HeartbeatInterval"]}
    # On the wire: the second CALL arrives after the first one's answer went out.
    frames = [(entry.direction, entry.frame) for entry in cp.log[wire.start :]]
    first_call = next(f for d, f in frames if isinstance(f, Call) and f.action == "ClearCache")
    answered_at = next(
        i
        for i, (d, f) in enumerate(frames)
        if d == "sent" and isinstance(f, CallResult) and f.unique_id == first_call.unique_id
    )
    second_at = next(
        i
        for i, (d, f) in enumerate(frames)
        if isinstance(f, Call) and f.action == "GetConfiguration"
    )
    assert second_at > answered_at
    await no_unsolicited_calls(cp)


async def test_r_rpc_12_call_timeout_and_late_answer(tmp_path: Path) -> None:
    """R-RPC-12 (J 4.1.1, catalogue 6): a charge point that does not answer a CSMS CALL within
    the OCPP response timeout: the operator gets 504, the late answer that follows matches
    nothing (it is not taken as the answer to the next CALL), and the next command goes out
    and is answered."""
    boot_request = {"chargePointVendor": VENDOR, "chargePointModel": MODEL}
    async with (
        csms(tmp_path / "csms.db", certification_mode=True, call_timeout=1.0) as harness,
        harness.raw(CHARGE_POINT_ID) as raw,
    ):
        boot = await raw.exchange([2, "boot", "BootNotification", boot_request])
        assert boot[2]["status"] == "Accepted"
        commands = f"/charge-points/{CHARGE_POINT_ID}/commands"

        timed_out = asyncio.create_task(harness.api.post(f"{commands}/ClearCache", json={}))
        unanswered = await raw.receive()
        assert unanswered[:3] == [2, unanswered[1], "ClearCache"]
        response = await asyncio.wait_for(timed_out, 10)
        assert response.status_code == 504, response.text

        following = asyncio.create_task(
            harness.api.post(f"{commands}/Reset", json={"type": "Soft"})
        )
        call = await raw.receive()
        assert call[2:] == ["Reset", {"type": "Soft"}] and call[1] != unanswered[1]
        await raw.send([3, unanswered[1], {"status": "Rejected"}])  # the late answer
        heartbeat = await raw.exchange([2, "hb-1", "Heartbeat", {}])
        assert heartbeat[:2] == [3, "hb-1"]
        await raw.send([3, call[1], {"status": "Accepted"}])
        response = await asyncio.wait_for(following, 10)
        assert (response.status_code, response.json()) == (200, {"status": "Accepted"})
