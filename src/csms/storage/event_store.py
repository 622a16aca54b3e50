"""The part of the Store protocol (store.py) for the durable outbox, webhook subscriptions and
alerts (docs/events-and-webhooks.md); implemented by sql_outbox.py and sql_alerts.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from csms.storage.event_records import (
    Alert,
    Delivery,
    OutboxEvent,
    StoredEvent,
    WebhookChange,
    WebhookSubscription,
)


class EventStore(Protocol):
    # -- the outbox ----------------------------------------------------------------------------

    async def record_events(self, events: Sequence[OutboxEvent]) -> None:
        """Events that report no other stored change (connected, command answered)."""

    async def events_after(
        self, after: int, *, limit: int = 500, charge_point_id: str | None = None
    ) -> list[StoredEvent]:
        """Outbox events with an id above `after`, oldest first."""

    async def last_event_id(self) -> int:
        """The newest outbox event's id (0: none)."""

    async def event_id_range(self) -> tuple[int, int]:
        """The oldest and the newest outbox event's id kept ((0, 0): none)."""

    async def prune_outbox(self, before: datetime) -> int:
        """Delete events older than `before` that every subscription was given and none still
        has to deliver; how many went."""

    async def prune_dead_letters(self, before: datetime) -> int:
        """Delete dead letters last attempted before `before`; how many went."""

    # -- webhook subscriptions -----------------------------------------------------------------

    async def create_webhook(
        self,
        *,
        url: str,
        types: tuple[str, ...] | None,
        secret: str,
        description: str | None,
        enabled: bool,
    ) -> WebhookSubscription:
        """A new subscription, given the events committed after it."""

    async def list_webhooks(self) -> list[WebhookSubscription]: ...

    async def get_webhook(self, subscription_id: int) -> WebhookSubscription | None: ...

    async def update_webhook(
        self, subscription_id: int, change: WebhookChange
    ) -> WebhookSubscription | None:
        """None if there is no such subscription."""

    async def delete_webhook(self, subscription_id: int) -> bool:
        """Its deliveries and dead letters go with it."""

    # -- deliveries ----------------------------------------------------------------------------

    async def fan_out(self, now: datetime, limit: int = 1000) -> int:
        """Pending deliveries for the new events each enabled subscription's filter takes."""

    async def due_deliveries(self, now: datetime, limit: int = 200) -> list[Delivery]:
        """The oldest pending delivery of each (subscription, charge point), if due."""

    async def delivery_done(self, subscription_id: int, event_id: int) -> None: ...

    async def delivery_failed(
        self,
        delivery: Delivery,
        *,
        at: datetime,
        error: str,
        next_attempt_at: datetime,
        window_started_before: datetime,
    ) -> bool:
        """Note a failed attempt; True if dead-lettered (with the expired ones behind it)."""

    async def dead_letters(self, subscription_id: int, limit: int = 500) -> list[Delivery]: ...

    async def redeliver(
        self, subscription_id: int, event_ids: Sequence[int] | None, now: datetime
    ) -> int:
        """Dead letters (all, or these) pending again with a new retry window; how many."""

    async def webhook_backlog(self) -> dict[int, tuple[int, int]]:
        """Per subscription: (pending deliveries, dead letters)."""

    async def events_not_fanned_out(self) -> int:
        """Events some enabled subscription has not been given yet (at most)."""

    # -- alerts --------------------------------------------------------------------------------

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
        """The new alert with its alert.raised event, or None if the same one is active."""

    async def clear_alert(
        self,
        kind: str,
        charge_point_id: str | None,
        subject: str,
        *,
        at: datetime,
        reason: str,
    ) -> Alert | None:
        """The alert cleared (with its alert.cleared event), or None if none was active."""

    async def clear_alert_by_id(
        self, alert_id: int, *, at: datetime, reason: str
    ) -> Alert | None: ...

    async def get_alert(self, alert_id: int) -> Alert | None: ...

    async def list_alerts(
        self,
        *,
        active: bool | None = None,
        charge_point_id: str | None = None,
        kind: str | None = None,
        limit: int = 500,
    ) -> list[Alert]:
        """Newest first."""
