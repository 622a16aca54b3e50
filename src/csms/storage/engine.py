"""Async engines configured for durability on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Pages the WAL grows to before the commit that crosses it copies them into the database
# (SQLite's default: 1,000). The store checkpoints every few seconds off the writer's path
# (checkpoints.py); this is the backstop if that falls behind, rare because a commit that
# checkpoints stalls every message waiting for it. A page rewritten by many commits is copied
# once per checkpoint (bench/README.md, "Disk written per message").
SQLITE_WAL_CHECKPOINT_PAGES = 20_000

Role = Literal["read", "write"]


def parse_url(url: str | URL) -> URL:
    """The URL, checked to be one this store supports."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.get_driver_name() != "aiosqlite":
            raise ValueError(f"use sqlite+aiosqlite:///path/file.db, not {parsed.drivername}")
        if not parsed.database or parsed.database == ":memory:" or "memory" in parsed.database:
            # Every pooled connection would see its own empty database.
            raise ValueError("an in-memory SQLite database is not supported: give a file path")
    elif parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "asyncpg":
            raise ValueError(f"use postgresql+asyncpg://..., not {parsed.drivername}")
    else:
        raise ValueError(f"unsupported database URL {parsed.render_as_string()!r}")
    return parsed


def create_engine(url: str | URL, *, role: Role = "write", **kwargs: Any) -> AsyncEngine:
    """An engine whose transactions are real transactions on both backends.

    SQLite: WAL (readers never block the writer), synchronous=FULL (a returned commit survives
    power loss), a busy timeout for other processes, foreign keys on. The sqlite3 module's own
    transaction handling is switched off and BEGIN emitted here, so that SELECTs and DDL are
    inside the transaction; writers begin with BEGIN IMMEDIATE, taking the write lock up front
    instead of failing with SQLITE_BUSY when a read in the transaction turns into a write.

    `role="read"`: for single-statement reads, in autocommit (no BEGIN/ROLLBACK round trips;
    one statement sees one consistent snapshot anyway).
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        if role == "read":
            kwargs.setdefault("isolation_level", "AUTOCOMMIT")
        return create_async_engine(parsed, **kwargs)

    assert parsed.database is not None
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if role == "read":
        # Autocommit (below) and never a BEGIN: a returned connection has no transaction to
        # roll back, so the pool's ROLLBACK would be a thread round trip for nothing.
        kwargs.setdefault("pool_reset_on_return", None)
    engine = create_async_engine(parsed, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_CHECKPOINT_PAGES}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    if role == "write":

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
