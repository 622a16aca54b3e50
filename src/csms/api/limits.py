"""Input limits of the HTTP side (docs/field-behaviour.md, "Input limits and ids").

`RequestGuard` is a pure ASGI middleware in front of FastAPI: an operator API request without the
bearer token is answered 401 before a byte of its body is read, and a body over its limit is
answered 413 (from Content-Length at once, else as soon as the stream passes the limit). Uploads
of files (POST /api/v1/firmware, the charge points' /files/ routes) have a larger limit.

`check_values` is an application-wide dependency: path, query and JSON body values that the
route accepts but no column can hold (integers outside 32 bits, NaN and infinities, text with NUL
or lone surrogates, charge point ids outside transport/ids.py) are refused with 422 naming the
field, before the route runs. Error bodies are always encodable (`SafeJSONResponse`).
"""

from __future__ import annotations

import hmac
import json
import types
import typing
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from csms.ocpp16.validation import INT32_MAX, INT32_MIN, UNSTORABLE_TEXT, unstorable_reason
from csms.transport.ids import RULE, is_valid_charge_point_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/api/v1/"


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


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        public: frozenset[str],
        max_body: int,
        max_file_body: int,
    ) -> None:
        self._app = app
        self._token = token.encode()
        self._public = public
        self._max_body = max_body
        self._max_file_body = max_file_body

    # One pass-through in the ASGI style: each early answer returns before the app is called,
    # in the order the checks must run (length, token, size); split, they would need flags.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: C901
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        length = _header(scope, b"content-length")
        if length is not None and not length.isdigit():
            await _answer(send, status.HTTP_400_BAD_REQUEST, "invalid Content-Length")
            return
        size = None if length is None else int(length)
        if path.startswith(API_PREFIX) and path not in self._public and not self._authorized(scope):
            await _refuse(
                receive,
                send,
                size,
                status.HTTP_401_UNAUTHORIZED,
                "Missing or invalid bearer token",
                [(b"www-authenticate", b"Bearer")],
            )
            return
        limit = self._max_file_body if _is_file_upload(scope) else self._max_body
        if size is not None and size > limit:
            await _refuse(
                receive,
                send,
                size,
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"request body larger than {limit} bytes",
            )
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _answer(send, exc.status_code, str(exc.detail))

    def _authorized(self, scope: Scope) -> bool:
        header = _header(scope, b"authorization") or b""
        scheme, _, given = header.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(given, self._token)


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
