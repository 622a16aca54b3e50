"""Users, API tokens and the audit log in the operator API (docs/console.md). The roles are
enforced by RequestGuard (api/roles.py): /users and /audit are for admins; /me and /tokens are
every signed-in user's own account (an admin may revoke anyone's token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import Field

from csms.accounts import Principal
from csms.api.auth import AccountsDep, Caller
from csms.api.models import Model
from csms.storage import ApiToken, AuditEntry, Role, User, UserExistsError

router = APIRouter(tags=["users"])


class UserOut(Model):
    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            name=user.name,
            role=user.role,
            disabled=user.disabled,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserIn(Model):
    name: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=8, max_length=1024)


class UserChange(Model):
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)


class MeOut(Model):
    name: str
    role: Role
    user_id: int | None
    # For calls authenticated by the console's session cookie: the X-CSRF-Token they need.
    csrf_token: str | None


class TokenIn(Model):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Model):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            user_id=token.user_id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
        )


class NewTokenOut(TokenOut):
    """The token itself is in this answer only: it is stored as a digest."""

    token: str


class AuditOut(Model):
    id: int
    at: datetime
    actor: str
    user_id: int | None
    method: str
    path: str
    operation: str | None
    charge_point_id: str | None
    summary: str | None
    status: int

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        return cls(**{name: getattr(entry, name) for name in AuditEntry.__dataclass_fields__})


# -- the caller's own account --------------------------------------------------------------------


@router.get("/me", summary="Who I am")
async def me(caller: Caller) -> MeOut:
    csrf = None if caller.session is None else caller.session.csrf_token
    return MeOut(name=caller.name, role=caller.role, user_id=caller.user_id, csrf_token=csrf)


def _own_user(caller: Principal) -> int:
    if caller.user_id is None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "the static token has no user: use /api/v1/users/{user_id}/tokens",
        )
    return caller.user_id


@router.get("/tokens", summary="List my API tokens")
async def list_my_tokens(caller: Caller, accounts: AccountsDep) -> list[TokenOut]:
    return [TokenOut.of(t) for t in await accounts.tokens(_own_user(caller))]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, summary="Create an API token for me")
async def create_my_token(caller: Caller, accounts: AccountsDep, body: TokenIn) -> NewTokenOut:
    token, record = await accounts.create_token(_own_user(caller), body.name)
    return NewTokenOut(token=token, **TokenOut.of(record).model_dump())


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API token (my own; an admin: anyone's)",
)
async def revoke_token(token_id: int, caller: Caller, accounts: AccountsDep) -> Response:
    owned = await accounts.tokens(None if caller.role is Role.ADMIN else caller.user_id)
    if caller.role is not Role.ADMIN and caller.user_id is None:
        owned = []
    if not any(t.id == token_id for t in owned):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown token {token_id}")
    await accounts.revoke_token(token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- users (admin) -------------------------------------------------------------------------------


@router.get("/users", summary="List users")
async def list_users(accounts: AccountsDep) -> list[UserOut]:
    return [UserOut.of(u) for u in await accounts.users()]


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Add a user")
async def add_user(accounts: AccountsDep, body: UserIn) -> UserOut:
    try:
        return UserOut.of(await accounts.add_user(body.name, body.role, body.password))
    except UserExistsError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


async def _user(accounts: AccountsDep, user_id: int) -> User:
    user = accounts.user(user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown user {user_id}")
    return user


@router.get("/users/{user_id}", summary="Get a user")
async def get_user(user_id: int, accounts: AccountsDep) -> UserOut:
    await accounts.ready()
    return UserOut.of(await _user(accounts, user_id))


@router.patch(
    "/users/{user_id}", summary="Change a user's role, disable or enable it, reset its password"
)
async def change_user(user_id: int, accounts: AccountsDep, body: UserChange) -> UserOut:
    await accounts.ready()
    await _user(accounts, user_id)
    try:
        user = await accounts.update_user(
            user_id, role=body.role, disabled=body.disabled, password=body.password
        )
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown user {user_id}")
    return UserOut.of(user)


@router.get("/users/{user_id}/tokens", summary="List a user's API tokens")
async def list_user_tokens(user_id: int, accounts: AccountsDep) -> list[TokenOut]:
    await accounts.ready()
    await _user(accounts, user_id)
    return [TokenOut.of(t) for t in await accounts.tokens(user_id)]


@router.post(
    "/users/{user_id}/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API token for a user",
)
async def create_user_token(user_id: int, accounts: AccountsDep, body: TokenIn) -> NewTokenOut:
    await accounts.ready()
    await _user(accounts, user_id)
    token, record = await accounts.create_token(user_id, body.name)
    return NewTokenOut(token=token, **TokenOut.of(record).model_dump())


# -- audit log (admin) ---------------------------------------------------------------------------


@router.get("/audit", summary="The audit log, newest first")
async def audit_log(
    accounts: AccountsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    actor: str | None = None,
    charge_point_id: str | None = None,
) -> list[AuditOut]:
    entries = await accounts.audit_entries(
        limit=limit, before_id=before_id, actor=actor, charge_point_id=charge_point_id
    )
    return [AuditOut.of(e) for e in entries]
