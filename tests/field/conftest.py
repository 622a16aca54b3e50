"""Field behaviour tests drive a real CSMS on SQLite and on PostgreSQL (a database of its own,
emptied before each test; skipped, with the reason, when no server can be reached)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.harness import Harness, csms
from tests.storage.conftest import database_url, postgres_database

__all__ = ["database_url", "postgres_database"]


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    """A CSMS on each backend, on free loopback ports, auto-registering."""
    async with csms(database_url) as running:
        yield running
