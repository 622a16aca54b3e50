"""Who is calling, for the routes: the principal RequestGuard (api/limits.py) authenticated, and
the bearer security scheme the OpenAPI document declares (Swagger's Authorize uses it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from csms.accounts import Accounts, Principal
from csms.api.limits import PRINCIPAL_KEY

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A user's API token (made in the console or at POST /api/v1/tokens), or the "
    "server's --api-token (an administrator). The console's session cookie works too, with "
    "the X-CSRF-Token header on changes.",
)


async def principal_of(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    """The caller (RequestGuard let the request in only with one)."""
    found = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(found, Principal):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


Caller = Annotated[Principal, Depends(principal_of)]
AccountsDep = Annotated[Accounts, Depends(accounts_of)]


def require_token(token: str) -> Callable[..., Awaitable[Principal]]:
    """The former dependency of the static token alone, kept for callers of its name: any caller
    RequestGuard authenticated (the role is checked there)."""
    del token
    return principal_of
