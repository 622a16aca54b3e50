"""The durable outbox and the webhook subscriptions (docs/events-and-webhooks.md); their
deliveries are in sql_deliveries.py.

An event is an `outbox_events` row written in the same transaction as the change it reports
(`outbox_rows`, handed to the group commit with the change). The deliverer (webhooks/) fans new
events out to each subscription whose filter they match (`fan_out`: one `webhook_deliveries`
row each, the subscription's cursor moved past them, in one transaction), then attempts the
oldest pending delivery of each (subscription, charge point) queue that is due: events of one
charge point go to a receiver in the order they were committed. A delivered row is deleted; one
still failing after the retry window is dead-lettered, and so are the expired ones queued
behind it, so that a dead receiver costs one attempt per window, not one per event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.event_records import (
    DeliveryState,
    OutboxEvent,
    StoredEvent,
    WebhookChange,
    WebhookSubscription,
)
from csms.storage.groupcommit import Rows
from csms.storage.schema import outbox_events, webhook_deliveries, webhook_subscriptions
from csms.storage.sql_base import SqlBase, aware

# The one "insert an event" statement: every event of a batch goes in one executemany.
_INSERT_EVENT = insert(outbox_events)
# Events deleted per transaction when pruning.
PRUNE_CHUNK = 5000
# Kinds a subscription without a filter does not get (opt-in: name them).
OPT_IN_KINDS = frozenset({"meter"})


def outbox_rows(events: Sequence[OutboxEvent]) -> Rows:
    """The rows of these events, for the group commit (written with the change they report)."""
    return Rows(
        _INSERT_EVENT,
        [
            {
                "kind": event.kind,
                "charge_point_id": event.charge_point_id,
                "at": aware(event.at),
                "data": json.dumps(event.data, separators=(",", ":"), default=str),
            }
            for event in events
        ],
    )


def matches(types: tuple[str, ...] | None, kind: str) -> bool:
    """Whether a subscription's filter takes an event kind: by name, or by the part before
    its dot ("transaction" takes "transaction.started"); no filter takes all but OPT_IN_KINDS."""
    if types is None:
        return kind not in OPT_IN_KINDS
    return kind in types or kind.partition(".")[0] in types


class OutboxStore(SqlBase):
    # -- events --------------------------------------------------------------------------------

    async def record_events(self, events: Sequence[OutboxEvent]) -> None:
        """Events that report no other stored change (connected, command answered)."""
        if not events:
            return
        await self._writer.write(outbox_rows(events))

    async def events_after(
        self, after: int, *, limit: int = 500, charge_point_id: str | None = None
    ) -> list[StoredEvent]:
        """Outbox events with an id above `after`, oldest first."""
        statement = select(outbox_events).where(outbox_events.c.id > after)
        if charge_point_id is not None:
            statement = statement.where(outbox_events.c.charge_point_id == charge_point_id)
        rows = await self._read(statement.order_by(outbox_events.c.id).limit(limit))
        return [stored_event(row) for row in rows]

    async def last_event_id(self) -> int:
        return (await self.event_id_range())[1]

    async def event_id_range(self) -> tuple[int, int]:
        ids = outbox_events.c.id
        rows = await self._read(
            select(
                func.coalesce(func.min(ids), 0).label("oldest"),
                func.coalesce(func.max(ids), 0).label("newest"),
            )
        )
        return int(rows[0].oldest), int(rows[0].newest)

    async def prune_outbox(self, before: datetime) -> int:
        """Delete the events older than `before` that every enabled subscription has been given
        and none still has to deliver (dead letters keep theirs: they go with their delivery), a
        chunk per transaction so that the writer is never held long."""
        aware(before)
        # A disabled subscription holds nothing back: enabled again, it gets what is left.
        oldest_cursor = (
            select(func.min(webhook_subscriptions.c.cursor))
            .where(webhook_subscriptions.c.enabled)
            .scalar_subquery()
        )
        chunk = (
            select(outbox_events.c.id)
            .where(
                outbox_events.c.at < before,
                ~exists().where(webhook_deliveries.c.event_id == outbox_events.c.id),
                (oldest_cursor.is_(None)) | (outbox_events.c.id <= oldest_cursor),
            )
            .limit(PRUNE_CHUNK)
            .scalar_subquery()
        )
        statement = delete(outbox_events).where(outbox_events.c.id.in_(chunk))

        async def work(connection: AsyncConnection) -> int:
            return int((await connection.execute(statement)).rowcount)

        total = 0
        while True:
            deleted = await self._writer.run(work)
            total += deleted
            if deleted < PRUNE_CHUNK:
                return total

    async def prune_dead_letters(self, before: datetime) -> int:
        """Delete dead letters whose last attempt is older than `before`."""
        aware(before)
        d = webhook_deliveries.c
        statement = delete(webhook_deliveries).where(
            d.state == DeliveryState.DEAD, d.last_attempt_at < before
        )

        async def work(connection: AsyncConnection) -> int:
            return (await connection.execute(statement)).rowcount

        return await self._writer.run(work)

    # -- subscriptions -------------------------------------------------------------------------

    async def create_webhook(
        self,
        *,
        url: str,
        types: tuple[str, ...] | None,
        secret: str,
        description: str | None,
        enabled: bool,
    ) -> WebhookSubscription:
        """A new subscription gets the events committed after it (not the outbox's past)."""
        now = aware(self._now())
        newest = select(func.coalesce(func.max(outbox_events.c.id), 0)).scalar_subquery()
        statement = (
            insert(webhook_subscriptions)
            .values(
                url=url,
                types=_types_text(types),
                secret=secret,
                description=description,
                enabled=enabled,
                created_at=now,
                updated_at=now,
                cursor=newest,
            )
            .returning(*webhook_subscriptions.c)
        )

        async def work(connection: AsyncConnection) -> WebhookSubscription:
            return subscription_of((await connection.execute(statement)).one())

        return await self._writer.run(work)

    async def list_webhooks(self) -> list[WebhookSubscription]:
        rows = await self._read(select(webhook_subscriptions).order_by(webhook_subscriptions.c.id))
        return [subscription_of(row) for row in rows]

    async def get_webhook(self, subscription_id: int) -> WebhookSubscription | None:
        rows = await self._read(
            select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
        )
        return subscription_of(rows[0]) if rows else None

    async def update_webhook(
        self, subscription_id: int, change: WebhookChange
    ) -> WebhookSubscription | None:
        values: dict[str, Any] = {"updated_at": aware(self._now())}
        if change.url is not None:
            values["url"] = change.url
        if change.all_types:
            values["types"] = None
        elif change.types is not None:
            values["types"] = _types_text(change.types)
        if change.secret is not None:
            values["secret"] = change.secret
        if change.description is not None:
            values["description"] = change.description or None
        if change.enabled is not None:
            values["enabled"] = change.enabled
        statement = (
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == subscription_id)
            .values(**values)
            .returning(*webhook_subscriptions.c)
        )

        async def work(connection: AsyncConnection) -> WebhookSubscription | None:
            row = (await connection.execute(statement)).one_or_none()
            return None if row is None else subscription_of(row)

        return await self._writer.run(work)

    async def delete_webhook(self, subscription_id: int) -> bool:
        """Its deliveries (dead letters included) go with it."""
        statement = delete(webhook_subscriptions).where(
            webhook_subscriptions.c.id == subscription_id
        )

        async def work(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        return await self._writer.run(work)


def _types_text(types: tuple[str, ...] | None) -> str | None:
    return None if types is None else json.dumps(sorted(set(types)))


def subscription_of(row: Row[Any]) -> WebhookSubscription:
    values = row._mapping
    types = values["types"]
    return WebhookSubscription(
        id=values["id"],
        url=values["url"],
        types=None if types is None else tuple(json.loads(types)),
        secret=values["secret"],
        description=values["description"],
        enabled=values["enabled"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        cursor=values["cursor"],
    )


def stored_event(row: Row[Any]) -> StoredEvent:
    values = row._mapping
    return StoredEvent(
        id=values[outbox_events.c.id],
        kind=values[outbox_events.c.kind],
        charge_point_id=values[outbox_events.c.charge_point_id],
        at=values[outbox_events.c.at],
        data=json.loads(values[outbox_events.c.data]),
    )
