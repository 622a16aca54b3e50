"""SqlStore, the transactions as billing reads them (api/transactions.py, docs/field-behaviour.md,
"Energy you can bill"): a mixin of SqlStore over its shared plumbing (sql_base.py). Pages in id
order after a cursor (ids grow in the order the one writer commits them, so rows inserted
between two pages land after both), energy totals per day or per charge point computed by the
database, the billable energy written back."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Text, and_, case, column, func, not_, select, update, values
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.records import EnergyTotal, MeterSample, Transaction, TransactionFilter
from csms.storage.schema import UtcDateTime, transactions
from csms.storage.sql_base import (
    SqlBase,
    by_transaction,
    samples_of_transactions,
    transaction_record,
)

_tx = transactions.c
# Largest values of the 64-bit columns (energy_wh, meter_values.transaction_id).
_INT64: Final = 2**63 - 1

# The energy of a transaction in a total: the billable energy where computed, else (rows from
# before migration 0015) meterStop - meterStart when not negative; a running one adds nothing.
ENERGY_WH = case(
    (_tx.energy_wh.is_not(None), _tx.energy_wh),
    (_tx.meter_stop >= _tx.meter_start, _tx.meter_stop - _tx.meter_start),
    else_=0,
)


def open_transaction() -> Any:
    """Neither stopped by its charge point nor ended by the CSMS (Transaction.active)."""
    return and_(_tx.stop_time.is_(None), _tx.ended_at.is_(None))


def same_tag(column_: Any, id_tag: str) -> Any:
    """IdToken is a CiString20 (spec 7.28): compared case-insensitively, by the database on
    both sides so that the expression indexes on lower(id_tag) apply."""
    return func.lower(column_) == func.lower(id_tag)


def transaction_conditions(which: TransactionFilter) -> list[Any]:
    where: list[Any] = []
    if which.charge_point_id:
        where.append(_tx.charge_point_id == which.charge_point_id)
    if which.id_tag:
        where.append(same_tag(_tx.id_tag, which.id_tag))
    if which.since is not None:
        where.append(_tx.start_time >= which.since)
    if which.until is not None:
        where.append(_tx.start_time < which.until)
    if which.active is not None:
        where.append(open_transaction() if which.active else not_(open_transaction()))
    return where


class TransactionReportsStore(SqlBase):
    async def transactions_after(
        self, which: TransactionFilter, *, after_id: int = 0, limit: int = 100
    ) -> list[Transaction]:
        rows = await self._read(
            select(transactions)
            .where(*transaction_conditions(which), _tx.id > min(after_id, _INT64))
            .order_by(_tx.id)
            .limit(limit)
        )
        return [transaction_record(row) for row in rows]

    async def meter_values_of_transactions(
        self, transaction_ids: Collection[int], *, measurand: str | None = None
    ) -> dict[int, list[MeterSample]]:
        ids = {i for i in transaction_ids if -_INT64 <= i <= _INT64}
        if not ids:
            self._check_open()
            return {}
        return by_transaction(ids, await self._read(samples_of_transactions(ids, measurand)))

    async def record_energy(
        self, transaction_id: int, energy_wh: int, flags: Sequence[str]
    ) -> None:
        self._check_open()
        statement = (
            update(transactions)
            .where(_tx.id == transaction_id)
            .values(energy_wh=min(max(energy_wh, 0), _INT64), energy_flags=" ".join(flags))
        )

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(statement)

        await self._writer.run(work)

    async def energy_by_day(
        self, which: TransactionFilter, days: Sequence[tuple[str, datetime, datetime]]
    ) -> list[EnergyTotal]:
        """One total per (day, start, end), in the order given: the transactions started in
        [start, end) that match."""
        if not days:
            self._check_open()
            return []
        table = values(
            column("day", Text), column("day_start", UtcDateTime), column("day_end", UtcDateTime)
        )
        spans = table.data(list(days)).cte("days")
        statement = (
            select(spans.c.day, *_totals())
            .select_from(
                spans.join(
                    transactions,
                    and_(_tx.start_time >= spans.c.day_start, _tx.start_time < spans.c.day_end),
                )
            )
            # Not which.since/until: the spans lie within them, and a constant range on
            # start_time would take the index from the join (a scan of the range per day).
            .where(*transaction_conditions(dataclasses.replace(which, since=None, until=None)))
            .group_by(spans.c.day)
        )
        rows = await self._read(statement)
        found = {str(row[0]): _total(row) for row in rows}
        return [
            found.get(day) or EnergyTotal(key=day, transactions=0, energy_wh=0, active=0)
            for day, _, _ in days
        ]

    async def energy_by_charge_point(self, which: TransactionFilter) -> list[EnergyTotal]:
        """One total per charge point with a matching transaction, by charge point id."""
        rows = await self._read(
            select(_tx.charge_point_id, *_totals())
            .where(*transaction_conditions(which))
            .group_by(_tx.charge_point_id)
            .order_by(_tx.charge_point_id)
        )
        return [_total(row) for row in rows]


def _totals() -> list[Any]:
    active = case((open_transaction(), 1), else_=0)
    return [func.count(), func.coalesce(func.sum(ENERGY_WH), 0), func.coalesce(func.sum(active), 0)]


def _total(row: Any) -> EnergyTotal:
    return EnergyTotal(
        key=str(row[0]), transactions=int(row[1]), energy_wh=int(row[2]), active=int(row[3])
    )
