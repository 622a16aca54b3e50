"""Field scenarios run a real CSMS on SQLite (a file in tmp_path) and on PostgreSQL (a database
of its own per session, emptied before each test; skipped, with the reason, when no server can
be reached). See tests/db.py for the server's URL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.harness import Harness, csms
from tests.storage.conftest import database_url, postgres_database

__all__ = ["database_url", "harness", "postgres_database"]


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    """A CSMS on each backend, on free loopback ports, auto-registering."""
    async with csms(database_url) as running:
        yield running
