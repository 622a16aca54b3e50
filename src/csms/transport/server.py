"""The OCPP WebSocket server: handshake (path, sub-protocol, admission, Basic auth), then one
OcppConnection per charge point.

J 3.1.1: the charge point id is the last path segment, percent-decoded. J 3.1.2 / TC_088: the
sub-protocol `ocpp1.6` is chosen from the offered list, and a handshake that offers only other
protocols is refused with HTTP 400 (no upgrade). A handshake that offers none at all is accepted
as 1.6 (some chargers omit the header; catalogue R-CONN-02).

The charge point id must follow transport/ids.py (else HTTP 400). Admission runs only once the
WebSocket handshake itself has succeeded (a plain GET gets 426, a handshake without a sub-protocol
we speak 400, and neither costs a database read); what admission registers is written only when
the handshake is known to succeed. Nothing is kept for a handshake that fails
(docs/field-behaviour.md, "Input limits and ids").
"""

from __future__ import annotations

import http
import logging
import ssl
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader, NegotiationError
from websockets.headers import build_www_authenticate_basic, parse_authorization_basic
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.typing import Subprotocol

from csms.events import EventBus
from csms.metrics import Metrics
from csms.transport.connection import Dispatcher, FrameLog, OcppConnection
from csms.transport.ids import RULE, is_valid_charge_point_id
from csms.transport.registry import Registry

log = logging.getLogger("csms.transport")

OCPP16 = Subprotocol("ocpp1.6")


@dataclass(frozen=True, slots=True)
class Admitted:
    # Whether the charge point may send more than BootNotification right away: it was
    # accepted before and reconnects without a new boot (J 5.4).
    accepted: bool
    # Work to do once the WebSocket handshake has succeeded, just before the 101 goes out
    # (registering a new charge point); never done for a handshake that fails.
    on_open: Callable[[], Awaitable[None]] | None = None
    # The serial number (hex) of the client certificate it was admitted with (profile 3).
    client_certificate_serial: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    status: http.HTTPStatus
    reason: str


@dataclass(frozen=True, slots=True)
class Peer:
    """What the transport knows of the other end: whether it came over TLS and the client
    certificate it presented (DER; the TLS layer verified its chain and validity against the
    trusted CAs, whitepaper A00.FR.403), for the security profiles (features/security/)."""

    tls: bool = False
    certificate: bytes | None = None


class Admission(Protocol):
    """Decides whether a charge point may connect (features/ implements it)."""

    async def admit(
        self, charge_point_id: str, credentials: tuple[str, str] | None, peer: Peer
    ) -> Admitted | Refused: ...


# Told of each connection (True) and disconnection (False) of a charge point, with the event's
# data; must not raise.
Presence = Callable[[str, bool, dict[str, Any]], Awaitable[None]]


