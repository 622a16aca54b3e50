"""The Store on SQLAlchemy Core: SQLite (the embedded default) and PostgreSQL.

Reads go straight to the database, in autocommit (each is one statement). Writes go through
the group-commit writer (groupcommit.py): a write returns once it is committed, and concurrent
writes share commits.

Over 400 lines: the Core tables (charge points, connectors, id tags, transactions, meter
values, notifications), whose writes share the message path's batching; each feature's tables
have a mixin of their own (sql_*.py).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final

from sqlalchemy import (
    Insert,
    Row,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    delete,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from csms.storage.engine import create_engine, parse_url
from csms.storage.errors import TransactionEndedError, UnknownChargePointError
from csms.storage.event_records import EventsOf, OutboxEvent
from csms.storage.executemany import executemany
from csms.storage.groupcommit import Derived, KeyedRow, Rows
from csms.storage.migrations import migrate
from csms.storage.open_transactions import OpenTransactions
from csms.storage.records import (
    ENERGY_REGISTER,
    BootInfo,
    ChargePoint,
    ChargePointProvision,
    ConnectorStatus,
    DataTransferRecord,
    EnergyOf,
    IdTag,
    MeterSample,
    Notification,
    Transaction,
    TransactionFilter,
    TransactionStart,
    TransactionStop,
)
from csms.storage.schema import (
    charge_points,
    connector_status,
    data_transfers,
    id_tags,
    meter_values,
    notifications,
    status_history,
    transactions,
)
from csms.storage.sql_alerts import AlertsStore
from csms.storage.sql_base import (
    as_row,
    aware,
    by_transaction,
    meter_sample,
    samples_of_transactions,
    transaction_record,
    upsert,
)
from csms.storage.sql_charger_profiles import ChargerProfilesStore
from csms.storage.sql_charging_profiles import ChargingProfilesStore
from csms.storage.sql_commands import CommandsStore
from csms.storage.sql_deliveries import DeliveriesStore
from csms.storage.sql_firmware import FirmwareStore
from csms.storage.sql_load_groups import LoadGroupsStore
from csms.storage.sql_local_list import LocalListStore
from csms.storage.sql_message_log import MessageLogStore
from csms.storage.sql_outbox import OutboxStore, outbox_rows
from csms.storage.sql_reservations import ReservationsStore
from csms.storage.sql_security import SecuritySqlStore
from csms.storage.sql_transaction_reports import (
    ENERGY_WH,
    TransactionReportsStore,
    open_transaction,
    same_tag,
    transaction_conditions,
)
from csms.storage.sql_unknown import UnknownChargePointsStore
from csms.storage.sql_users import UsersStore

# transactions.id is a 32-bit integer; any other id cannot be one of ours.
_MAX_TRANSACTION_ID = 2**31 - 1
# How often a charge point's last-seen time is written at most (`touch`).
TOUCH_WRITE_EVERY: Final = timedelta(seconds=60)
_INT64 = 2**63

_BOOT_FIELDS = tuple(field.name for field in dataclasses.fields(BootInfo))
_STATUS_FIELDS = tuple(
    column.name
    for column in connector_status.c
    if column.name not in ("charge_point_id", "connector_id")
)


async def open_store(
    url: str, *, now: Callable[[], datetime] | None = None, max_batch: int = 1000
) -> SqlStore:
    """Migrate the database at `url` to the newest schema and open a store on it.

    `url`: `sqlite+aiosqlite:///path/file.db` or `postgresql+asyncpg://user@host:port/db`.
    `now`: the clock for `created_at` (aware UTC). `max_batch`: writes per group commit.
    The store owns a writer task: `close()` it (or use `async with`).
    """
    parsed = parse_url(url)
    await migrate(url)
    read_engine = create_engine(parsed, role="read")
    write_engine = create_engine(parsed, role="write", pool_size=1, max_overflow=0)
    store = SqlStore(
        read_engine=read_engine,
        write_engine=write_engine,
        now=now or (lambda: datetime.now(UTC)),
        max_batch=max_batch,
    )
    store._start()
    return store


class SqlStore(
    CommandsStore,
    ChargerProfilesStore,
    ReservationsStore,
    ChargingProfilesStore,
    LocalListStore,
    FirmwareStore,
    LoadGroupsStore,
    UsersStore,
    MessageLogStore,
    OutboxStore,
    DeliveriesStore,
    AlertsStore,
    TransactionReportsStore,
    UnknownChargePointsStore,
    SecuritySqlStore,
):
    """The Store protocol (store.py) on SQLite or PostgreSQL. Made by `open_store()`."""

    def __init__(
        self,
        *,
        read_engine: AsyncEngine,
        write_engine: AsyncEngine,
        now: Callable[[], datetime],
        max_batch: int,
    ) -> None:
        super().__init__(
            read_engine=read_engine, write_engine=write_engine, now=now, max_batch=max_batch
        )
        dialect = self._dialect
        self._insert_status = status_history.insert()
        self._upsert_status = _newer_status_upsert(dialect)
        self._insert_transaction = transactions.insert()
        self._record_energy = (
            update(transactions)
            .where(transactions.c.id == bindparam("b_id"))
            .values(energy_wh=bindparam("b_wh"), energy_flags=bindparam("b_flags"))
        )
        self._close_transaction = (
            update(transactions)
            .where(
                transactions.c.id == bindparam("b_id"),
                transactions.c.charge_point_id == bindparam("b_charge_point_id"),
                transactions.c.stop_time.is_(None),
            )
            .values(
                stop_time=bindparam("b_stop_time"),
                meter_stop=bindparam("b_meter_stop"),
                stop_reason=bindparam("b_stop_reason"),
                stop_id_tag=bindparam("b_stop_id_tag"),
                stop_received_at=bindparam("b_stop_received_at"),
                stop_clock_suspect=bindparam("b_stop_clock_suspect"),
            )
        )
        self._end_transaction = (
            update(transactions)
            .where(transactions.c.id == bindparam("b_id"), _open_transaction())
            .values(
                ended_at=bindparam("b_ended_at"),
                ended_by=bindparam("b_ended_by"),
                end_reason=bindparam("b_end_reason"),
            )
        )
        self._writer.rollback_listeners.append(self._forget_open_transactions)
        self._insert_meter_values = _insert_or_ignore(dialect, meter_values)
        self._insert_notification = notifications.insert()
        self._insert_data_transfer = data_transfers.insert()

    # -- charge points -------------------------------------------------------------------------

    # Charge points and id tags are read on the message path (admission, BootNotification,
    # Authorize, Start/StopTransaction) and written rarely, always through this store: a
    # write-through cache answers those reads without a database round trip. A write bumps the
    # generation, so that a read which raced with it does not cache what it read before.

    async def get_charge_point(self, charge_point_id: str) -> ChargePoint | None:
        cached: ChargePoint | _Missing | None = self._charge_point_cache.get(
            charge_point_id, _MISSING
        )
        if isinstance(cached, _Missing):
            generation = self._charge_point_generation
            statement = select(charge_points).where(charge_points.c.id == charge_point_id)
            rows = await self._read(statement)
            cached = _charge_point(rows[0]) if rows else None
            if generation == self._charge_point_generation:
                _remember(self._charge_point_cache, charge_point_id, cached)
        return self._seen(cached)

    async def list_charge_points(self) -> list[ChargePoint]:
        rows = await self._read(select(charge_points).order_by(charge_points.c.id))
        return [charge_point for row in rows if (charge_point := self._seen(_charge_point(row)))]

    async def charge_point_page(
        self,
        *,
        search: str | None = None,
        sort: str = "id",
        descending: bool = False,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[ChargePoint], int]:
        cp = charge_points.c
        where: list[Any] = []
        if search:
            pattern = (
                "%"
                + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            where.append(
                or_(
                    *(
                        func.lower(column).like(pattern, escape="\\")
                        for column in (
                            cp.id,
                            cp.description,
                            cp.charge_point_model,
                            cp.charge_point_vendor,
                            cp.firmware_version,
                        )
                    )
                )
            )
        key = {
            "id": cp.id,
            "last_seen": cp.last_seen_at,
            "model": cp.charge_point_model,
            "firmware": cp.firmware_version,
            "status": cp.registration_status,
        }.get(sort, cp.id)
        # Charge points without the value (never booted) last either way, on both databases.
        order = [(key.desc() if descending else key.asc()).nulls_last(), cp.id]
        rows = await self._read(
            select(charge_points).where(*where).order_by(*order).offset(offset).limit(limit)
        )
        counted = await self._read(select(func.count()).select_from(charge_points).where(*where))
        found = [c for row in rows if (c := self._seen(_charge_point(row)))]
        return found, int(counted[0][0])

    async def connector_status_counts(self) -> dict[str, int]:
        cs = connector_status.c
        rows = await self._read(
            select(cs.status, func.count(func.distinct(cs.charge_point_id)))
            .where(cs.connector_id > 0)
            .group_by(cs.status)
        )
        pairs: list[tuple[Any, ...]] = [tuple(row) for row in rows]
        return {str(status): int(count) for status, count in pairs}

    async def transaction_page(
        self,
        *,
        charge_point_id: str | None = None,
        id_tag: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        active: bool | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[Transaction], int]:
        tx = transactions.c
        where = transaction_conditions(
            TransactionFilter(
                charge_point_id=charge_point_id,
                id_tag=id_tag,
                since=since,
                until=until,
                active=active,
            )
        )
        rows = await self._read(
            select(transactions).where(*where).order_by(tx.id.desc()).offset(offset).limit(limit)
        )
        counted = await self._read(select(func.count()).select_from(transactions).where(*where))
        return [_transaction(row) for row in rows], int(counted[0][0])

    async def energy_stopped_since(self, since: datetime) -> int:
        tx = transactions.c
        rows = await self._read(
            select(func.coalesce(func.sum(ENERGY_WH), 0)).where(
                tx.stop_time >= since, tx.meter_stop.is_not(None)
            )
        )
        return int(rows[0][0])

    async def count_active_transactions(self) -> int:
        rows = await self._read(
            select(func.count()).select_from(transactions).where(_open_transaction())
        )
        return int(rows[0][0])

    def _seen(self, charge_point: ChargePoint | None) -> ChargePoint | None:
        """With the last-seen time noted in memory if newer (touches are written lazily)."""
        if charge_point is None:
            return None
        seen = self._last_seen.get(charge_point.id)
        if seen is None or (charge_point.last_seen_at and charge_point.last_seen_at >= seen):
            return charge_point
        return dataclasses.replace(charge_point, last_seen_at=seen)

    def _forget_charge_point(self, charge_point_id: str) -> None:
        self._charge_point_generation += 1
        self._charge_point_cache.pop(charge_point_id, None)

    async def save_charge_point(
        self,
        charge_point_id: str,
        *,
        registration_status: str,
        password_hash: str | None,
        description: str | None,
        events: Sequence[OutboxEvent] = (),
    ) -> ChargePoint:
        fields = {
            "registration_status": registration_status,
            "password_hash": password_hash,
            "description": description,
        }
        statement = upsert(self._dialect, charge_points, ("id",), tuple(fields)).returning(
            *charge_points.c
        )
        values = {"id": charge_point_id, "created_at": aware(self._now()), **fields}

        async def work(connection: AsyncConnection) -> ChargePoint:
            return _charge_point((await connection.execute(statement, values)).one())

        try:
            return await self._writer.run(work, _events(events))
        finally:
            self._forget_charge_point(charge_point_id)

    async def save_charge_points(
        self, provisions: Sequence[ChargePointProvision], events: Sequence[OutboxEvent] = ()
    ) -> tuple[int, int]:
        fields = ("registration_status", "password_hash", "description")
        statement = upsert(self._dialect, charge_points, ("id",), fields)
        created_at = aware(self._now())
        rows = [
            {
                "id": row.charge_point_id,
                "created_at": created_at,
                **{name: getattr(row, name) for name in fields},
            }
            for row in provisions
        ]
        ids = [row.charge_point_id for row in provisions]

        async def work(connection: AsyncConnection) -> tuple[int, int]:
            known = 0
            for chunk in _chunks(ids):
                query = select(func.count()).where(charge_points.c.id.in_(chunk))
                known += (await connection.execute(query)).scalar_one()
            if rows:
                await connection.execute(statement, rows)
            return len(rows) - known, known

        try:
            return await self._writer.run(work, _events(events))
        finally:
            self._charge_point_generation += 1
            self._charge_point_cache.clear()

    async def replace_password_hash(self, charge_point_id: str, old: str, new: str) -> bool:
        statement = (
            update(charge_points)
            .where(charge_points.c.id == charge_point_id, charge_points.c.password_hash == old)
            .values(password_hash=new)
        )

        async def work(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        try:
            return await self._writer.run(work)
        finally:
            self._forget_charge_point(charge_point_id)

    async def delete_charge_point(self, charge_point_id: str) -> bool:
        """Deletes what it reported too (statuses, transactions, meter values, reports)."""
        statement = delete(charge_points).where(charge_points.c.id == charge_point_id)

        async def work(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        try:
            return await self._writer.run(work)
        finally:
            self._forget_charge_point(charge_point_id)
            self._forget_charge_point_rows(charge_point_id)
            self._last_seen.pop(charge_point_id, None)
            self._touch_written.pop(charge_point_id, None)
            # Its transactions went with it.
            self._active = None
            self._active_generation += 1

    async def record_boot(
        self,
        charge_point_id: str,
        boot: BootInfo,
        at: datetime,
        events: Sequence[OutboxEvent] = (),
    ) -> None:
        """Raises UnknownChargePointError if the charge point is not registered."""
        aware(at)
        statement = (
            update(charge_points)
            .where(charge_points.c.id == charge_point_id)
            .values(last_boot_at=at, **{name: getattr(boot, name) for name in _BOOT_FIELDS})
        )

        async def work(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        # Raised after the batch, so as not to fail the batch for the others.
        try:
            if not await self._writer.run(work, _events(events)):
                raise UnknownChargePointError(charge_point_id)
        finally:
            self._forget_charge_point(charge_point_id)

    def touch(self, charge_point_id: str, at: datetime) -> None:
        """Noted in memory at once (reads show it); written at most every TOUCH_WRITE_EVERY
        per charge point and at close: a charge point talking every second would otherwise
        rewrite its row's page with every commit (bench/README.md, "Disk written per
        message"). After a crash the stored time is at most that much behind."""
        self._check_open()
        aware(at)
        previous = self._last_seen.get(charge_point_id)
        if previous is None or at > previous:
            self._last_seen[charge_point_id] = at
        written = self._touch_written.get(charge_point_id)
        if written is None or at - written >= TOUCH_WRITE_EVERY:
            self._writer.touch(charge_point_id, at)
            self._touch_written[charge_point_id] = at

    # -- connectors ----------------------------------------------------------------------------

    async def record_status(
        self, status: ConnectorStatus, events: Sequence[OutboxEvent] = ()
    ) -> None:
        aware(status.timestamp, status.received_at)
        row = as_row(status)
        key = (status.charge_point_id, status.connector_id)
        # Current only if not older than the current one (ties: the later received), in this
        # batch (the rank) and in the database (the upsert's condition).
        await self._writer.write(
            Rows(self._insert_status, (row,)),
            *([outbox_rows(events)] if events else []),
            keyed=(KeyedRow(self._upsert_status, key, row, rank=status.ordered_at),),
        )

    async def list_connectors(self, charge_point_id: str) -> list[ConnectorStatus]:
        rows = await self._read(
            select(connector_status)
            .where(connector_status.c.charge_point_id == charge_point_id)
            .order_by(connector_status.c.connector_id)
        )
        return [_connector_status(row) for row in rows]

    async def status_history(
        self, charge_point_id: str, connector_id: int | None = None, limit: int = 100
    ) -> list[ConnectorStatus]:
        statement = select(status_history).where(
            status_history.c.charge_point_id == charge_point_id
        )
        if connector_id is not None:
            statement = statement.where(status_history.c.connector_id == connector_id)
        rows = await self._read(statement.order_by(status_history.c.id.desc()).limit(limit))
        return [_connector_status(row) for row in rows]

    # -- id tags -------------------------------------------------------------------------------

    async def get_id_tag(self, id_tag: str) -> IdTag | None:
        cached: IdTag | _Missing | None = self._id_tag_cache.get(id_tag, _MISSING)
        if isinstance(cached, _Missing):
            generation = self._id_tag_generation
            rows = await self._read(select(id_tags).where(_same_tag(id_tags.c.id_tag, id_tag)))
            cached = _id_tag(rows[0]) if rows else None
            if generation == self._id_tag_generation:
                _remember(self._id_tag_cache, id_tag, cached)
        return cached

    def _forget_id_tags(self) -> None:
        # Keys are the spellings asked for; a write may change any case variant of its tag.
        self._id_tag_generation += 1
        self._id_tag_cache.clear()

    async def put_id_tag(self, tag: IdTag) -> IdTag:
        if tag.expiry_date is not None:
            aware(tag.expiry_date)
        fields = {
            "status": tag.status,
            "expiry_date": tag.expiry_date,
            "parent_id_tag": tag.parent_id_tag,
            "max_active_transactions": tag.max_active_transactions,
        }

        async def work(connection: AsyncConnection) -> IdTag:
            statement: Insert | Update
            existing = (
                await connection.execute(
                    select(id_tags.c.id_tag).where(_same_tag(id_tags.c.id_tag, tag.id_tag))
                )
            ).scalar_one_or_none()
            if existing is None:
                statement = id_tags.insert().values(id_tag=tag.id_tag, **fields)
            else:  # keep the spelling it was registered with
                statement = id_tags.update().where(id_tags.c.id_tag == existing).values(**fields)
            return _id_tag((await connection.execute(statement.returning(*id_tags.c))).one())

        try:
            return await self._writer.run(work)
        finally:
            self._forget_id_tags()

    async def put_id_tags(self, tags: Sequence[IdTag]) -> tuple[int, int]:
        for tag in tags:
            if tag.expiry_date is not None:
                aware(tag.expiry_date)

        async def work(connection: AsyncConnection) -> tuple[int, int]:
            spellings = await _registered_spellings(connection, [tag.id_tag for tag in tags])
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for tag in tags:
                fields = _id_tag_fields(tag)
                known = spellings.get(tag.id_tag) or spellings.get(tag.id_tag.lower())
                if known is None:
                    inserts.append({"id_tag": tag.id_tag, **fields})
                else:  # keep the spelling it was registered with
                    updates.append({"b_id_tag": known, **fields})
            if inserts:
                await connection.execute(id_tags.insert(), inserts)
            if updates:
                statement = (
                    id_tags.update()
                    .where(id_tags.c.id_tag == bindparam("b_id_tag"))
                    .values({name: bindparam(name) for name in _ID_TAG_FIELDS})
                )
                await connection.execute(statement, updates)
            return len(inserts), len(updates)

        try:
            return await self._writer.run(work)
        finally:
            self._forget_id_tags()

    async def delete_id_tag(self, id_tag: str) -> bool:
        statement = delete(id_tags).where(_same_tag(id_tags.c.id_tag, id_tag))

        async def work(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        try:
            return await self._writer.run(work)
        finally:
            self._forget_id_tags()

    async def list_id_tags(self) -> list[IdTag]:
        rows = await self._read(select(id_tags).order_by(id_tags.c.id_tag))
        return [_id_tag(row) for row in rows]

    # -- transactions --------------------------------------------------------------------------

    # The open transactions (open_transactions.py) answer StartTransaction's questions without
    # a database read: which ones count against a tag, which one a connector runs. The writer
    # updates them as it writes, in the order it writes; a write rolled back makes them be read
    # again (docs/field-behaviour.md, "Transactions").

    async def start_transaction(
        self, start: TransactionStart, events: EventsOf[Transaction] | None = None
    ) -> Transaction:
        aware(start.timestamp, *([start.received_at] if start.received_at is not None else []))
        return await self._writer.run_batched(self._start_transactions, start, _events_of(events))

    async def _start_transactions(
        self, connection: AsyncConnection, starts: list[TransactionStart]
    ) -> list[Transaction]:
        """The starts of a batch, in three statements whatever their number: find replays,
        insert the new ones (executemany), read those back."""
        # A replay (the charge point did not get our answer) is the same transaction: the one
        # in the database, or the one started by an identical start earlier in this batch.
        known = await self._started(connection, starts)
        new: dict[_StartKey, dict[str, Any]] = {}
        for start in starts:
            key = _key_of_start(start)
            if key not in known and key not in new:
                new[key] = {
                    "charge_point_id": start.charge_point_id,
                    "connector_id": start.connector_id,
                    "id_tag": start.id_tag,
                    "id_tag_status": start.id_tag_status,
                    "meter_start": start.meter_start,
                    "start_time": start.timestamp,
                    "reservation_id": start.reservation_id,
                    "start_received_at": start.received_at,
                    "start_clock_suspect": start.clock_suspect,
                }
        if new:
            # Not INSERT .. RETURNING: SQLite cannot return many rows in parameter order, and
            # SQLAlchemy would then insert them one statement each. The key is unique (index
            # uq_transactions_start), so reading them back by key is exact.
            await connection.execute(self._insert_transaction, list(new.values()))
            known = await self._started(connection, starts)
            await self._supersede(connection, known, list(new))
        return [known[_key_of_start(start)] for start in starts]

    async def _supersede(
        self,
        connection: AsyncConnection,
        known: dict[_StartKey, Transaction],
        new: list[_StartKey],
    ) -> None:
        """One transaction at a time per connector (docs/field-behaviour.md, "Transactions"):
        of the open ones on the connector of a new start, the latest started (then the newest)
        stays open and the CSMS ends the others, its StopTransaction lost or still to come.
        Latest by the charge point's clock only where no start involved has a suspect clock;
        otherwise by the order received (id)."""
        open_ = await self._open_transactions_in(connection)
        now = aware(self._now())
        ended: list[dict[str, Any]] = []
        for key in new:
            transaction = known[key]
            open_.add(transaction)
            running = open_.on_connector(transaction.charge_point_id, transaction.connector_id)
            if len(running) < 2:
                continue
            latest = max(running, key=_start_order(running))
            for stale in running:
                if stale.id == latest.id:
                    continue
                reason = f"superseded by transaction {latest.id}"
                open_.remove(stale)
                ended.append({"b_id": stale.id, "b_end_reason": reason})
                if stale.id == transaction.id:  # started before the one the connector runs
                    known[key] = dataclasses.replace(
                        transaction, ended_at=now, ended_by="csms", end_reason=reason
                    )
        if ended:
            await connection.execute(
                self._end_transaction,
                [{**row, "b_ended_at": now, "b_ended_by": "csms"} for row in ended],
            )

    async def _open_transactions_in(self, connection: AsyncConnection) -> OpenTransactions:
        """The open transactions, for the writer to change: read through its connection if not
        known yet."""
        self._active_generation += 1
        if self._active is None:
            rows = await connection.execute(select(transactions).where(_open_transaction()))
            self._active = OpenTransactions(map(_transaction, rows))
        return self._active

    def _forget_open_transactions(self) -> None:
        self._active = None
        self._active_generation += 1

    async def _started(
        self, connection: AsyncConnection, starts: list[TransactionStart]
    ) -> dict[_StartKey, Transaction]:
        """The transactions that these starts would be replays of, by their key."""
        # One statement per chunk of the batch's (charge_point_id, start_time) pairs, a term of
        # an OR each (one index seek each in uq_transactions_start, on both databases): a
        # statement per pair would cost the writer a thread round trip each. The chunks are
        # padded to one of _PAIR_CHUNKS (repeating the last pair), so that each shape is built
        # and compiled once.
        pairs = list({(s.charge_point_id, s.timestamp) for s in starts})
        found: list[Transaction] = []
        for chunk in _padded_chunks(pairs):
            parameters: dict[str, Any] = {}
            for index, (charge_point_id, start_time) in enumerate(chunk):
                parameters[f"b_cp{index}"] = charge_point_id
                parameters[f"b_start{index}"] = start_time
            rows = await connection.execute(_started_statement(len(chunk)), parameters)
            found.extend(map(_transaction, rows))
        return {_key_of_transaction(transaction): transaction for transaction in found}

    async def stop_transaction(
        self,
        stop: TransactionStop,
        events: EventsOf[Transaction | None] | None = None,
        energy: EnergyOf | None = None,
    ) -> Transaction | None:
        self._check_open()
        aware(stop.timestamp, *([stop.received_at] if stop.received_at is not None else []))
        for sample in stop.transaction_data:
            aware(sample.timestamp, *([sample.received_at] if sample.received_at else []))
        if not 0 < stop.transaction_id <= _MAX_TRANSACTION_ID:
            # e.g. -1, which some charge points send for "no transaction": its samples kept
            if stop.transaction_data:
                await self.add_meter_values(_filed(stop.transaction_data, None))
            return None
        return await self._writer.run_batched(
            self._stop_transactions, (stop, energy), _events_of(events)
        )

    async def _stop_transactions(
        self, connection: AsyncConnection, requests: list[tuple[TransactionStop, EnergyOf | None]]
    ) -> list[Transaction | None]:
        """The stops of a batch: one UPDATE (executemany) of the open ones, one SELECT, their
        transactionData, and their energy (one SELECT of their register samples, one UPDATE).
        One the CSMS ended takes the charge point's values (docs/field-behaviour.md,
        "Transactions")."""
        stops = [stop for stop, _ in requests]
        await connection.execute(
            self._close_transaction,
            [
                {
                    "b_id": stop.transaction_id,
                    "b_charge_point_id": stop.charge_point_id,
                    "b_stop_time": stop.timestamp,
                    "b_meter_stop": stop.meter_stop,
                    "b_stop_reason": stop.reason,
                    "b_stop_id_tag": stop.id_tag,
                    "b_stop_received_at": stop.received_at,
                    "b_stop_clock_suspect": stop.clock_suspect,
                }
                for stop in stops
            ],
        )
        rows = await connection.execute(
            select(transactions).where(transactions.c.id.in_({s.transaction_id for s in stops}))
        )
        by_id = {row.id: _transaction(row) for row in rows}
        # Unknown, or another charge point's: None. Already stopped (a replay): unchanged.
        results = [
            transaction
            if (transaction := by_id.get(stop.transaction_id)) is not None
            and transaction.charge_point_id == stop.charge_point_id
            else None
            for stop in stops
        ]
        self._active_generation += 1
        if self._active is not None:
            for transaction in results:
                if transaction is not None:
                    self._active.remove(transaction)
        samples = [
            {**as_row(sample), "sample_key": sample_key(sample)}
            for stop, transaction in zip(stops, results, strict=True)
            for sample in _filed(stop.transaction_data, transaction)
        ]
        if samples:
            await executemany(connection, self._insert_meter_values, samples)
        with_energy = {
            transaction.id: (transaction, energy)
            for (_, energy), transaction in zip(requests, results, strict=True)
            if transaction is not None and energy is not None
        }
        if with_energy:
            computed = await self._energies(connection, with_energy)
            return [
                computed.get(transaction.id, transaction) if transaction is not None else None
                for transaction in results
            ]
        return results

    async def _energies(
        self, connection: AsyncConnection, transactions_: dict[int, tuple[Transaction, EnergyOf]]
    ) -> dict[int, Transaction]:
        """Their energy from all their register samples, stored where it changed."""
        rows = await connection.execute(samples_of_transactions(transactions_, ENERGY_REGISTER))
        found = by_transaction(transactions_, rows)
        computed: dict[int, Transaction] = {}
        changed: list[dict[str, Any]] = []
        for id_, (transaction, energy) in transactions_.items():
            wh, flags = energy(transaction, found[id_])
            wh = min(max(wh, 0), _INT64 - 1)
            computed[id_] = dataclasses.replace(transaction, energy_wh=wh, energy_flags=flags)
            if (transaction.energy_wh, transaction.energy_flags) != (wh, flags):
                changed.append({"b_id": id_, "b_wh": wh, "b_flags": " ".join(flags)})
        if changed:
            await connection.execute(self._record_energy, changed)
        return computed

    async def end_transaction(
        self, transaction_id: int, *, ended_by: str, reason: str | None
    ) -> Transaction | None:
        """End an open transaction without its StopTransaction; None if unknown. Raises
        TransactionEndedError if it was stopped or ended already."""
        self._check_open()
        if not 0 < transaction_id <= _MAX_TRANSACTION_ID:
            return None
        now = aware(self._now())
        statement = (
            update(transactions)
            .where(transactions.c.id == transaction_id, _open_transaction())
            .values(ended_at=now, ended_by=ended_by, end_reason=reason)
            .returning(*transactions.c)
        )

        async def work(connection: AsyncConnection) -> tuple[Transaction | None, bool]:
            row = (await connection.execute(statement)).one_or_none()
            if row is not None:
                ended = _transaction(row)
                self._active_generation += 1
                if self._active is not None:
                    self._active.remove(ended)
                return ended, True
            rows = await connection.execute(
                select(transactions).where(transactions.c.id == transaction_id)
            )
            found = rows.one_or_none()
            return (None if found is None else _transaction(found)), False

        # Raised after the batch, so as not to fail the batch for the others.
        transaction, changed = await self._writer.run(work)
        if transaction is not None and not changed:
            raise TransactionEndedError(f"transaction {transaction_id} is over already")
        return transaction

    async def get_transaction(self, transaction_id: int) -> Transaction | None:
        self._check_open()
        if not 0 < transaction_id <= _MAX_TRANSACTION_ID:
            return None
        rows = await self._read(select(transactions).where(transactions.c.id == transaction_id))
        return _transaction(rows[0]) if rows else None

    async def list_transactions(
        self, *, charge_point_id: str | None = None, active: bool | None = None
    ) -> list[Transaction]:
        statement = select(transactions)
        if charge_point_id is not None:
            statement = statement.where(transactions.c.charge_point_id == charge_point_id)
        if active is not None:
            is_open = _open_transaction()
            statement = statement.where(is_open if active else not_(is_open))
        rows = await self._read(statement.order_by(transactions.c.id))
        return [_transaction(row) for row in rows]

    async def active_transactions_for_tag(self, id_tag: str) -> list[Transaction]:
        # Asked at every StartTransaction (ConcurrentTx): answered from an index of the open
        # transactions by tag, read once and kept by start/stop_transaction.
        return (await self._open_transactions()).of_tag(id_tag)

    async def open_transactions_on(
        self, charge_point_id: str, connector_id: int
    ) -> list[Transaction]:
        return (await self._open_transactions()).on_connector(charge_point_id, connector_id)

    async def _open_transactions(self) -> OpenTransactions:
        while self._active is None:
            generation = self._active_generation
            rows = await self._read(select(transactions).where(_open_transaction()))
            if generation == self._active_generation and self._active is None:
                self._active = OpenTransactions(map(_transaction, rows))
        return self._active

    async def add_meter_values(
        self, samples: Sequence[MeterSample], events: Sequence[OutboxEvent] = ()
    ) -> None:
        if not samples:
            self._check_open()
            return
        aware(*(sample.timestamp for sample in samples))
        for sample in samples:
            if sample.received_at is not None:
                aware(sample.received_at)
        # A sample already stored (a replay after a lost answer) is skipped by the unique
        # sample_key: INSERT .. ON CONFLICT DO NOTHING, also for duplicates within a batch.
        rows = [{**as_row(sample), "sample_key": sample_key(sample)} for sample in samples]
        await self._writer.write(
            Rows(self._insert_meter_values, rows), *([outbox_rows(events)] if events else [])
        )

    async def meter_values(self, transaction_id: int) -> list[MeterSample]:
        self._check_open()
        if not -_INT64 <= transaction_id < _INT64:
            return []
        rows = await self._read(
            select(meter_values)
            .where(meter_values.c.transaction_id == transaction_id)
            .order_by(meter_values.c.id)
        )
        return [meter_sample(row) for row in rows]

    # -- other reports -------------------------------------------------------------------------

    async def record_notification(self, notification: Notification) -> None:
        aware(notification.received_at)
        row = as_row(notification)
        await self._writer.write(Rows(self._insert_notification, (row,)))

    async def list_notifications(self, charge_point_id: str) -> list[Notification]:
        rows = await self._read(
            select(notifications)
            .where(notifications.c.charge_point_id == charge_point_id)
            .order_by(notifications.c.id)
        )
        return [
            Notification(
                charge_point_id=row.charge_point_id,
                kind=row.kind,
                status=row.status,
                received_at=row.received_at,
            )
            for row in rows
        ]

    async def record_data_transfer(self, record: DataTransferRecord) -> None:
        aware(record.received_at)
        row = as_row(record)
        await self._writer.write(Rows(self._insert_data_transfer, (row,)))


class _Missing:
    """Not in a cache (None is a cached answer: no such charge point or tag)."""


_MISSING = _Missing()
# A cache is cleared when it grows past this many entries (unknown ids could fill it).
_CACHE_LIMIT = 100_000


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


# -- statements ---------------------------------------------------------------------------------


def _events(events: Sequence[OutboxEvent]) -> Derived[Any] | None:
    """The outbox rows of a write's events, written only if the write did something."""
    if not events:
        return None
    rows = outbox_rows(events)
    return lambda result: [rows] if result else []


def _events_of(events: EventsOf[Any] | None) -> Derived[Any] | None:
    """The outbox rows of events made from a write's result."""
    if events is None:
        return None

    def derived(result: Any) -> list[Rows]:
        made = events(result)
        return [outbox_rows(made)] if made else []

    return derived


_open_transaction = open_transaction


def _start_order(running: list[Transaction]) -> Callable[[Transaction], tuple[Any, ...]]:
    """How the open transactions of one connector are ordered to find the one it runs: by the
    charge point's start_time (then id) when all those clocks are trusted, else by the order
    received (id). A start stamped 1970 after a reboot is then still the newer one
    (docs/field-behaviour.md, "Replays and clocks")."""
    if any(t.start_clock_suspect for t in running):
        return lambda t: (t.id,)
    return lambda t: (t.start_time, t.id)


_ID_TAG_FIELDS = ("status", "expiry_date", "parent_id_tag", "max_active_transactions")
# Values per IN (...) of a bulk statement: well under SQLite's and asyncpg's parameter limits.
_CHUNK = 500


def _id_tag_fields(tag: IdTag) -> dict[str, Any]:
    return {name: getattr(tag, name) for name in _ID_TAG_FIELDS}


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK)]


