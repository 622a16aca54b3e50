"""Group commit: concurrent writes share commits, each caller is answered after its commit, and
one bad write in a batch fails only its own caller."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, exc

from csms.storage import ConnectorStatus, MeterSample, Notification, TransactionStart
from csms.storage.errors import StoreClosedError, StoreError
from csms.storage.groupcommit import Rows
from csms.storage.schema import notifications
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW

STATUS = ConnectorStatus(
    charge_point_id="CP1",
    connector_id=1,
    status="Available",
    error_code="NoError",
    timestamp=NOW,
    received_at=NOW,
)


def sample(charge_point_id: str = "CP1", value: str = "1") -> MeterSample:
    return MeterSample(
        charge_point_id=charge_point_id,
        connector_id=1,
        transaction_id=None,
        timestamp=NOW,
        value=value,
    )


class CommitCounter:
    """Counts the commits of the store's writer, as the database driver sees them."""

    def __init__(self, store: SqlStore) -> None:
        self.count = 0
        self._engine = store._write_engine.sync_engine
        event.listen(self._engine, "commit", self._on_commit)

    def _on_commit(self, _connection: Any) -> None:
        self.count += 1

    def remove(self) -> None:
        event.remove(self._engine, "commit", self._on_commit)


async def test_concurrent_writes_share_commits(store: SqlStore, charge_point: str) -> None:
    commits = CommitCounter(store)
    try:
        await asyncio.gather(*(store.record_status(STATUS) for _ in range(200)))
    finally:
        commits.remove()

    assert 1 <= commits.count <= 5
    assert len(await store.status_history(charge_point, limit=1000)) == 200


async def test_mixed_writes_share_commits(store: SqlStore, charge_point: str) -> None:
    commits = CommitCounter(store)
    starts = [
        TransactionStart(
            charge_point_id=charge_point,
            connector_id=1,
            id_tag="T",
            meter_start=i,
            timestamp=NOW,
            reservation_id=None,
            id_tag_status="Accepted",
        )
        for i in range(100)
    ]
    try:
        await asyncio.gather(
            *(store.record_status(STATUS) for _ in range(100)),
            *(store.add_meter_values([sample(value=str(i))] * 3) for i in range(100)),
            *(store.start_transaction(start) for start in starts),
            *(
                store.record_notification(
                    Notification(
                        charge_point_id=charge_point,
                        kind="firmware",
                        status="Idle",
                        received_at=NOW,
                    )
                )
                for _ in range(100)
            ),
        )
    finally:
        commits.remove()

    assert commits.count <= 5
    assert len(await store.list_transactions()) == 100
    assert len(await store.list_notifications(charge_point)) == 100


async def test_batches_are_capped(database_url: str) -> None:
    from csms.storage.sql import open_store

    async with await open_store(database_url, max_batch=10) as store:
        await store.save_charge_point(
            "CP1", registration_status="Accepted", password_hash=None, description=None
        )
        before = store.commits
        await asyncio.gather(*(store.record_status(STATUS) for _ in range(95)))
        assert store.commits - before == 10


async def naive_notification(store: SqlStore) -> None:
    row = {"charge_point_id": "CP1", "kind": "firmware", "status": "Idle"}
    await store._writer.write(
        Rows(notifications.insert(), [{**row, "received_at": datetime(2025, 1, 1)}])
    )


async def test_a_failing_write_fails_only_its_caller(store: SqlStore, charge_point: str) -> None:
    before = store._writer.batch_failures
    results = await asyncio.gather(
        *(store.add_meter_values([sample(value=str(i))]) for i in range(20)),
        # Violates the foreign key to charge_points.
        store.add_meter_values([sample("unknown CP")]),
        *(store.record_status(dataclasses.replace(STATUS, connector_id=i)) for i in range(20)),
        # Naive datetimes are refused when bound (the store's methods refuse them sooner).
        naive_notification(store),
        store.start_transaction(
            TransactionStart(
                charge_point_id="unknown CP",
                connector_id=1,
                id_tag="T",
                meter_start=0,
                timestamp=NOW,
                reservation_id=None,
                id_tag_status="Accepted",
            )
        ),
        return_exceptions=True,
    )

    assert store._writer.batch_failures == before + 1  # they were in one batch
    assert results[:20] == [None] * 20
    assert isinstance(results[20], exc.IntegrityError)
    assert results[21:41] == [None] * 20
    assert isinstance(results[41], exc.StatementError)
    assert isinstance(results[41].orig, ValueError)
    assert isinstance(results[42], exc.IntegrityError)

    # The others are stored, and the store goes on working.
    assert len(await store.list_connectors(charge_point)) == 20
    assert len(await store.status_history(charge_point)) == 20
    await store.add_meter_values([sample()])


async def test_a_cancelled_caller_does_not_disturb_the_others(
    store: SqlStore, charge_point: str
) -> None:
    cancelled = asyncio.ensure_future(store.record_status(STATUS))
    others = [asyncio.ensure_future(store.record_status(STATUS)) for _ in range(5)]
    await asyncio.sleep(0)  # let them all enqueue
    cancelled.cancel()

    await asyncio.gather(*others)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    # Enqueued before it was cancelled: written anyway (it came from a charge point).
    assert len(await store.status_history(charge_point)) == 6


async def test_close_flushes_pending_writes(database_url: str) -> None:
    from csms.storage.sql import open_store

    store = await open_store(database_url)
    await store.save_charge_point(
        "CP1", registration_status="Accepted", password_hash=None, description=None
    )
    pending = [asyncio.ensure_future(store.record_status(STATUS)) for _ in range(50)]
    await asyncio.sleep(0)  # enqueued, not yet written
    await store.close()

    assert all(task.done() and task.exception() is None for task in pending)
    with pytest.raises(StoreClosedError):
        await store.record_status(STATUS)
    async with await open_store(database_url) as reopened:
        assert len(await reopened.status_history("CP1")) == 50


async def test_writer_failure_is_logged_and_answered(
    store: SqlStore, charge_point: str, caplog: pytest.LogCaptureFixture
) -> None:
    pending = [asyncio.ensure_future(store.record_status(STATUS)) for _ in range(3)]
    await asyncio.sleep(0)
    task = store._writer._task
    assert task is not None
    task.cancel()  # stands for a bug that kills the writer task

    with caplog.at_level(logging.ERROR, logger="csms.storage"):
        results = await asyncio.gather(*pending, return_exceptions=True)
    assert all(isinstance(result, StoreError) for result in results)
    assert "the storage writer stopped" in caplog.text
    with pytest.raises(StoreError, match="has stopped"):
        await store.record_status(STATUS)
    await store.close()  # the crash was already said; closing still releases the database
