"""The query of the transactions API (api/transactions.py): filters, an opaque cursor, a bounded
page size, a time zone; each bad value a 422 naming its field, as FastAPI's own (api/errors.py).

    chargePointId, idTag      one charge point, one idTag (case-insensitive)
    from, to                  started in [from, to) by the charge point's clock: ISO 8601, a
                              date or a time without offset being local time in `tz`
    active                    true: running; false: stopped or ended
    tz                        an IANA time zone (default UTC): day boundaries of the summary
    cursor, limit             the page after a cursor (from the Link header), limit 1..1000
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated, Any, Final, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError

from csms.storage import TransactionFilter

MAX_LIMIT: Final = 1000
# The times a query may name (the day arithmetic stays far from datetime's limits).
EARLIEST: Final = datetime(1900, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(3000, 1, 1, tzinfo=UTC)
DEFAULT_LIMIT: Final = 100
FILTERS: Final = frozenset(
    {"chargePointId", "idTag", "from", "to", "active", "tz"}
    | {"charge_point_id", "id_tag", "since", "until"}  # earlier names
)
PAGING: Final = frozenset({"cursor", "limit"})
_CURSOR = re.compile(r"t([1-9][0-9]{0,18})")


def refuse(field: str, message: str, value: Any = None) -> NoReturn:
    """A 422 naming the query parameter, shaped as FastAPI's own validation errors."""
    raise RequestValidationError(
        [{"type": "value_error", "loc": ("query", field), "msg": message, "input": value}]
    )


@dataclass(frozen=True, slots=True)
class TransactionQuery:
    which: TransactionFilter
    zone: tzinfo


def transaction_query(
    charge_point_id: Annotated[str | None, Query(alias="chargePointId", max_length=48)] = None,
    id_tag: Annotated[str | None, Query(alias="idTag", max_length=20)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    to: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
    # The names of earlier versions, still taken (the camelCase one wins).
    charge_point_id_: Annotated[
        str | None, Query(alias="charge_point_id", max_length=48, include_in_schema=False)
    ] = None,
    id_tag_: Annotated[
        str | None, Query(alias="id_tag", max_length=20, include_in_schema=False)
    ] = None,
    since: Annotated[str | None, Query(max_length=64, include_in_schema=False)] = None,
    until: Annotated[str | None, Query(max_length=64, include_in_schema=False)] = None,
) -> TransactionQuery:
    """The filters (a FastAPI dependency)."""
    zone = time_zone(tz)
    start = _optional_instant("from", from_, "since", since, zone)
    end = _optional_instant("to", to, "until", until, zone)
    if start is not None and end is not None and end <= start:
        refuse("to" if to is not None else "until", "must be after from", to or until)
    which = TransactionFilter(
        charge_point_id=charge_point_id or charge_point_id_ or None,
        id_tag=id_tag or id_tag_ or None,
        since=start,
        until=end,
        active=active,
    )
    return TransactionQuery(which, zone)


def known_parameters(request: Request, allowed: frozenset[str]) -> None:
    """Refuse a parameter the route does not take: a misspelt filter would otherwise widen an
    export silently."""
    for name in request.query_params:
        if name not in allowed:
            refuse(name, f"unknown parameter; expected one of {', '.join(sorted(allowed))}")


def _optional_instant(
    field: str, text: str | None, earlier_name: str, earlier: str | None, zone: tzinfo
) -> datetime | None:
    if text is not None:
        return instant(field, text, zone)
    return None if earlier is None else instant(earlier_name, earlier, zone)


def time_zone(name: str) -> tzinfo:
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        refuse("tz", "not an IANA time zone (e.g. Europe/Berlin)", name)


def instant(field: str, text: str, zone: tzinfo) -> datetime:
    """An ISO 8601 date or date-time; without an offset, local time in `zone`."""
    try:
        value = datetime.fromisoformat(text.strip())
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        in_utc = value.astimezone(UTC)
    except (ValueError, OverflowError):
        refuse(field, "not an ISO 8601 date or date-time", text)
    if not EARLIEST <= in_utc < LATEST:
        refuse(field, f"must lie in [{EARLIEST.date()}, {LATEST.date()})", text)
    return in_utc


def cursor_after(cursor: str | None) -> int:
    """The id a cursor continues after (0: from the start)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        text = ""
    found = _CURSOR.fullmatch(text)
    if found is None:
        refuse("cursor", "not a cursor of this listing", cursor)
    return int(found.group(1))


def cursor_of(transaction_id: int) -> str:
    return base64.urlsafe_b64encode(f"t{transaction_id}".encode("ascii")).decode().rstrip("=")


MAX_DAYS: Final = 1000


def day_spans(
    since: datetime, until: datetime, zone: tzinfo
) -> list[tuple[str, datetime, datetime]]:
    """The local days of `zone` that [since, until) touches: (the date, its start, its end),
    each cut to [since, until). A day lasts from one local midnight to the next: 23 or 25 hours
    across a daylight saving change (a midnight that does not exist begins the day at the
    change)."""
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    if (last - first).days >= MAX_DAYS:
        refuse("to", f"at most {MAX_DAYS} days after from", until.isoformat())
    spans: list[tuple[str, datetime, datetime]] = []
    day = first
    while day <= last:
        following = day + timedelta(days=1)
        start = max(since, _midnight(day, zone))
        end = min(until, _midnight(following, zone))
        spans.append((day.isoformat(), start.astimezone(UTC), end.astimezone(UTC)))
        day = following
    return spans


def _midnight(day: date, zone: tzinfo) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=zone)
    # A wall time that does not exist (the clocks jump over midnight) round-trips to a later
    # one through UTC: the day begins at the change.
    return local.astimezone(UTC)
