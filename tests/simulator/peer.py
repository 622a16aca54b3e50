"""A small peer CSMS for the simulator's own tests.

A `websockets` server on 127.0.0.1 that records every frame and handshake request, answers the
charge point's CALLs with schema-valid canned payloads (overridable per action), and can send
CALLs to the charge point. Every payload is checked against the official OCA JSON schemas shipped
in the PyPI `ocpp` package, compiled with fastjsonschema: an oracle independent of the
`csms.ocpp16` validators the simulator itself uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.resources
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from ssl import SSLContext
from typing import Any

import fastjsonschema
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request

from csms.ocppj import Call, CallError, CallResult, parse, serialize

Payload = dict[str, Any]


@functools.cache
def _validator(schema_name: str) -> Callable[[Any], Any]:
    schemas = importlib.resources.files("ocpp") / "v16" / "schemas"
    schema = json.loads((schemas / f"{schema_name}.json").read_text(encoding="utf-8"))
    return fastjsonschema.compile(schema)  # type: ignore[no-any-return]


def assert_valid(action: str, payload: Any, *, response: bool = False) -> None:
    """AssertionError unless `payload` is valid for the action's request (or response) schema."""
    name = f"{action}Response" if response else action
    try:
        _validator(name)(payload)
    except fastjsonschema.JsonSchemaException as exc:
        raise AssertionError(f"{name} payload {payload} breaks the schema: {exc}") from exc


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ErrorAnswer:
    """Answer a CALL with a CALLERROR."""

    code: str
    description: str = ""


SILENT = object()  # do not answer the CALL at all


class PeerCSMS:
    def __init__(self) -> None:
        self._transaction_ids = itertools.count(1001)
        self.answers: dict[str, Any] = {
            "Authorize": {"idTagInfo": {"status": "Accepted"}},
            "BootNotification": lambda _: {
                "status": "Accepted",
                "currentTime": now(),
                "interval": 30,
            },
            "DataTransfer": {"status": "Accepted", "data": "pong"},
            "DiagnosticsStatusNotification": {},
            "FirmwareStatusNotification": {},
            "Heartbeat": lambda _: {"currentTime": now()},
            "MeterValues": {},
            "StartTransaction": lambda _: {
                "transactionId": next(self._transaction_ids),
                "idTagInfo": {"status": "Accepted"},
            },
            "StatusNotification": {},
            "StopTransaction": {"idTagInfo": {"status": "Accepted"}},
        }
        self.frames: list[tuple[str, str]] = []  # (direction, text), CSMS point of view
        self.requests: list[Request] = []  # handshake requests, in order
        self.connections: asyncio.Queue[ServerConnection] = asyncio.Queue()
        self.current: ServerConnection | None = None
        self._calls: asyncio.Queue[Call] = asyncio.Queue()
        self._other: asyncio.Queue[str] = asyncio.Queue()  # received texts that are not CALLs
        self._pending: dict[str, asyncio.Future[CallResult | CallError]] = {}
        self._server: Server | None = None
        self._scheme = "ws"

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, ssl: SSLContext | None = None) -> AsyncIterator[PeerCSMS]:
        peer = cls()
        async with serve(
            peer._handle, "127.0.0.1", 0, subprotocols=["ocpp1.6"], compression=None, ssl=ssl
        ) as server:
            peer._server = server
            peer._scheme = "ws" if ssl is None else "wss"
            yield peer

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"{self._scheme}://127.0.0.1:{port}/ocpp"

    async def _handle(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None
        self.requests.append(websocket.request)
        self.current = websocket
        self.connections.put_nowait(websocket)
        async for message in websocket:
            assert isinstance(message, str)
            self.frames.append(("received", message))
            frame = parse(message)
            if isinstance(frame, Call):
                self._calls.put_nowait(frame)
                await self._answer(websocket, frame)
            elif isinstance(frame, CallResult | CallError) and frame.unique_id in self._pending:
                self._pending.pop(frame.unique_id).set_result(frame)
            else:
                self._other.put_nowait(message)

    async def _answer(self, websocket: ServerConnection, call: Call) -> None:
        answer = self.answers.get(call.action)
        if answer is SILENT:
            return
        if answer is None:
            answer = ErrorAnswer("NotImplemented", f"{call.action} unknown")
        if callable(answer):
            answer = answer(call.payload)
        frame: CallResult | CallError
        if isinstance(answer, ErrorAnswer):
            frame = CallError(
                unique_id=call.unique_id,
                error_code=answer.code,
                error_description=answer.description,
            )
        else:
            frame = CallResult(unique_id=call.unique_id, payload=answer)
        await self.send_text(serialize(frame), websocket)

    async def send_text(self, text: str, websocket: ServerConnection | None = None) -> None:
        target = websocket or self.current
        assert target is not None, "no charge point connected"
        self.frames.append(("sent", text))
        await target.send(text)

    async def expect(self, action: str, timeout: float = 5.0) -> Call:
        """The next CALL from the charge point, which must be `action` and schema-valid."""
        async with asyncio.timeout(timeout):
            call = await self._calls.get()
        assert call.action == action, f"expected {action}, got {call.action} {call.payload}"
        assert_valid(action, call.payload)
        return call

    def no_more_calls(self) -> None:
        assert self._calls.empty(), f"unexpected CALLs: {self._calls}"

    async def receive_other(self, timeout: float = 5.0) -> str:
        async with asyncio.timeout(timeout):
            return await self._other.get()

    async def call(
        self, action: str, payload: Payload, *, unique_id: str | None = None, timeout: float = 5.0
    ) -> CallResult | CallError:
        """Send a CALL to the charge point and return its answer (a schema-valid CALLRESULT
        payload is checked against the response schema)."""
        call = Call(unique_id=unique_id or str(uuid.uuid4()), action=action, payload=payload)
        future: asyncio.Future[CallResult | CallError] = asyncio.get_running_loop().create_future()
        self._pending[call.unique_id] = future
        await self.send_text(serialize(call))
        async with asyncio.timeout(timeout):
            answer = await future
        if isinstance(answer, CallResult):
            assert_valid(action, answer.payload, response=True)
        return answer

    async def result(self, action: str, payload: Payload) -> Payload:
        """The CALLRESULT payload the charge point answers `action` with."""
        answer = await self.call(action, payload)
        assert isinstance(answer, CallResult), f"{action} answered with {answer}"
        return answer.payload
