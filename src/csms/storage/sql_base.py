"""The plumbing every part of SqlStore shares: the engines, the group-commit writer, reads,
closing, and the row helpers."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Self

from sqlalchemy import (
    Column,
    Insert,
    Row,
    Select,
    Table,
    bindparam,
    delete,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from csms.storage.checkpoints import checkpoint_forever
from csms.storage.errors import StoreClosedError
from csms.storage.groupcommit import GroupCommit
from csms.storage.open_transactions import OpenTransactions
from csms.storage.read_cache import ReadCache
from csms.storage.records import (
    TX_PROFILE,
    InstalledChargingProfile,
    MeterSample,
    Transaction,
)
from csms.storage.schema import charge_points, meter_values

# Rows deleted per transaction when pruning: the writer serves other writes in between.
PRUNE_CHUNK = 5000


class SqlBase:
    def __init__(
        self,
        *,
        read_engine: AsyncEngine,
        write_engine: AsyncEngine,
        now: Callable[[], datetime],
        max_batch: int,
    ) -> None:
        self._read_engine = read_engine
        self._write_engine = write_engine
        self._now = now
        self._closed = False
        self._dialect = write_engine.dialect.name
        self._checkpoints: asyncio.Task[None] | None = None
        touch = (
            update(charge_points)
            .where(charge_points.c.id == bindparam("b_key"))
            .where(
                or_(
                    charge_points.c.last_seen_at.is_(None),
                    charge_points.c.last_seen_at < bindparam("b_at"),
                )
            )
            .values(last_seen_at=bindparam("b_at"))
        )
        self._writer = GroupCommit(write_engine, touch_statement=touch, max_batch=max_batch)
        # Read caches of the message path (sql.py) and last-seen times not yet written.
        self._charge_point_cache: dict[str, Any] = {}
        self._charge_point_generation = 0
        self._id_tag_cache: dict[str, Any] = {}
        self._id_tag_generation = 0
        self._last_seen: dict[str, datetime] = {}
        self._touch_written: dict[str, datetime] = {}  # the last touch given to the writer
        # Per charge point (read_cache.py): its connectors' availability (sql_commands.py), the
        # configuration its operator set (sql_charger_profiles.py), its Accepted reservations
        # (sql_reservations.py).
        self._availability_cache: ReadCache[str, Any] = ReadCache()
        self._configured_cache: ReadCache[str, Any] = ReadCache()
        self._reservation_cache: ReadCache[str, Any] = ReadCache()
        # Open transactions by idTag and by connector (open_transactions.py); None until first
        # needed, and again after a rolled back write (it is updated as the writer writes).
        self._active: OpenTransactions | None = None
        self._active_generation = 0
        # The charge points that may hold a TxProfile row (sql_charging_profiles.py): read once,
        # then only ever added to, before the write that installs one. A charge point not among
        # them has none, so StartTransaction and StopTransaction skip binding and dropping
        # TxProfiles, a second writer round each (bench/README.md, "StartTransaction: one commit").
        self._tx_profile_charge_points: set[str] | None = None
        self._tx_profile_installs: set[str] = set()
        # The keys (kind, charge point, subject) of the active alerts (sql_alerts.py); None until
        # first needed, and again after a rolled back write.
        self._alert_keys: set[tuple[str, str | None, str]] | None = None
        self._alert_generation = 0
        self._writer.rollback_listeners.append(self._forget_alert_keys)

    def _forget_charge_point_rows(self, charge_point_id: str | None = None) -> None:
        """After a charge point (None: any) was deleted: its rows in other tables went too."""
        for cache in (self._availability_cache, self._configured_cache, self._reservation_cache):
            cache.forget(charge_point_id)

    def _forget_alert_keys(self) -> None:
        self._alert_keys = None
        self._alert_generation += 1

    async def _prune(self, key: Column[Any], at: Column[Any], before: datetime) -> int:
        """Delete the rows of key's table whose `at` is before `before`, PRUNE_CHUNK rows a
        transaction; how many went."""
        aware(before)
        chunk = select(key).where(at < before).limit(PRUNE_CHUNK).scalar_subquery()
        statement = delete(key.table).where(key.in_(chunk))

        async def work(connection: AsyncConnection) -> int:
            return int((await connection.execute(statement)).rowcount)

        total = 0
        while True:
            deleted = await self._writer.run(work)
            total += deleted
            if deleted < PRUNE_CHUNK:
                return total

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _note_profile(self, profile: InstalledChargingProfile) -> None:
        """Before a charging profile's write: its charge point may hold a TxProfile from now on
        (sql_charging_profiles.py)."""
        if profile.purpose == TX_PROFILE:
            self._tx_profile_installs.add(profile.charge_point_id)

    @property
    def commits(self) -> int:
        """Transactions the writer committed so far (a figure for metrics and benchmarks)."""
        return self._writer.commits

    @property
    def writer(self) -> GroupCommit:
        """The group commit writer (its figures and on_commit hook are for metrics)."""
        return self._writer

    async def readiness_problem(self, timeout: float = 2.0) -> tuple[str, str] | None:
        """None if the database answers a SELECT 1 within `timeout` seconds and is migrated to
        the newest revision, else (the check that failed, why): for GET /ready."""
        try:
            async with asyncio.timeout(timeout), self._read_engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                current = await connection.run_sync(_current_heads)
        except Exception as exc:  # any failure means not ready; say which
            return "database", f"{type(exc).__name__}: {str(exc)[:200]}"
        wanted = _migration_heads()
        if current != wanted:
            return "migrations", f"at {sorted(current)}, not {sorted(wanted)}"
        return None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for charge_point_id, at in self._last_seen.items():  # the touches held back
                if self._touch_written.get(charge_point_id) != at:
                    self._writer.touch(charge_point_id, at)
            await self._writer.close()
        finally:
            if self._checkpoints is not None:
                self._checkpoints.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._checkpoints
            await self._write_engine.dispose()
            await self._read_engine.dispose()

    # -- plumbing ------------------------------------------------------------------------------

    def _start(self) -> None:
        """The store's own tasks: the group-commit writer, and on SQLite the WAL checkpoints."""
        self._writer.start()
        if self._dialect == "sqlite":
            self._checkpoints = asyncio.create_task(
                checkpoint_forever(self._read_engine), name="csms.storage.checkpoints"
            )

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("the store is closed")

    async def _read(self, statement: Select[Any]) -> Sequence[Row[Any]]:
        self._check_open()
        async with self._read_engine.connect() as connection:
            rows: Sequence[Row[Any]] = (await connection.execute(statement)).all()
            return rows


