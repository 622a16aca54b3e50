"""Every storage test runs on SQLite (a file in tmp_path) and on PostgreSQL (a database of its
own, made once per test session and emptied before each test; skipped, with the reason, when no
server can be reached). See tests/db.py for the server's URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csms.storage.sql import SqlStore, open_store
from tests.db import (
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
    postgres_unreachable_reason,
    reset_postgres_database,
    run_in_thread,
    sqlite_url,
)

NOW = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The URL of this session's PostgreSQL database (csms_test_<random>, dropped at the end)."""
    admin_url = postgres_admin_url()
    reason = run_in_thread(postgres_unreachable_reason(admin_url))
    if reason is not None:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    url = run_in_thread(create_postgres_database(admin_url))
    try:
        yield url
    finally:
        run_in_thread(drop_postgres_database(url, admin_url))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "csms.db")
    url: str = request.getfixturevalue("postgres_database")
    run_in_thread(reset_postgres_database(url))
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    store = await open_store(database_url, now=lambda: NOW)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def charge_point(store: SqlStore) -> str:
    """A registered charge point's id."""
    await store.save_charge_point(
        "CP1", registration_status="Accepted", password_hash=None, description=None
    )
    return "CP1"
