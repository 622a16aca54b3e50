"""Clocks of charge points whose time is wrong (docs/simulator-misbehaviours.md).

A charge point stamps its messages with its own clock (spec 3.14, 4.8, 4.9, 4.10), and real ones
are often off: minutes or hours out before their first time sync, or back at 1970 after a power
loss without a real-time clock battery. Each function returns a clock for
`SimulatedChargePoint(clock=...)` or `set_clock()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def skewed(offset_seconds: float, base: Clock | None = None) -> Clock:
    """The time `offset_seconds` ahead of the real one (behind when negative)."""
    offset = timedelta(seconds=offset_seconds)
    now = base or (lambda: datetime.now(UTC))
    return lambda: now() + offset


def since(start: datetime = EPOCH) -> Clock:
    """A clock that was reset to `start` (default 1970-01-01T00:00:00Z) when made and runs on
    from there, as one without a battery does after a power loss."""
    started = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - started)
