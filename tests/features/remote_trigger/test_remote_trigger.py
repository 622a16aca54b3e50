"""TriggerMessage beyond the OCTT cases (spec 5.17, errata 3.40): the triggered message before
the answer, never, once per connector; what does not count; BootNotification only for a charge
point not Accepted; the router's call observers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from tests.harness import Harness

from csms.ocppj import Call, CallError, ErrorCode
from csms.simulator import SimulatedChargePoint


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    """CP1 with 2 connectors, booted: Accepted, connectors 0..2 reported Available."""
    async with harness.charge_point("CP1", connectors=2) as charge_point:
        await charge_point.boot_and_report()
        yield charge_point


async def trigger(
    harness: Harness,
    body: dict[str, Any],
    then: Callable[[], Awaitable[Any]] | None = None,
    *,
    cp: SimulatedChargePoint,
    wait: float = 5.0,
) -> Any:
    """POST .../trigger; once the charge point has answered, `then` runs (sends messages)."""
    request = asyncio.create_task(
        harness.api.post(
            f"/charge-points/{cp.charge_point_id}/trigger", json=body, params={"wait": wait}
        )
    )
    try:
        await cp.expect_call("TriggerMessage")
        if then is not None:
            await then()
        return await request
    finally:
        request.cancel()


async def test_the_message_may_come_before_the_answer(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    async def heartbeat_first(payload: dict[str, Any]) -> dict[str, Any]:
        await cp.heartbeat()  # crosses our TriggerMessage on the wire
        return {"status": "Accepted"}

    cp.answers["TriggerMessage"] = heartbeat_first
    response = await trigger(harness, {"requestedMessage": "Heartbeat"}, cp=cp)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["complete"]) == ("Accepted", True)
    assert [(m["action"], m["connectorId"], m["payload"]) for m in body["messages"]] == [
        ("Heartbeat", None, {})
    ]


async def test_a_message_that_never_comes(harness: Harness, cp: SimulatedChargePoint) -> None:
    response = await trigger(harness, {"requestedMessage": "MeterValues"}, cp=cp, wait=0.3)
    assert response.json() == {"status": "Accepted", "messages": [], "complete": False}
    # wait=0: the answer alone.
    response = await trigger(harness, {"requestedMessage": "Heartbeat"}, cp=cp, wait=0)
    assert response.json() == {"status": "Accepted", "messages": [], "complete": False}


async def test_status_notification_of_every_connector(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """Without connectorId: one per connector, the charge point (0) included (spec 5.17); the
    connectors are the ones reported, or NumberOfConnectors once the configuration is known."""

    async def report(*connectors: int) -> None:
        for connector_id in connectors:
            await cp.status_notification(connector_id, "Available")

    response = await trigger(
        harness, {"requestedMessage": "StatusNotification"}, lambda: report(0, 1, 2), cp=cp
    )
    body = response.json()
    assert body["complete"] is True
    assert [m["connectorId"] for m in body["messages"]] == [0, 1, 2]

    response = await trigger(
        harness, {"requestedMessage": "StatusNotification"}, lambda: report(2, 0), cp=cp, wait=0.3
    )
    body = response.json()
    assert body["complete"] is False
    assert [m["connectorId"] for m in body["messages"]] == [2, 0]

    # NumberOfConnectors 3 (the configuration as read) outweighs the connectors reported.
    cp.configuration["NumberOfConnectors"] = ("3", True)
    await harness.api.post(
        "/charge-points/CP1/get-configuration", json={"key": ["NumberOfConnectors"]}
    )
    await cp.expect_call("GetConfiguration")
    response = await trigger(
        harness,
        {"requestedMessage": "MeterValues"},
        lambda: meter_values(cp, 1, 2),
        cp=cp,
        wait=0.3,
    )
    assert response.json()["complete"] is False
    response = await trigger(
        harness, {"requestedMessage": "MeterValues"}, lambda: meter_values(cp, 3, 2, 1), cp=cp
    )
    assert response.json()["complete"] is True


async def meter_values(cp: SimulatedChargePoint, *connectors: int) -> None:
    for connector_id in connectors:
        await cp.meter_values(connector_id)


async def test_what_does_not_count(harness: Harness, cp: SimulatedChargePoint) -> None:
    async with harness.charge_point("CP2", connectors=2) as other:
        await other.boot()

        async def messages() -> None:
            await cp.meter_values(2)  # another connector
            await other.meter_values(1)  # another charge point
            await cp.heartbeat()  # another message
            await cp.meter_values(1)

        response = await trigger(
            harness, {"requestedMessage": "MeterValues", "connectorId": 1}, messages, cp=cp
        )
    body = response.json()
    assert body["complete"] is True
    assert [(m["action"], m["connectorId"]) for m in body["messages"]] == [("MeterValues", 1)]
    # A connectorId irrelevant to the message is ignored (spec 5.17).
    response = await trigger(
        harness, {"requestedMessage": "Heartbeat", "connectorId": 2}, cp.heartbeat, cp=cp
    )
    assert response.json()["complete"] is True
    assert harness.app.services.call_observers == []


async def test_boot_notification_only_before_an_accepted_boot(harness: Harness) -> None:
    """Errata 3.40: no TriggerMessage(BootNotification) after BootNotification Accepted, until
    the charge point boots again; for a Pending charge point it is how to ask for a new boot."""
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        response = await harness.api.post(
            "/charge-points/CP1/trigger", json={"requestedMessage": "BootNotification"}
        )
        assert response.status_code == 409
        assert "errata 3.40" in response.json()["detail"]
        cp.no_unexpected_calls()

    await harness.api.put("/charge-points/CP2", json={"registrationStatus": "Pending"})
    async with harness.charge_point("CP2") as pending:
        assert (await pending.boot())["status"] == "Pending"
        response = await trigger(
            harness, {"requestedMessage": "BootNotification"}, pending.boot, cp=pending
        )
        body = response.json()
        assert (body["status"], body["complete"]) == ("Accepted", True)
        assert body["messages"][0]["payload"]["chargePointVendor"] == pending.vendor


async def test_errors(harness: Harness, cp: SimulatedChargePoint) -> None:
    cp.answers["TriggerMessage"] = CallError(
        unique_id="", error_code=ErrorCode.NOT_IMPLEMENTED, error_description="no triggers"
    )
    response = await harness.api.post(
        "/charge-points/CP1/trigger", json={"requestedMessage": "Heartbeat"}
    )
    assert response.status_code == 502
    assert response.json()["errorCode"] == "NotImplemented"
    await cp.expect_call("TriggerMessage")
    for body in (
        {"requestedMessage": "StartTransaction"},
        {"requestedMessage": "Heartbeat", "connectorId": -1},
    ):
        response = await harness.api.post("/charge-points/CP1/trigger", json=body)
        assert response.status_code == 422
    response = await harness.api.post(
        "/charge-points/NOPE/trigger", json={"requestedMessage": "Heartbeat"}
    )
    assert response.status_code == 404
    response = await harness.api.post(
        "/charge-points/CP2/trigger", json={"requestedMessage": "Heartbeat"}
    )
    assert response.status_code == 404
    cp.no_unexpected_calls()


async def test_a_failing_observer_does_not_fail_the_message(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    seen: list[str] = []

    def broken(charge_point_id: str, call: Call, request: Any) -> None:
        raise RuntimeError("observer bug")

    def recording(charge_point_id: str, call: Call, request: Any) -> None:
        seen.append(f"{charge_point_id} {call.action} {type(request).__name__}")

    harness.app.services.call_observers.extend([broken, recording])
    try:
        assert "currentTime" in await cp.heartbeat()
    finally:
        harness.app.services.call_observers.clear()
    assert seen == ["CP1 Heartbeat HeartbeatRequest"]
