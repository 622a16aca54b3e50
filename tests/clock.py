"""A clock the test sets (Services.clock, or any `now` a task takes): it says `moment`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Clock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment
