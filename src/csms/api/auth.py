"""Bearer-token authentication of the operator API."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status


def require_token(token: str):  # type: ignore[no-untyped-def]
    """A FastAPI dependency that accepts only `Authorization: Bearer <token>`."""

    async def check(request: Request) -> None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "Missing or invalid bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check
