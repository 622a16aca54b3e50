"""Input limits of the HTTP side (docs/field-behaviour.md, "Input limits and ids").

`RequestGuard` is a pure ASGI middleware in front of FastAPI: an operator API request without a
valid bearer token or console session is answered 401 before a byte of its body is read (and
one whose role may not use the route 403, docs/console.md), and a body over its limit is
answered 413 (from Content-Length at once, else as soon as the stream passes the limit). Uploads
of files (POST /api/v1/firmware, the charge points' /files/ routes) and bulk imports (POST
.../import) have larger limits.

`check_values` is an application-wide dependency: path, query and JSON body values that the
route accepts but no column can hold (integers outside 32 bits, NaN and infinities, text with NUL
or lone surrogates, charge point ids outside transport/ids.py) are refused with 422 naming the
field, before the route runs. Error bodies are always encodable (`SafeJSONResponse`).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import types
import typing
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import cookie_parser

from csms import logs
from csms.accounts import Accounts, Principal
from csms.api.roles import SAFE_METHODS, required_role
from csms.ocpp16.validation import INT32_MAX, INT32_MIN, UNSTORABLE_TEXT, unstorable_reason
from csms.transport.ids import RULE, is_valid_charge_point_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/api/v1/"
# Where RequestGuard puts the caller (accounts.Principal) in the ASGI scope.
PRINCIPAL_KEY = "csms.principal"

log = logging.getLogger(__name__)


class SafeJSONResponse(JSONResponse):
    """A JSON response that can carry any str: lone surrogates come out as JSON escapes."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE, f"request body larger than {limit} bytes"
        )


SESSION_COOKIE = "csms_session"
CSRF_HEADER = b"x-csrf-token"
# Body limit of a bulk import (api/bulk.py): 100,000 rows of id tags or charge points.
BULK_MAX_BODY = 16 * 1024 * 1024
# Bytes of a request body kept for its audit log summary.
AUDIT_BODY_BYTES = 2048


class RequestGuard:
    """Before the app: who is calling (bearer token or console session cookie), whether their
    role may use the route (api/roles.py), CSRF for cookie-authenticated changes, body limits.
    After the app: every change (any method but GET/HEAD/OPTIONS) is written to the audit log;
    the write starts before the last byte of its answer is sent."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        accounts: Accounts,
        public: frozenset[str],
        max_body: int,
        max_file_body: int,
    ) -> None:
        self._app = app
        self._accounts = accounts
        self._public = public
        self._max_body = max_body
        self._max_file_body = max_file_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        received_at = time.perf_counter()
        answered = 0

        async def tracked(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = message["status"]
            await send(message)

        try:
            await self._guard(scope, receive, tracked)
        finally:  # the access log, refusals included (logs.py)
            principal: Principal | None = scope.get(PRINCIPAL_KEY)
            who = None if principal is None else principal.name
            logs.access(scope["method"], scope["path"], answered or 500, received_at, who)

    # One pass-through in the ASGI style: each early answer returns before the app is called,
    # in the order the checks must run (length, token, size); split, they would need flags.
    async def _guard(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: C901
        path: str = scope["path"]
        method: str = scope["method"]
        length = _header(scope, b"content-length")
        if length is not None and not length.isdigit():
            await _answer(send, status.HTTP_400_BAD_REQUEST, "invalid Content-Length")
            return
        size = None if length is None else int(length)
        principal: Principal | None = None
        if path.startswith(API_PREFIX) and path not in self._public:
            await self._accounts.ready()
            principal, refusal = self._authenticate(scope)
            if principal is None:
                await _refuse(
                    receive,
                    send,
                    size,
                    status.HTTP_401_UNAUTHORIZED,
                    refusal,
                    [(b"www-authenticate", b"Bearer")],
                )
                return
            scope[PRINCIPAL_KEY] = principal
            logs.principal.set(principal.name)  # commands it sends are logged with its name
            needed = required_role(method, path)
            if refusal or not principal.role.allows(needed):
                detail = (
                    refusal or f"this needs the {needed} role; {principal.name} is {principal.role}"
                )
                self._audit(scope, principal, status.HTTP_403_FORBIDDEN, b"", size)
                await _refuse(receive, send, size, status.HTTP_403_FORBIDDEN, detail)
                return
        limit = self._limit(scope)
        if size is not None and size > limit:
            await _refuse(
                receive,
                send,
                size,
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"request body larger than {limit} bytes",
            )
            return
        audited = principal is not None and method not in SAFE_METHODS
        received = 0
        kept = bytearray()
        started = False
        answer_status = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if audited and len(kept) < AUDIT_BODY_BYTES:
                    kept.extend(chunk[: AUDIT_BODY_BYTES - len(kept)])
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started, answer_status
            if message["type"] == "http.response.start":
                started = True
                answer_status = message["status"]
            elif (
                audited
                and principal is not None
                and message["type"] == "http.response.body"
                and not message.get("more_body", False)
            ):
                self._audit(scope, principal, answer_status, bytes(kept), received)
            await send(message)

        try:
            await self._app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _answer(send, exc.status_code, str(exc.detail))

    def _limit(self, scope: Scope) -> int:
        if _is_file_upload(scope):
            return self._max_file_body
        if scope["method"] == "POST" and scope["path"].endswith("/import"):
            return max(self._max_body, BULK_MAX_BODY)  # api/bulk.py
        return self._max_body

    def _authenticate(self, scope: Scope) -> tuple[Principal | None, str]:
        """(who, why refused): no principal is 401; a principal with a reason is 403."""
        header = _header(scope, b"authorization")
        if header is not None:
            scheme, _, given = header.partition(b" ")
            if scheme.lower() != b"bearer":
                return None, "Missing or invalid bearer token"
            principal = self._accounts.by_bearer(given.decode("latin-1"))
            return principal, "" if principal else "Missing or invalid bearer token"
        cookie = _header(scope, b"cookie")
        session_id = cookie_parser(cookie.decode("latin-1")).get(SESSION_COOKIE) if cookie else None
        principal = self._accounts.by_session(session_id) if session_id else None
        if principal is None or principal.session is None:
            return None, "Missing or invalid bearer token"
        if scope["method"] not in SAFE_METHODS:
            given_csrf = _header(scope, CSRF_HEADER) or b""
            wanted = principal.session.csrf_token.encode()
            if not hmac.compare_digest(given_csrf, wanted):
                return principal, "missing or wrong X-CSRF-Token header"
        return principal, ""

    def _audit(
        self, scope: Scope, principal: Principal, answer: int, body: bytes, size: int | None
    ) -> None:
        """Start writing the entry (the answer is not held up by the write; the audit log's
        readers wait for the writes started before them, accounts.py)."""
        route = scope.get("route")
        document = _json_document(scope, body, size)
        self._accounts.audit_soon(
            principal,
            method=scope["method"],
            path=scope["path"],
            operation=getattr(route, "name", None),
            charge_point_id=_charge_point_of(scope, document),
            summary=_summary(scope, body, size, document),
            status=answer,
        )


def _json_document(scope: Scope, body: bytes, size: int | None) -> Any:
    content_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
    if not content_type.endswith(b"json") or not body or len(body) < (size or len(body)):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _charge_point_of(scope: Scope, document: Any) -> str | None:
    found = scope.get("path_params", {}).get("charge_point_id")
    if found is None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        found = (query.get("charge_point_id") or query.get("chargePointId") or [None])[0]
    if found is None and isinstance(document, dict):
        found = document.get("chargePointId")
    return found if isinstance(found, str) else None


# Values of these body keys never reach the audit log.
_SECRET_KEYS = ("password", "token", "secret", "authorizationkey")


def _summary(scope: Scope, body: bytes, size: int | None, document: Any) -> str | None:
    total = size if size is not None else len(body)
    if document is not None:
        text = json.dumps(_redacted(document), separators=(",", ":"), ensure_ascii=False)
        return text if len(text) <= 500 else text[:497] + "..."
    if total == 0:
        return None
    content_type = (_header(scope, b"content-type") or b"").split(b";")[0].decode("latin-1")
    return f"{content_type or 'body'}, {total} bytes"


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: "***"
            if isinstance(key, str) and any(s in key.lower() for s in _SECRET_KEYS)
            else _redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def _is_file_upload(scope: Scope) -> bool:
    path: str = scope["path"]
    return path.startswith("/files/") or (
        scope["method"] == "POST" and path.rstrip("/") == API_PREFIX + "firmware"
    )


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None


# A refused request's body up to this size is read and dropped, so that the answer arrives on a
# connection in good order; a longer (or unannounced) one is not read at all and the connection
# is closed after the answer.
DRAIN_LIMIT = 64 * 1024


async def _refuse(
    receive: Receive,
    send: Send,
    size: int | None,
    code: int,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    drained = size is not None and size <= DRAIN_LIMIT
    if drained:
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
    await _answer(send, code, detail, headers, close=not drained)


async def _answer(
    send: Send,
    code: int,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    close: bool = True,
) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The body was not read: the connection cannot carry another request.
                *([(b"connection", b"close")] if close else []),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# -- values no column can hold -------------------------------------------------------------------


async def check_values(request: Request) -> None:
    """422 naming the first path, query or JSON body value that cannot be stored."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    errors = _parameter_errors(request, route)
    if not errors and route.body_field is not None:
        errors = await _body_errors(request)
    if errors:
        raise RequestValidationError(errors)


def _parameter_errors(request: Request, route: APIRoute) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for param in route.dependant.path_params:
        raw = request.path_params.get(param.name)
        if isinstance(raw, str):
            problem = _raw_problem(param.name, raw, param.field_info.annotation)
            if problem is not None:
                errors.append(_error(("path", param.name), problem))
    for param in route.dependant.query_params:
        for raw in request.query_params.getlist(param.alias):
            problem = _raw_problem(param.name, raw, param.field_info.annotation)
            if problem is not None:
                errors.append(_error(("query", param.alias), problem))
    return errors


async def _body_errors(request: Request) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if _is_form(request):
        # Parsed (and cached on the request) by FastAPI already; files are not text fields.
        form = await request.form()
        for key, value in form.multi_items():
            if isinstance(value, str) and UNSTORABLE_TEXT.search(value) is not None:
                errors.append(_error(("body", key), "text with NUL or a lone surrogate"))
    if not errors and _is_json(request):
        body = await request.body()
        if body:
            try:
                document = json.loads(body)
            except ValueError:
                document = None  # FastAPI reports it
            found = _unstorable(document, ("body",))
            if found is not None:
                errors.append(_error(*found))
    return errors


def _raw_problem(name: str, raw: str, annotation: Any) -> str | None:
    if UNSTORABLE_TEXT.search(raw) is not None:
        return "text with NUL or a lone surrogate"
    if name == "charge_point_id" and not is_valid_charge_point_id(raw):
        return f"a charge point id is {RULE}"
    if int in _types(annotation):
        text = raw.strip()
        if text.lstrip("+-").isdigit() and text.isascii():
            value = int(text)
            if not INT32_MIN <= value <= INT32_MAX:
                return f"{_short(text)} is outside the 32-bit integer range"
    return None


def _types(annotation: Any) -> set[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types(typing.get_args(annotation)[0])
    if origin is typing.Union or isinstance(annotation, types.UnionType):
        found: set[Any] = set()
        for arg in typing.get_args(annotation):
            found |= _types(arg)
        return found
    return {annotation}


def _unstorable(value: Any, loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str] | None:
    problem = unstorable_reason(value)
    if problem is not None:
        return loc, problem
    if isinstance(value, dict):
        for key, item in value.items():
            if UNSTORABLE_TEXT.search(key) is not None:
                return (*loc, ascii(key)[1:-1]), "a property name with NUL or a lone surrogate"
            if (found := _unstorable(item, (*loc, key))) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _unstorable(item, (*loc, index))) is not None:
                return found
    return None


def _error(loc: tuple[str | int, ...], message: str) -> dict[str, Any]:
    return {"type": "value_error", "loc": loc, "msg": message}


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower().endswith("json")


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").lower()
    return content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded"))


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
