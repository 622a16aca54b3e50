"""The durable outbox and the webhook subscriptions and deliveries (docs/events-and-webhooks.md).

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

from sqlalchemy import Row, and_, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.event_records import (
    Delivery,
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
        return [_event(row) for row in rows]

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
        """Delete the events older than `before` that every subscription has been given and
        none still has to deliver (dead letters keep theirs: they go with their delivery)."""
        aware(before)
        oldest_cursor = select(func.min(webhook_subscriptions.c.cursor)).scalar_subquery()
        statement = delete(outbox_events).where(
            outbox_events.c.at < before,
            ~exists().where(webhook_deliveries.c.event_id == outbox_events.c.id),
            (oldest_cursor.is_(None)) | (outbox_events.c.id <= oldest_cursor),
        )

        async def work(connection: AsyncConnection) -> int:
            return (await connection.execute(statement)).rowcount

        return await self._writer.run(work)

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
            return _subscription((await connection.execute(statement)).one())

        return await self._writer.run(work)

    async def list_webhooks(self) -> list[WebhookSubscription]:
        rows = await self._read(select(webhook_subscriptions).order_by(webhook_subscriptions.c.id))
        return [_subscription(row) for row in rows]

    async def get_webhook(self, subscription_id: int) -> WebhookSubscription | None:
        rows = await self._read(
            select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
        )
        return _subscription(rows[0]) if rows else None

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
            return None if row is None else _subscription(row)

        return await self._writer.run(work)

    async def delete_webhook(self, subscription_id: int) -> bool:
        """Its deliveries (dead letters included) go with it."""
        statement = delete(webhook_subscriptions).where(
            webhook_subscriptions.c.id == subscription_id
        )

        async def work(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        return await self._writer.run(work)

    # -- deliveries ----------------------------------------------------------------------------

    async def fan_out(self, now: datetime, limit: int = 1000) -> int:
        """Give each enabled subscription the events after its cursor (at most `limit` each):
        a pending delivery for those its filter takes; the cursor moves past all of them. The
        number of deliveries made."""
        aware(now)

        async def work(connection: AsyncConnection) -> int:
            newest = (
                await connection.execute(select(func.coalesce(func.max(outbox_events.c.id), 0)))
            ).scalar_one()
            subscriptions = (
                await connection.execute(
                    select(webhook_subscriptions).where(
                        webhook_subscriptions.c.enabled, webhook_subscriptions.c.cursor < newest
                    )
                )
            ).all()
            made = 0
            for row in subscriptions:
                made += await _fan_out_one(connection, _subscription(row), now, limit)
            return made

        return await self._writer.run(work)

    async def due_deliveries(self, now: datetime, limit: int = 200) -> list[Delivery]:
        """The oldest pending delivery of each (subscription, charge point) queue, if due."""
        d = webhook_deliveries.c
        heads = (
            select(
                d.subscription_id.label("head_subscription"),
                func.min(d.event_id).label("head_event"),
            )
            .where(d.state == DeliveryState.PENDING)
            .group_by(d.subscription_id, d.queue_key)
            .subquery()
        )
        statement = (
            select(webhook_deliveries, outbox_events)
            .join(
                heads,
                and_(
                    d.subscription_id == heads.c.head_subscription,
                    d.event_id == heads.c.head_event,
                ),
            )
            .join(outbox_events, outbox_events.c.id == d.event_id)
            .where(d.next_attempt_at <= aware(now))
            .order_by(d.next_attempt_at, d.event_id)
            .limit(limit)
        )
        return [_delivery(row) for row in await self._read(statement)]

    async def delivery_done(self, subscription_id: int, event_id: int) -> None:
        d = webhook_deliveries.c
        statement = delete(webhook_deliveries).where(
            d.subscription_id == subscription_id, d.event_id == event_id
        )

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(statement)

        await self._writer.run(work)

    async def delivery_failed(
        self,
        delivery: Delivery,
        *,
        at: datetime,
        error: str,
        next_attempt_at: datetime,
        window_started_before: datetime,
    ) -> bool:
        """Note a failed attempt. True if it is dead-lettered: its window started before
        `window_started_before`; the expired deliveries queued behind it die with it."""
        aware(at, next_attempt_at, window_started_before)
        d = webhook_deliveries.c
        dead = delivery.created_at < window_started_before
        key = delivery.event.charge_point_id or ""
        this = and_(d.subscription_id == delivery.subscription_id, d.event_id == delivery.event.id)
        noted = update(webhook_deliveries).where(this, d.state == DeliveryState.PENDING)
        noted = noted.values(
            attempts=d.attempts + 1,
            last_attempt_at=at,
            last_error=error[:1000],
            next_attempt_at=next_attempt_at,
            state=DeliveryState.DEAD if dead else DeliveryState.PENDING,
        )
        expired = (
            update(webhook_deliveries)
            .where(
                d.subscription_id == delivery.subscription_id,
                d.queue_key == key,
                d.state == DeliveryState.PENDING,
                d.created_at < window_started_before,
            )
            .values(
                state=DeliveryState.DEAD,
                last_attempt_at=at,
                last_error="not attempted: the retry window ended while an earlier event"
                f" of the queue was failing ({error[:200]})",
            )
        )

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(noted)
            if dead:
                await connection.execute(expired)

        await self._writer.run(work)
        return dead

    async def dead_letters(self, subscription_id: int, limit: int = 500) -> list[Delivery]:
        d = webhook_deliveries.c
        statement = (
            select(webhook_deliveries, outbox_events)
            .join(outbox_events, outbox_events.c.id == d.event_id)
            .where(d.subscription_id == subscription_id, d.state == DeliveryState.DEAD)
            .order_by(d.event_id)
            .limit(limit)
        )
        return [_delivery(row) for row in await self._read(statement)]

    async def redeliver(
        self, subscription_id: int, event_ids: Sequence[int] | None, now: datetime
    ) -> int:
        """Dead letters (all, or these) pending again with a new retry window; how many."""
        aware(now)
        d = webhook_deliveries.c
        statement = update(webhook_deliveries).where(
            d.subscription_id == subscription_id, d.state == DeliveryState.DEAD
        )
        if event_ids is not None:
            statement = statement.where(d.event_id.in_(list(event_ids)))
        statement = statement.values(
            state=DeliveryState.PENDING, attempts=0, created_at=now, next_attempt_at=now
        )

        async def work(connection: AsyncConnection) -> int:
            return (await connection.execute(statement)).rowcount

        return await self._writer.run(work)

    async def webhook_backlog(self) -> dict[int, tuple[int, int]]:
        """Per subscription: (pending deliveries, dead letters)."""
        d = webhook_deliveries.c
        rows = await self._read(
            select(d.subscription_id, d.state, func.count().label("n")).group_by(
                d.subscription_id, d.state
            )
        )
        found: dict[int, tuple[int, int]] = {}
        for row in rows:
            subscription_id, count = row.subscription_id, int(row.n)
            pending, dead = found.get(subscription_id, (0, 0))
            if row.state == DeliveryState.DEAD:
                dead += count
            else:
                pending += count
            found[subscription_id] = (pending, dead)
        return found

    async def events_not_fanned_out(self) -> int:
        """Events committed that some enabled subscription has not been given yet (at most)."""
        s = webhook_subscriptions.c
        newest = select(func.coalesce(func.max(outbox_events.c.id), 0)).scalar_subquery()
        rows = await self._read(
            select(func.coalesce(func.max(newest - s.cursor), 0)).where(s.enabled)
        )
        return max(0, int(rows[0][0]))


async def _fan_out_one(
    connection: AsyncConnection, subscription: WebhookSubscription, now: datetime, limit: int
) -> int:
    events = (
        await connection.execute(
            select(outbox_events.c.id, outbox_events.c.kind, outbox_events.c.charge_point_id)
            .where(outbox_events.c.id > subscription.cursor)
            .order_by(outbox_events.c.id)
            .limit(limit)
        )
    ).all()
    if not events:
        return 0
    rows = [
        {
            "subscription_id": subscription.id,
            "event_id": event.id,
            "queue_key": event.charge_point_id or "",
            "state": DeliveryState.PENDING,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for event in events
        if matches(subscription.types, event.kind)
    ]
    if rows:
        await connection.execute(insert(webhook_deliveries), rows)
    await connection.execute(
        update(webhook_subscriptions)
        .where(webhook_subscriptions.c.id == subscription.id)
        .values(cursor=events[-1].id)
    )
    return len(rows)


def _types_text(types: tuple[str, ...] | None) -> str | None:
    return None if types is None else json.dumps(sorted(set(types)))


def _subscription(row: Row[Any]) -> WebhookSubscription:
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


def _event(row: Row[Any]) -> StoredEvent:
    values = row._mapping
    return StoredEvent(
        id=values[outbox_events.c.id],
        kind=values[outbox_events.c.kind],
        charge_point_id=values[outbox_events.c.charge_point_id],
        at=values[outbox_events.c.at],
        data=json.loads(values[outbox_events.c.data]),
    )


def _delivery(row: Row[Any]) -> Delivery:
    values = row._mapping
    d = webhook_deliveries.c
    return Delivery(
        subscription_id=values[d.subscription_id],
        event=_event(row),
        state=values[d.state],
        attempts=values[d.attempts],
        created_at=values[d.created_at],
        next_attempt_at=values[d.next_attempt_at],
        last_attempt_at=values[d.last_attempt_at],
        last_error=values[d.last_error],
    )
