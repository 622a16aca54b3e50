"""ExtendedTriggerMessage (features/security/extended_trigger.py): every requestedMessage goes
out as asked; the message it asks for is waited for under its own action (FirmwareStatus-
Notification: SignedFirmwareStatusNotification); errata 3.40 holds for BootNotification; a
schema-invalid request is a 422 and nothing is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from tests.harness import Harness

from csms.simulator import SimulatedChargePoint

CP = "ETM-CP"


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    async with harness.charge_point(CP, connectors=2) as charge_point:
        await charge_point.boot_and_report()
        yield charge_point


@pytest.mark.parametrize(
    "requested",
    [
        "LogStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "SignChargePointCertificate",
        "StatusNotification",
    ],
)
async def test_each_requested_message_goes_out_as_asked(
    harness: Harness, cp: SimulatedChargePoint, requested: str
) -> None:
    response = await harness.api.post(
        f"/charge-points/{CP}/extended-trigger",
        json={"requestedMessage": requested, "connectorId": 1},
        params={"wait": 0},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["messages"]) == ("Accepted", [])
    call = await cp.expect_call("ExtendedTriggerMessage")
    assert call.payload == {"requestedMessage": requested, "connectorId": 1}


async def test_the_answer_is_waited_for_under_its_own_action(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    request = asyncio.create_task(
        harness.api.post(
            f"/charge-points/{CP}/extended-trigger",
            json={"requestedMessage": "FirmwareStatusNotification"},
            params={"wait": 5},
        )
    )
    await cp.expect_call("ExtendedTriggerMessage")
    # A plain FirmwareStatusNotification is not what was asked for ...
    await cp.call("FirmwareStatusNotification", {"status": "Idle"})
    await cp.call("SignedFirmwareStatusNotification", {"status": "Idle"})
    response = await request
    body = response.json()
    assert body["complete"] is True
    assert [m["action"] for m in body["messages"]] == ["SignedFirmwareStatusNotification"]


async def test_a_charge_point_that_does_not_implement_it(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    cp.answers["ExtendedTriggerMessage"] = {"status": "NotImplemented"}
    response = await harness.api.post(
        f"/charge-points/{CP}/extended-trigger", json={"requestedMessage": "Heartbeat"}
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["complete"]) == ("NotImplemented", False)


async def test_no_boot_notification_after_an_accepted_one(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    response = await harness.api.post(
        f"/charge-points/{CP}/extended-trigger", json={"requestedMessage": "BootNotification"}
    )
    assert response.status_code == 409 and "errata 3.40" in response.text
    cp.no_unexpected_calls()


@pytest.mark.parametrize(
    "body",
    [
        {"requestedMessage": "DiagnosticsStatusNotification"},
        {"requestedMessage": "Heartbeat", "connectorId": -1},
    ],
)
async def test_a_request_out_of_the_schema_is_refused(
    harness: Harness, cp: SimulatedChargePoint, body: dict[str, object]
) -> None:
    response = await harness.api.post(f"/charge-points/{CP}/extended-trigger", json=body)
    assert response.status_code == 422
    cp.no_unexpected_calls()
