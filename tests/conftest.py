from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import Harness, csms


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """A CSMS on SQLite in a temporary file, on free loopback ports, auto-registering."""
    async with csms(tmp_path / "csms.db") as running:
        yield running
