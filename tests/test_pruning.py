"""The owned pruning tasks (pruning.py): the audit log loses what is older than
--audit-log-days, measured on the injectable clock; with 0 it is kept for ever."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csms.pruning import prune_by_age
from csms.storage.sql import SqlStore, open_store
from tests.clock import Clock
from tests.harness import csms

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def audited(store: SqlStore, at: datetime, path: str) -> None:
    await store.add_audit_entry(
        at=at,
        actor="ada",
        user_id=None,
        method="POST",
        path=path,
        operation=None,
        charge_point_id=None,
        summary=None,
        status=200,
    )


async def paths(store: SqlStore) -> list[str]:
    return [e.path for e in await store.list_audit_entries()]


async def test_the_audit_log_is_pruned_as_the_clock_moves(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    clock = Clock(T0)
    for days in (3, 2, 1, 0):
        await audited(store, T0 - timedelta(days=days), f"/{days}")
    task = asyncio.create_task(
        prune_by_age("audit log", store.prune_audit_log, 2, clock.now, every=0.01)
    )
    try:

        async def until(expected: list[str]) -> None:
            async with asyncio.timeout(10):
                while await paths(store) != expected:  # noqa: ASYNC110 - the database is polled
                    await asyncio.sleep(0.01)

        await until(["/0", "/1", "/2"])  # older than 2 days at T0: the one of 3 days
        clock.moment = T0 + timedelta(hours=12)
        await until(["/0", "/1"])
        clock.moment = T0 + timedelta(days=30)
        await until([])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await store.close()


@pytest.mark.parametrize(("days", "kept"), [(30, ["/now", "/10d"]), (0, ["/now", "/10d", "/1y"])])
async def test_the_server_prunes_the_audit_log_at_start(
    tmp_path: Path, days: int, kept: list[str]
) -> None:
    database = tmp_path / "csms.db"
    now = datetime.now(UTC)
    async with csms(database, audit_log_days=0) as harness:  # nothing pruned while written
        for at, path in ((now - timedelta(days=400), "/1y"), (now - timedelta(days=10), "/10d")):
            await audited(harness.store, at, path)
        await audited(harness.store, now, "/now")
    async with csms(database, audit_log_days=days) as harness:
        async with asyncio.timeout(10):
            while await paths(harness.store) != kept:  # noqa: ASYNC110 - the database is polled
                await asyncio.sleep(0.02)
