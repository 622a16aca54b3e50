"""Which charge point timestamps are clearly wrong (docs/field-behaviour.md, "Replays and
clocks").

A charge point's clock may be unset after a power loss (1970, or its firmware's build date) or
far ahead (a bad time source). Its timestamps are stored as sent (spec 3.14) and flagged; a
flagged one does not order anything: the receipt time does instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

# Before this no OCPP 1.6 charge point was built: an unset clock.
EARLIEST: Final = datetime(2010, 1, 1, tzinfo=UTC)
# How far ahead of our receipt time a timestamp may be (clocks drift, time zones get
# mislabelled by hours); beyond this the charge point's clock is wrong.
MAX_AHEAD: Final = timedelta(days=1)


def clock_suspect(timestamp: datetime, received_at: datetime) -> bool:
    """Whether `timestamp` (the charge point's) is clearly wrong, received at `received_at`."""
    return timestamp < EARLIEST or timestamp > received_at + MAX_AHEAD
