"""Records of the durable outbox, the webhook subscriptions and the alerts
(docs/events-and-webhooks.md). Plain values, like records.py, without SQLAlchemy."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An event to write in the same transaction as the change it reports."""

    kind: str
    charge_point_id: str | None
    at: datetime
    data: Mapping[str, Any]


T = TypeVar("T")

# The events of a write whose result they depend on (the transaction id a start got, whether a
# stop changed anything): called inside the write's transaction with its result.
EventsOf = Callable[[T], Sequence[OutboxEvent]]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An outbox row: `id` increases in commit order (one writer)."""

    id: int
    kind: str
    charge_point_id: str | None
    at: datetime
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return event_json(self.id, self.kind, self.charge_point_id, self.at, self.data)


def event_json(
    event_id: int, kind: str, charge_point_id: str | None, at: datetime, data: Any
) -> dict[str, Any]:
    """An event as JSON, the outbox's and the live bus's (events.py) alike."""
    return {
        "id": event_id,
        "type": kind,
        "chargePointId": charge_point_id,
        "time": at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    id: int
    url: str
    # Event kinds or their prefixes ("transaction"); None: every kind but "meter".
    types: tuple[str, ...] | None
    secret: str
    description: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    # The newest outbox event id considered for this subscription (fanned out to deliveries).
    cursor: int


@dataclass(frozen=True, slots=True)
class WebhookChange:
    """The fields an update sets (None: unchanged; description "" clears it)."""

    url: str | None = None
    types: tuple[str, ...] | None = None
    all_types: bool = False  # set types to None (every kind but meter)
    secret: str | None = None
    description: str | None = None
    enabled: bool | None = None


class DeliveryState(StrEnum):
    PENDING = "pending"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event to deliver to one subscription, until delivered (then deleted) or dead."""

    subscription_id: int
    event: StoredEvent
    state: str  # a DeliveryState
    attempts: int
    # The retry window starts here (when the event was fanned out, or redelivered).
    created_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str
    charge_point_id: str | None
    # What on the charge point: "" for the charge point itself, "connector 2", "job 7".
    subject: str
    message: str
    data: dict[str, Any]
    raised_at: datetime
    cleared_at: datetime | None
    clear_reason: str | None

    @property
    def active(self) -> bool:
        return self.cleared_at is None
