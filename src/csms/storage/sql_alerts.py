"""Alerts (docs/events-and-webhooks.md, "Alerts"): raised and cleared with their outbox event
(`alert.raised`, `alert.cleared`) in one transaction. At most one active alert per (kind,
charge point, subject): raising an active one again changes nothing and reports nothing.

The keys of the active alerts are kept in memory (read once, updated as the writer writes), so
that clearing an alert that is not active (every StatusNotification that is not Faulted) costs
no database round trip on the message path.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.event_records import Alert, OutboxEvent
from csms.storage.groupcommit import Rows
from csms.storage.schema import alerts
from csms.storage.sql_base import SqlBase, aware
from csms.storage.sql_outbox import outbox_rows

AlertKey = tuple[str, str | None, str]


def alert_json(alert: Alert) -> dict[str, Any]:
    """An alert as the API and its events show it."""
    return {
        "id": alert.id,
        "kind": alert.kind,
        "chargePointId": alert.charge_point_id,
        "subject": alert.subject,
        "message": alert.message,
        "data": alert.data,
        "active": alert.active,
        "raisedAt": _iso(alert.raised_at),
        "clearedAt": None if alert.cleared_at is None else _iso(alert.cleared_at),
        "clearReason": alert.clear_reason,
    }


class AlertsStore(SqlBase):
    async def raise_alert(
        self,
        kind: str,
        charge_point_id: str | None,
        subject: str,
        message: str,
        *,
        at: datetime,
        data: dict[str, Any] | None = None,
    ) -> Alert | None:
        """The new alert, or None if the same one is active already."""
        aware(at)
        key = (kind, charge_point_id, subject)
        if key in await self._active_alert_keys():
            return None

        async def work(connection: AsyncConnection) -> Alert | None:
            return await self.raise_in(connection, key, message, at, data or {})

        return await self._writer.run(work, derived=_reported("alert.raised", at))

    async def clear_alert(
        self,
        kind: str,
        charge_point_id: str | None,
        subject: str,
        *,
        at: datetime,
        reason: str,
    ) -> Alert | None:
        """The alert cleared, or None if none was active."""
        aware(at)
        key = (kind, charge_point_id, subject)
        if key not in await self._active_alert_keys():
            return None

        async def work(connection: AsyncConnection) -> Alert | None:
            return await self.clear_in(connection, key, at, reason)

        return await self._writer.run(work, derived=_reported("alert.cleared", at))

    async def clear_alert_by_id(self, alert_id: int, *, at: datetime, reason: str) -> Alert | None:
        """The alert cleared, or None if there is no such active alert."""
        aware(at)

        async def work(connection: AsyncConnection) -> Alert | None:
            cleared = await _clear(connection, alerts.c.id == alert_id, at, reason)
            if cleared is not None:
                self._alert_changed(discard=_key(cleared))
            return cleared

        return await self._writer.run(work, derived=_reported("alert.cleared", at))

    async def get_alert(self, alert_id: int) -> Alert | None:
        rows = await self._read(select(alerts).where(alerts.c.id == alert_id))
        return _alert(rows[0]) if rows else None

    async def list_alerts(
        self,
        *,
        active: bool | None = None,
        charge_point_id: str | None = None,
        kind: str | None = None,
        limit: int = 500,
    ) -> list[Alert]:
        """Newest first."""
        statement = select(alerts)
        if active is not None:
            cleared = alerts.c.cleared_at
            statement = statement.where(cleared.is_(None) if active else cleared.is_not(None))
        if charge_point_id is not None:
            statement = statement.where(alerts.c.charge_point_id == charge_point_id)
        if kind is not None:
            statement = statement.where(alerts.c.kind == kind)
        rows = await self._read(statement.order_by(alerts.c.id.desc()).limit(limit))
        return [_alert(row) for row in rows]

    # -- inside a write's transaction (also used by other writes: a failed file job) -----------

    async def raise_in(
        self,
        connection: AsyncConnection,
        key: AlertKey,
        message: str,
        at: datetime,
        data: dict[str, Any],
    ) -> Alert | None:
        kind, charge_point_id, subject = key
        if await _find_active(connection, key) is not None:
            return None
        statement = (
            insert(alerts)
            .values(
                kind=kind,
                charge_point_id=charge_point_id,
                subject=subject,
                message=message,
                data=json.dumps(data, default=str),
                raised_at=at,
            )
            .returning(*alerts.c)
        )
        raised = _alert((await connection.execute(statement)).one())
        self._alert_changed(add=key)
        return raised

    async def clear_in(
        self, connection: AsyncConnection, key: AlertKey, at: datetime, reason: str
    ) -> Alert | None:
        active = await _find_active(connection, key)
        if active is None:
            return None
        cleared = await _clear(connection, alerts.c.id == active.id, at, reason)
        self._alert_changed(discard=key)
        return cleared

    def _alert_changed(
        self, *, add: AlertKey | None = None, discard: AlertKey | None = None
    ) -> None:
        """Keep the keys up to date; a read of them in progress is read again (generation)."""
        self._alert_generation += 1
        if self._alert_keys is not None:
            if add is not None:
                self._alert_keys.add(add)
            if discard is not None:
                self._alert_keys.discard(discard)

    async def _active_alert_keys(self) -> set[AlertKey]:
        while self._alert_keys is None:
            generation = self._alert_generation
            rows = await self._read(
                select(alerts.c.kind, alerts.c.charge_point_id, alerts.c.subject).where(
                    alerts.c.cleared_at.is_(None)
                )
            )
            if generation == self._alert_generation and self._alert_keys is None:
                self._alert_keys = {(row.kind, row.charge_point_id, row.subject) for row in rows}
        return self._alert_keys


def alert_event(kind: str, alert: Alert, at: datetime) -> OutboxEvent:
    """alert.raised or alert.cleared."""
    return OutboxEvent(kind, alert.charge_point_id, at, alert_json(alert))


def _reported(kind: str, at: datetime) -> Any:
    def events(alert: Alert | None) -> list[Rows]:
        return [] if alert is None else [outbox_rows([alert_event(kind, alert, at)])]

    return events


def _key(alert: Alert) -> AlertKey:
    return (alert.kind, alert.charge_point_id, alert.subject)


async def _find_active(connection: AsyncConnection, key: AlertKey) -> Alert | None:
    kind, charge_point_id, subject = key
    same_charge_point = (
        alerts.c.charge_point_id.is_(None)
        if charge_point_id is None
        else alerts.c.charge_point_id == charge_point_id
    )
    row = (
        await connection.execute(
            select(alerts).where(
                alerts.c.kind == kind,
                same_charge_point,
                alerts.c.subject == subject,
                alerts.c.cleared_at.is_(None),
            )
        )
    ).first()
    return None if row is None else _alert(row)


async def _clear(
    connection: AsyncConnection, which: Any, at: datetime, reason: str
) -> Alert | None:
    row = (
        await connection.execute(
            update(alerts)
            .where(which, alerts.c.cleared_at.is_(None))
            .values(cleared_at=at, clear_reason=reason)
            .returning(*alerts.c)
        )
    ).one_or_none()
    return None if row is None else _alert(row)


def _alert(row: Row[Any]) -> Alert:
    values = row._mapping
    return Alert(
        id=values["id"],
        kind=values["kind"],
        charge_point_id=values["charge_point_id"],
        subject=values["subject"],
        message=values["message"],
        data=json.loads(values["data"]),
        raised_at=values["raised_at"],
        cleared_at=values["cleared_at"],
        clear_reason=values["clear_reason"],
    )


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
