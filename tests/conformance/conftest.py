"""The OCTT general pre-conditions for every conformance case (test-case document 1.3,
catalogue 2.3 and 2.5): a CSMS up and running in certification mode (it sends nothing but the
operator's commands, catalogue 2.6-1), the test id tags provisioned through the operator API, and
a registered charge point that is connected, Accepted and has every connector Available."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CHARGE_POINT_ID,
    CONNECTORS,
    HEARTBEAT_INTERVAL,
    MODEL,
    VENDOR,
    IdTags,
    booted,
    provision_id_tags,
    register,
)
from tests.harness import Harness, csms


@pytest.fixture
def harness_settings() -> dict[str, Any]:
    """Settings of the CSMS under test beyond the OCTT ones; a case needing others (an OCTT
    configured value) parametrizes this fixture."""
    return {}


@pytest.fixture
async def harness(tmp_path: Path, harness_settings: dict[str, Any]) -> AsyncIterator[Harness]:
    """A fresh CSMS per case on SQLite, in certification mode, with a small heartbeat
    interval (catalogue 2.6-6)."""
    async with csms(
        tmp_path / "csms.db",
        certification_mode=True,
        heartbeat_interval=HEARTBEAT_INTERVAL,
        **harness_settings,
    ) as running:
        yield running


@pytest.fixture
async def id_tags(harness: Harness) -> IdTags:
    """Valid, invalid (unknown), expired, blocked and parent-group tags (catalogue 2.5)."""
    return await provision_id_tags(harness)


@pytest.fixture
async def connected_cp(harness: Harness, id_tags: IdTags) -> AsyncIterator[SimulatedChargePoint]:
    """The test charge point, registered and connected, not booted yet."""
    await register(harness, CHARGE_POINT_ID)
    async with harness.charge_point(
        CHARGE_POINT_ID, connectors=CONNECTORS, vendor=VENDOR, model=MODEL
    ) as cp:
        yield cp


@pytest.fixture
async def cp(connected_cp: SimulatedChargePoint) -> SimulatedChargePoint:
    """The test charge point in the Booted state: Accepted, every connector Available."""
    await booted(connected_cp)
    return connected_cp
