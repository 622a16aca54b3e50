"""The charge point's CALLs wait in a bounded queue for one worker that answers them in order
(transport/connection.py): a flooding peer is read no further than the queue holds, every CALL
is answered in the order sent, and an idle connection holds no worker task. A real WebSocket
on 127.0.0.1, OcppConnection with a dispatcher of the test's own."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from csms.ocppj import Call, CallResult, Event
from csms.transport.connection import (
    INCOMING_QUEUE_SIZE,
    Handled,
    NoFrameLog,
    OcppConnection,
)

WORKER = "ocpp-worker-CP1"


class FirstCallBlocks:
    """Answers every CALL at once, but the first only when `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.handled: list[str] = []

    async def dispatch(self, connection: OcppConnection, call: Call) -> Handled:
        self.handled.append(call.unique_id)
        if len(self.handled) == 1:
            await self.release.wait()
        return Handled(CallResult(unique_id=call.unique_id, payload={}))


class Received(NoFrameLog):
    def __init__(self) -> None:
        self.texts: list[str | bytes] = []

    def received(self, charge_point_id: str, text: str | bytes, event: Event) -> None:
        self.texts.append(text)


def workers() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name() == WORKER]


async def no_worker(timeout: float = 5.0) -> None:
    """Until the worker has ended: nothing on the wire marks it (it ends after its last send)."""
    async with asyncio.timeout(timeout):
        while workers():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_a_flooding_peer_is_read_only_as_far_as_the_queue_and_answered_in_order() -> None:
    dispatcher, frames = FirstCallBlocks(), Received()

    async def handler(websocket: ServerConnection) -> None:
        connection = OcppConnection(
            websocket, "CP1", dispatcher=dispatcher, call_timeout=5, frame_log=frames
        )
        await connection.run()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as client:
            await no_worker()  # connected and idle: no worker yet
            total = INCOMING_QUEUE_SIZE + 10
            for n in range(total):
                await client.send(json.dumps([2, str(n), "Heartbeat", {}]))
            # The first CALL is with the worker, INCOMING_QUEUE_SIZE wait, and the reader holds
            # one more until there is room: it reads nothing beyond.
            async with asyncio.timeout(10):
                while len(frames.texts) < INCOMING_QUEUE_SIZE + 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)  # a window for a reader that would go on reading
            assert len(frames.texts) == INCOMING_QUEUE_SIZE + 2
            assert dispatcher.handled == ["0"]
            assert len(workers()) == 1

            dispatcher.release.set()
            answers = [json.loads(await client.recv()) for _ in range(total)]
            assert [answer[:2] for answer in answers] == [[3, str(n)] for n in range(total)]
            assert dispatcher.handled == [str(n) for n in range(total)]
            await no_worker()  # idle again: the worker ended with the queue

            # A CALL after idling starts a worker again, and is answered.
            await client.send(json.dumps([2, "again", "Heartbeat", {}]))
            assert json.loads(await client.recv())[:2] == [3, "again"]
            await no_worker()
