"""The OCPP-J client side of a simulated charge point: connection, CALLs, answers, queues.

Two tasks per connection, both owned by the connection and ended by `close()`: the reader, which
never awaits anything but the socket (J 4.1.1: our CALL and the CSMS's may cross), and the
answerer, which answers the CSMS's CALLs in order, from per-test overrides (`answers`) or from the
defaults a subclass provides (`_default_answer`), and queues them for `expect_call()`.

Two misbehaviours of real chargers live here (docs/simulator-misbehaviours.md): `drop()` loses
the connection without a closing handshake, and `lose_next_answer()` makes the next CALL's
answer go missing, so the CALL is sent again with the same message id and payload (J errata 3.1
allows a retry to keep its id), on the same connection or a new one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import inspect
import logging
import ssl as ssl_module
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.typing import Subprotocol

from csms.ocpp16 import ACTIONS, SchemaViolation, validate_request, validate_response
from csms.ocppj import (
    Call,
    CallError,
    CallResult,
    ErrorCode,
    Event,
    IncomingCall,
    Reply,
    ResponseReceived,
    Session,
    serialize,
)
from csms.simulator.errors import CallErrorReceived, LoggedFrame, SchemaError

logger = logging.getLogger(__name__)

Payload = dict[str, Any]
AnswerResult = Payload | CallError
Answer = AnswerResult | Callable[[Payload], AnswerResult | Awaitable[AnswerResult]]
"""How to answer a CSMS CALL: a payload, a CALLERROR (its unique id is filled in), or a callable
of the request payload returning (or awaiting) either."""


@dataclasses.dataclass(frozen=True, slots=True)
class _AnsweredCall:
    call: Call
    error: Exception | None  # a SchemaError, or what the answer callable raised


class ChargePointConnection:
    """A WebSocket client to `{url}/{charge_point_id}` speaking OCPP-J 1.6 as a charge point."""

    def __init__(
        self,
        charge_point_id: str,
        url: str,
        *,
        password: str | None = None,
        subprotocols: Sequence[str] = ("ocpp1.6",),
        response_timeout: float = 10.0,
        validate: bool = True,
        ssl: ssl_module.SSLContext | None = None,
        user_agent: str = "csms simulator",
    ) -> None:
        self.charge_point_id = charge_point_id
        self.url = url.rstrip("/")
        self.password = password
        self.subprotocols = tuple(subprotocols)
        self.response_timeout = response_timeout
        self.validate = validate
        self.ssl = ssl
        self.user_agent = user_agent
        # Per-action overrides of the default answers.
        self.answers: dict[str, Answer] = {}
        self.log: list[LoggedFrame] = []
        self._ws: ClientConnection | None = None
        # The message id of our next CALL when it is a resend (else a new UUID, J 4.1.4).
        self._resend_id: str | None = None
        self._session = Session(new_id=self._next_unique_id)
        # lose_next_answer(): the answers that went missing, oldest first.
        self.lost_answers: list[CallResult | CallError] = []
        self._lose_next: bool = False
        # How many WebSocket connections it opened so far.
        self.connections = 0
        self._resend_on_new_connection: bool = False
        self._tasks: list[asyncio.Task[None]] = []
        self._call_lock = asyncio.Lock()
        self._response: asyncio.Future[CallResult | CallError] | None = None
        self._incoming: asyncio.Queue[IncomingCall | Reply] = asyncio.Queue()
        self._answered: asyncio.Queue[_AnsweredCall] = asyncio.Queue()
        self._unanswered: list[Call] = []  # received CALLs not answered yet
        self._raw: asyncio.Queue[str] = asyncio.Queue()

    @property
    def endpoint(self) -> str:
        # J 3.1.1: the charge point id is the last path segment, percent-encoded.
        return f"{self.url}/{quote(self.charge_point_id, safe='')}"

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.state is State.OPEN

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the CSMS selected in the handshake."""
        return None if self._ws is None else self._ws.subprotocol

    @property
    def close_code(self) -> int | None:
        return None if self._ws is None else self._ws.close_code

    # -- connection ---------------------------------------------------------------------------

    async def connect(self) -> None:
        if self.connected:
            raise RuntimeError(f"{self.charge_point_id} is already connected")
        await self._stop_tasks()
        headers: dict[str, str] = {}
        if self.password is not None:
            # Security whitepaper 2.3 / A00.FR.204: username = charge point id.
            credentials = f"{self.charge_point_id}:{self.password}".encode(
                "utf-8", "surrogateescape"
            )
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        ws = await connect(
            self.endpoint,
            subprotocols=[Subprotocol(name) for name in self.subprotocols] or None,
            additional_headers=headers,
            ssl=self.ssl,
            open_timeout=self.response_timeout,
            close_timeout=self.response_timeout,
            # Like a typical charger: no compression, WebSocketPingInterval 0 (J 5.3, 7).
            compression=None,
            ping_interval=None,
            user_agent_header=self.user_agent,
        )
        self._ws = ws
        self.connections += 1
        self._session = Session(new_id=self._next_unique_id)
        self._incoming = asyncio.Queue()
        self._unanswered.clear()
        self._tasks = [
            asyncio.create_task(self._read(ws), name=f"{self.charge_point_id} reader"),
            asyncio.create_task(self._answer_calls(ws), name=f"{self.charge_point_id} answerer"),
        ]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        await self._stop_tasks()

    async def reconnect(self) -> None:
        """Close and connect again (with the current password and subprotocols); the charge
        point's state (configuration, transactions, ...) is kept. No BootNotification: a
        charge point reconnecting sends none unless it rebooted (J 5.4)."""
        await self.close()
        await self.connect()

    async def drop(self) -> None:
        """Lose the connection the way a charge point losing its network does: the TCP
        connection ends with no WebSocket closing handshake (the CSMS sees code 1006)."""
        if self._ws is not None:
            self._ws.transport.abort()
            with contextlib.suppress(TimeoutError):
                await self.wait_closed()
        await self._stop_tasks()

    async def drop_and_reconnect(self) -> None:
        """drop(), then connect again without a BootNotification (J 5.4)."""
        await self.drop()
        await self.connect()

    def lose_next_answer(self, *, new_connection: bool = False) -> None:
        """The answer to our next CALL goes missing (the CSMS did the work and answered; the
        answer never reached the charge point): it is kept in `lost_answers`, and the CALL is
        sent again with the same message id and payload, after a drop and reconnect when
        `new_connection`, else on the same connection. The CALL returns the second answer."""
        self._lose_next = True
        self._resend_on_new_connection = new_connection

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait until the connection is closed (by the CSMS); TimeoutError if it stays open."""
        if self._tasks:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._tasks[0])

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _stop_tasks(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- RPC ----------------------------------------------------------------------------------

    async def call(self, action: str, payload: Payload) -> Payload:
        """Send a CALL and return the CALLRESULT payload.

        Raises CallErrorReceived on a CALLERROR, TimeoutError after `response_timeout`, and
        SchemaError (validate=True) if the request or the CSMS's response breaks the schema.
        """
        return await self.call_with_id(action, payload, None)

    async def call_with_id(self, action: str, payload: Payload, unique_id: str | None) -> Payload:
        """call() with the message id given (a message queued offline was numbered when it was
        made); None: a new one."""
        # J 4.1.1: one CALL of ours in flight; the next waits until this one is answered.
        async with self._call_lock:
            if self.validate:
                self._check(action, payload, validate_request, "request")
            call, response = await self._exchange(action, payload, unique_id)
            if self._lose_next:
                self._lose_next = False
                self.lost_answers.append(response)
                if self._resend_on_new_connection:
                    await self.drop_and_reconnect()
                _, response = await self._exchange(action, payload, call.unique_id)
        if isinstance(response, CallError):
            raise CallErrorReceived(action, response)
        if self.validate:
            self._check(action, response.payload, validate_response, "response")
        return response.payload

    async def _exchange(
        self, action: str, payload: Payload, unique_id: str | None
    ) -> tuple[Call, CallResult | CallError]:
        """Send one CALL (with `unique_id`, or a new id) and wait for its answer."""
        ws = self._require_connection()
        session = self._session
        self._resend_id = unique_id
        try:
            call = session.call(action, payload)
        finally:
            self._resend_id = None
        future: asyncio.Future[CallResult | CallError] = asyncio.get_running_loop().create_future()
        self._response = future
        try:
            await self._send(ws, serialize(call))
            async with asyncio.timeout(self.response_timeout):
                response = await future
        except TimeoutError:
            raise TimeoutError(
                f"{self.charge_point_id}: {action} not answered within {self.response_timeout} s"
            ) from None
        finally:
            self._response = None
            if session.pending is call:
                session.abandon()  # a late answer becomes Unmatched
        return call, response

    def _next_unique_id(self) -> str:
        return self._resend_id or str(uuid.uuid4())

    async def send_raw(self, text: str) -> None:
        """Send any text as it is (malformed-frame tests); its answer arrives via receive_raw."""
        await self._send(self._require_connection(), text)

    async def receive_raw(self, timeout: float = 5.0) -> str:
        """The next text from the CSMS that is neither the answer to our pending CALL nor a
        well-formed CALL (those are answered and queued for expect_call): answers to raw CALLs,
        CALLERRORs, unparsable text. TimeoutError if none arrives within `timeout`."""
        async with asyncio.timeout(timeout):
            return await self._raw.get()

    async def expect_call(self, action: str | None = None, timeout: float = 5.0) -> Call:
        """The next CALL the CSMS sent (already answered).

        AssertionError if none arrives within `timeout` or a different action came first;
        SchemaError (validate=True) if its payload broke the schema (it was answered with the
        CALLERROR the schema violation calls for).
        """
        try:
            async with asyncio.timeout(timeout):
                answered = await self._answered.get()
        except TimeoutError:
            wanted = action or "any action"
            raise AssertionError(
                f"{self.charge_point_id}: no CALL ({wanted}) from the CSMS within {timeout} s"
            ) from None
        if answered.error is not None:
            raise answered.error
        if action is not None and answered.call.action != action:
            raise AssertionError(
                f"{self.charge_point_id}: expected a {action} CALL from the CSMS, got "
                f"{answered.call.action} {answered.call.payload}"
            )
        return answered.call

    def no_unexpected_calls(self) -> None:
        """Assert that no CSMS CALL is waiting unconsumed (OCTT fails a case on unsolicited
        CALLs, catalogue 2.6-1). The queue is emptied either way."""
        calls = []
        while not self._answered.empty():
            calls.append(self._answered.get_nowait().call)
        calls.extend(self._unanswered)  # received, still being answered
        unexpected = [f"{call.action} {call.payload}" for call in calls]
        if unexpected:
            raise AssertionError(
                f"{self.charge_point_id}: unexpected CALLs from the CSMS: {'; '.join(unexpected)}"
            )

    def _check(
        self,
        action: str,
        payload: Payload,
        validate: Callable[[str, Any], SchemaViolation | None],
        kind: str,
    ) -> None:
        if action not in ACTIONS:
            return  # a custom action (e.g. to test NotImplemented): nothing to check against
        violation = validate(action, payload)
        if violation is not None:
            raise SchemaError(
                f"{self.charge_point_id}: {action} {kind} breaks the schema: "
                f"{violation.description} ({violation.error_code}); payload {payload}",
                action=action,
                error_code=str(violation.error_code),
                payload=payload,
            )

    def _require_connection(self) -> ClientConnection:
        if self._ws is None or not self.connected:
            raise ConnectionError(f"{self.charge_point_id} is not connected")
        return self._ws

    async def _send(self, ws: ClientConnection, text: str) -> None:
        self.log.append(LoggedFrame(direction="sent", text=text, time=time.monotonic()))
        try:
            await ws.send(text)
        except ConnectionClosed as exc:
            raise ConnectionError(f"{self.charge_point_id}: connection closed") from exc

    async def _read(self, ws: ClientConnection) -> None:
        # Never awaits anything but the socket: incoming CALLs go to the answerer.
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                self.log.append(LoggedFrame(direction="received", text=text, time=time.monotonic()))
                self._dispatch(self._session.receive(message), text)
        except ConnectionClosed:
            pass
        finally:
            future = self._response
            if future is not None and not future.done():
                future.set_exception(ConnectionError(f"{self.charge_point_id}: connection closed"))

    def _dispatch(self, event: Event, text: str) -> None:
        if isinstance(event, ResponseReceived):
            future = self._response
            if future is not None and not future.done():
                future.set_result(event.response)
        elif isinstance(event, IncomingCall):
            self._unanswered.append(event.call)
            self._incoming.put_nowait(event)
        else:
            if isinstance(event, Reply):
                self._incoming.put_nowait(event)
            else:
                logger.debug("%s: unmatched frame: %s", self.charge_point_id, event.reason)
            self._raw.put_nowait(text)

    async def _answer_calls(self, ws: ClientConnection) -> None:
        while True:
            item = await self._incoming.get()
            try:
                if isinstance(item, Reply):
                    await self._send(ws, serialize(item.frame))
                else:
                    await self._answer_call(ws, item.call)
            except ConnectionError:
                pass  # the CSMS is gone: nothing to answer to
            except Exception:  # task boundary: a bug here must not stop later answers
                logger.exception("%s: answering %s failed", self.charge_point_id, item)

    async def _answer_call(self, ws: ClientConnection, call: Call) -> None:
        response, error = await self._answer(call)
        try:
            text = serialize(response)
        except (TypeError, ValueError) as exc:
            error = exc
            text = serialize(_error(call, ErrorCode.INTERNAL_ERROR, f"answer is not JSON: {exc}"))
        try:
            await self._send(ws, text)
        finally:
            # Answered (or not answerable): from now on the test's to consume.
            self._unanswered.remove(call)
            self._answered.put_nowait(_AnsweredCall(call=call, error=error))
        self._answer_sent(call, response)

    def _answer_sent(self, call: Call, response: CallResult | CallError) -> None:
        """Called once the answer to `call` is on the wire: a subclass starts there what a
        charge point does after answering (a firmware download, say). Must not block."""

    async def _answer(self, call: Call) -> tuple[CallResult | CallError, Exception | None]:
        action = call.action
        override = self.answers.get(action)
        default = self._default_answer(call)
        known = action in ACTIONS
        if override is None and default is None:
            # J 4.2.3: NotImplemented = unknown action; NotSupported = known, not supported (an
            # action the charge point itself sends).
            code = ErrorCode.NOT_SUPPORTED if known else ErrorCode.NOT_IMPLEMENTED
            return _error(call, code, f"{action} is not supported by this charge point"), None
        if self.validate and known:
            violation = validate_request(action, call.payload)
            if violation is not None:
                error = SchemaError(
                    f"{self.charge_point_id}: {action} request from the CSMS breaks the schema: "
                    f"{violation.description} ({violation.error_code}); payload {call.payload}",
                    action=action,
                    error_code=str(violation.error_code),
                    payload=call.payload,
                )
                return _error(call, violation.error_code, violation.description), error
        try:
            if override is None:
                assert default is not None
                result: AnswerResult = default()
            elif callable(override):
                produced = override(call.payload)
                result = await produced if inspect.isawaitable(produced) else produced
            else:
                result = override
        except Exception as exc:
            logger.warning("%s: answering %s failed", self.charge_point_id, action, exc_info=True)
            return _error(call, ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"), exc
        if isinstance(result, CallError):
            return dataclasses.replace(result, unique_id=call.unique_id), None
        return CallResult(unique_id=call.unique_id, payload=result), None

    def _default_answer(self, call: Call) -> Callable[[], AnswerResult] | None:
        """How the charge point answers `call` when the test has not overridden it; None if it
        does not support the action. The defaults live in the subclass."""
        return None


def _error(call: Call, code: ErrorCode | str, description: str) -> CallError:
    return CallError(unique_id=call.unique_id, error_code=code, error_description=description)
