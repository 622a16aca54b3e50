"""Group commit (docs/architecture.md, "Dependency rules"): one writer task runs every queued
write of the store in one transaction, commits once, and only then answers each caller.

Durability costs one synchronous commit (an fsync on SQLite, a WAL flush on PostgreSQL); paying
it once for hundreds of concurrent writes instead of once each is what makes a durable CSMS fast.
The writer takes what is queued *now* (up to `max_batch`) and never waits to collect more: an
idle store answers a single write after one commit. While a commit is in progress, new writes
queue up and form the next batch.

If a batch fails, its operations are run again one by one, each in its own transaction, so that
a bad operation fails only its own caller, with its own exception.

Appended rows (the message log, docs/message-log.md) are fire-and-forget: nobody waits for
them. They ride along with the next batch, or get a transaction of their own at most
APPEND_DELAY seconds after the first of them; the queue is bounded (rows and text size), and a
row that does not fit is dropped and counted instead of growing memory or delaying a caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from csms.storage.errors import StoreClosedError, StoreError
from csms.storage.executemany import executemany

log = logging.getLogger("csms.storage")

T = TypeVar("T")

# Seconds a touch (last seen) may wait for a batch to be written with.
TOUCH_DELAY = 1.0

R = TypeVar("R")

# Seconds an appended row may wait for a batch to be written with; rows written per transaction.
APPEND_DELAY = 0.5
MAX_APPENDS_PER_BATCH = 5000

# A write that needs to read or to return something: runs inside the batch transaction.
Work = Callable[[AsyncConnection], Awaitable[T]]

# Writes of one kind done together, in a statement or two for the whole batch rather than one
# or two each: a list of requests in, the list of their results (in the same order) out.
Batched = Callable[[AsyncConnection, list[R]], Awaitable[list[T]]]


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows for `statement` (an INSERT), run as one executemany with the same statement's rows
    from every operation of the batch."""

    statement: Executable
    rows: Sequence[Mapping[str, Any]]


# Rows written with an operation, made from its result inside its transaction: the outbox
# events of a change (docs/events-and-webhooks.md) commit with the change or not at all.
Derived = Callable[[T], Sequence["Rows"]]


@dataclass(frozen=True, slots=True)
class KeyedRow:
    """A row for `statement` (an upsert): of the rows with the same key in one batch only one
    is written (an upsert cannot touch one row twice in one statement): the one of highest
    `rank` when ranks are given (rows of one key must then all have one), of those the last
    queued."""

    statement: Executable
    key: Hashable
    row: Mapping[str, Any]
    rank: Any = None


@dataclass(slots=True)
class _Op(Generic[T]):
    future: asyncio.Future[T]
    work: Work[T] | None = None
    batched: Batched[Any, T] | None = None
    request: Any = None
    rows: Sequence[Rows] = ()
    keyed: Sequence[KeyedRow] = ()
    # Rows that depend on the result (the outbox event of a start needs its transaction id).
    derived: Derived[Any] | None = None


