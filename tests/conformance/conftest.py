"""The OCTT general pre-conditions for every conformance case (test-case document 1.3,
catalogue 2.3 and 2.5): a CSMS up and running in certification mode (it sends nothing but the
operator's commands, catalogue 2.6-1), the test id tags provisioned through the operator API, and
a registered charge point that is connected, Accepted and has every connector Available.

Two modes (docs/conformance-sequence.md):

- by default every case gets a fresh CSMS, and the charge point boots in it (reusable state
  Booted);
- with CSMS_CONFORMANCE_MODE=sequence the suite runs as the OCA test tool runs a certification
  session: one CSMS for the whole run (sequence.py), the id tags and the charge point identity
  provisioned once, the charge point booted once before the first case, and every case on a new
  connection of that identity without a BootNotification (unless the case itself boots). Only
  the OCTT cases (test_tc_*) run, in file order, in one process. A case that needs other CSMS
  settings (it parametrizes `harness_settings`) still gets a CSMS of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
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
from tests.conformance.sequence import Session, sequence_mode, start_session
from tests.harness import Harness, csms

CONFORMANCE_DIR = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not sequence_mode():
        return
    kept, deselected = [], []
    for item in items:
        in_suite = CONFORMANCE_DIR in Path(str(item.path)).parents
        if in_suite and not item.name.startswith("test_tc_"):
            deselected.append(item)  # not an OCTT case: no place in a certification session
            continue
        kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def octt_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Session | None]:
    """The certification session of sequence mode (None in the default mode)."""
    if not sequence_mode():
        yield None
        return
    if hasattr(request.config, "workerinput"):
        pytest.fail(
            "CSMS_CONFORMANCE_MODE=sequence runs the cases in file order in one process: "
            "run pytest with -p no:xdist (or -n 0)"
        )
    session = start_session(tmp_path_factory.mktemp("octt-session"))
    try:
        yield session
    finally:
        session.csms.stop()


@pytest.fixture
def harness_settings() -> dict[str, Any]:
    """Settings of the CSMS under test beyond the OCTT ones; a case needing others (an OCTT
    configured value) parametrizes this fixture."""
    return {}


@pytest.fixture
async def harness(
    tmp_path: Path, harness_settings: dict[str, Any], octt_session: Session | None
) -> AsyncIterator[Harness]:
    """The CSMS under test, in certification mode with a small heartbeat interval (catalogue
    2.6-6): the session's one in sequence mode, else a fresh one on SQLite."""
    if octt_session is not None and not harness_settings:
        async with octt_session.csms.harness() as shared:
            yield shared
        return
    async with csms(
        tmp_path / "csms.db",
        certification_mode=True,
        heartbeat_interval=HEARTBEAT_INTERVAL,
        **harness_settings,
    ) as running:
        yield running


def _shared(harness: Harness, octt_session: Session | None) -> bool:
    return octt_session is not None and harness.app is octt_session.csms.app


@pytest.fixture
async def id_tags(harness: Harness, octt_session: Session | None) -> IdTags:
    """Valid, invalid (unknown), expired, blocked and parent-group tags (catalogue 2.5); in
    sequence mode provisioned once, at the start of the session."""
    if octt_session is not None and _shared(harness, octt_session):
        return octt_session.id_tags
    return await provision_id_tags(harness)


@pytest.fixture
def cp_options() -> dict[str, Any]:
    """Options of the test charge point beyond the OCTT configuration (a module overrides it:
    real file transfers, say)."""
    return {}


@pytest.fixture
async def connected_cp(
    harness: Harness,
    id_tags: IdTags,
    cp_options: dict[str, Any],
    octt_session: Session | None,
) -> AsyncIterator[SimulatedChargePoint]:
    """The test charge point, registered and connected, not booted yet (in sequence mode:
    booted at the start of the session, and on a new connection now)."""
    if not _shared(harness, octt_session):
        await register(harness, CHARGE_POINT_ID)
    async with harness.charge_point(
        CHARGE_POINT_ID, connectors=CONNECTORS, vendor=VENDOR, model=MODEL, **cp_options
    ) as cp:
        yield cp


@pytest.fixture
async def cp(
    harness: Harness, connected_cp: SimulatedChargePoint, octt_session: Session | None
) -> SimulatedChargePoint:
    """The test charge point in the Booted state: Accepted, every connector Available. In
    sequence mode it booted once before the first case; a case starts on a new connection
    without a boot, as the tool's charge point does."""
    if not _shared(harness, octt_session):
        await booted(connected_cp)
    return connected_cp