async def _registered_spellings(
    connection: AsyncConnection, wanted: Sequence[str]
) -> dict[str, str]:
    """For a bulk import: the registered spelling of each wanted id tag that is known in some
    case, keyed by the lowered ASCII tag, or by the tag itself where it is not ASCII (SQLite's
    lower() folds ASCII only, so those are asked one by one, by the database's own folding)."""
    found: dict[str, str] = {}
    ascii_tags = sorted({tag.lower() for tag in wanted if tag.isascii()})
    for chunk in _chunks(ascii_tags):
        query = select(id_tags.c.id_tag).where(func.lower(id_tags.c.id_tag).in_(chunk))
        found.update((row.id_tag.lower(), row.id_tag) for row in await connection.execute(query))
    for tag in (tag for tag in wanted if not tag.isascii()):
        query = select(id_tags.c.id_tag).where(_same_tag(id_tags.c.id_tag, tag))
        spelling = (await connection.execute(query)).scalar_one_or_none()
        if spelling is not None:
            found[tag] = spelling
    return found


_same_tag = same_tag


def _newer_status_upsert(dialect: str) -> Insert:
    """The connector's current status becomes the report, unless the current one is newer by
    the charge point's clock (by receipt time where that clock is suspect); of two equally old,
    the later received (this one) wins."""
    insert = (
        postgresql.insert(connector_status)
        if dialect == "postgresql"
        else sqlite.insert(connector_status)
    )
    excluded = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=["charge_point_id", "connector_id"],
        set_={name: excluded[name] for name in _STATUS_FIELDS},
        where=_ordered_at(excluded) >= _ordered_at(connector_status.c),
    )


