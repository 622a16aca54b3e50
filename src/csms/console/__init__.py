"""The operator console (docs/console.md): server-rendered pages at / of the HTTP port, with
Jinja2 templates (console/templates) and our own CSS (console/static, served at /static).

This module has the skeleton: sign in and out, the layout with its navigation, the Overview
page, the Users page (admins) and My tokens. Every form post carries the session's CSRF token
(console/auth.py) and is written to the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import APIRouter, FastAPI, Form, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from csms.accounts import LoginRefused, Principal, TooManyAttempts
from csms.console.auth import Admin as AdminUser
from csms.console.auth import (
    AdminPost,
    NotSignedIn,
    Post,
    User,
    accounts_of,
    clear_session_cookie,
    login_csrf_ok,
    login_token,
    set_login_cookie,
    set_session_cookie,
    signed_in,
)
from csms.storage import Role, UserExistsError

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# (title, path, role needed to see the link)
NAVIGATION: tuple[tuple[str, str, Role], ...] = (
    ("Overview", "/", Role.VIEWER),
    ("Charge points", "/charge-points", Role.VIEWER),
    ("Transactions", "/transactions", Role.VIEWER),
    ("Id tags", "/id-tags", Role.VIEWER),
    ("Load groups", "/load-groups", Role.VIEWER),
    ("Reservations", "/reservations", Role.VIEWER),
    ("Local lists", "/local-lists", Role.VIEWER),
    ("Firmware", "/firmware", Role.VIEWER),
    ("Charger profiles", "/charger-profiles", Role.VIEWER),
    ("Unknown", "/unknown-charge-points", Role.VIEWER),
    ("My tokens", "/tokens", Role.VIEWER),
    ("Users", "/users", Role.ADMIN),
    ("Audit", "/audit", Role.ADMIN),
)

router = APIRouter(include_in_schema=False)


def page(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = status.HTTP_200_OK,
    **context: Any,
) -> HTMLResponse:
    """A page of the layout: the user, their role, the links they may follow, the CSRF token."""
    navigation = [
        (title, path)
        for title, path, role in NAVIGATION
        if principal is not None and principal.role.allows(role)
    ]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            "navigation": navigation,
            "csrf_token": principal.session.csrf_token
            if principal is not None and principal.session is not None
            else "",
            "current": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


# Pages load nothing from elsewhere, run no inline script, and are not framed.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


async def _audit(
    request: Request,
    principal: Principal,
    operation: str,
    summary: str | None,
    answer: int = status.HTTP_303_SEE_OTHER,
) -> None:
    await accounts_of(request).audit(
        principal,
        method=request.method,
        path=request.url.path,
        operation=operation,
        summary=summary,
        status=answer,
    )


audit = _audit


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)


# -- sign in and out -----------------------------------------------------------------------------


@router.get("/login")
async def login_form(request: Request) -> Response:
    try:
        await signed_in(request)
        return _see("/")
    except NotSignedIn:
        return _login_page(request)


def _login_page(request: Request, code: int = status.HTTP_200_OK, **context: Any) -> HTMLResponse:
    """The sign-in form with its login CSRF token (and the cookie that holds the same)."""
    token = login_token(request)
    response = page(request, "login.html", None, code, login_csrf=token, **context)
    set_login_cookie(request, response, token)
    return response


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    accounts = accounts_of(request)
    address = request.client.host if request.client else "?"
    if not login_csrf_ok(request, csrf_token):
        log.info("console login of %r from %s without the form's CSRF token", name, address)
        return _login_page(
            request,
            status.HTTP_403_FORBIDDEN,
            error="the sign-in form has expired or came from elsewhere: sign in again",
            name=name,
        )
    try:
        session_id, session = await accounts.login(name, password, address)
    except TooManyAttempts as exc:
        log.warning("console login of %r from %s refused: %s", name, address, exc)
        response = _login_page(
            request, status.HTTP_429_TOO_MANY_REQUESTS, error=str(exc), name=name
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except LoginRefused as exc:
        log.info("console login of %r from %s failed", name, address)
        return _login_page(request, status.HTTP_401_UNAUTHORIZED, error=str(exc), name=name)
    principal = accounts.by_session(session_id)
    assert principal is not None
    await _audit(request, principal, "console.login", None)
    redirect = _see("/")
    max_age = int((session.expires_at - session.created_at) / timedelta(seconds=1))
    set_session_cookie(request, redirect, session_id, max_age)
    return redirect


@router.post("/logout")
async def logout(request: Request, principal: Post) -> Response:
    assert principal.session is not None
    await accounts_of(request).logout(principal.session)
    await _audit(request, principal, "console.logout", None)
    response = _see("/login")
    clear_session_cookie(request, response)
    return response


# -- pages ---------------------------------------------------------------------------------------


@router.get("/users")
async def users_page(request: Request, principal: AdminUser) -> Response:
    users = await accounts_of(request).users()
    return page(request, "users.html", principal, users=users, roles=list(Role))


@router.post("/users")
async def add_user(
    request: Request,
    principal: AdminPost,
    name: Annotated[str, Form(max_length=64)],
    role: Annotated[Role, Form()],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    accounts = accounts_of(request)
    try:
        await accounts.add_user(name, role, password)
    except (UserExistsError, ValueError) as exc:
        await _audit(request, principal, "console.add_user", f"{name} ({role})", 422)
        users = await accounts.users()
        return page(
            request,
            "users.html",
            principal,
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            users=users,
            roles=list(Role),
            error=str(exc),
        )
    await _audit(request, principal, "console.add_user", f"{name} ({role})")
    return _see("/users")


@router.post("/users/{user_id}")
async def change_user(
    request: Request,
    principal: AdminPost,
    user_id: int,
    action: Annotated[str, Form()],
    role: Annotated[Role | None, Form()] = None,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    accounts = accounts_of(request)
    changes: dict[str, Any]
    if action == "role" and role is not None:
        changes, summary = {"role": role}, f"role {role}"
    elif action in ("disable", "enable"):
        changes, summary = {"disabled": action == "disable"}, action
    elif action == "password":
        changes, summary = {"password": password}, "password reset"
    else:
        changes, summary = {}, None
    error = None
    try:
        user = await accounts.update_user(user_id, **changes) if changes else None
        if user is None:
            error = "no such user or change"
    except ValueError as exc:
        error = str(exc)
    answer = status.HTTP_303_SEE_OTHER if error is None else status.HTTP_422_UNPROCESSABLE_CONTENT
    await _audit(request, principal, f"console.user_{action}", f"user {user_id}: {summary}", answer)
    if error is not None:
        users = await accounts.users()
        return page(
            request, "users.html", principal, answer, users=users, roles=list(Role), error=error
        )
    return _see("/users")


@router.get("/tokens")
async def tokens_page(request: Request, principal: User) -> Response:
    assert principal.user_id is not None
    tokens = await accounts_of(request).tokens(principal.user_id)
    return page(request, "tokens.html", principal, tokens=tokens)


@router.post("/tokens")
async def create_token(
    request: Request, principal: Post, name: Annotated[str, Form(min_length=1, max_length=100)]
) -> Response:
    assert principal.user_id is not None
    accounts = accounts_of(request)
    token, record = await accounts.create_token(principal.user_id, name)
    await _audit(request, principal, "console.create_token", f"token {record.id} {name}", 201)
    tokens = await accounts.tokens(principal.user_id)
    # Shown this once: only its digest is kept.
    return page(
        request, "tokens.html", principal, status.HTTP_201_CREATED, tokens=tokens, new_token=token
    )


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(request: Request, principal: Post, token_id: int) -> Response:
    assert principal.user_id is not None
    accounts = accounts_of(request)
    owned = {t.id for t in await accounts.tokens(principal.user_id)}
    if token_id in owned:
        await accounts.revoke_token(token_id)
    answer = status.HTTP_303_SEE_OTHER if token_id in owned else status.HTTP_404_NOT_FOUND
    await _audit(request, principal, "console.revoke_token", f"token {token_id}", answer)
    if token_id not in owned:
        return page(
            request,
            "tokens.html",
            principal,
            answer,
            tokens=await accounts.tokens(principal.user_id),
            error=f"no token {token_id} of yours",
        )
    return _see("/tokens")


@router.get("/audit")
async def audit_page(
    request: Request, principal: AdminUser, before_id: int | None = None
) -> Response:
    entries = await accounts_of(request).audit_entries(limit=PAGE_SIZE, before_id=before_id)
    older = entries[-1].id if len(entries) == PAGE_SIZE else None
    return page(request, "audit.html", principal, entries=entries, older=older)


PAGE_SIZE = 100


async def _not_signed_in(request: Request, exc: Exception) -> Response:
    return _see("/login")


# Paths that are not the console's: their errors stay JSON (the API's, api/errors.py).
_NOT_CONSOLE = ("/api/", "/files/", "/static/", "/health", "/ready", "/metrics", "/docs/")


def _wants_page(request: Request) -> bool:
    """A browser asking for a console page (not the API, not a script's fetch)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith(_NOT_CONSOLE)


def _messages(exc: RequestValidationError) -> list[str]:
    """FastAPI's validation errors as lines naming the field."""
    lines = []
    for error in exc.errors():
        where = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        lines.append(f"{'.'.join(where) + ': ' if where else ''}{error.get('msg', 'invalid')}")
    return lines


_Handler = Callable[[Request, Exception], Awaitable[Response]]


def install_error_pages(app: FastAPI) -> None:
    """Errors of console pages as pages (a browser shows them as such), naming the field of a
    form or query that is wrong; everything else keeps the handlers it had."""
    handlers = cast(dict[type[Exception], _Handler], app.exception_handlers)
    previous_validation = handlers.get(RequestValidationError)
    previous_http = handlers.get(StarletteHTTPException, http_exception_handler)

    async def error_page(request: Request, code: int, messages: list[str]) -> Response:
        try:
            principal: Principal | None = await signed_in(request)
        except NotSignedIn:
            principal = None
        return page(request, "error.html", principal, code, code=code, messages=messages)

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if _wants_page(request) or previous_validation is None:
            return await error_page(request, 422, _messages(exc))
        return await previous_validation(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _wants_page(request) and exc.status_code >= 400:
            return await error_page(request, exc.status_code, [str(exc.detail)])
        return await previous_http(request, exc)

    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)


def install(app: FastAPI) -> None:
    """Add the console to the HTTP app: its pages, /static, the redirect to /login."""
    from csms.console import manage, operations, pages

    app.include_router(router)
    app.include_router(pages.router)
    app.include_router(operations.router)
    app.include_router(manage.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    install_error_pages(app)
