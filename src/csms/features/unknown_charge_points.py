"""Unknown charge points that tried to connect and were refused (J 3.2: HTTP 404 under the
reject policy, or an id that looks like a known one), for the operator to approve or dismiss
from the console (docs/console.md). Kept in memory, bounded: the most recent attempts."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

# Ids remembered at most; the least recently seen go first.
CAPACITY = 1000


@dataclass(slots=True)
class Attempt:
    charge_point_id: str
    first_at: datetime
    last_at: datetime
    attempts: int
    reason: str


class UnknownChargePoints:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._attempts: OrderedDict[str, Attempt] = OrderedDict()

    def __len__(self) -> int:
        return len(self._attempts)

    def refused(self, charge_point_id: str, reason: str, at: datetime | None = None) -> None:
        now = at or datetime.now(UTC)
        attempt = self._attempts.pop(charge_point_id, None)
        if attempt is None:
            attempt = Attempt(charge_point_id, now, now, 0, reason)
        attempt.last_at, attempt.reason = now, reason
        attempt.attempts += 1
        self._attempts[charge_point_id] = attempt
        while len(self._attempts) > self._capacity:
            self._attempts.popitem(last=False)

    def forget(self, charge_point_id: str) -> bool:
        return self._attempts.pop(charge_point_id, None) is not None

    def list(self) -> list[Attempt]:
        """Most recently seen first."""
        return list(reversed(self._attempts.values()))