class OcppServer:
    def __init__(
        self,
        *,
        registry: Registry,
        admission: Admission,
        dispatcher: Dispatcher,
        path_prefix: str = "/ocpp/",
        call_timeout: float = 30.0,
        ping_interval: float | None = 30.0,
        ping_timeout: float | None = 20.0,
        frame_log: FrameLog | None = None,
        events: EventBus | None = None,
        metrics: Metrics | None = None,
        presence: Presence | None = None,
    ) -> None:
        self.registry = registry
        self._metrics = metrics or Metrics()
        self._frame_log = frame_log
        # Told of each connection and disconnection (docs/live-events.md).
        self._events = events or EventBus()
        # ... and durably (the outbox, docs/events-and-webhooks.md): awaited, never raising.
        self._presence = presence
        self._admission = admission
        self._dispatcher = dispatcher
        self._path_prefix = path_prefix
        self._call_timeout = call_timeout
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        # Admitted handshakes not yet handed to _handle. Weak: a connection that dies between
        # its handshake response and its handler takes its entry with it.
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, tuple[str, Admitted]] = (
            weakref.WeakKeyDictionary()
        )

    def admitted_count(self) -> int:
        """Handshakes admitted whose connection has not started yet (0 when idle)."""
        return len(self._admitted)

    async def start(
        self, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None
    ) -> Server:
        """Listen; `async with await server.start(host, port):` serves until the block exits."""
        return await serve(
            self._handle,
            host,
            port,
            subprotocols=[OCPP16],
            select_subprotocol=_select_subprotocol,
            process_request=self._process_request,
            process_response=self._process_response,
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
            # permessage-deflate costs ~100 KB per connection; OCPP messages are small (J 5.1).
            compression=None,
            ssl=ssl_context,
            server_header=None,
        )

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Path checks only: nothing is looked up or kept before the handshake succeeds."""
        charge_point_id = self._charge_point_id(request.path)
        if charge_point_id is None:
            self._metrics.connections_refused.labels("unknown_path").inc()
            return connection.respond(http.HTTPStatus.NOT_FOUND, "Unknown path\n")
        if not is_valid_charge_point_id(charge_point_id):
            log.info("refused charge point id %a: not %s", charge_point_id[:60], RULE)
            self._metrics.connections_refused.labels("invalid_id").inc()
            return connection.respond(
                http.HTTPStatus.BAD_REQUEST, f"Invalid charge point id: must be {RULE}\n"
            )
        return None

    async def _process_response(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> Response | None:
        """Admission, once the WebSocket handshake itself has succeeded."""
        if response.status_code != http.HTTPStatus.SWITCHING_PROTOCOLS:
            return None
        charge_point_id = self._charge_point_id(request.path)
        assert charge_point_id is not None  # _process_request let it through
        try:
            credentials = _credentials(request.headers)
        except InvalidHeader:
            self._metrics.connections_refused.labels("malformed_authorization").inc()
            return _unauthorized(connection, "Malformed Authorization header")
        decision = await self._admission.admit(charge_point_id, credentials, _peer(connection))
        if isinstance(decision, Refused):
            log.info("refused %s: %s %s", charge_point_id, decision.status, decision.reason)
            self._metrics.connections_refused.labels(_reason(decision.status)).inc()
            if decision.status == http.HTTPStatus.UNAUTHORIZED:
                return _unauthorized(connection, decision.reason)
            return connection.respond(decision.status, decision.reason + "\n")
        if connection.state is not State.CONNECTING:
            return None  # the client went away while we decided
        if decision.on_open is not None:
            try:
                await decision.on_open()
            except Exception:  # the store failed: the charge point tries again later
                log.exception("%s: registration failed", charge_point_id)
                self._metrics.connections_refused.labels("registration_failed").inc()
                return connection.respond(
                    http.HTTPStatus.SERVICE_UNAVAILABLE, "Registration failed, try again\n"
                )
        self._admitted[connection] = (charge_point_id, decision)
        return None

    def _charge_point_id(self, path: str) -> str | None:
        path = path.partition("?")[0]
        if not path.startswith(self._path_prefix):
            return None
        raw = path[len(self._path_prefix) :]
        if not raw or "/" in raw:
            return None
        # Undecodable bytes become U+FFFD, which the id rule refuses (no two URLs collide).
        return unquote(raw, errors="replace")

    async def _handle(self, websocket: ServerConnection) -> None:
        entry = self._admitted.pop(websocket, None)
        if entry is None:  # cannot happen: _handle runs only after a 101 from _process_response
            await websocket.close(1011, "not admitted")
            return
        charge_point_id, admitted = entry
        connection = OcppConnection(
            websocket,
            charge_point_id,
            dispatcher=self._dispatcher,
            call_timeout=self._call_timeout,
            frame_log=self._frame_log,
            metrics=self._metrics,
        )
        connection.accepted = admitted.accepted
        connection.client_certificate_serial = admitted.client_certificate_serial
        previous = self.registry.add(connection)
        self._metrics.connections_opened.inc()
        log.info("%s connected from %s", charge_point_id, websocket.remote_address)
        remote = {"remote": _address(websocket)}
        self._events.publish("connected", charge_point_id, remote)
        if self._presence is not None:
            await self._presence(charge_point_id, True, remote)
        if previous is not None:
            log.info("%s: new connection replaces the old one", charge_point_id)
            await previous.close(1000, "replaced by a new connection")
        try:
            await connection.run()
        finally:
            self.registry.remove(connection)
            self._metrics.connections_closed.inc()
            log.info("%s disconnected", charge_point_id)
            closed = {"code": websocket.close_code}
            self._events.publish("disconnected", charge_point_id, closed)
            if self._presence is not None:
                await self._presence(charge_point_id, False, closed)


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    if OCPP16 in offered:
        return OCPP16
    if not offered:
        return None
    raise NegotiationError(f"unsupported subprotocols {', '.join(offered)}; expected ocpp1.6")


def _peer(connection: ServerConnection) -> Peer:
    ssl_object = connection.transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return Peer()
    return Peer(tls=True, certificate=ssl_object.getpeercert(binary_form=True))


def _reason(status: http.HTTPStatus) -> str:
    """The metrics label of an admission refusal: 401 unauthorized, 404 unknown, ..."""
    return status.phrase.lower().replace(" ", "_")


def _address(websocket: ServerConnection) -> str | None:
    address = websocket.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return None if address is None else str(address)


def _credentials(headers: Headers) -> tuple[str, str] | None:
    header = headers.get("Authorization")
    return None if header is None else parse_authorization_basic(header)


def _unauthorized(connection: ServerConnection, reason: str) -> Response:
    response = connection.respond(http.HTTPStatus.UNAUTHORIZED, reason + "\n")
    response.headers["WWW-Authenticate"] = build_www_authenticate_basic("OCPP")
    return response


__all__ = ["Admission", "Admitted", "OcppServer", "Peer", "Refused", "Server"]
