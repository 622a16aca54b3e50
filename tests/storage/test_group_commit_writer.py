"""The group commit writer's promises (storage/groupcommit.py, its docstring) tested on the
writer itself, with tables of its own: touches coalesce (the latest time wins) and ride with the
next write or get a commit of their own within TOUCH_DELAY, and touches the database refuses
wait for the next write instead of being retried in a loop; appended rows ride along or get a
transaction within APPEND_DELAY, are bounded in rows and size (dropped and counted beyond), are
written at most MAX_APPENDS_PER_BATCH per transaction, and a row the database refuses is
counted, failing no caller; of keyed rows of one key in one batch the highest rank wins, else
the last queued; batched requests of one kind are done in one call; the commit hook is told the
writes and seconds of each batch. SQLite and PostgreSQL. Each wait is on the commit hook or a
rollback listener, never on the clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from csms.storage import groupcommit
from csms.storage.errors import StoreClosedError, StoreError
from csms.storage.groupcommit import GroupCommit, KeyedRow, Rows
from tests.storage.conftest import NOW

metadata = MetaData()
marks = Table(
    "gc_marks",
    metadata,
    Column("key", String(20), primary_key=True),
    Column("at", DateTime(timezone=True)),
    Column("rank", Integer),
)
lines = Table(
    "gc_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", String(50), nullable=False),
)
TOUCH = marks.update().where(marks.c.key == bindparam("b_key")).values(at=bindparam("b_at"))
# A touch statement the database refuses (its table does not exist).
REFUSED_TOUCH = text("UPDATE gc_nowhere SET at = :b_at WHERE key = :b_key")


@dataclass
class Commits:
    """What the writer's commit hook was told, and an event per commit."""

    batches: list[tuple[int, float]] = field(default_factory=list)
    rollbacks: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def committed(self, writes: int, seconds: float) -> None:
        self.batches.append((writes, seconds))
        self.changed.set()

    def rolled_back(self) -> None:
        self.rollbacks += 1
        self.changed.set()

    async def until(self, *, commits: int = 0, rollbacks: int = 0) -> None:
        async with asyncio.timeout(10):
            while len(self.batches) < commits or self.rollbacks < rollbacks:
                self.changed.clear()
                await self.changed.wait()


@dataclass
class Writer:
    engine: AsyncEngine
    commits: Commits
    writers: list[GroupCommit] = field(default_factory=list)

    def start(self, touch_statement: Executable = TOUCH, **options: Any) -> GroupCommit:
        writer = GroupCommit(self.engine, touch_statement=touch_statement, **options)
        writer.on_commit = self.commits.committed
        writer.rollback_listeners.append(self.commits.rolled_back)
        writer.start()
        self.writers.append(writer)
        return writer

    async def rows(self, table: Table) -> list[tuple[Any, ...]]:
        """The table's rows, times in UTC (SQLite gives them back without their zone)."""
        async with self.engine.connect() as connection:
            result = await connection.execute(select(table).order_by(*table.primary_key))
            return [tuple(map(_in_utc, row)) for row in result]


def _in_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Writer]:
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(marks.insert(), [{"key": "a"}, {"key": "b"}])
    harness = Writer(engine, Commits())
    try:
        yield harness
    finally:
        for writer in harness.writers:
            await writer.close()
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
        await engine.dispose()


def line(number: int) -> Rows:
    return Rows(lines.insert(), [{"text": f"line {number}"}])