class GroupCommit:
    """The store's writer. `touch_statement` is an executemany UPDATE taking `b_key` and `b_at`:
    touches are coalesced per key (latest time wins) and written with the next batch."""

    def __init__(
        self, engine: AsyncEngine, *, touch_statement: Executable, max_batch: int = 1000
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._engine = engine
        self._touch_statement = touch_statement
        self._max_batch = max_batch
        self._queue: deque[_Op[Any]] = deque()
        self._touches: dict[str, datetime] = {}
        self._in_flight: list[_Op[Any]] = []
        self._wakeup = asyncio.Event()
        self._touch_timer: asyncio.TimerHandle | None = None
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        # Called when a transaction of the writer rolls back: an in-memory index that work
        # functions update as they write (sql.py, open transactions) forgets what it learned.
        self.rollback_listeners: list[Callable[[], None]] = []
        # Fire-and-forget rows (append()); at most append_limit rows and append_limit_size
        # (a caller-given size, e.g. characters of text) queued.
        self._appends: deque[tuple[Executable, Mapping[str, Any], int]] = deque()
        self._append_size = 0
        self._append_timer: asyncio.TimerHandle | None = None
        self.append_limit = 50_000
        self.append_limit_size = 64 * 1024 * 1024
        # Figures for tests, metrics and benchmarks.
        self.commits = 0
        self.batch_failures = 0
        # Appended rows lost: dropped (the queue was full), failed (the database refused them).
        self.appends_dropped = 0
        self.appends_failed = 0
        # Told of each batch committed: (writes in it, seconds of its transaction) (metrics.py).
        self.on_commit: Callable[[int, float], None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="csms.storage writer")

    # -- submitting ----------------------------------------------------------------------------

    def check_open(self) -> None:
        if self._closing:
            raise StoreClosedError("the store is closed")
        task = self._task
        if task is None:
            raise StoreError("the storage writer was not started")
        if task.done():
            cause = None if task.cancelled() else task.exception()
            raise StoreError("the storage writer has stopped") from cause

    def run(self, work: Work[T], derived: Derived[T] | None = None) -> asyncio.Future[T]:
        """Run `work` in the next batch's transaction; its result once committed. `derived`:
        rows made from the result, written in the same transaction."""
        return self._submit(_Op(self._new_future(), work=work, derived=derived))

    def run_batched(
        self, batched: Batched[R, T], request: R, derived: Derived[T] | None = None
    ) -> asyncio.Future[T]:
        """Have `batched` do `request` in the next batch, with the other requests it got
        there; the result once committed. `batched` must be the same object for all of them."""
        return self._submit(
            _Op(self._new_future(), batched=batched, request=request, derived=derived)
        )

    def write(self, *rows: Rows, keyed: Sequence[KeyedRow] = ()) -> asyncio.Future[None]:
        """Write these rows in the next batch; done once committed."""
        return self._submit(_Op(self._new_future(), rows=rows, keyed=keyed))

    def touch(self, key: str, at: datetime) -> None:
        self.check_open()
        if at.utcoffset() is None:
            raise ValueError(f"naive datetime {at!r}: timestamps must be timezone-aware")
        previous = self._touches.get(key)
        if previous is None or at > previous:
            self._touches[key] = at
            # Touches ride along with the next batch; when no write comes, a commit of their
            # own at most every TOUCH_DELAY seconds (a heartbeat needs no fsync of its own).
            if self._touch_timer is None:
                self._touch_timer = asyncio.get_running_loop().call_later(
                    TOUCH_DELAY, self._touch_due
                )

    def _touch_due(self) -> None:
        self._touch_timer = None
        self._wakeup.set()

    def append(self, statement: Executable, row: Mapping[str, Any], size: int = 0) -> bool:
        """Queue a row for `statement` (an INSERT) without waiting for it: written with the next
        batch or within APPEND_DELAY seconds. False (and counted) if the queue is full or the
        store is closing: the row is dropped."""
        if (
            self._closing
            or len(self._appends) >= self.append_limit
            or self._append_size + size > self.append_limit_size
        ):
            self.appends_dropped += 1
            return False
        self._appends.append((statement, row, size))
        self._append_size += size
        if self._append_timer is None:
            self._append_timer = asyncio.get_running_loop().call_later(
                APPEND_DELAY, self._append_due
            )
        return True

    @property
    def appends_queued(self) -> int:
        return len(self._appends)

    def _append_due(self) -> None:
        self._append_timer = None
        self._wakeup.set()

    def _take_appends(self) -> list[tuple[Executable, Mapping[str, Any], int]]:
        count = min(len(self._appends), MAX_APPENDS_PER_BATCH)
        taken = [self._appends.popleft() for _ in range(count)]
        self._append_size -= sum(size for _, _, size in taken)
        if not self._appends and self._append_timer is not None:
            self._append_timer.cancel()
            self._append_timer = None
        return taken

    def _new_future(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    def _submit(self, op: _Op[T]) -> asyncio.Future[T]:
        self.check_open()
        self._queue.append(op)
        self._wakeup.set()
        return op.future

    # -- closing -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Refuse new work, write everything queued (touches included), end the task."""
        self._closing = True
        if self._touch_timer is not None:
            self._touch_timer.cancel()
            self._touch_timer = None
        if self._append_timer is not None:
            self._append_timer.cancel()
            self._append_timer = None
        self._wakeup.set()
        task = self._task
        if task is not None:
            await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # a crash was logged at the task boundary; retrieved here

    # -- the writer task -----------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue or self._touches or self._appends:
                    count = min(len(self._queue), self._max_batch)
                    self._in_flight = [self._queue.popleft() for _ in range(count)]
                    touches, self._touches = self._touches, {}
                    appends = self._take_appends()
                    touches_written = await self._write_batch(self._in_flight, touches, appends)
                    self._in_flight = []
                    if not touches_written and not self._queue and not self._appends:
                        # The database refused them: retry with the next write, not in a loop.
                        break
                if self._closing:
                    if self._touches:
                        log.warning("closing with %d touches unwritten", len(self._touches))
                    return
        except BaseException as exc:
            # The task boundary: nothing above catches this, so say it here.
            log.exception("the storage writer stopped")
            self._fail_all(exc)
            raise

    def _fail_all(self, cause: BaseException) -> None:
        for op in [*self._in_flight, *self._queue]:
            if not op.future.done():
                error = StoreError("the storage writer stopped")
                error.__cause__ = cause
                op.future.set_exception(error)
        self._in_flight = []
        self._queue.clear()

    async def _write_batch(
        self,
        ops: list[_Op[Any]],
        touches: dict[str, datetime],
        appends: list[tuple[Executable, Mapping[str, Any], int]],
    ) -> bool:
        """Write one batch and answer its callers; False if the touches could not be written."""
        started = time.perf_counter()
        try:
            results = await self._transaction(ops, touches, appends)
        except Exception as exc:
            self.batch_failures += 1
            if len(ops) + bool(touches) + bool(appends) > 1:
                log.warning(
                    "a batch of %d writes failed (%r); writing them one by one", len(ops), exc
                )
                return await self._write_one_by_one(ops, touches, appends)
            if appends:
                self._appends_failed(appends, exc)
            for op in ops:
                _fail(op, exc)
            if touches:
                log.warning("could not write %d touches: %r", len(touches), exc)
                self._restore(touches)
                return False
            return True
        if self.on_commit is not None:
            self.on_commit(len(ops) + len(appends) + bool(touches), time.perf_counter() - started)
        for op, result in zip(ops, results, strict=True):
            if not op.future.done():  # else its caller was cancelled: nobody to answer
                op.future.set_result(result)
        return True

    async def _write_one_by_one(
        self,
        ops: list[_Op[Any]],
        touches: dict[str, datetime],
        appends: list[tuple[Executable, Mapping[str, Any], int]],
    ) -> bool:
        for op in ops:
            try:
                (result,) = await self._transaction([op], {})
            except Exception as exc:
                _fail(op, exc)
            else:
                if not op.future.done():
                    op.future.set_result(result)
        if appends:
            try:
                await self._transaction([], {}, appends)
            except Exception as exc:  # never retried: a log row must not hold up the writer
                self._appends_failed(appends, exc)
        if not touches:
            return True
        try:
            await self._transaction([], touches)
        except Exception as exc:
            log.warning("could not write %d touches: %r", len(touches), exc)
            self._restore(touches)
            return False
        return True

    def _appends_failed(
        self, appends: list[tuple[Executable, Mapping[str, Any], int]], exc: Exception
    ) -> None:
        self.appends_failed += len(appends)
        log.warning("dropped %d appended rows the database refused: %r", len(appends), exc)

    def _restore(self, touches: dict[str, datetime]) -> None:
        for key, at in touches.items():
            newer = self._touches.get(key)
            if newer is None or newer < at:
                self._touches[key] = at

    async def _transaction(
        self,
        ops: list[_Op[Any]],
        touches: dict[str, datetime],
        appends: Sequence[tuple[Executable, Mapping[str, Any], int]] = (),
    ) -> list[Any]:
        try:
            return await self._transaction_once(ops, touches, appends)
        except BaseException:
            for listener in self.rollback_listeners:
                listener()
            raise

    async def _transaction_once(
        self,
        ops: list[_Op[Any]],
        touches: dict[str, datetime],
        appends: Sequence[tuple[Executable, Mapping[str, Any], int]],
    ) -> list[Any]:
        """Everything in one transaction: each operation's work in queue order, then the
        batched requests (all of one kind at once), then the rows grouped into one executemany
        per statement, then the touches, then the appended rows."""
        async with self._engine.begin() as connection:
            results = await _work(connection, ops)
            await _write_rows(connection, ops, results)
            if touches:
                await executemany(
                    connection,
                    self._touch_statement,
                    [{"b_key": key, "b_at": at} for key, at in touches.items()],
                )
            appended: dict[Executable, list[Mapping[str, Any]]] = {}
            for statement, row, _ in appends:
                appended.setdefault(statement, []).append(row)
            for statement, values in appended.items():
                await executemany(connection, statement, values)
        self.commits += 1
        return results


async def _work(connection: AsyncConnection, ops: list[_Op[Any]]) -> list[Any]:
    """Each operation's work in queue order, then the batched requests (all of one kind at
    once); the results in queue order."""
    results: list[Any] = [None] * len(ops)
    batches: dict[Batched[Any, Any], list[int]] = {}
    for index, op in enumerate(ops):
        if op.work is not None:
            results[index] = await op.work(connection)
        elif op.batched is not None:
            batches.setdefault(op.batched, []).append(index)
    for batched, indexes in batches.items():
        answers = await batched(connection, [ops[index].request for index in indexes])
        for index, answer in zip(indexes, answers, strict=True):
            results[index] = answer
    return results


async def _write_rows(connection: AsyncConnection, ops: list[_Op[Any]], results: list[Any]) -> None:
    """The rows of every operation (its own, then those derived from its result), one
    executemany per statement; of keyed rows with one key the last queued wins, unless an
    earlier one ranks higher."""
    rows: dict[Executable, list[Mapping[str, Any]]] = {}
    keyed: dict[Executable, dict[Hashable, KeyedRow]] = {}
    for op, result in zip(ops, results, strict=True):
        groups = op.rows if op.derived is None else (*op.rows, *op.derived(result))
        for group in groups:
            rows.setdefault(group.statement, []).extend(group.rows)
        for item in op.keyed:
            by_key = keyed.setdefault(item.statement, {})
            earlier = by_key.pop(item.key, None)  # the last queued goes last
            if earlier is not None and item.rank is not None and earlier.rank > item.rank:
                item = earlier
            by_key[item.key] = item
    for statement, values in rows.items():
        if values:
            await executemany(connection, statement, values)
    for statement, by_key in keyed.items():
        await executemany(connection, statement, [item.row for item in by_key.values()])


def _fail(op: _Op[Any], exc: Exception) -> None:
    if not op.future.done():
        op.future.set_exception(exc)