def _ordered_at(columns: Any) -> Any:
    """ConnectorStatus.ordered_at in SQL."""
    return case((columns.clock_suspect, columns.received_at), else_=columns.timestamp)


def _insert_or_ignore(dialect: str, table: Table) -> Insert:
    """INSERT that skips a row conflicting with a unique index instead of failing."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# The sizes the pairs of `_started` are padded to (an OR of 64 terms stays far below SQLite's
# expression depth limit of 1,000).
_PAIR_CHUNKS: Final = (1, 8, 64)


@functools.cache
def _started_statement(size: int) -> Select[Any]:
    """The transactions started at any of `size` (charge point, start time) pairs."""
    tx = transactions.c
    return select(transactions).where(
        or_(
            *(
                and_(
                    tx.charge_point_id == bindparam(f"b_cp{i}"),
                    tx.start_time == bindparam(f"b_start{i}"),
                )
                for i in range(size)
            )
        )
    )


def _padded_chunks(pairs: list[tuple[str, datetime]]) -> list[list[tuple[str, datetime]]]:
    """`pairs` in chunks of at most the largest size, each padded to a size of _PAIR_CHUNKS by
    repeating its last pair (the join then finds its rows twice: harmless, kept by key)."""
    largest = _PAIR_CHUNKS[-1]
    chunks = []
    for start in range(0, len(pairs), largest):
        chunk = pairs[start : start + largest]
        size = next(size for size in _PAIR_CHUNKS if size >= len(chunk))
        chunks.append(chunk + [chunk[-1]] * (size - len(chunk)))
    return chunks


def _filed(samples: Sequence[MeterSample], transaction: Transaction | None) -> list[MeterSample]:
    """A StopTransaction's transactionData under its transaction's connector, or connector 0
    without a transaction when the transaction is unknown (features/core/handlers.py)."""
    if transaction is None:
        return [dataclasses.replace(s, connector_id=0, transaction_id=None) for s in samples]
    return [
        dataclasses.replace(s, connector_id=transaction.connector_id, transaction_id=transaction.id)
        for s in samples
    ]


def sample_key(sample: MeterSample) -> bytes:
    """What makes two sampled values the same one (a replay): everything the charge point
    sent about it, not when we received it. 28 bytes: 4 of BLAKE2b of the charge point id and
    the instant it was taken (8, big-endian), so that the unique index grows at the end of
    each charge point's range instead of at random places (a message's samples share a page,
    not a page each), then 16 bytes of BLAKE2b of everything."""
    instant = (sample.timestamp - _EPOCH) // _MICROSECOND  # whatever the time zone
    identity = (
        sample.charge_point_id,
        sample.connector_id,
        sample.transaction_id,
        instant,
        sample.value,
        sample.measurand,
        sample.phase,
        sample.location,
        sample.context,
        sample.unit,
        sample.format,
    )
    # The text of repr(identity), with each enum member's repr remembered.
    text = "(" + ", ".join([_repr(value) for value in identity]) + ")"
    digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
    return (
        _charge_point_prefix(sample.charge_point_id)
        + (instant + _INSTANT_OFFSET).to_bytes(8, "big")
        + digest
    )


@functools.lru_cache(maxsize=100_000)
def _charge_point_prefix(charge_point_id: str) -> bytes:
    return hashlib.blake2b(charge_point_id.encode(), digest_size=4).digest()


def _repr(value: object) -> str:
    if isinstance(value, Enum):
        try:
            return _ENUM_REPRS[value]
        except KeyError:
            text = _ENUM_REPRS[value] = repr(value)
            return text
    return repr(value)


_ENUM_REPRS: dict[Enum, str] = {}
# Signed microseconds since 1970 -> unsigned, in the order of the instants.
_INSTANT_OFFSET: Final = 2**63


# -- rows to records ----------------------------------------------------------------------------


def _charge_point(row: Row[Any]) -> ChargePoint:
    values = row._mapping
    boot = None
    if values["charge_point_vendor"] is not None:
        boot = BootInfo(**{name: values[name] for name in _BOOT_FIELDS})
    return ChargePoint(
        id=values["id"],
        registration_status=values["registration_status"],
        password_hash=values["password_hash"],
        description=values["description"],
        boot=boot,
        last_boot_at=values["last_boot_at"],
        last_seen_at=values["last_seen_at"],
        created_at=values["created_at"],
    )


def _connector_status(row: Row[Any]) -> ConnectorStatus:
    values = row._mapping
    return ConnectorStatus(
        charge_point_id=values["charge_point_id"],
        connector_id=values["connector_id"],
        status=values["status"],
        error_code=values["error_code"],
        info=values["info"],
        vendor_id=values["vendor_id"],
        vendor_error_code=values["vendor_error_code"],
        timestamp=values["timestamp"],
        received_at=values["received_at"],
        clock_suspect=values["clock_suspect"],
    )


def _id_tag(row: Row[Any]) -> IdTag:
    return IdTag(
        id_tag=row.id_tag,
        status=row.status,
        expiry_date=row.expiry_date,
        parent_id_tag=row.parent_id_tag,
        max_active_transactions=row.max_active_transactions,
    )


# What makes two StartTransaction.req identical (a replay): all but the answered status.
_StartKey = tuple[str, int, datetime, str, int]


def _key_of_start(start: TransactionStart) -> _StartKey:
    return (
        start.charge_point_id,
        start.connector_id,
        start.timestamp,
        start.id_tag,
        start.meter_start,
    )


def _key_of_transaction(transaction: Transaction) -> _StartKey:
    return (
        transaction.charge_point_id,
        transaction.connector_id,
        transaction.start_time,
        transaction.id_tag,
        transaction.meter_start,
    )


_transaction = transaction_record