def upsert_statement(engine: AsyncEngine) -> Executable:
    """One statement for all the keyed rows (as the store has): rows are grouped by it."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(marks)
    upsert: Executable = statement.on_conflict_do_update(
        index_elements=[marks.c.key], set_={"rank": statement.excluded.rank}
    )
    return upsert


async def test_touches_keep_the_latest_time_and_ride_with_the_next_write(
    harness: Writer,
) -> None:
    writer = harness.start()
    later = NOW + timedelta(seconds=30)
    writer.touch("a", later)
    writer.touch("a", NOW)  # older: ignored
    writer.touch("b", NOW)

    await writer.write(line(1))

    assert await harness.rows(marks) == [("a", later, None), ("b", NOW, None)]
    # One commit: the write and the touches (counted once) together.
    assert [writes for writes, _ in harness.commits.batches] == [2]


async def test_touches_alone_get_a_commit_of_their_own(harness: Writer) -> None:
    writer = harness.start()
    writer.touch("b", NOW)

    await harness.commits.until(commits=1)

    assert await harness.rows(marks) == [("a", None, None), ("b", NOW, None)]
    assert harness.commits.batches[0][0] == 1


async def test_refused_touches_wait_for_the_next_write_and_fail_no_caller(
    harness: Writer,
) -> None:
    writer = harness.start(REFUSED_TOUCH)
    writer.touch("a", NOW)
    await harness.commits.until(rollbacks=1)
    assert writer.batch_failures == 1

    # Not retried in a loop: the next attempt comes with the next write, which succeeds (its
    # batch fails for the touches, then each goes alone: the write commits, the touches fail).
    await writer.write(line(1))

    assert [text for _, text in await harness.rows(lines)] == ["line 1"]
    assert harness.commits.rollbacks == 3
    assert writer.batch_failures == 2


async def test_appended_rows_get_a_transaction_within_the_append_delay(harness: Writer) -> None:
    writer = harness.start()
    assert writer.append(lines.insert(), {"text": "one"}, size=3)
    assert writer.append(lines.insert(), {"text": "two"}, size=3)
    assert writer.appends_queued == 2

    await harness.commits.until(commits=1)

    assert await harness.rows(lines) == [(1, "one"), (2, "two")]
    assert writer.appends_queued == 0
    assert harness.commits.batches[0][0] == 2


async def test_appended_rows_ride_with_the_next_write(harness: Writer) -> None:
    writer = harness.start()
    writer.append(lines.insert(), {"text": "appended"})

    await writer.write(line(2))

    assert sorted(text for _, text in await harness.rows(lines)) == ["appended", "line 2"]
    assert [writes for writes, _ in harness.commits.batches] == [2]


async def test_appends_beyond_the_row_limit_are_dropped_and_counted(harness: Writer) -> None:
    writer = harness.start()
    writer.append_limit = 2

    accepted = [writer.append(lines.insert(), {"text": str(n)}) for n in range(3)]

    assert accepted == [True, True, False]
    assert writer.appends_dropped == 1
    await harness.commits.until(commits=1)
    assert [text for _, text in await harness.rows(lines)] == ["0", "1"]
    # Written: room again.
    assert writer.append(lines.insert(), {"text": "again"})


async def test_appends_beyond_the_size_limit_are_dropped_and_counted(harness: Writer) -> None:
    writer = harness.start()
    writer.append_limit_size = 10

    accepted = [
        writer.append(lines.insert(), {"text": name}, size=size)
        for name, size in (("six", 6), ("five", 5), ("four", 4), ("one", 1))
    ]

    assert accepted == [True, False, True, False]  # 6 + 4 is the limit itself: it fits
    assert writer.appends_dropped == 2
    await harness.commits.until(commits=1)
    # Written: their size no longer counts.
    assert writer.append(lines.insert(), {"text": "ten"}, size=10)
    assert not writer.append(lines.insert(), {"text": "eleven"}, size=1)


async def test_appends_are_written_at_most_max_per_batch_per_transaction(
    harness: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(groupcommit, "MAX_APPENDS_PER_BATCH", 3)
    writer = harness.start()
    for number in range(7):
        writer.append(lines.insert(), {"text": str(number)})

    await harness.commits.until(commits=3)

    assert [writes for writes, _ in harness.commits.batches] == [3, 3, 1]
    assert len(await harness.rows(lines)) == 7


async def test_an_appended_row_the_database_refuses_is_counted_and_fails_no_write(
    harness: Writer,
) -> None:
    writer = harness.start()
    writer.append(lines.insert(), {"text": None})  # NOT NULL

    await writer.write(line(1))
    # The batch failed; the write went alone (answered), then the appended row alone.
    await harness.commits.until(rollbacks=2)

    assert writer.appends_failed == 1
    assert [text for _, text in await harness.rows(lines)] == ["line 1"]
    # Alone, too; and the writer goes on.
    writer.append(lines.insert(), {"text": None})
    await harness.commits.until(rollbacks=3)
    assert writer.appends_failed == 2
    await writer.write(line(2))
    assert [text for _, text in await harness.rows(lines)] == ["line 1", "line 2"]


async def test_keyed_rows_of_one_key_highest_rank_else_last_queued(harness: Writer) -> None:
    writer = harness.start()
    statement = upsert_statement(harness.engine)

    def upsert(key: str, rank: int, ranked: bool = True) -> KeyedRow:
        row = {"key": key, "at": None, "rank": rank}
        return KeyedRow(statement, key, row, rank=rank if ranked else None)

    # One batch: submitted before the writer runs.
    await asyncio.gather(
        *(writer.write(keyed=[upsert(key, rank)]) for key, rank in [("a", 5), ("a", 9), ("a", 7)]),
        writer.write(keyed=[upsert("c", 1)]),
    )
    assert [(key, rank) for key, _, rank in await harness.rows(marks)] == [
        ("a", 9),
        ("b", None),
        ("c", 1),
    ]
    assert len(harness.commits.batches) == 1

    # Without ranks the last queued wins.
    await asyncio.gather(*(writer.write(keyed=[upsert("b", n, ranked=False)]) for n in (4, 2)))
    assert (await harness.rows(marks))[1] == ("b", None, 2)


async def test_batched_requests_of_one_kind_are_done_in_one_call(harness: Writer) -> None:
    writer = harness.start()
    calls: list[tuple[str, list[int]]] = []

    def batched(name: str) -> Any:
        async def handle(connection: AsyncConnection, requests: list[int]) -> list[str]:
            calls.append((name, requests))
            return [f"{name}{request}" for request in requests]

        return handle

    doubles, squares = batched("d"), batched("s")

    async def work(connection: AsyncConnection) -> str:
        return "work"

    results: list[str] = await asyncio.gather(
        writer.run_batched(doubles, 1),
        writer.run(work),
        writer.run_batched(squares, 2),
        writer.run_batched(doubles, 3),
    )

    assert results == ["d1", "work", "s2", "d3"]
    assert sorted(calls) == [("d", [1, 3]), ("s", [2])]


async def test_the_commit_hook_is_told_the_seconds_of_the_transaction(harness: Writer) -> None:
    writer = harness.start()
    started = time.perf_counter()
    await writer.write(line(1))
    elapsed = time.perf_counter() - started

    ((writes, seconds),) = harness.commits.batches
    assert writes == 1
    assert 0 <= seconds <= elapsed


async def test_a_writer_refuses_work_unless_started_and_open(harness: Writer) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(harness.engine, touch_statement=TOUCH, max_batch=0)
    idle = GroupCommit(harness.engine, touch_statement=TOUCH, max_batch=1)
    with pytest.raises(StoreError, match="not started"):
        idle.write(line(1))

    writer = harness.start()
    writer.append(lines.insert(), {"text": "queued"})
    await writer.close()

    assert await harness.rows(lines) == [(1, "queued")]  # close writes what is queued
    assert not writer.append(lines.insert(), {"text": "late"})
    assert writer.appends_dropped == 1
    with pytest.raises(StoreClosedError):
        writer.touch("a", NOW)
    with pytest.raises(StoreClosedError):
        writer.write(line(2))


async def test_appended_text_is_bounded_at_64_mib_by_default(harness: Writer) -> None:
    """docs/message-log.md: the queue holds at most 64 MiB of text."""
    writer = harness.start()

    assert writer.append(lines.insert(), {"text": "big"}, size=64 * 1024 * 1024 - 1)
    assert writer.append(lines.insert(), {"text": "last byte"}, size=1)
    assert not writer.append(lines.insert(), {"text": "one too many"}, size=1)
    assert writer.appends_dropped == 1
