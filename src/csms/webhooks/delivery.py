"""The webhook deliverer (docs/events-and-webhooks.md): one owned task (started and cancelled
by app.py, docs/architecture.md rule 4) that, every webhook_poll_interval seconds:

1. gives each enabled subscription the new outbox events its filter takes (store.fan_out);
2. starts an attempt for the oldest due delivery of each (subscription, charge point) queue:
   one at a time per queue, so that one charge point's events arrive in commit order; at most
   webhook_concurrency at a time per subscription, so that a slow receiver holds up only its
   own deliveries; each POST within webhook_timeout seconds, its response body never read;
3. prunes, hourly, the events every subscription was given (after event_retention_days) and
   old dead letters (after webhook_dead_letter_days).

A 2xx answer deletes the delivery. Anything else (another status, a timeout, a refused
connection) is retried after an exponential backoff with jitter (webhook_retry_min_interval
doubling up to webhook_retry_max_interval) until webhook_retry_window seconds have passed
since the event was given to the subscription; then it is dead-lettered (listed and redelivered
through the API). Every attempt of one event carries the same X-CSMS-Event-Id: a receiver that
got an event whose answer was lost gets it again and recognises it. Times come from
Services.clock, so tests drive the retry window without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import time
from datetime import datetime, timedelta

import httpx

from csms import __version__
from csms.features.context import Services
from csms.settings import Settings
from csms.storage import Delivery, WebhookSubscription
from csms.storage.sql_outbox import matches
from csms.webhooks.signing import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

log = logging.getLogger("csms.webhooks")

PRUNE_EVERY = 3600.0  # seconds (monotonic)
ROUNDS_PER_SECOND = 100
# Fan-out calls per round at most (each gives every subscription up to 1000 events).
FAN_OUT_CALLS = 10
DUE_PER_ROUND = 500


class Deliverer:
    def __init__(self, services: Services, *, transport: httpx.AsyncBaseTransport | None = None):
        self._services = services
        self._transport = transport
        self._in_flight: dict[tuple[int, str], asyncio.Task[None]] = {}
        self._per_subscription: dict[int, int] = {}
        self._subscriptions: dict[int, WebhookSubscription] = {}
        self._last_prune = -PRUNE_EVERY
        self._wakeup = asyncio.Event()
        # Figures for tests.
        self.rounds = 0

    def wake(self) -> None:
        """Look for work now (a subscription changed, dead letters redelivered)."""
        self._wakeup.set()

    async def run(self) -> None:
        settings = self._services.settings
        timeout = httpx.Timeout(settings.webhook_timeout)
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, transport=self._transport
        ) as client:
            try:
                while True:
                    try:
                        await self.round(client)
                    except Exception:  # the database away for a while: try again next round
                        log.exception("webhook delivery round failed")
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(settings.webhook_poll_interval):
                            await self._wakeup.wait()
                    self._wakeup.clear()
                    # Woken by each finished attempt: at most ROUNDS_PER_SECOND rounds.
                    await asyncio.sleep(1 / ROUNDS_PER_SECOND)
            finally:
                tasks = list(self._in_flight.values())
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def round(self, client: httpx.AsyncClient) -> None:
        services = self._services
        store = services.store
        now = services.clock.now()
        self.rounds += 1
        await self._prune(now)
        subscriptions = await store.list_webhooks()
        self._subscriptions = {s.id: s for s in subscriptions if s.enabled}
        services.meter_events_wanted = any(
            matches(s.types, "meter") for s in self._subscriptions.values()
        )
        if not self._subscriptions:
            return
        # A write only when some subscription has not been given the newest event yet.
        if min(s.cursor for s in self._subscriptions.values()) < await store.last_event_id():
            for _ in range(FAN_OUT_CALLS):
                await store.fan_out(now)
                if not await store.events_not_fanned_out():
                    break
        limit = services.settings.webhook_concurrency
        for delivery in await store.due_deliveries(now, DUE_PER_ROUND):
            subscription = self._subscriptions.get(delivery.subscription_id)
            key = (delivery.subscription_id, delivery.event.charge_point_id or "")
            busy = self._per_subscription.get(delivery.subscription_id, 0)
            if subscription is None or key in self._in_flight or busy >= limit:
                continue
            self._per_subscription[delivery.subscription_id] = busy + 1
            task = asyncio.create_task(
                self._attempt(client, subscription, delivery),
                name=f"csms.webhook {subscription.id} {delivery.event.id}",
            )
            self._in_flight[key] = task
            task.add_done_callback(functools.partial(self._finished, key))

    def _finished(self, key: tuple[int, str], task: asyncio.Task[None]) -> None:
        self._in_flight.pop(key, None)
        left = self._per_subscription.get(key[0], 1) - 1
        if left > 0:
            self._per_subscription[key[0]] = left
        else:
            self._per_subscription.pop(key[0], None)
        self._wakeup.set()  # the queue's next event may go now

    async def _attempt(
        self, client: httpx.AsyncClient, subscription: WebhookSubscription, delivery: Delivery
    ) -> None:
        services = self._services
        error = await post(client, subscription, delivery, services.clock.now())
        now = services.clock.now()
        try:
            if error is None:
                await services.store.delivery_done(subscription.id, delivery.event.id)
                services.metrics.webhook_delivered("delivered")
                return
            settings = services.settings
            dead = await services.store.delivery_failed(
                delivery,
                at=now,
                error=error,
                next_attempt_at=now + timedelta(seconds=backoff(delivery.attempts, settings)),
                window_started_before=now - timedelta(seconds=settings.webhook_retry_window),
            )
        except Exception as exc:  # shutting down: attempted again after restart
            log.warning("could not record a webhook delivery: %r", exc)
            return
        services.metrics.webhook_delivered("dead" if dead else "failed")
        log.log(
            logging.WARNING if dead else logging.INFO,
            "webhook %d event %d to %s: %s%s",
            subscription.id,
            delivery.event.id,
            subscription.url,
            error,
            " (dead-lettered)" if dead else "",
        )

    async def _prune(self, now: datetime) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = time.monotonic()
        settings = self._services.settings
        store = self._services.store
        events = await store.prune_outbox(now - timedelta(days=settings.event_retention_days))
        dead = await store.prune_dead_letters(
            now - timedelta(days=settings.webhook_dead_letter_days)
        )
        if events or dead:
            log.info("pruned %d delivered events and %d dead letters", events, dead)


async def post(
    client: httpx.AsyncClient,
    subscription: WebhookSubscription,
    delivery: Delivery,
    now: datetime,
) -> str | None:
    """One attempt: None if the receiver answered 2xx, else what went wrong."""
    event = delivery.event
    body = json.dumps(event.to_json(), separators=(",", ":")).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"csms/{__version__}",
        EVENT_ID_HEADER: str(event.id),
        EVENT_TYPE_HEADER: event.kind,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
        ATTEMPT_HEADER: str(delivery.attempts + 1),
    }
    try:
        # The whole exchange within the timeout (httpx's own is per read); the body unread.
        async with asyncio.timeout(client.timeout.read or 10.0):
            async with client.stream(
                "POST", subscription.url, content=body, headers=headers
            ) as response:
                status = response.status_code
    except TimeoutError:
        return "timed out"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if 200 <= status < 300 else f"HTTP {status}"


def backoff(attempts: int, settings: Settings) -> float:
    """Seconds before the next attempt after `attempts` earlier failed ones and this one: the
    minimum interval doubled per attempt, capped at the maximum, times a jitter in [0.5, 1]."""
    low = settings.webhook_retry_min_interval
    high = settings.webhook_retry_max_interval
    base = min(high, low * 2.0 ** min(attempts, 40))
    return base * random.uniform(0.5, 1.0)
