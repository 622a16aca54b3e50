"""One charge point's WebSocket: a reader, an in-order worker for its CALLs, and our CALLs.

J 4.1.1: one CALL of ours in flight at a time (a lock), answered by id or timed out; the charge
point's CALLs may cross ours. The reader never awaits business logic: the peer's CALLs go to a
bounded queue (back-pressure on a flooding peer) and a worker answers them in order. The queue
and the worker exist only while there are CALLs to answer, so an idle connection (most of a
fleet, most of the time) holds neither: about 4 KB less per connected charge point
(bench/README.md, "Memory per connected charge point").
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from csms import logs
from csms.metrics import Metrics
from csms.ocppj import (
    Call,
    CallError,
    CallResult,
    ErrorCode,
    Event,
    Frame,
    IncomingCall,
    Reply,
    ResponseReceived,
    Session,
    Unmatched,
    serialize,
)

log = logging.getLogger("csms.transport")

# How many of a charge point's CALLs may wait for the worker before we stop reading its socket.
INCOMING_QUEUE_SIZE = 64


class NotConnected(Exception):
    """The charge point is not connected (or its connection closed while we waited)."""


FollowUp = Callable[[], Awaitable[None]]


class Caller(Protocol):
    async def __call__(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> CallResult | CallError: ...


@dataclass(slots=True)
class Handled:
    """A dispatcher's answer to one CALL, and work to start once that answer is sent."""

    response: CallResult | CallError
    follow_ups: list[FollowUp] = field(default_factory=list)


class Dispatcher(Protocol):
    """What the transport hands each of the peer's CALLs to (features/ implements it)."""

    async def dispatch(self, connection: OcppConnection, call: Call) -> Handled: ...


class FrameLog(Protocol):
    """Told of every frame received and sent, as it goes (message_log.py implements it). Must
    not block or raise."""

    def received(self, charge_point_id: str, text: str | bytes, event: Event) -> None: ...

    def sent(self, charge_point_id: str, text: str, frame: Frame, action: str | None) -> None:
        """`action`: the CALL's, or for an answer the action of the CALL it answers."""


class NoFrameLog:
    def received(self, charge_point_id: str, text: str | bytes, event: Event) -> None:
        pass

    def sent(self, charge_point_id: str, text: str, frame: Frame, action: str | None) -> None:
        pass


