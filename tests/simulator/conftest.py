from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.simulator.peer import PeerCSMS


@pytest.fixture
async def peer() -> AsyncIterator[PeerCSMS]:
    """A peer CSMS on a free loopback port."""
    async with PeerCSMS.running() as running:
        yield running
