"""Remote Trigger profile: OCTT TC_054 and TC_055 (test-case document 3.18; spec 5.17
TriggerMessage, errata 3.40, 3.46).

The operator triggers through POST /charge-points/{id}/trigger, which answers with the charge
point's status and the message(s) it sent as asked. As the OCA tool does, the test sends the
triggered messages itself once the charge point has answered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CONNECTOR_ID,
    UNKNOWN_CONNECTOR_ID,
    Wire,
    connector_statuses,
    no_unsolicited_calls,
)
from tests.harness import Harness

# A MeterValues.req sent because of a TriggerMessage: the latest reading, context Trigger.
TRIGGERED_SAMPLE = {
    "value": "4321",
    "context": "Trigger",
    "measurand": "Energy.Active.Import.Register",
    "unit": "Wh",
}


async def trigger(
    harness: Harness,
    cp: SimulatedChargePoint,
    body: dict[str, Any],
    then: Callable[[], Awaitable[Any]] | None = None,
    *,
    wait: float = 5.0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """[Manual action] the operator triggers a message; once the charge point has answered,
    `then` sends what it was asked for. Returns the API's answer and the TriggerMessage
    payload as the charge point received it."""
    request = asyncio.create_task(
        harness.api.post(
            f"/charge-points/{cp.charge_point_id}/trigger", json=body, params={"wait": wait}
        )
    )
    try:
        call = await cp.expect_call("TriggerMessage")
        if then is not None:
            await then()
        response = await request
    finally:
        request.cancel()
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer, call.payload


def only_message(answer: dict[str, Any], action: str) -> dict[str, Any]:
    assert answer["status"] == "Accepted"
    assert answer["complete"] is True
    assert [message["action"] for message in answer["messages"]] == [action]
    message: dict[str, Any] = answer["messages"][0]
    return message


async def test_tc_054_trigger_message(harness: Harness, cp: SimulatedChargePoint) -> None:
    """TC_054_CSMS (3.18.1): the operator triggers, in turn, MeterValues and StatusNotification
    for the configured connector, Heartbeat, DiagnosticsStatusNotification and
    FirmwareStatusNotification; each is Accepted and the charge point sends the message, which
    the CSMS answers, stores, and reports to the operator."""
    # What the CSMS stored of the charge point before the case (nothing, on a fresh CSMS).
    samples_before = len(await harness.store.meter_values_of(cp.charge_point_id, CONNECTOR_ID))
    notifications_before = len(await harness.store.list_notifications(cp.charge_point_id))
    wire = Wire(cp)

    answer, request = await trigger(
        harness,
        cp,
        {"requestedMessage": "MeterValues", "connectorId": CONNECTOR_ID},
        lambda: cp.meter_values(CONNECTOR_ID, sampled_values=[TRIGGERED_SAMPLE]),
    )
    assert request == {"requestedMessage": "MeterValues", "connectorId": CONNECTOR_ID}
    message = only_message(answer, "MeterValues")
    assert message["connectorId"] == CONNECTOR_ID
    assert message["payload"]["meterValue"][0]["sampledValue"] == [TRIGGERED_SAMPLE]

    answer, request = await trigger(harness, cp, {"requestedMessage": "Heartbeat"}, cp.heartbeat)
    assert request == {"requestedMessage": "Heartbeat"}
    assert only_message(answer, "Heartbeat")["payload"] == {}

    answer, request = await trigger(
        harness,
        cp,
        {"requestedMessage": "StatusNotification", "connectorId": CONNECTOR_ID},
        lambda: cp.status_notification(CONNECTOR_ID, "Available"),
    )
    assert request == {"requestedMessage": "StatusNotification", "connectorId": CONNECTOR_ID}
    message = only_message(answer, "StatusNotification")
    assert (message["connectorId"], message["payload"]["status"]) == (CONNECTOR_ID, "Available")

    answer, request = await trigger(
        harness,
        cp,
        {"requestedMessage": "DiagnosticsStatusNotification"},
        lambda: cp.diagnostics_status("Idle"),
    )
    assert request == {"requestedMessage": "DiagnosticsStatusNotification"}
    assert only_message(answer, "DiagnosticsStatusNotification")["payload"] == {"status": "Idle"}

    answer, request = await trigger(
        harness,
        cp,
        {"requestedMessage": "FirmwareStatusNotification"},
        lambda: cp.firmware_status("Idle"),
    )
    assert request == {"requestedMessage": "FirmwareStatusNotification"}
    assert only_message(answer, "FirmwareStatusNotification")["payload"] == {"status": "Idle"}

    assert wire.calls() == [
        "CS→ TriggerMessage",
        "CP→ MeterValues",
        "CS→ TriggerMessage",
        "CP→ Heartbeat",
        "CS→ TriggerMessage",
        "CP→ StatusNotification",
        "CS→ TriggerMessage",
        "CP→ DiagnosticsStatusNotification",
        "CS→ TriggerMessage",
        "CP→ FirmwareStatusNotification",
    ]
    # What the triggered messages reported is stored like any other report.
    samples = await harness.store.meter_values_of(cp.charge_point_id, CONNECTOR_ID)
    assert [(s.value, s.context) for s in samples[samples_before:]] == [("4321", "Trigger")]
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Available"
    notifications = await harness.store.list_notifications(cp.charge_point_id)
    assert [(n.kind, n.status) for n in notifications[notifications_before:]] == [
        ("diagnostics", "Idle"),
        ("firmware", "Idle"),
    ]
    await no_unsolicited_calls(cp)


async def test_tc_054_trigger_message_firmware_status_not_implemented(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_054_CSMS step 17/18: the charge point may answer the FirmwareStatusNotification
    trigger NotImplemented. The CSMS reports it at once: it waits for no message."""
    cp.answers["TriggerMessage"] = {"status": "NotImplemented"}
    wire = Wire(cp)
    async with asyncio.timeout(5):  # far less than the `wait` given
        answer, request = await trigger(
            harness, cp, {"requestedMessage": "FirmwareStatusNotification"}, wait=60
        )
    assert request == {"requestedMessage": "FirmwareStatusNotification"}
    assert answer == {"status": "NotImplemented", "messages": [], "complete": False}

    assert wire.calls() == ["CS→ TriggerMessage"]
    await no_unsolicited_calls(cp)


async def test_tc_055_trigger_message_rejected(harness: Harness, cp: SimulatedChargePoint) -> None:
    """TC_055_CSMS (3.18.2): the operator triggers MeterValues for a connector the charge point
    does not have (NumberOfConnectors + 1): the CSMS sends it as asked, the charge point answers
    Rejected, and the CSMS reports that without waiting for a message."""
    wire = Wire(cp)
    async with asyncio.timeout(5):
        answer, request = await trigger(
            harness,
            cp,
            {"requestedMessage": "MeterValues", "connectorId": UNKNOWN_CONNECTOR_ID},
            wait=60,
        )
    assert request == {"requestedMessage": "MeterValues", "connectorId": UNKNOWN_CONNECTOR_ID}
    assert answer == {"status": "Rejected", "messages": [], "complete": False}

    assert wire.calls() == ["CS→ TriggerMessage"]
    await no_unsolicited_calls(cp)
