"""Operator accounts at run time (docs/console.md): who a request is, from a bearer token or a
console session cookie, answered from memory; logins with their rate limit; changes to users,
tokens and sessions written through the store and kept in memory at the same time.

API tokens and session ids are random and long, so a plain SHA-256 digest is what is stored and
looked up (a dict hit, before any request body is read). Passwords are slow-hashed with scrypt,
the same format as charge point passwords (transport/basic_auth.py).

The static token of `--api-token` is an administrator with no user ("api-token"), for
automation. One process owns the database's accounts: the memory is filled once at start-up and
then changed only by the calls below.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from csms.storage import ApiToken, AuditEntry, ConsoleSession, Role, Store, User
from csms.transport.basic_auth import hash_password, verify_password

log = logging.getLogger(__name__)

STATIC_ACTOR = "api-token"
TOKEN_PREFIX = "csms_"
# Passwords shorter than this are refused when set.
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (by token or console session) or the static token."""

    name: str
    role: Role
    user_id: int | None
    # Set when authenticated by the console session cookie (then CSRF applies).
    session: ConsoleSession | None = None


class LoginRefused(Exception):
    """Wrong name or password, or a disabled user (the same message for all three)."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


class LoginLimiter:
    """At most `attempts` failed logins per (name, address) in `window` seconds. Memory is
    bounded: beyond `max_keys` keys the least recently failed ones are forgotten."""

    def __init__(
        self,
        attempts: int = 5,
        window: float = 60.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._attempts = attempts
        self._window = window
        self._max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], list[float]] = OrderedDict()

    def check(self, name: str, address: str) -> None:
        """TooManyAttempts if the key has used up its attempts."""
        key = (name.lower(), address)
        recent = self._recent(key)
        if len(recent) >= self._attempts:
            raise TooManyAttempts(max(1, int(recent[0] + self._window - self._clock()) + 1))

    def failed(self, name: str, address: str) -> None:
        key = (name.lower(), address)
        recent = self._recent(key)
        recent.append(self._clock())
        self._failures[key] = recent[-self._attempts :]
        self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, name: str, address: str) -> None:
        self._failures.pop((name.lower(), address), None)

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, key: tuple[str, str]) -> list[float]:
        since = self._clock() - self._window
        return [at for at in self._failures.get(key, []) if at > since]


def digest(secret: str) -> str:
    """SHA-256 (hex) of a high-entropy secret: an API token or a session id."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


async def hash_new_password(password: str) -> str:
    check_password(password)
    # scrypt takes tens of milliseconds: off the event loop.
    return await asyncio.to_thread(hash_password, password)


# Verified against when the user does not exist, so that a login takes as long either way.
_DUMMY_HASH = hash_password("not a password of anyone")


class Accounts:
    def __init__(
        self,
        store: Store,
        static_token: str,
        *,
        session_ttl: float = 12 * 3600.0,
        now: Callable[[], datetime],
        limiter: LoginLimiter | None = None,
    ) -> None:
        self._store = store
        self._static = static_token.encode()
        self._session_ttl = timedelta(seconds=session_ttl)
        self._now = now
        self.limiter = limiter or LoginLimiter()
        self._users: dict[int, User] = {}
        self._tokens: dict[str, ApiToken] = {}
        self._sessions: dict[str, ConsoleSession] = {}
        self._loaded = False
        self._lock = asyncio.Lock()
        # Audit log writes under way (audit_soon); readers of the log wait for them.
        self._audit_writes: set[asyncio.Task[None]] = set()

    async def ready(self) -> None:
        """Fill the memory from the store (once)."""
        if self._loaded:
            return
        async with self._lock:
            if self._loaded:
                return
            self._users = {user.id: user for user in await self._store.list_users()}
            self._tokens = {
                token.digest: token
                for token in await self._store.list_api_tokens()
                if token.revoked_at is None
            }
            self._sessions = {s.digest: s for s in await self._store.list_sessions(self._now())}
            self._loaded = True

    # -- who is calling (no awaits: answered from memory) --------------------------------------

    def by_bearer(self, token: str) -> Principal | None:
        if hmac.compare_digest(token.encode("utf-8", "surrogatepass"), self._static):
            return Principal(STATIC_ACTOR, Role.ADMIN, None)
        found = self._tokens.get(digest(token))
        return None if found is None else self._principal(found.user_id)

    def by_session(self, session_id: str) -> Principal | None:
        key = digest(session_id)
        session = self._sessions.get(key)
        if session is None:
            return None
        if session.expires_at <= self._now():
            del self._sessions[key]
            return None
        return self._principal(session.user_id, session)

    def _principal(self, user_id: int, session: ConsoleSession | None = None) -> Principal | None:
        user = self._users.get(user_id)
        if user is None or user.disabled:
            return None
        return Principal(user.name, user.role, user.id, session)

    def user(self, user_id: int) -> User | None:
        return self._users.get(user_id)

    # -- console login -------------------------------------------------------------------------

    async def login(self, name: str, password: str, address: str) -> tuple[str, ConsoleSession]:
        """A new session's (cookie value, session). LoginRefused, TooManyAttempts."""
        await self.ready()
        self.limiter.check(name, address)
        # From the store: a user may have been added by `csms user add` while the server runs.
        user = await self._store.get_user_by_name(name) if name else None
        if user is not None:
            self._users[user.id] = user
        good = await asyncio.to_thread(
            verify_password, password, _DUMMY_HASH if user is None else user.password_hash
        )
        if user is None or not good or user.disabled:
            self.limiter.failed(name, address)
            raise LoginRefused("wrong name or password")
        self.limiter.succeeded(name, address)
        session_id = secrets.token_urlsafe(32)
        at = self._now()
        session = ConsoleSession(
            digest=digest(session_id),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=at,
            expires_at=at + self._session_ttl,
        )
        await self._store.add_session(session)
        self._sessions[session.digest] = session
        if len(self._sessions) % 100 == 0:
            await self._forget_expired_sessions()
        return session_id, session

    async def logout(self, session: ConsoleSession) -> None:
        self._sessions.pop(session.digest, None)
        await self._store.delete_session(session.digest)

    async def _forget_expired_sessions(self) -> None:
        now = self._now()
        for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[key]
        await self._store.delete_expired_sessions(now)

    # -- users ---------------------------------------------------------------------------------

    async def users(self) -> list[User]:
        await self.ready()
        return sorted(self._users.values(), key=lambda u: u.id)

    async def add_user(self, name: str, role: Role, password: str) -> User:
        """ValueError (bad name or password), storage.UserExistsError."""
        await self.ready()
        check_name(name)
        password_hash = await hash_new_password(password)
        user = await self._store.add_user(name, role, password_hash, self._now())
        self._users[user.id] = user
        return user

    async def update_user(
        self,
        user_id: int,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        password: str | None = None,
    ) -> User | None:
        """None: no such user. Disabling or a new password ends the user's sessions."""
        await self.ready()
        password_hash = None if password is None else await hash_new_password(password)
        user = await self._store.update_user(
            user_id, at=self._now(), role=role, disabled=disabled, password_hash=password_hash
        )
        if user is not None:
            self._users[user.id] = user
            if disabled or password_hash is not None:
                for key in [k for k, s in self._sessions.items() if s.user_id == user_id]:
                    del self._sessions[key]
        return user

    # -- API tokens ----------------------------------------------------------------------------

    async def create_token(self, user_id: int, name: str) -> tuple[str, ApiToken]:
        """(the token, shown this once; its record)."""
        await self.ready()
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = await self._store.add_api_token(
            user_id, name, digest(token), token[: len(TOKEN_PREFIX) + 6], self._now()
        )
        self._tokens[record.digest] = record
        return token, record

    async def tokens(self, user_id: int | None = None) -> list[ApiToken]:
        return await self._store.list_api_tokens(user_id)

    async def revoke_token(self, token_id: int) -> ApiToken | None:
        """Refused from now on (the memory is changed before the store is)."""
        await self.ready()
        for key in [k for k, t in self._tokens.items() if t.id == token_id]:
            del self._tokens[key]
        return await self._store.revoke_api_token(token_id, self._now())

    # -- audit log -----------------------------------------------------------------------------

    async def audit(
        self,
        principal: Principal,
        *,
        method: str,
        path: str,
        operation: str | None,
        charge_point_id: str | None = None,
        summary: str | None = None,
        status: int,
    ) -> None:
        await self._store.add_audit_entry(
            at=self._now(),
            actor=principal.name,
            user_id=principal.user_id,
            method=method,
            path=path,
            operation=operation,
            charge_point_id=charge_point_id,
            summary=summary,
            status=status,
        )

    def audit_soon(
        self,
        principal: Principal,
        *,
        method: str,
        path: str,
        operation: str | None,
        charge_point_id: str | None = None,
        summary: str | None = None,
        status: int,
    ) -> None:
        """Start writing an entry without waiting for it; audit_entries() and drain() do."""
        write = asyncio.get_running_loop().create_task(
            self.audit(
                principal,
                method=method,
                path=path,
                operation=operation,
                charge_point_id=charge_point_id,
                summary=summary,
                status=status,
            ),
            name="csms.audit",
        )
        self._audit_writes.add(write)
        write.add_done_callback(self._audit_written)

    def _audit_written(self, write: asyncio.Task[None]) -> None:
        self._audit_writes.discard(write)
        if not write.cancelled() and write.exception() is not None:
            log.error("could not write an audit log entry", exc_info=write.exception())

    async def drain(self) -> None:
        """Wait for the audit log writes under way."""
        while self._audit_writes:
            await asyncio.wait(set(self._audit_writes))

    async def audit_entries(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        actor: str | None = None,
        charge_point_id: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first, the writes started before this call included."""
        await self.drain()
        return await self._store.list_audit_entries(
            limit=limit, before_id=before_id, actor=actor, charge_point_id=charge_point_id
        )


def check_name(name: str) -> None:
    if not (1 <= len(name) <= 64) or not name.isprintable() or name != name.strip():
        raise ValueError("a user name is 1 to 64 printable characters, no outer spaces")
    if name == STATIC_ACTOR:
        raise ValueError(f"{STATIC_ACTOR!r} is the name of the static token")
