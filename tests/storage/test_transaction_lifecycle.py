"""Transactions the CSMS ends itself (docs/field-behaviour.md, "Transactions"): superseded on
their connector, ended by the operator, completed by a late StopTransaction; the open
transactions kept in memory follow every write, also a rolled back one."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from csms.storage import IdTag, MeterSample, TransactionEndedError
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW
from tests.storage.test_transactions import START, stop


async def test_a_start_ends_the_open_transaction_of_its_connector(
    store: SqlStore, charge_point: str
) -> None:
    old = await store.start_transaction(START)
    other_connector = await store.start_transaction(dataclasses.replace(START, connector_id=2))
    new = await store.start_transaction(
        dataclasses.replace(START, timestamp=NOW + timedelta(hours=1), meter_start=5000)
    )

    ended = await store.get_transaction(old.id)
    assert ended == dataclasses.replace(
        old, ended_at=NOW, ended_by="csms", end_reason=f"superseded by transaction {new.id}"
    )
    assert not ended.active
    assert new.active
    assert await store.active_transactions_for_tag("tag1") == [other_connector, new]
    assert await store.list_transactions(active=True) == [other_connector, new]
    assert await store.list_transactions(active=False) == [ended]


async def test_a_late_start_of_an_older_transaction_is_stored_ended(
    store: SqlStore, charge_point: str
) -> None:
    running = await store.start_transaction(START)
    late = await store.start_transaction(
        dataclasses.replace(START, timestamp=NOW - timedelta(hours=1), meter_start=10)
    )
    assert (late.active, late.end_reason) == (False, f"superseded by transaction {running.id}")
    assert await store.get_transaction(late.id) == late
    assert await store.active_transactions_for_tag("TAG1") == [running]


async def test_starts_on_one_connector_in_one_batch(store: SqlStore, charge_point: str) -> None:
    before = store.commits
    starts = [
        dataclasses.replace(START, timestamp=NOW + timedelta(minutes=i), meter_start=i)
        for i in range(4)
    ]
    transactions = await asyncio.gather(*(store.start_transaction(s) for s in starts))
    assert store.commits == before + 1
    latest = transactions[-1]
    assert [t.active for t in transactions] == [False, False, False, True]
    for transaction in transactions[:-1]:
        stored = await store.get_transaction(transaction.id)
        assert stored is not None
        assert stored.end_reason == f"superseded by transaction {latest.id}"
    assert await store.active_transactions_for_tag("tag1") == [latest]


async def test_a_replayed_start_does_not_end_its_transaction(
    store: SqlStore, charge_point: str
) -> None:
    first = await store.start_transaction(START)
    assert await store.start_transaction(START) == first
    assert await store.list_transactions(active=True) == [first]


async def test_a_late_stop_fills_in_a_superseded_transaction(
    store: SqlStore, charge_point: str
) -> None:
    old = await store.start_transaction(START)
    new = await store.start_transaction(
        dataclasses.replace(START, timestamp=NOW + timedelta(hours=2))
    )
    stopped = await store.stop_transaction(stop(old.id))
    assert stopped == dataclasses.replace(
        old,
        stop_time=NOW + timedelta(hours=1),
        meter_stop=2500,
        stop_reason="Local",
        stop_id_tag="Tag1",
        ended_at=NOW,
        ended_by="csms",
        end_reason=f"superseded by transaction {new.id}",
    )
    assert await store.active_transactions_for_tag("tag1") == [new]


async def test_refused_starts_are_open_but_do_not_count_for_their_tag(
    store: SqlStore, charge_point: str
) -> None:
    refused = await store.start_transaction(
        dataclasses.replace(START, id_tag_status="ConcurrentTx")
    )
    assert refused.active
    assert await store.active_transactions_for_tag("tag1") == []
    # It still occupies its connector: the next start there ends it.
    new = await store.start_transaction(
        dataclasses.replace(START, timestamp=NOW + timedelta(minutes=1))
    )
    ended = await store.get_transaction(refused.id)
    assert ended is not None and ended.end_reason == f"superseded by transaction {new.id}"
    assert await store.active_transactions_for_tag("tag1") == [new]


async def test_end_transaction(store: SqlStore, charge_point: str) -> None:
    zombie = await store.start_transaction(START)
    ended = await store.end_transaction(zombie.id, ended_by="operator", reason="replaced")
    assert ended == dataclasses.replace(
        zombie, ended_at=NOW, ended_by="operator", end_reason="replaced"
    )
    assert await store.get_transaction(zombie.id) == ended
    assert await store.active_transactions_for_tag("tag1") == []
    with pytest.raises(TransactionEndedError):
        await store.end_transaction(zombie.id, ended_by="operator", reason=None)

    stopped = await store.stop_transaction(stop(zombie.id))
    assert stopped is not None and (stopped.meter_stop, stopped.ended_by) == (2500, "operator")
    with pytest.raises(TransactionEndedError):
        await store.end_transaction(zombie.id, ended_by="operator", reason=None)
    for unknown in (999_999, -1, 2**40):
        assert await store.end_transaction(unknown, ended_by="operator", reason=None) is None


async def test_open_transactions_follow_a_rolled_back_batch(
    store: SqlStore, charge_point: str
) -> None:
    old = await store.start_transaction(START)
    assert await store.active_transactions_for_tag("tag1") == [old]
    later = dataclasses.replace(START, timestamp=NOW + timedelta(minutes=5))
    # Meter values of an unregistered charge point fail the batch after the start was written
    # in it; the batch is written again one by one, and the start must end `old` then as it
    # would have alone.
    nobody = MeterSample(
        charge_point_id="NOBODY", connector_id=1, transaction_id=None, timestamp=NOW, value="1"
    )
    new, failed = await asyncio.gather(
        store.start_transaction(later),
        store.add_meter_values([nobody]),
        return_exceptions=True,
    )
    assert isinstance(failed, Exception)
    assert not isinstance(new, BaseException)
    ended = await store.get_transaction(old.id)
    assert ended is not None and ended.end_reason == f"superseded by transaction {new.id}"
    assert await store.active_transactions_for_tag("tag1") == [new]
    assert await store.list_transactions(active=True) == [new]


async def test_max_active_transactions_of_a_tag(store: SqlStore) -> None:
    assert (
        await store.put_id_tag(IdTag(id_tag="A", status="Accepted"))
    ).max_active_transactions == 1
    fleet = await store.put_id_tag(IdTag(id_tag="F", status="Accepted", max_active_transactions=3))
    unlimited = await store.put_id_tag(
        IdTag(id_tag="S", status="Accepted", max_active_transactions=None)
    )
    assert (fleet.max_active_transactions, unlimited.max_active_transactions) == (3, None)
    assert await store.get_id_tag("f") == fleet
    assert await store.get_id_tag("s") == unlimited


async def test_starts_and_stops_read_no_open_transactions_once_known(
    store: SqlStore, charge_point: str
) -> None:
    await store.active_transactions_for_tag("tag1")  # read once
    statements: list[str] = []

    def executed(*args: Any) -> None:
        statements.append(str(args[2]))

    for engine in (store._read_engine, store._write_engine):
        event.listen(engine.sync_engine, "before_cursor_execute", executed)
    first = await store.start_transaction(START)
    second = await store.start_transaction(
        dataclasses.replace(START, timestamp=NOW + timedelta(minutes=1))
    )
    await store.stop_transaction(stop(first.id))
    assert await store.active_transactions_for_tag("tag1") == [second]

    assert statements
    assert not [s for s in statements if s.startswith("SELECT") and "stop_time IS NULL" in s]
