"""/api/v1/webhooks: subscriptions to the durable outbox's events (docs/events-and-webhooks.md).

A subscription has a URL (http or https), an optional filter of event types (a kind such as
`transaction.stopped`, or the part before its dot: `transaction`; without one, every kind but
`meter`, which is only sent when named) and a secret for the signatures, which is written and
never read back. It gets the events committed after its creation. Its dead letters (events that
kept failing for the whole retry window) are listed and can be sent again.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, HTTPException, Path, Request, Response, status
from pydantic import Field, StrictBool, field_validator

from csms.api.deps import services_of
from csms.api.models import Model
from csms.features.outbox import TYPES
from csms.storage import Delivery, WebhookChange, WebhookSubscription
from csms.storage.sql_outbox import matches

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

SubscriptionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@]*):([^@]*)@")


def _check_url(url: str) -> str:
    """http or https, with a host; 422 naming the field otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("must name a host")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("has a port that is not a number") from None
    return url.strip()


def _check_types(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    if not types:
        raise ValueError("must name at least one type (leave it out for every type)")
    unknown = sorted(set(types) - TYPES)
    if unknown:
        raise ValueError(f"unknown types {', '.join(unknown)}; known: {', '.join(sorted(TYPES))}")
    return types


class WebhookIn(Model):
    url: str = Field(max_length=2000)
    types: list[str] | None = Field(default=None, max_length=100)
    secret: str = Field(min_length=16, max_length=256, description="write-only")
    description: str | None = Field(default=None, max_length=500)
    enabled: StrictBool = True

    _url = field_validator("url")(_check_url)
    _types = field_validator("types")(_check_types)


class WebhookPatch(Model):
    """Fields left out keep their value; `types: null` means every type (but meter)."""

    url: str | None = Field(default=None, max_length=2000)
    types: list[str] | None = Field(default=None, max_length=100)
    secret: str | None = Field(default=None, min_length=16, max_length=256)
    description: str | None = Field(default=None, max_length=500)
    enabled: StrictBool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        return None if url is None else _check_url(url)

    _types = field_validator("types")(_check_types)


class WebhookOut(Model):
    """A subscription (never its secret); `pending` and `deadLetters` count its deliveries."""

    id: int
    url: str
    types: list[str] | None
    description: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    pending: int
    dead_letters: int

    @classmethod
    def of(cls, subscription: WebhookSubscription, counts: tuple[int, int]) -> WebhookOut:
        return cls(
            id=subscription.id,
            url=_URL_PASSWORD.sub(r"\1:***@", subscription.url),
            types=None if subscription.types is None else list(subscription.types),
            description=subscription.description,
            enabled=subscription.enabled,
            created_at=subscription.created_at,
            updated_at=subscription.updated_at,
            pending=counts[0],
            dead_letters=counts[1],
        )


class DeadLetterOut(Model):
    event: dict[str, Any]
    attempts: int
    window_started_at: datetime
    last_attempt_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeadLetterOut:
        return cls(
            event=delivery.event.to_json(),
            attempts=delivery.attempts,
            window_started_at=delivery.created_at,
            last_attempt_at=delivery.last_attempt_at,
            last_error=delivery.last_error,
        )


class RedeliverIn(Model):
    """Which dead letters to send again (left out: all of them)."""

    event_ids: list[Annotated[int, Field(ge=1, le=2**62)]] | None = Field(
        default=None, max_length=10_000
    )


class Redelivered(Model):
    redelivered: int


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_webhook(request: Request, body: WebhookIn) -> WebhookOut:
    services = services_of(request)
    subscription = await services.store.create_webhook(
        url=body.url,
        types=None if body.types is None else tuple(body.types),
        secret=body.secret,
        description=body.description,
        enabled=body.enabled,
    )
    _changed(request, subscription)
    return WebhookOut.of(subscription, (0, 0))


@router.get("")
async def list_webhooks(request: Request) -> list[WebhookOut]:
    store = services_of(request).store
    counts = await store.webhook_backlog()
    return [WebhookOut.of(s, counts.get(s.id, (0, 0))) for s in await store.list_webhooks()]


@router.get("/{subscription_id}")
async def get_webhook(request: Request, subscription_id: SubscriptionId) -> WebhookOut:
    store = services_of(request).store
    subscription = await _known(request, subscription_id)
    counts = await store.webhook_backlog()
    return WebhookOut.of(subscription, counts.get(subscription_id, (0, 0)))


@router.patch("/{subscription_id}")
async def update_webhook(
    request: Request, subscription_id: SubscriptionId, body: WebhookPatch
) -> WebhookOut:
    services = services_of(request)
    fields = body.model_fields_set
    change = WebhookChange(
        url=body.url,
        types=None if body.types is None else tuple(body.types),
        all_types="types" in fields and body.types is None,
        secret=body.secret,
        description=("" if body.description is None else body.description)
        if "description" in fields
        else None,
        enabled=body.enabled,
    )
    subscription = await services.store.update_webhook(subscription_id, change)
    if subscription is None:
        raise _unknown(subscription_id)
    _changed(request, subscription)
    counts = await services.store.webhook_backlog()
    return WebhookOut.of(subscription, counts.get(subscription_id, (0, 0)))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(request: Request, subscription_id: SubscriptionId) -> Response:
    services = services_of(request)
    if not await services.store.delete_webhook(subscription_id):
        raise _unknown(subscription_id)
    _changed(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{subscription_id}/dead-letters")
async def list_dead_letters(
    request: Request, subscription_id: SubscriptionId
) -> list[DeadLetterOut]:
    """Oldest first (at most 500)."""
    await _known(request, subscription_id)
    found = await services_of(request).store.dead_letters(subscription_id)
    return [DeadLetterOut.of(delivery) for delivery in found]


@router.post("/{subscription_id}/dead-letters/redeliver")
async def redeliver(
    request: Request,
    subscription_id: SubscriptionId,
    body: Annotated[RedeliverIn | None, Body()] = None,
) -> Redelivered:
    """Send dead letters again, each with a new retry window. They go out in event order per
    charge point among themselves, but after what that charge point's queue sent since."""
    services = services_of(request)
    await _known(request, subscription_id)
    event_ids = None if body is None else body.event_ids
    count = await services.store.redeliver(subscription_id, event_ids, services.clock.now())
    _changed(request)
    return Redelivered(redelivered=count)


async def _known(request: Request, subscription_id: int) -> WebhookSubscription:
    subscription = await services_of(request).store.get_webhook(subscription_id)
    if subscription is None:
        raise _unknown(subscription_id)
    return subscription


def _unknown(subscription_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown webhook {subscription_id}")


def _changed(request: Request, subscription: WebhookSubscription | None = None) -> None:
    """The deliverer reads the subscriptions again now (meter events wanted, new URLs). A
    subscription that wants meter events turns them on at once, so that it gets every one
    committed after its answer, not only those after the deliverer's next round."""
    if subscription is not None and subscription.enabled and matches(subscription.types, "meter"):
        services_of(request).meter_events_wanted = True
    deliverer = getattr(request.app.state, "deliverer", None)
    if deliverer is not None:
        deliverer.wake()
