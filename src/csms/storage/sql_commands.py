"""SqlStore, part two: what CSMS commands changed (configuration, availability) and the reads
of meter values by charge point. A mixin of SqlStore over its shared plumbing (sql_base.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.records import Availability, Configuration, ConfigurationEntry, MeterSample
from csms.storage.schema import (
    configuration_keys,
    configuration_set,
    configuration_snapshots,
    connector_availability,
    meter_values,
)
from csms.storage.sql_base import SqlBase, aware, meter_sample, upsert


class CommandsStore(SqlBase):
    async def meter_values_of(
        self, charge_point_id: str, connector_id: int | None = None, limit: int = 1000
    ) -> list[MeterSample]:
        statement = select(meter_values).where(meter_values.c.charge_point_id == charge_point_id)
        if connector_id is not None:
            statement = statement.where(meter_values.c.connector_id == connector_id)
        rows = await self._read(statement.order_by(meter_values.c.id.desc()).limit(limit))
        return [meter_sample(row) for row in reversed(rows)]

    async def save_configuration(
        self,
        charge_point_id: str,
        entries: Sequence[ConfigurationEntry],
        *,
        unknown_keys: Sequence[str],
        complete: bool,
        at: datetime,
    ) -> None:
        aware(at)
        rows = [
            {
                "charge_point_id": charge_point_id,
                "key": e.key,
                "value": e.value,
                "readonly": e.readonly,
                "known": True,
                "updated_at": at,
            }
            for e in entries
        ] + [
            {
                "charge_point_id": charge_point_id,
                "key": key,
                "value": None,
                "readonly": None,
                "known": False,
                "updated_at": at,
            }
            for key in unknown_keys
        ]
        # A key reported twice (some chargers do) is written once: the last report wins.
        rows = list({row["key"]: row for row in rows}.values())
        upsert_key = upsert(
            self._dialect,
            configuration_keys,
            ("charge_point_id", "key"),
            ("value", "readonly", "known", "updated_at"),
        )
        upsert_snapshot = upsert(
            self._dialect, configuration_snapshots, ("charge_point_id",), ("complete_at",)
        )

        async def work(connection: AsyncConnection) -> None:
            if complete:
                await connection.execute(
                    delete(configuration_keys).where(
                        configuration_keys.c.charge_point_id == charge_point_id
                    )
                )
                await connection.execute(
                    upsert_snapshot, {"charge_point_id": charge_point_id, "complete_at": at}
                )
            if rows:
                await connection.execute(upsert_key, rows)

        await self._writer.run(work)

    async def set_configuration_value(
        self, charge_point_id: str, key: str, value: str, *, at: datetime
    ) -> None:
        aware(at)
        # A key known to the CSMS keeps its readonly flag; a new one is writable, evidently.
        statement = upsert(
            self._dialect,
            configuration_keys,
            ("charge_point_id", "key"),
            ("value", "known", "updated_at"),
        )
        row = {
            "charge_point_id": charge_point_id,
            "key": key,
            "value": value,
            "readonly": False,
            "known": True,
            "updated_at": at,
        }

        # Also kept apart as set by the operator: a later GetConfiguration replaces the
        # snapshot, not this (what a BootNotification answers, docs/charger-compatibility.md).
        operator = upsert(
            self._dialect, configuration_set, ("charge_point_id", "key"), ("value", "set_at")
        )
        operator_row = {"charge_point_id": charge_point_id, "key": key, "value": value}

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(statement, row)
            await connection.execute(operator, {**operator_row, "set_at": at})

        try:
            await self._writer.run(work)
        finally:
            self._configured_cache.forget(charge_point_id)

    async def configuration_of(self, charge_point_id: str) -> Configuration:
        rows = await self._read(
            select(configuration_keys)
            .where(configuration_keys.c.charge_point_id == charge_point_id)
            .order_by(configuration_keys.c.key)
        )
        snapshot = await self._read(
            select(configuration_snapshots.c.complete_at).where(
                configuration_snapshots.c.charge_point_id == charge_point_id
            )
        )
        return Configuration(
            charge_point_id=charge_point_id,
            entries=[
                ConfigurationEntry(key=row.key, value=row.value, readonly=bool(row.readonly))
                for row in rows
                if row.known
            ],
            unknown_keys=[row.key for row in rows if not row.known],
            complete_at=snapshot[0].complete_at if snapshot else None,
            updated_at=max((row.updated_at for row in rows), default=None),
        )

    async def record_availability(self, availability: Availability) -> None:
        aware(availability.at)
        statement = upsert(
            self._dialect,
            connector_availability,
            ("charge_point_id", "connector_id"),
            ("requested", "status", "at"),
        )
        row = {
            "charge_point_id": availability.charge_point_id,
            "connector_id": availability.connector_id,
            "requested": availability.requested,
            "status": availability.status,
            "at": availability.at,
        }

        async def work(connection: AsyncConnection) -> None:
            if availability.connector_id == 0:  # the whole charge point: spec 5.2
                await connection.execute(
                    delete(connector_availability).where(
                        connector_availability.c.charge_point_id == availability.charge_point_id
                    )
                )
            await connection.execute(statement, row)

        try:
            await self._writer.run(work)
        finally:
            self._availability_cache.forget(availability.charge_point_id)

    async def availability_of(self, charge_point_id: str) -> list[Availability]:
        """Consulted at every StatusNotification: cached (read_cache.py)."""

        async def read() -> tuple[Availability, ...]:
            rows = await self._read(
                select(connector_availability)
                .where(connector_availability.c.charge_point_id == charge_point_id)
                .order_by(connector_availability.c.connector_id)
            )
            return tuple(
                Availability(
                    charge_point_id=row.charge_point_id,
                    connector_id=row.connector_id,
                    requested=row.requested,
                    status=row.status,
                    at=row.at,
                )
                for row in rows
            )

        return list(await self._availability_cache.get(charge_point_id, read))
