"""The live event stream (docs/live-events.md): GET /api/v1/events as Server-Sent Events from a
real server, with simulated charge points."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from tests.harness import Harness


@dataclass
class Sse:
    id: int | None
    type: str
    data: dict[str, Any]


class EventStream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 5.0) -> Sse:
        """The next event (comments and the retry field skipped)."""
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> Sse:
        fields: dict[str, str] = {}
        async for line in self._lines:
            if line == "":
                if "data" in fields:
                    return Sse(
                        int(fields["id"]) if "id" in fields else None,
                        fields.get("event", "message"),
                        json.loads(fields["data"]),
                    )
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        raise EOFError("the stream ended")

    async def until(self, event_type: str, timeout: float = 5.0) -> list[Sse]:
        """Events up to and including the next one of `event_type`."""
        events: list[Sse] = []
        while True:
            events.append(await self.next(timeout))
            if events[-1].type == event_type:
                return events

    async def first_line(self) -> str:
        return await asyncio.wait_for(anext(self._lines), 5)


@contextlib.asynccontextmanager
async def events(
    harness: Harness, headers: dict[str, str] | None = None, **params: str
) -> AsyncIterator[EventStream]:
    """A subscription, open once this is entered (its first line has come)."""
    async with harness.api.stream(
        "GET", "/events", params=params, headers=headers or {}, timeout=None
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(response)
        assert (await stream.first_line()).startswith("retry: ")
        yield stream


async def test_a_charge_point_session_as_it_happens(harness: Harness) -> None:
    async with events(harness) as stream, harness.charge_point(connectors=1) as cp:
        await cp.boot_and_report()
        started = await cp.start_transaction(1, "TAG1", meter_start=1000)
        transaction_id = started["transactionId"]
        await cp.meter_values(
            1,
            transaction_id=transaction_id,
            sampled_values=[
                {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
                {"value": "1250"},
            ],
        )
        await cp.stop_transaction(transaction_id, 3500)
        got = await stream.until("transaction.stopped")

    assert [e.type for e in got] == [
        "connected",
        "booted",
        "status",
        "status",
        "transaction.started",
        "meter",
        "transaction.stopped",
    ]
    assert all(e.data["chargePointId"] == "CP1" for e in got)
    ids = [e.id for e in got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(e.data["id"] == e.id for e in got)
    booted, status = got[1].data["data"], got[3].data["data"]
    assert booted["status"] == "Accepted"
    assert (status["connectorId"], status["status"], status["errorCode"]) == (
        1,
        "Available",
        "NoError",
    )
    start, meter, stop = (e.data["data"] for e in got[4:])
    assert start["transactionId"] == transaction_id
    assert (start["connectorId"], start["idTag"], start["meterStart"]) == (1, "TAG1", 1000)
    assert (meter["powerW"], meter["energyWh"]) == (7400.0, 1250.0)
    assert stop["transactionId"] == transaction_id
    assert (stop["meterStart"], stop["meterStop"], stop["energyWh"]) == (1000, 3500, 2500)


async def test_commands_sent_and_answered(harness: Harness) -> None:
    async with harness.charge_point() as cp:
        await cp.boot()
        async with events(harness, types="command") as stream:
            response = await harness.api.post(
                "/charge-points/CP1/commands/Reset", json={"type": "Soft"}
            )
            assert response.status_code == 200
            sent, answered = await stream.next(), await stream.next()
    assert (sent.type, sent.data["data"]) == ("command.sent", {"action": "Reset"})
    assert (answered.type, answered.data["data"]) == (
        "command.answered",
        {"action": "Reset", "status": "Accepted"},
    )


async def test_filtered_by_charge_point_and_type(harness: Harness) -> None:
    async with events(harness, chargePointId="CP2", types="booted") as stream:
        async with harness.charge_point("CP1") as one:
            await one.boot_and_report()
        async with harness.charge_point("CP2") as two:
            await two.boot_and_report()
        got = await stream.next()
    assert (got.type, got.data["chargePointId"]) == ("booted", "CP2")


async def test_the_live_message_log(harness: Harness) -> None:
    async with harness.raw("CP1") as raw:
        await raw.exchange(
            [2, "b1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]
        )
        async with events(harness, types="message", chargePointId="CP1") as stream:
            await raw.exchange([2, "h1", "Heartbeat", {}])
            call, result = await stream.next(), await stream.next()
    assert (call.type, call.data["data"]["direction"], call.data["data"]["uniqueId"]) == (
        "message",
        "in",
        "h1",
    )
    assert call.data["data"]["text"] == '[2, "h1", "Heartbeat", {}]'
    assert result.data["data"]["messageType"] == "CALLRESULT"
    assert result.data["data"]["action"] == "Heartbeat"


async def test_resume_gets_exactly_the_missed_events(harness: Harness) -> None:
    async with events(harness) as reference, harness.charge_point(connectors=2) as cp:
        await cp.boot()
        seen = await reference.until("booted")
        last_seen = seen[-1].id
        # Missed by a client that disconnected after `booted`:
        for connector in (0, 1, 2):
            await cp.status_notification(connector, "Available")
        missed = [await reference.next() for _ in range(3)]
        async with events(harness, headers={"Last-Event-ID": str(last_seen)}) as resumed:
            again = [await resumed.next() for _ in range(3)]
            await cp.status_notification(1, "Preparing")
            live = await resumed.next()
    assert [e.id for e in again] == [e.id for e in missed]
    assert [e.data for e in again] == [e.data for e in missed]
    assert live.data["data"]["status"] == "Preparing"
    assert live.id == missed[-1].id + 1  # nothing in between

    # The query parameter does the same, for clients that cannot set headers.
    async with events(harness, lastEventId=str(last_seen)) as resumed:
        assert (await resumed.next()).id == missed[0].id


async def test_resume_from_an_id_no_longer_kept_starts_with_a_reset(harness: Harness) -> None:
    for last_event_id in ("5", "not-a-number"):
        async with events(harness, headers={"Last-Event-ID": last_event_id}) as stream:
            reset = await stream.next()
            async with harness.charge_point() as cp:
                await cp.boot()
            connected = await stream.next()
        assert reset.type == "reset"
        assert connected.type == "connected"
        assert reset.id is not None and connected.id is not None and connected.id > reset.id
