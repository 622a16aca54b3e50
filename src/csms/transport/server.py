"""The OCPP WebSocket server: handshake (path, sub-protocol, admission, Basic auth), then one
OcppConnection per charge point.

J 3.1.1: the charge point id is the last path segment, percent-decoded. J 3.1.2 / TC_088: the
sub-protocol `ocpp1.6` is chosen from the offered list, and a handshake that offers only other
protocols is refused with HTTP 400 (no upgrade). A handshake that offers none at all is accepted
as 1.6 (some chargers omit the header; catalogue R-CONN-02).
"""

from __future__ import annotations

import http
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader, NegotiationError
from websockets.headers import build_www_authenticate_basic, parse_authorization_basic
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from csms.transport.connection import Dispatcher, OcppConnection
from csms.transport.registry import Registry

log = logging.getLogger("csms.transport")

OCPP16 = Subprotocol("ocpp1.6")


@dataclass(frozen=True, slots=True)
class Admitted:
    # Whether the charge point may send more than BootNotification right away: it was
    # accepted before and reconnects without a new boot (J 5.4).
    accepted: bool


@dataclass(frozen=True, slots=True)
class Refused:
    status: http.HTTPStatus
    reason: str


class Admission(Protocol):
    """Decides whether a charge point may connect (features/ implements it)."""

    async def admit(
        self, charge_point_id: str, credentials: tuple[str, str] | None
    ) -> Admitted | Refused: ...


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
    ) -> None:
        self.registry = registry
        self._admission = admission
        self._dispatcher = dispatcher
        self._path_prefix = path_prefix
        self._call_timeout = call_timeout
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._admitted: dict[ServerConnection, tuple[str, Admitted]] = {}

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
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
            # permessage-deflate costs ~100 KB per connection; OCPP messages are small (J 5.1).
            compression=None,
            ssl=ssl_context,
            server_header=None,
        )

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        charge_point_id = self._charge_point_id(request.path)
        if charge_point_id is None:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "Unknown path\n")
        try:
            credentials = _credentials(request.headers)
        except InvalidHeader:
            return _unauthorized(connection, "Malformed Authorization header")
        decision = await self._admission.admit(charge_point_id, credentials)
        if isinstance(decision, Refused):
            log.info("refused %s: %s %s", charge_point_id, decision.status, decision.reason)
            if decision.status == http.HTTPStatus.UNAUTHORIZED:
                return _unauthorized(connection, decision.reason)
            return connection.respond(decision.status, decision.reason + "\n")
        self._admitted[connection] = (charge_point_id, decision)
        return None

    def _charge_point_id(self, path: str) -> str | None:
        path = path.partition("?")[0]
        if not path.startswith(self._path_prefix):
            return None
        raw = path[len(self._path_prefix) :]
        if not raw or "/" in raw:
            return None
        charge_point_id = unquote(raw)
        # The id is a CiString (spec 5.x identity): printable, at most 48 characters here.
        if not charge_point_id.isprintable() or len(charge_point_id) > 48:
            return None
        return charge_point_id

    async def _handle(self, websocket: ServerConnection) -> None:
        charge_point_id, admitted = self._admitted.pop(websocket)
        connection = OcppConnection(
            websocket,
            charge_point_id,
            dispatcher=self._dispatcher,
            call_timeout=self._call_timeout,
        )
        connection.accepted = admitted.accepted
        previous = self.registry.add(connection)
        log.info("%s connected from %s", charge_point_id, websocket.remote_address)
        if previous is not None:
            log.info("%s: new connection replaces the old one", charge_point_id)
            await previous.close(1000, "replaced by a new connection")
        try:
            await connection.run()
        finally:
            self.registry.remove(connection)
            log.info("%s disconnected", charge_point_id)


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    if OCPP16 in offered:
        return OCPP16
    if not offered:
        return None
    raise NegotiationError(f"unsupported subprotocols {', '.join(offered)}; expected ocpp1.6")


def _credentials(headers: Headers) -> tuple[str, str] | None:
    header = headers.get("Authorization")
    return None if header is None else parse_authorization_basic(header)


def _unauthorized(connection: ServerConnection, reason: str) -> Response:
    response = connection.respond(http.HTTPStatus.UNAUTHORIZED, reason + "\n")
    response.headers["WWW-Authenticate"] = build_www_authenticate_basic("OCPP")
    return response


__all__ = ["Admission", "Admitted", "OcppServer", "Refused", "Server"]