class OcppConnection:
    def __init__(
        self,
        websocket: ServerConnection,
        charge_point_id: str,
        *,
        dispatcher: Dispatcher,
        call_timeout: float,
        frame_log: FrameLog | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.charge_point_id = charge_point_id
        self.websocket = websocket
        # Whether the charge point may send more than BootNotification (J errata 3.10); the
        # dispatcher sets it from the stored registration and from each BootNotification answer.
        self.accepted = False
        # The status the last BootNotification on this connection was answered with, if any.
        self.registration: str | None = None
        # Messages the CSMS asked for with TriggerMessage: a charge point that is not accepted
        # may send these (spec 4.2, Pending).
        self.triggered: set[str] = set()
        # The serial number (hex) of the client certificate it connected with (profile 3).
        self.client_certificate_serial: str | None = None
        self._dispatcher = dispatcher
        self._call_timeout = call_timeout
        self._log = frame_log or NoFrameLog()
        self._metrics = metrics or Metrics()
        self._session = Session()
        self._call_lock = asyncio.Lock()
        self._response: asyncio.Future[CallResult | CallError] | None = None
        # The peer's CALLs waiting for the worker, each with the time it was received
        # (time.perf_counter(), for its latency metric); None, like the worker, while idle.
        self._incoming: collections.deque[tuple[Call, float]] | None = None
        self._worker: asyncio.Task[None] | None = None
        # Set when the worker takes a CALL: the reader waits on it while the queue is full.
        self._room: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = asyncio.Event()

    @property
    def remote_address(self) -> Any:
        return self.websocket.remote_address

    async def run(self) -> None:
        """Serve the connection until it closes. Owns the worker and the follow-up tasks."""
        logs.charge_point.set(self.charge_point_id)  # on every log line of this connection
        try:
            await self._read()
        finally:
            tasks = [*self._tasks] if self._worker is None else [self._worker, *self._tasks]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._response is not None and not self._response.done():
                self._response.set_exception(NotConnected(self.charge_point_id))
            self.closed.set()

    async def call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> CallResult | CallError:
        """Send a CALL and wait for its answer. Raises TimeoutError or NotConnected."""
        async with self._call_lock:
            return await self._call(action, payload, timeout=timeout)

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[Caller]:
        """Hold the one-CALL-in-flight slot (J 4.1.1) for a CALL and what follows from its
        answer, so that the next CALL to this charge point waits until both are done."""
        async with self._call_lock:
            yield self._call

    async def _call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> CallResult | CallError:
        if self.closed.is_set():
            raise NotConnected(self.charge_point_id)
        frame = self._session.call(action, payload)
        self._response = asyncio.get_running_loop().create_future()
        try:
            text = serialize(frame)
            self._log.sent(self.charge_point_id, text, frame, action)
            await self.websocket.send(text)
            return await asyncio.wait_for(self._response, timeout or self._call_timeout)
        except ConnectionClosed as exc:
            raise NotConnected(self.charge_point_id) from exc
        finally:
            # A late answer after a timeout now matches nothing and is dropped (J 4.1.1).
            self._session.abandon()
            self._response = None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.websocket.close(code, reason)

    async def _read(self) -> None:
        try:
            async for message in self.websocket:
                event = self._session.receive(message)
                self._log.received(self.charge_point_id, message, event)
                if isinstance(event, IncomingCall):
                    await self._queue(event.call, time.perf_counter())
                elif isinstance(event, ResponseReceived):
                    if self._response is not None and not self._response.done():
                        self._response.set_result(event.response)
                elif isinstance(event, Reply):
                    log.info(
                        "%s: answering unreadable CALL: %s", self.charge_point_id, event.reason
                    )
                    await self._send(event.frame, None)
                elif isinstance(event, Unmatched):
                    log.info("%s: ignored message: %s", self.charge_point_id, event.reason)
        except ConnectionClosed:
            pass

    async def _queue(self, call: Call, received: float) -> None:
        """Hand a CALL to the worker, starting one if none runs. While INCOMING_QUEUE_SIZE
        CALLs wait already, wait for room (the socket is not read meanwhile)."""
        while self._incoming is not None and len(self._incoming) >= INCOMING_QUEUE_SIZE:
            self._room = asyncio.get_running_loop().create_future()
            await self._room
        if self._incoming is None:
            self._incoming = collections.deque()
        self._incoming.append((call, received))
        if self._worker is None:
            self._worker = asyncio.create_task(
                self._work(), name=f"ocpp-worker-{self.charge_point_id}"
            )

    def _make_room(self) -> None:
        if self._room is not None and not self._room.done():
            self._room.set_result(None)
        self._room = None

    async def _work(self) -> None:
        """Answer the queued CALLs in order; ends when none is left (or the socket closed)."""
        try:
            while self._incoming:
                call, received = self._incoming.popleft()
                self._make_room()
                if not await self._answer(call, received):
                    return
        finally:
            self._worker = None
            self._incoming = None
            self._make_room()  # a reader waiting for room goes on (and sees the close)

    async def _answer(self, call: Call, received: float) -> bool:
        """Dispatch one CALL, send its answer, start its follow-ups. False: the socket closed."""
        logs.call.set((call.action, call.unique_id))
        try:
            handled = await self._dispatcher.dispatch(self, call)
        except Exception:  # task boundary: the dispatcher already answers peer errors
            log.exception("%s: dispatching %s failed", self.charge_point_id, call.action)
            # Still answered (J 4.2.3), so the charge point does not wait for a timeout.
            handled = Handled(
                CallError(
                    unique_id=call.unique_id,
                    error_code=ErrorCode.INTERNAL_ERROR,
                    error_description=f"{call.action} failed",
                )
            )
        try:
            await self._send(handled.response, call.action)
        except ConnectionClosed:
            return False
        finally:
            self._metrics.call_answered(call.action, _outcome(handled.response), received)
        logs.call.set(None)
        for follow_up in handled.follow_ups:
            self._start(follow_up)
        return True

    async def _send(self, frame: Frame, action: str | None) -> None:
        text = serialize(frame)
        self._log.sent(self.charge_point_id, text, frame, action)
        await self.websocket.send(text)

    def _start(self, follow_up: FollowUp) -> None:
        async def run() -> None:
            try:
                await follow_up()
            except (NotConnected, asyncio.CancelledError):
                raise
            except Exception:
                log.exception("%s: follow-up failed", self.charge_point_id)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _outcome(response: CallResult | CallError) -> str:
    return "CALLRESULT" if isinstance(response, CallResult) else str(response.error_code)
