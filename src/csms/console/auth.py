"""Console sessions (docs/console.md): the session cookie, the signed-in user of a page, and the
CSRF token every form post must carry.

The cookie holds a random id; the server keeps only its SHA-256 digest, with the user, the
CSRF token and the expiry (accounts.py). It is HttpOnly, SameSite=Strict, Path=/, and Secure
when the console is reached over HTTPS (directly or through a proxy that says so).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request, Response, status

from csms.accounts import Accounts, Principal
from csms.api.limits import SESSION_COOKIE
from csms.storage import Role


class NotSignedIn(Exception):
    """A console page asked for without a valid session: answered with a redirect to /login."""


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


async def signed_in(request: Request) -> Principal:
    accounts = accounts_of(request)
    await accounts.ready()
    session_id = request.cookies.get(SESSION_COOKIE)
    principal = accounts.by_session(session_id) if session_id else None
    if principal is None:
        raise NotSignedIn
    return principal


async def signed_in_admin(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
    if not principal.role.allows(Role.ADMIN):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this page is for admins")
    return principal


async def checked_post(
    principal: Annotated[Principal, Depends(signed_in)],
    csrf_token: Annotated[str, Form()] = "",
) -> Principal:
    """The signed-in user of a form post that carries its session's CSRF token (else 403)."""
    assert principal.session is not None
    if not hmac.compare_digest(csrf_token.encode(), principal.session.csrf_token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return principal


async def checked_admin_post(principal: Annotated[Principal, Depends(checked_post)]) -> Principal:
    if not principal.role.allows(Role.ADMIN):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this is for admins")
    return principal


async def checked_operator_post(
    principal: Annotated[Principal, Depends(checked_post)],
) -> Principal:
    """A form post that changes something at a charge point: operators and admins only."""
    if not principal.role.allows(Role.OPERATOR):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this is for operators")
    return principal


def set_session_cookie(request: Request, response: Response, session_id: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


# Login CSRF (docs/console.md): the sign-in form carries the value of this cookie, set with the
# form; a login post without both, equal, is refused. A page of another site can neither read
# the cookie nor have it sent (SameSite=Strict), so it cannot sign a browser in to its account.
LOGIN_COOKIE = "csms_login"
LOGIN_FORM_TTL = 3600


def login_token(request: Request) -> str:
    """The login form's CSRF token: the browser's login cookie, or a new one."""
    known = request.cookies.get(LOGIN_COOKIE, "")
    return known if 32 <= len(known) <= 64 else secrets.token_urlsafe(32)


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_FORM_TTL,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def login_csrf_ok(request: Request, csrf_token: str) -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), csrf_token.encode())


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


User = Annotated[Principal, Depends(signed_in)]
Admin = Annotated[Principal, Depends(signed_in_admin)]
Post = Annotated[Principal, Depends(checked_post)]
AdminPost = Annotated[Principal, Depends(checked_admin_post)]
OperatorPost = Annotated[Principal, Depends(checked_operator_post)]
