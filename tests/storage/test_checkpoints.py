"""SQLite's write-ahead log is copied into the database by the store's own task, off the
writer's path (storage/checkpoints.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from csms.storage import MeterSample
from csms.storage.checkpoints import checkpoint, checkpoint_forever
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


async def test_checkpoint_forever_keeps_going_after_a_failure(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "gone" / "csms.db"), role="read")
    task = asyncio.create_task(checkpoint_forever(engine, every=0.01))
    try:
        await asyncio.sleep(0.1)  # the directory does not exist: each try fails, and is logged
        assert not task.done()
    finally:
        task.cancel()
        await engine.dispose()
