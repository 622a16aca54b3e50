"""SQLite's write-ahead log is copied into the database by the store's own task, off the
writer's path (storage/checkpoints.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from csms.storage import MeterSample, checkpoints
from csms.storage.checkpoints import checkpoint
from csms.storage.engine import create_engine
from csms.storage.sql import SqlStore, open_store
from tests.storage.conftest import NOW, sqlite_url


async def _write_samples(store: SqlStore, values: range) -> None:
    await store.save_charge_point(
        "CP1", registration_status="Accepted", password_hash=None, description=None
    )
    await store.add_meter_values(
        [
            MeterSample(
                charge_point_id="CP1", connector_id=1, transaction_id=None, timestamp=NOW,
                value=str(n),
            )
            for n in values
        ]
    )  # fmt: skip


async def test_a_passive_checkpoint_copies_the_log_while_the_store_writes(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "csms.db")
    async with await open_store(url) as store:
        await _write_samples(store, range(500))
        busy, frames, copied = await checkpoint(store._read_engine)
        assert (busy, copied) == (0, frames) and frames > 0
        await _write_samples(store, range(500, 510))  # the writer goes on; the log starts over
        assert (await checkpoint(store._read_engine))[1] < frames


async def test_the_store_checkpoints_on_its_own_and_stops_at_close(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "csms.db")
    store = await open_store(url)
    task = store._checkpoints
    assert task is not None and not task.done()
    await store.close()
    assert task.cancelled()


async def test_checkpoint_forever_keeps_going_after_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(sqlite_url(tmp_path / "csms.db"), role="read")
    tries: list[int] = []
    third = asyncio.Event()

    async def failing(_: object) -> tuple[int, int, int]:
        tries.append(1)
        if len(tries) == 3:
            third.set()
        raise OSError("disk gone")  # logged; the next round tries again

    monkeypatch.setattr(checkpoints, "checkpoint", failing)
    task = asyncio.create_task(checkpoints.checkpoint_forever(engine, every=0.001))
    try:
        await asyncio.wait_for(third.wait(), 10)
        assert not task.done()
    finally:
        task.cancel()
        await engine.dispose()
