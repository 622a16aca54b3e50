from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SteppedClock:
    """Services.clock for tests: the real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)