def _current_heads(connection: Any) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


_HEADS: set[str] = set()


def _migration_heads() -> set[str]:
    """The newest revisions of the migrations shipped (read once)."""
    if not _HEADS:
        from alembic.script import ScriptDirectory

        from csms.storage.migrations import alembic_config

        _HEADS.update(ScriptDirectory.from_config(alembic_config()).get_heads())
    return _HEADS


@functools.cache
def upsert(
    dialect: str, table: Table, key: tuple[str, ...], update_columns: tuple[str, ...]
) -> Insert:
    """INSERT, or UPDATE `update_columns` of the row with the same `key`. Built once for each
    (statements are immutable; building one cost more than running it on the message path)."""
    if dialect == "postgresql":
        pg_insert = postgresql.insert(table)
        return pg_insert.on_conflict_do_update(
            index_elements=list(key),
            set_={name: pg_insert.excluded[name] for name in update_columns},
        )
    lite_insert = sqlite.insert(table)
    return lite_insert.on_conflict_do_update(
        index_elements=list(key),
        set_={name: lite_insert.excluded[name] for name in update_columns},
    )


def samples_of_transactions(ids: Collection[int], measurand: str | None = None) -> Select[Any]:
    """The sampled values of these transactions in the order received; with `measurand`, those
    of it and those without one (spec 7.31: a value without a measurand is the register)."""
    mv = meter_values.c
    where: list[Any] = [mv.transaction_id.in_(ids)]
    if measurand is not None:
        where.append((mv.measurand == measurand) | mv.measurand.is_(None))
    return select(meter_values).where(*where).order_by(mv.id)


def by_transaction(ids: Collection[int], rows: Iterable[Row[Any]]) -> dict[int, list[MeterSample]]:
    """Rows of `samples_of_transactions`, grouped by transaction (every id a key)."""
    found: dict[int, list[MeterSample]] = {i: [] for i in ids}
    for row in rows:
        found[row.transaction_id].append(meter_sample(row))
    return found


def aware(*timestamps: datetime) -> datetime:
    """Refuse naive datetimes here, at the caller, rather than when the batch is written
    (schema.UtcDateTime would refuse them there too, failing a whole batch first)."""
    for timestamp in timestamps:
        if timestamp.utcoffset() is None:
            raise ValueError(f"naive datetime {timestamp!r}: timestamps must be timezone-aware")
    return timestamps[0]


def as_row(record: Any) -> dict[str, Any]:
    """A record's fields (all of them columns of its table), shallow: dataclasses.asdict()
    would deep-copy every value."""
    names = _FIELD_NAMES.get(type(record))
    if names is None:
        names = _FIELD_NAMES[type(record)] = tuple(f.name for f in dataclasses.fields(record))
    return {name: getattr(record, name) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


_METER_SAMPLE_FIELDS = tuple(field.name for field in dataclasses.fields(MeterSample))


_TRANSACTION_FIELDS = tuple(
    field.name for field in dataclasses.fields(Transaction) if field.name != "energy_flags"
)


def transaction_record(row: Row[Any]) -> Transaction:
    values = row._mapping
    return Transaction(
        **{name: values[name] for name in _TRANSACTION_FIELDS},
        energy_flags=tuple(str(values["energy_flags"] or "").split()),
    )


def meter_sample(row: Row[Any]) -> MeterSample:
    values = row._mapping
    return MeterSample(**{name: values[name] for name in _METER_SAMPLE_FIELDS})
