"""Webhook deliveries (docs/events-and-webhooks.md, "Delivery"): the outbox's events fanned out
to each subscription, attempted oldest first per (subscription, charge point), retried,
dead-lettered and redelivered. A mixin of SqlStore (the outbox and subscriptions: sql_outbox.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.event_records import Delivery, DeliveryState, WebhookSubscription
from csms.storage.schema import outbox_events, webhook_deliveries, webhook_subscriptions
from csms.storage.sql_base import SqlBase, aware
from csms.storage.sql_outbox import matches, stored_event, subscription_of


class DeliveriesStore(SqlBase):
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
                made += await _fan_out_one(connection, subscription_of(row), now, limit)
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
        """Note a failed attempt. True if this attempt dead-lettered it: its window started
        before `window_started_before`; the expired deliveries queued behind it die with it.
        False, and nothing noted, if it was no longer pending."""
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

        async def work(connection: AsyncConnection) -> bool:
            # Not pending any more (an attempt from a list read before another attempt of the
            # same delivery dead-lettered it): nothing is noted, and it is not dead again.
            if (await connection.execute(noted)).rowcount == 0:
                return False
            if dead:
                await connection.execute(expired)
            return dead

        return await self._writer.run(work)

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


def _delivery(row: Row[Any]) -> Delivery:
    values = row._mapping
    d = webhook_deliveries.c
    return Delivery(
        subscription_id=values[d.subscription_id],
        event=stored_event(row),
        state=values[d.state],
        attempts=values[d.attempts],
        created_at=values[d.created_at],
        next_attempt_at=values[d.next_attempt_at],
        last_attempt_at=values[d.last_attempt_at],
        last_error=values[d.last_error],
    )
