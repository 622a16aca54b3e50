"""SqlStore, operator accounts (docs/console.md): users, their API tokens, console sessions and
the audit log. A mixin of SqlStore over its shared plumbing (sql_base.py); every change is one
transaction through the group-commit writer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.errors import UserExistsError
from csms.storage.records import ApiToken, AuditEntry, ConsoleSession, Role, User
from csms.storage.schema import api_tokens, audit_log, sessions, users
from csms.storage.sql_base import SqlBase, aware


class UsersStore(SqlBase):
    # -- users ---------------------------------------------------------------------------------

    async def add_user(self, name: str, role: Role, password_hash: str, at: datetime) -> User:
        aware(at)

        async def work(connection: AsyncConnection) -> User:
            taken = select(users.c.id).where(users.c.name_key == name.lower())
            if (await connection.execute(taken)).first() is not None:
                raise UserExistsError(f"a user named {name!r} exists already")
            row = (
                await connection.execute(
                    users.insert()
                    .values(
                        name=name,
                        name_key=name.lower(),
                        role=str(role),
                        password_hash=password_hash,
                        disabled=False,
                        created_at=at,
                        updated_at=at,
                    )
                    .returning(*users.c)
                )
            ).one()
            return _user(row)

        return await self._writer.run(work)

    async def get_user(self, user_id: int) -> User | None:
        rows = await self._read(select(users).where(users.c.id == user_id))
        return _user(rows[0]) if rows else None

    async def get_user_by_name(self, name: str) -> User | None:
        rows = await self._read(select(users).where(users.c.name_key == name.lower()))
        return _user(rows[0]) if rows else None

    async def list_users(self) -> list[User]:
        return [_user(row) for row in await self._read(select(users).order_by(users.c.id))]

    async def update_user(
        self,
        user_id: int,
        *,
        at: datetime,
        role: Role | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> User | None:
        """Change what is given; a user disabled or given a new password loses its sessions."""
        aware(at)
        values: dict[str, Any] = {"updated_at": at}
        if role is not None:
            values["role"] = str(role)
        if disabled is not None:
            values["disabled"] = disabled
        if password_hash is not None:
            values["password_hash"] = password_hash

        async def work(connection: AsyncConnection) -> User | None:
            row = (
                await connection.execute(
                    update(users).where(users.c.id == user_id).values(**values).returning(*users.c)
                )
            ).first()
            if row is not None and (disabled or password_hash is not None):
                await connection.execute(delete(sessions).where(sessions.c.user_id == user_id))
            return None if row is None else _user(row)

        return await self._writer.run(work)

    # -- API tokens ----------------------------------------------------------------------------

    async def add_api_token(
        self, user_id: int, name: str, digest: str, prefix: str, at: datetime
    ) -> ApiToken:
        aware(at)

        async def work(connection: AsyncConnection) -> ApiToken:
            row = (
                await connection.execute(
                    api_tokens.insert()
                    .values(user_id=user_id, name=name, digest=digest, prefix=prefix, created_at=at)
                    .returning(*api_tokens.c)
                )
            ).one()
            return _api_token(row)

        return await self._writer.run(work)

    async def list_api_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        """A user's tokens (all users' when None), revoked ones included, oldest first."""
        statement = select(api_tokens).order_by(api_tokens.c.id)
        if user_id is not None:
            statement = statement.where(api_tokens.c.user_id == user_id)
        return [_api_token(row) for row in await self._read(statement)]

    async def revoke_api_token(self, token_id: int, at: datetime) -> ApiToken | None:
        """Revoke a token (once: a revoked token keeps its first revocation time)."""
        aware(at)

        async def work(connection: AsyncConnection) -> ApiToken | None:
            await connection.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            row = (
                await connection.execute(select(api_tokens).where(api_tokens.c.id == token_id))
            ).first()
            return None if row is None else _api_token(row)

        return await self._writer.run(work)

    # -- console sessions ----------------------------------------------------------------------

    async def add_session(self, session: ConsoleSession) -> None:
        aware(session.created_at, session.expires_at)

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(
                sessions.insert().values(
                    digest=session.digest,
                    user_id=session.user_id,
                    csrf_token=session.csrf_token,
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                )
            )

        await self._writer.run(work)

    async def list_sessions(self, now: datetime) -> list[ConsoleSession]:
        """The sessions not expired at `now`."""
        statement = select(sessions).where(sessions.c.expires_at > aware(now))
        return [_session(row) for row in await self._read(statement)]

    async def delete_session(self, digest: str) -> None:
        async def work(connection: AsyncConnection) -> None:
            await connection.execute(delete(sessions).where(sessions.c.digest == digest))

        await self._writer.run(work)

    async def delete_expired_sessions(self, now: datetime) -> int:
        aware(now)

        async def work(connection: AsyncConnection) -> int:
            result = await connection.execute(delete(sessions).where(sessions.c.expires_at <= now))
            return int(result.rowcount)

        return await self._writer.run(work)

    # -- audit log -----------------------------------------------------------------------------

    async def add_audit_entry(
        self,
        *,
        at: datetime,
        actor: str,
        user_id: int | None,
        method: str,
        path: str,
        operation: str | None,
        charge_point_id: str | None,
        summary: str | None,
        status: int,
    ) -> AuditEntry:
        values = {
            "at": aware(at),
            "actor": actor,
            "user_id": user_id,
            "method": method,
            "path": path,
            "operation": operation,
            "charge_point_id": charge_point_id,
            "summary": summary,
            "status": status,
        }

        async def work(connection: AsyncConnection) -> AuditEntry:
            statement = audit_log.insert().values(**values).returning(*audit_log.c)
            row = (await connection.execute(statement)).one()
            return _audit_entry(row)

        return await self._writer.run(work)

    async def list_audit_entries(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        actor: str | None = None,
        charge_point_id: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first; `before_id` pages back."""
        statement = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            statement = statement.where(audit_log.c.id < before_id)
        if actor is not None:
            statement = statement.where(audit_log.c.actor == actor)
        if charge_point_id is not None:
            statement = statement.where(audit_log.c.charge_point_id == charge_point_id)
        return [_audit_entry(row) for row in await self._read(statement)]

    async def prune_audit_log(self, before: datetime) -> int:
        return await self._prune(audit_log.c.id, audit_log.c.at, before)


def _user(row: Row[Any]) -> User:
    values = row._mapping
    return User(
        id=values["id"],
        name=values["name"],
        role=Role(values["role"]),
        password_hash=values["password_hash"],
        disabled=bool(values["disabled"]),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
    )


def _api_token(row: Row[Any]) -> ApiToken:
    values = row._mapping
    return ApiToken(
        id=values["id"],
        user_id=values["user_id"],
        name=values["name"],
        digest=values["digest"],
        prefix=values["prefix"],
        created_at=values["created_at"],
        revoked_at=values["revoked_at"],
    )


def _session(row: Row[Any]) -> ConsoleSession:
    values = row._mapping
    return ConsoleSession(
        digest=values["digest"],
        user_id=values["user_id"],
        csrf_token=values["csrf_token"],
        created_at=values["created_at"],
        expires_at=values["expires_at"],
    )


def _audit_entry(row: Row[Any]) -> AuditEntry:
    values = row._mapping
    return AuditEntry(**{name: values[name] for name in AuditEntry.__dataclass_fields__})
