"""Unknown charge points refused at the handshake are kept (features/unknown_charge_points.py):
in memory for the console, and in the database by an owned task, so that the approval page
survives a restart; one entry per id, capped, forgotten when approved or refused, pruned by age
on the injectable clock. Both database backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.clock import Clock
from tests.harness import Harness, csms
from tests.storage.conftest import database_url, postgres_database  # noqa: F401
from websockets.exceptions import InvalidStatus

from csms.features.unknown_charge_points import (
    RETENTION_DAYS,
    UnknownChargePoints,
    keep_unknown_charge_points,
)
from csms.settings import UnknownChargePoints as Policy
from csms.storage import StoreClosedError
from csms.storage.sql import SqlStore, open_store

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:  # noqa: F811
    opened = await open_store(database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def knocks(harness: Harness, charge_point_id: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with harness.charge_point(charge_point_id):
            pass
    assert refused.value.response.status_code == 404


async def test_refused_ids_are_on_the_approval_page_after_a_restart(
    database_url: str,  # noqa: F811
) -> None:
    async with csms(database_url, unknown_charge_points=Policy.REJECT) as harness:
        for _ in range(3):
            await knocks(harness, "NEW-1")
        await knocks(harness, "NEW-2")
        await knocks(harness, "GONE")
        assert harness.app.services.unknown_charge_points.forget("GONE")
    # Written at shutdown at the latest; read back at start.
    async with csms(database_url, unknown_charge_points=Policy.REJECT) as harness:
        listed = harness.app.services.unknown_charge_points.list()
        assert [(a.charge_point_id, a.attempts, a.reason) for a in listed] == [
            ("NEW-2", 1, "unknown"),
            ("NEW-1", 3, "unknown"),
        ]
        await knocks(harness, "NEW-1")
        assert harness.app.services.unknown_charge_points.list()[0].attempts == 4


async def test_the_owned_task_writes_changes_caps_and_prunes_on_the_clock(
    store: SqlStore,
) -> None:
    clock = Clock(T0)
    unknown = UnknownChargePoints(capacity=3, clock=clock.now)
    for n in range(5):
        clock.moment = T0 + timedelta(minutes=n)
        unknown.refused(f"ID{n}", "unknown")
    unknown.refused("ID4", "looks like CP4")
    task = asyncio.create_task(keep_unknown_charge_points(unknown, store, clock.now))
    try:

        async def stored() -> list[tuple[str, int, str]]:
            found = await store.list_unknown_charge_points(100)
            return [(a.charge_point_id, a.attempts, a.reason) for a in found]

        async def until(expected: list[tuple[str, int, str]]) -> None:
            async with asyncio.timeout(10):
                while await stored() != expected:  # noqa: ASYNC110 - the database is polled
                    await asyncio.sleep(0.05)

        # One row per id, the 3 most recently seen.
        await until([("ID4", 2, "looks like CP4"), ("ID3", 1, "unknown"), ("ID2", 1, "unknown")])
        unknown.forget("ID3")
        await until([("ID4", 2, "looks like CP4"), ("ID2", 1, "unknown")])
        # Loaded by another process (a restart): the same, in the same order.
        again = UnknownChargePoints(capacity=3, clock=clock.now)
        await again.load(store)
        assert [a.charge_point_id for a in again.list()] == ["ID4", "ID2"]
        # Not seen for RETENTION_DAYS: pruned (the clock moved; the next round prunes).
        clock.moment = T0 + timedelta(days=RETENTION_DAYS, minutes=3)
        await unknown.prune(store, clock.now() - timedelta(days=RETENTION_DAYS))
        assert [a.charge_point_id for a in unknown.list()] == ["ID4"]
        await until([("ID4", 2, "looks like CP4")])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_failed_write_is_tried_again(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    unknown = UnknownChargePoints(clock=lambda: T0)
    unknown.refused("ID1", "unknown")
    await store.close()
    with pytest.raises(StoreClosedError):
        await unknown.flush(store)
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    try:
        await unknown.flush(store)
        assert [a.charge_point_id for a in await store.list_unknown_charge_points(10)] == ["ID1"]
    finally:
        await store.close()
