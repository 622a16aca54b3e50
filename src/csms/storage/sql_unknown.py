"""SqlStore, unknown charge points refused at the handshake (features/unknown_charge_points.py):
a mixin of SqlStore over its shared plumbing (sql_base.py). One row per id; the table is kept to
a fixed number of rows (the most recently seen) and pruned by age."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.records import UnknownChargePointAttempt
from csms.storage.schema import unknown_charge_points
from csms.storage.sql_base import SqlBase, aware

_unknown = unknown_charge_points.c


class UnknownChargePointsStore(SqlBase):
    async def list_unknown_charge_points(self, limit: int) -> list[UnknownChargePointAttempt]:
        statement = (
            select(unknown_charge_points)
            .order_by(_unknown.last_at.desc(), _unknown.charge_point_id)
            .limit(limit)
        )
        return [_attempt(row) for row in await self._read(statement)]

    async def save_unknown_charge_points(
        self, attempts: Sequence[UnknownChargePointAttempt], forget: Sequence[str], keep: int
    ) -> None:
        rows = [
            {
                "charge_point_id": a.charge_point_id,
                "first_at": aware(a.first_at),
                "last_at": aware(a.last_at),
                "attempts": a.attempts,
                "reason": a.reason,
            }
            for a in attempts
        ]
        gone = [*forget, *(a.charge_point_id for a in attempts)]
        kept = select(_unknown.charge_point_id).order_by(
            _unknown.last_at.desc(), _unknown.charge_point_id
        )

        async def work(connection: AsyncConnection) -> None:
            if gone:
                await connection.execute(
                    delete(unknown_charge_points).where(_unknown.charge_point_id.in_(gone))
                )
            if rows:
                await connection.execute(unknown_charge_points.insert(), rows)
            await connection.execute(
                delete(unknown_charge_points).where(
                    _unknown.charge_point_id.not_in(kept.limit(keep).scalar_subquery())
                )
            )

        await self._writer.run(work)

    async def prune_unknown_charge_points(self, before: datetime) -> int:
        return await self._prune(_unknown.charge_point_id, _unknown.last_at, before)


def _attempt(row: Row[Any]) -> UnknownChargePointAttempt:
    values = row._mapping
    return UnknownChargePointAttempt(
        charge_point_id=values["charge_point_id"],
        first_at=values["first_at"],
        last_at=values["last_at"],
        attempts=values["attempts"],
        reason=values["reason"],
    )
