"""A scripted OCPP 1.6J charge point on the same sans-I/O core as the CSMS.

It plays the role the OCA test tool plays against a Central System: tests drive it step by step
(`boot()`, `authorize()`, `start_transaction()`, ...), every step being one CALL whose answer is
returned, checked against the official schema. CALLs from the CSMS are answered at once from a
table of stateful defaults (`answers.py`) or per-test overrides, and queued so the test can assert
on them with `expect_call()`.

Two tasks per connection, both owned by the charge point and ended by `close()`: the reader, which
never awaits anything but the socket, and the answerer, which answers the CSMS's CALLs in order.
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
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
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
from csms.simulator.answers import DEFAULT_ANSWERS
from csms.simulator.errors import CallErrorReceived, LoggedFrame, SchemaError
from csms.simulator.meter import default_sampled_values
from csms.simulator.state import ChargePointState, Transaction

logger = logging.getLogger(__name__)

Payload = dict[str, Any]
AnswerResult = Payload | CallError
Answer = AnswerResult | Callable[[Payload], AnswerResult | Awaitable[AnswerResult]]
Timestamp = datetime | str | None


@dataclasses.dataclass(frozen=True, slots=True)
class _AnsweredCall:
    call: Call
    error: Exception | None  # a SchemaError, or what the answer callable raised


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SimulatedChargePoint:
    """One charge point: a WebSocket client to `{url}/{charge_point_id}` speaking OCPP 1.6J."""

    def __init__(
        self,
        charge_point_id: str,
        url: str,
        *,
        connectors: int = 2,
        password: str | None = None,
        subprotocols: Sequence[str] = ("ocpp1.6",),
        vendor: str = "SimVendor",
        model: str = "SimModel",
        response_timeout: float = 10.0,
        validate: bool = True,
        ssl: ssl_module.SSLContext | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.charge_point_id = charge_point_id
        self.url = url.rstrip("/")
        self.password = password
        self.subprotocols = tuple(subprotocols)
        self.vendor = vendor
        self.model = model
        self.response_timeout = response_timeout
        self.validate = validate
        self.ssl = ssl
        self.clock = clock
        self.state = ChargePointState(charge_point_id=charge_point_id, connectors=connectors)
        # Per-action overrides of the default answers (a payload, a CallError, or a callable).
        self.answers: dict[str, Answer] = {}
        self.log: list[LoggedFrame] = []
        self.boot_response: Payload | None = None
        self._ws: ClientConnection | None = None
        self._session = Session()
        self._tasks: list[asyncio.Task[None]] = []
        self._call_lock = asyncio.Lock()
        self._response: asyncio.Future[CallResult | CallError] | None = None
        self._incoming: asyncio.Queue[IncomingCall | Reply] = asyncio.Queue()
        self._answered: asyncio.Queue[_AnsweredCall] = asyncio.Queue()
        self._raw: asyncio.Queue[str] = asyncio.Queue()

    # -- state --------------------------------------------------------------------------------

    @property
    def connectors(self) -> int:
        return self.state.connectors

    @property
    def configuration(self) -> dict[str, tuple[str, bool]]:
        """Configuration key -> (value, readonly), read by GetConfiguration."""
        return self.state.configuration

    @property
    def transactions(self) -> dict[int, Transaction]:
        """Running transactions by transactionId."""
        return self.state.transactions

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
            user_agent_header=f"{self.vendor} {self.model} (csms simulator)",
        )
        self._ws = ws
        self._session = Session()
        self._incoming = asyncio.Queue()
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
        point's state (configuration, transactions, ...) is kept."""
        await self.close()
        await self.connect()

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
        # J 4.1.1: one CALL of ours in flight; the next waits until this one is answered.
        async with self._call_lock:
            if self.validate:
                self._check(action, payload, validate_request, "request")
            ws = self._require_connection()
            session = self._session
            call = session.call(action, payload)
            future: asyncio.Future[CallResult | CallError] = (
                asyncio.get_running_loop().create_future()
            )
            self._response = future
            try:
                await self._send(ws, serialize(call))
                async with asyncio.timeout(self.response_timeout):
                    response = await future
            except TimeoutError:
                raise TimeoutError(
                    f"{self.charge_point_id}: {action} not answered within "
                    f"{self.response_timeout} s"
                ) from None
            finally:
                self._response = None
                if session.pending is call:
                    session.abandon()  # a late answer becomes Unmatched
        if isinstance(response, CallError):
            raise CallErrorReceived(action, response)
        if self.validate:
            self._check(action, response.payload, validate_response, "response")
        return response.payload

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
        unexpected = []
        while not self._answered.empty():
            call = self._answered.get_nowait().call
            unexpected.append(f"{call.action} {call.payload}")
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
        await ws.send(text)

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
            if isinstance(item, Reply):
                with contextlib.suppress(ConnectionClosed):
                    await self._send(ws, serialize(item.frame))
                continue
            response, error = await self._answer(item.call)
            try:
                text = serialize(response)
            except (TypeError, ValueError) as exc:
                error = exc
                text = serialize(
                    CallError(
                        unique_id=item.call.unique_id,
                        error_code=ErrorCode.INTERNAL_ERROR,
                        error_description=f"answer is not JSON: {exc}",
                    )
                )
            with contextlib.suppress(ConnectionClosed):
                await self._send(ws, text)
            self._answered.put_nowait(_AnsweredCall(call=item.call, error=error))

    async def _answer(self, call: Call) -> tuple[CallResult | CallError, Exception | None]:
        action = call.action
        override = self.answers.get(action)
        default = DEFAULT_ANSWERS.get(action)
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
                result: AnswerResult = default(self.state, call.payload)
                self._after_default_answer(call, result)
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

    def _after_default_answer(self, call: Call, result: AnswerResult) -> None:
        # Security whitepaper (TC_073): an accepted AuthorizationKey is the hex form of the new
        # Basic-auth password, used from the next connection on.
        if (
            call.action == "ChangeConfiguration"
            and call.payload.get("key") == "AuthorizationKey"
            and isinstance(result, dict)
            and result.get("status") == "Accepted"
        ):
            self.password = bytes.fromhex(call.payload["value"]).decode("utf-8", "surrogateescape")

    # -- scripted steps: one CALL each, returning the CSMS's answer ---------------------------

    def timestamp(self, value: Timestamp = None) -> str:
        """ISO 8601 UTC with Z; now (from the clock) by default; a string is sent as it is."""
        if isinstance(value, str):
            return value
        moment = self.clock() if value is None else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    async def boot(self) -> Payload:
        response = await self.call(
            "BootNotification", {"chargePointVendor": self.vendor, "chargePointModel": self.model}
        )
        self.boot_response = response
        interval = response.get("interval")
        # Spec 4.2: after Accepted the charge point adjusts its heartbeat interval.
        if response.get("status") == "Accepted" and isinstance(interval, int) and interval > 0:
            readonly = self.configuration.get("HeartbeatInterval", ("", False))[1]
            self.configuration["HeartbeatInterval"] = (str(interval), readonly)
        return response

    async def boot_and_report(self, status: str = "Available") -> Payload:
        """BootNotification, then StatusNotification for connector 0..N (errata 3.22)."""
        response = await self.boot()
        if response.get("status") != "Accepted":
            raise AssertionError(
                f"{self.charge_point_id}: BootNotification not Accepted: {response}"
            )
        for connector_id in range(self.connectors + 1):
            await self.status_notification(connector_id, status)
        return response

    async def heartbeat(self) -> Payload:
        return await self.call("Heartbeat", {})

    async def status_notification(
        self,
        connector_id: int,
        status: str,
        error_code: str = "NoError",
        *,
        info: str | None = None,
        timestamp: Timestamp = None,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
    ) -> Payload:
        payload = _without_none(
            connectorId=connector_id,
            errorCode=error_code,
            info=info,
            status=status,
            timestamp=self.timestamp(timestamp),
            vendorId=vendor_id,
            vendorErrorCode=vendor_error_code,
        )
        response = await self.call("StatusNotification", payload)
        self.state.connector_status[connector_id] = status
        return response

    async def authorize(self, id_tag: str) -> Payload:
        return await self.call("Authorize", {"idTag": id_tag})

    async def start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        *,
        meter_start: int = 0,
        timestamp: Timestamp = None,
        reservation_id: int | None = None,
    ) -> Payload:
        payload = _without_none(
            connectorId=connector_id,
            idTag=id_tag,
            meterStart=meter_start,
            reservationId=reservation_id,
            timestamp=self.timestamp(timestamp),
        )
        response = await self.call("StartTransaction", payload)
        transaction_id = response["transactionId"]
        self.state.transactions[transaction_id] = Transaction(
            transaction_id=transaction_id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            reservation_id=reservation_id,
        )
        self.state.meter_wh[connector_id] = meter_start
        if reservation_id is not None:
            self.state.reservations.pop(reservation_id, None)  # spec 5.13: reservation used
        return response

    async def meter_values(
        self,
        connector_id: int,
        *,
        transaction_id: int | None = None,
        energy_wh: float | None = None,
        timestamp: Timestamp = None,
        sampled_values: list[Payload] | None = None,
    ) -> Payload:
        """One MeterValue; by default the connector's energy register (`energy_wh` sets it)
        plus power and current per phase."""
        if energy_wh is not None:
            self.state.meter_wh[connector_id] = energy_wh
        if sampled_values is None:
            charging = transaction_id is not None or (
                self.state.transaction_on(connector_id) is not None
            )
            sampled_values = default_sampled_values(
                self.state.meter_wh.get(connector_id, 0), charging=charging
            )
        payload = _without_none(
            connectorId=connector_id,
            transactionId=transaction_id,
            meterValue=[{"timestamp": self.timestamp(timestamp), "sampledValue": sampled_values}],
        )
        return await self.call("MeterValues", payload)

    async def stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int,
        *,
        reason: str | None = None,
        id_tag: str | None = None,
        timestamp: Timestamp = None,
        transaction_data: list[Payload] | None = None,
    ) -> Payload:
        payload = _without_none(
            idTag=id_tag,
            meterStop=meter_stop,
            timestamp=self.timestamp(timestamp),
            transactionId=transaction_id,
            reason=reason,
            transactionData=transaction_data,
        )
        response = await self.call("StopTransaction", payload)
        transaction = self.state.transactions.pop(transaction_id, None)
        if transaction is not None:
            self.state.meter_wh[transaction.connector_id] = meter_stop
            # Spec 3.13.1: a TxProfile ceases to be valid when the transaction terminates.
            self.state.charging_profiles[:] = [
                installed
                for installed in self.state.charging_profiles
                if not (
                    installed.purpose == "TxProfile"
                    and installed.connector_id == transaction.connector_id
                )
            ]
        return response

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> Payload:
        payload = _without_none(vendorId=vendor_id, messageId=message_id, data=data)
        return await self.call("DataTransfer", payload)

    async def firmware_status(self, status: str) -> Payload:
        return await self.call("FirmwareStatusNotification", {"status": status})

    async def diagnostics_status(self, status: str) -> Payload:
        return await self.call("DiagnosticsStatusNotification", {"status": status})


def _error(call: Call, code: ErrorCode | str, description: str) -> CallError:
    return CallError(unique_id=call.unique_id, error_code=code, error_description=description)


def _without_none(**fields: Any) -> Payload:
    return {name: value for name, value in fields.items() if value is not None}
