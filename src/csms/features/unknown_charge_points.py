"""Unknown charge points that tried to connect and were refused (J 3.2: HTTP 404 under the
reject policy, or an id that looks like a known one), for the operator to approve or dismiss
from the console (docs/console.md).

Held in memory, bounded (the CAPACITY most recently seen ids, one entry per id however often it
tries), so the handshake never waits for the database; kept in the database too, so that the
approval page survives a restart: `keep_unknown_charge_points` is the owned task (started by
app.py, docs/architecture.md rule 4) that writes what changed every FLUSH_EVERY seconds, at
most one write then whatever the number of attempts, and deletes ids not seen for
RETENTION_DAYS. A refusal's time comes from the injectable clock (Services.clock)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from csms.events import EventBus
from csms.storage import Store, UnknownChargePointAttempt

log = logging.getLogger(__name__)

# Ids remembered at most (in memory and in the database); the least recently seen go first.
CAPACITY = 1000
# The reason shown is cut to this many characters.
REASON_LENGTH = 200
# Changes are written this often; ids not seen for RETENTION_DAYS are deleted every PRUNE_EVERY.
FLUSH_EVERY = 2.0
RETENTION_DAYS = 30
PRUNE_EVERY = 3600.0


@dataclass(slots=True)
class Attempt:
    charge_point_id: str
    first_at: datetime
    last_at: datetime
    attempts: int
    reason: str

    def record(self) -> UnknownChargePointAttempt:
        return UnknownChargePointAttempt(
            charge_point_id=self.charge_point_id,
            first_at=self.first_at,
            last_at=self.last_at,
            attempts=self.attempts,
            reason=self.reason,
        )


def _system_now() -> datetime:
    return datetime.now(UTC)


class UnknownChargePoints:
    def __init__(
        self,
        capacity: int = CAPACITY,
        clock: Callable[[], datetime] = _system_now,
        events: EventBus | None = None,
    ) -> None:
        self._capacity = capacity
        self._clock = clock
        # An "unknown" event for each refusal and decision (docs/live-events.md).
        self._events = events
        self._attempts: OrderedDict[str, Attempt] = OrderedDict()
        # What changed since the last write: ids to write, ids to delete.
        self._changed: set[str] = set()
        self._gone: set[str] = set()
        self._writing = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._attempts)

    def refused(self, charge_point_id: str, reason: str, at: datetime | None = None) -> None:
        now = at or self._clock()
        reason = reason[:REASON_LENGTH]
        attempt = self._attempts.pop(charge_point_id, None)
        if attempt is None:
            attempt = Attempt(charge_point_id, now, now, 0, reason)
        attempt.last_at, attempt.reason = now, reason
        attempt.attempts += 1
        self._attempts[charge_point_id] = attempt
        self._changed.add(charge_point_id)
        self._gone.discard(charge_point_id)
        while len(self._attempts) > self._capacity:
            oldest, _ = self._attempts.popitem(last=False)
            self._note_gone(oldest)
        self._publish(charge_point_id, {"reason": reason, "attempts": attempt.attempts})

    def forget(self, charge_point_id: str) -> bool:
        known = self._attempts.pop(charge_point_id, None) is not None
        self._note_gone(charge_point_id)
        if known:
            self._publish(charge_point_id, {"forgotten": True})
        return known

    def _publish(self, charge_point_id: str, data: dict[str, object]) -> None:
        if self._events is not None:
            self._events.publish("unknown", charge_point_id, {**data, "waiting": len(self)})

    def _note_gone(self, charge_point_id: str) -> None:
        self._changed.discard(charge_point_id)
        self._gone.add(charge_point_id)

    def list(self) -> list[Attempt]:
        """Most recently seen first."""
        return list(reversed(self._attempts.values()))

    async def load(self, store: Store) -> None:
        """Fill from the database (at start-up): the ids refused before a restart."""
        stored = await store.list_unknown_charge_points(self._capacity)
        loaded: OrderedDict[str, Attempt] = OrderedDict(
            (
                r.charge_point_id,
                Attempt(r.charge_point_id, r.first_at, r.last_at, r.attempts, r.reason),
            )
            for r in reversed(stored)
        )
        # Refused again meanwhile: the newer entry stays, the most recent.
        for charge_point_id, attempt in self._attempts.items():
            loaded.pop(charge_point_id, None)
            loaded[charge_point_id] = attempt
        while len(loaded) > self._capacity:
            loaded.popitem(last=False)
        self._attempts = loaded

    async def flush(self, store: Store) -> None:
        """Write what changed since the last flush (one transaction)."""
        async with self._writing:
            if not self._changed and not self._gone:
                return
            changed = [self._attempts[i].record() for i in self._changed if i in self._attempts]
            gone = sorted(self._gone)
            self._changed, self._gone = set(), set()
            try:
                await store.save_unknown_charge_points(changed, gone, self._capacity)
            except BaseException:
                # Not written: tried again with the next flush.
                self._changed.update(a.charge_point_id for a in changed)
                self._gone.update(gone)
                raise

    async def prune(self, store: Store, before: datetime) -> int:
        """Forget the ids last seen before `before`, here and in the database."""
        for attempt in [a for a in self._attempts.values() if a.last_at < before]:
            del self._attempts[attempt.charge_point_id]
            self._changed.discard(attempt.charge_point_id)
        return await store.prune_unknown_charge_points(before)


async def keep_unknown_charge_points(
    unknown: UnknownChargePoints, store: Store, clock: Callable[[], datetime]
) -> None:
    """The owned task: write the changes every FLUSH_EVERY seconds, prune every PRUNE_EVERY
    (first at start). Cancelled at shutdown, after which app.py flushes once more."""
    prune_at = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            if loop.time() >= prune_at:
                pruned = await unknown.prune(store, clock() - timedelta(days=RETENTION_DAYS))
                if pruned:
                    log.info(
                        "forgot %d unknown charge points not seen for %d days",
                        pruned,
                        RETENTION_DAYS,
                    )
                prune_at = loop.time() + PRUNE_EVERY
            await unknown.flush(store)
        except Exception:  # task boundary: the next round tries again
            log.exception("keeping the unknown charge points failed")
        await asyncio.sleep(FLUSH_EVERY)
