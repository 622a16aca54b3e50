"""The live event bus (docs/live-events.md): what happens at the charge points, as it happens,
for the operator console's live views (GET /api/v1/events, Server-Sent Events).

`publish()` never blocks and never fails: an event is numbered and put in a ring buffer of the
last `capacity` events, and subscribers waiting for news are woken. A subscription is only a
cursor into that buffer, so memory does not grow with slow subscribers: one that falls more than
the buffer behind (or resumes from an id the buffer no longer holds) gets a `reset` event and
goes on with the newest events. Event ids increase monotonically, also across restarts (they
start from the clock in microseconds), so that an id from an earlier run is never taken for one
of this run.

"message" events (every frame, for the live message log) are published only while a
subscription asked for them by name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from csms.storage.event_records import event_json

# Events kept for subscribers that resume or fall behind.
CAPACITY = 10_000
# Only delivered to subscriptions that name it in their types.
MESSAGE = "message"
RESET = "reset"
# What is published (docs/live-events.md), and the names a subscription may ask for.
KINDS = frozenset(
    {
        "connected",
        "disconnected",
        "booted",
        "status",
        "transaction.started",
        "transaction.stopped",
        "meter",
        "command.sent",
        "command.answered",
        "unknown",
        MESSAGE,
    }
)
TYPES = KINDS | {kind.partition(".")[0] for kind in KINDS}


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: str
    charge_point_id: str | None
    at: datetime
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return event_json(self.id, self.kind, self.charge_point_id, self.at, self.data)


@dataclass(slots=True)
class _Throttle:
    timer: asyncio.TimerHandle | None = None
    pending: tuple[str, str | None, dict[str, Any]] | None = None


class EventBus:
    def __init__(
        self,
        *,
        capacity: int = CAPACITY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        first_id: int | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._ring: list[Event | None] = [None] * capacity
        self._clock = clock
        start = time.time_ns() // 1000 if first_id is None else first_id
        # Ids start + 0 .. _next - 1 were published; the ring holds the last `capacity` of them.
        self._start = start
        self._next = start
        self._wakeup = asyncio.Event()
        self._closed = False
        self._message_subscribers = 0
        self._throttles: dict[Hashable, _Throttle] = {}
        # Figures for tests and metrics.
        self.subscribers = 0

    # -- publishing ----------------------------------------------------------------------------

    @property
    def last_id(self) -> int:
        """The id of the newest event (start - 1 before the first)."""
        return self._next - 1

    @property
    def closed(self) -> bool:
        return self._closed

    def wants(self, kind: str) -> bool:
        """Whether an event of this kind would be published now (skip building it if not)."""
        if self._closed:
            return False
        return kind != MESSAGE or self._message_subscribers > 0

    def publish(self, kind: str, charge_point_id: str | None, data: dict[str, Any]) -> None:
        if not self.wants(kind):
            return
        event = Event(self._next, kind, charge_point_id, self._clock(), data)
        self._ring[event.id % self._capacity] = event
        self._next += 1
        self._wake()

    def publish_throttled(
        self,
        key: Hashable,
        interval: float,
        kind: str,
        charge_point_id: str | None,
        data: dict[str, Any],
    ) -> None:
        """Publish at most one event per `interval` seconds for `key`: the first at once, and
        of those coming within the interval after it the latest when the interval is over."""
        if self._closed:
            return
        throttle = self._throttles.get(key)
        if throttle is not None:
            throttle.pending = (kind, charge_point_id, data)
            return
        self.publish(kind, charge_point_id, data)
        self._throttles[key] = throttle = _Throttle()
        throttle.timer = asyncio.get_running_loop().call_later(
            interval, self._throttle_due, key, interval
        )

    def _throttle_due(self, key: Hashable, interval: float) -> None:
        throttle = self._throttles[key]
        if throttle.pending is None or self._closed:
            del self._throttles[key]
            return
        kind, charge_point_id, data = throttle.pending
        throttle.pending = None
        self.publish(kind, charge_point_id, data)
        throttle.timer = asyncio.get_running_loop().call_later(
            interval, self._throttle_due, key, interval
        )

    def _wake(self) -> None:
        if self.subscribers:
            self._wakeup.set()
            self._wakeup = asyncio.Event()

    def close(self) -> None:
        """End every subscription (their streams finish) and publish nothing more."""
        self._closed = True
        for throttle in self._throttles.values():
            if throttle.timer is not None:
                throttle.timer.cancel()
        self._throttles.clear()
        self._wakeup.set()

    # -- subscribing ---------------------------------------------------------------------------

    def subscribe(
        self,
        *,
        charge_point_id: str | None = None,
        types: Collection[str] | None = None,
        last_event_id: int | None = None,
    ) -> Subscription:
        """Events after `last_event_id` (None: only those published from now on), of this
        charge point (None: all) and of these types (a kind, or the part of a kind before its
        dot: "transaction" for "transaction.started"; None: all but "message")."""
        return Subscription(self, charge_point_id, types, last_event_id)

    def recent(self, types: Collection[str] | None = None) -> list[Event]:
        """The events still kept (of these types, as in `subscribe`), oldest first: what a
        page shows of the recent past (the console's alerts)."""
        with self.subscribe(types=types, last_event_id=self._oldest() - 1) as subscription:
            return subscription.ready()

    def _oldest(self) -> int:
        return max(self._start, self._next - self._capacity)

    def _event(self, event_id: int) -> Event:
        event = self._ring[event_id % self._capacity]
        assert event is not None and event.id == event_id
        return event


class Subscription:
    __slots__ = ("_bus", "_charge_point_id", "_closed", "_cursor", "_reset_from", "_types")

    def __init__(
        self,
        bus: EventBus,
        charge_point_id: str | None,
        types: Collection[str] | None,
        last_event_id: int | None,
    ) -> None:
        self._bus = bus
        self._charge_point_id = charge_point_id
        self._types = None if types is None else frozenset(types)
        self._reset_from = None
        self._closed = False
        if last_event_id is None:
            self._cursor = bus.last_id
        elif bus._oldest() - 1 <= last_event_id <= bus.last_id:
            self._cursor = last_event_id
        else:  # older than the buffer, or not of this run
            self._cursor = bus.last_id
            self._reset_from = last_event_id
        bus.subscribers += 1
        if self._types is not None and MESSAGE in self._types:
            bus._message_subscribers += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._bus.subscribers -= 1
        if self._types is not None and MESSAGE in self._types:
            self._bus._message_subscribers -= 1

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _matches(self, event: Event) -> bool:
        if self._charge_point_id is not None and event.charge_point_id != self._charge_point_id:
            return False
        if self._types is None:
            return event.kind != MESSAGE
        return event.kind in self._types or event.kind.partition(".")[0] in self._types

    def _reset(self, missed_after: int) -> Event:
        bus = self._bus
        self._cursor = bus.last_id
        return Event(
            bus.last_id,
            RESET,
            None,
            bus._clock(),
            {"lastEventId": missed_after, "reason": "events since lastEventId are not kept"},
        )

    def ready(self) -> list[Event]:
        """The events waiting for this subscription (a `reset` first if some were lost)."""
        bus = self._bus
        if self._reset_from is not None:
            missed, self._reset_from = self._reset_from, None
            return [self._reset(missed)]
        if self._cursor < bus._oldest() - 1:  # fell behind by more than the buffer
            return [self._reset(self._cursor)]
        events = [
            event
            for event in map(bus._event, range(self._cursor + 1, bus._next))
            if self._matches(event)
        ]
        self._cursor = bus.last_id
        return events

    async def next(self, timeout: float) -> list[Event] | None:
        """The next events; [] if none came within `timeout` seconds; None once the bus is
        closed (the stream is over)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            events = self.ready()
            if events:
                return events
            if self._bus._closed:
                return None
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return []
            wakeup = self._bus._wakeup
            try:
                async with asyncio.timeout(remaining):
                    await wakeup.wait()
            except TimeoutError:
                return []
