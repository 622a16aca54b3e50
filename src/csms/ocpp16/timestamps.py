"""OCPP dateTime values on the wire (spec 3.14-3.15: ISO 8601, UTC recommended).

What we send is strict: UTC, millisecond precision, "Z" (for example
"2026-11-21T14:03:32.123Z"). What we accept is lenient, as spec 3.15 asks and real chargers
need: any length of fractional seconds (cut to microseconds), "Z" or a numeric offset
("+00:00", "+0100", "+01"), lower-case "t"/"z", a space instead of "T", and no offset at all,
which is read as UTC. Anything else, including impossible dates and leap seconds, is not a
timestamp.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Final

# The extended ISO 8601 calendar date-time only; `datetime.fromisoformat` alone would also take
# week dates, the basic format and date-only strings.
_SHAPE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:[.,][0-9]+)?(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)


# Cached because decoding parses each timestamp twice: once when the schema checks the
# "date-time" format, once when the payload becomes a message.
@functools.lru_cache(maxsize=1024)
def parse_timestamp(text: str) -> datetime | None:
    """The aware UTC datetime `text` stands for, or None if it is not a timestamp we accept."""
    if _SHAPE.fullmatch(text) is None:
        return None
    try:
        # Python 3.11 reads "Z", any number of fraction digits and every offset form above,
        # but only upper-case separators.
        value = datetime.fromisoformat(text.upper())
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def is_timestamp(value: object) -> bool:
    """Whether `value` is a string `parse_timestamp` accepts (the schema "date-time" format)."""
    return isinstance(value, str) and parse_timestamp(value) is not None


def format_timestamp(value: datetime) -> str:
    """`value` in UTC with milliseconds and "Z"; sub-millisecond digits are cut, not rounded.

    A naive datetime is taken to be UTC already (as stored by databases without time zones).
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat of an aware UTC value ends in "+00:00"; the year is always four digits.
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"
