"""Databases for tests: SQLite files, and throwaway PostgreSQL databases when a server is there.

    url = sqlite_url(tmp_path / "csms.db")

    admin = await postgres_url()            # None when no server can be reached
    if admin is not None:
        async with temporary_postgres_database(admin) as url:
            store = await open_store(url)   # a fresh, empty database, dropped afterwards

The server is `$CSMS_TEST_DATABASE_URL` (an SQLAlchemy URL of a database the user may connect to
and CREATE DATABASE from), else `postgresql+asyncpg://postgres@127.0.0.1:5432/test`.

From synchronous code (a session-scoped fixture, say), call these through `run_in_thread`: it
runs the coroutine on its own event loop in another thread, so it can never collide with the
loop pytest-asyncio runs the tests on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

POSTGRES_URL_ENV = "CSMS_TEST_DATABASE_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT = 5.0

T = TypeVar("T")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def postgres_admin_url() -> str:
    """The configured PostgreSQL server (it may not be reachable)."""
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


async def postgres_unreachable_reason(url: str | None = None) -> str | None:
    """None if the server at `url` (default: postgres_admin_url()) answers, else why not."""
    url = url or postgres_admin_url()
    try:
        connection = await _connect(url)
    except (TimeoutError, OSError, asyncpg.PostgresError, ValueError) as exc:
        return f"cannot connect to {_display(url)}: {exc!r}"
    await connection.close()
    return None


async def postgres_url() -> str | None:
    """The configured PostgreSQL server's URL if it can be reached, else None."""
    url = postgres_admin_url()
    return None if await postgres_unreachable_reason(url) else url


async def create_postgres_database(admin_url: str | None = None) -> str:
    """Create an empty database `csms_test_<random>` on the server; its URL."""
    admin_url = admin_url or postgres_admin_url()
    name = f"csms_test_{secrets.token_hex(6)}"
    connection = await _connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str, admin_url: str | None = None) -> None:
    """Drop the database at `url` (connected to through `admin_url`), even if still in use."""
    name = make_url(url).database
    connection = await _connect(admin_url or postgres_admin_url())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def temporary_postgres_database(admin_url: str | None = None) -> AsyncIterator[str]:
    """A fresh database for the duration of the block; its URL."""
    url = await create_postgres_database(admin_url)
    try:
        yield url
    finally:
        await drop_postgres_database(url, admin_url)


async def reset_postgres_database(url: str) -> None:
    """Empty the database at `url` completely (tables, types, Alembic's version table)."""
    connection = await _connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion on a new event loop in a new thread; its result."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(coroutine)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="tests.db")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result


async def _connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {_display(url)}")
    return await asyncpg.connect(_dsn(parsed), timeout=CONNECT_TIMEOUT)


def _dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _display(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
