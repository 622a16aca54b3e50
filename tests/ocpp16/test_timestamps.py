"""dateTime on the wire: strict when sending, lenient when receiving (spec 3.15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from csms.ocpp16 import format_timestamp, parse_timestamp, validate_request

BASE = datetime(2026, 11, 21, 14, 3, 32, tzinfo=UTC)

ACCEPTED = [
    ("2026-11-21T14:03:32Z", BASE),
    ("2026-11-21T14:03:32.123Z", BASE.replace(microsecond=123000)),
    ("2026-11-21T14:03:32.1Z", BASE.replace(microsecond=100000)),
    ("2026-11-21T14:03:32.123456Z", BASE.replace(microsecond=123456)),
    # More digits than Python keeps: cut, not rounded.
    ("2026-11-21T14:03:32.123456789Z", BASE.replace(microsecond=123456)),
    ("2026-11-21T14:03:32,5Z", BASE.replace(microsecond=500000)),
    # No offset: UTC.
    ("2026-11-21T14:03:32", BASE),
    ("2026-11-21T14:03:32.999", BASE.replace(microsecond=999000)),
    ("2026-11-21T14:03:32+00:00", BASE),
    ("2026-11-21T14:03:32-00:00", BASE),
    ("2026-11-21T15:03:32+01:00", BASE),
    ("2026-11-21T15:03:32+0100", BASE),
    ("2026-11-21T15:03:32+01", BASE),
    ("2026-11-21T09:03:32.5-05:00", BASE.replace(microsecond=500000)),
    ("2026-11-22T00:03:32+10:00", BASE),
    ("2026-11-21t14:03:32z", BASE),
    ("2026-11-21 14:03:32Z", BASE),
    ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
]

REJECTED = [
    "",
    "yesterday",
    "2026-11-21",
    "14:03:32",
    "2026-11-21T14:03Z",
    "2026-11-21T14Z",
    "20261121T140332Z",
    "2026-W47-6T14:03:32Z",
    "2026-02-29T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-11-31T00:00:00Z",
    "2026-11-21T24:00:00Z",
    "2026-11-21T14:60:00Z",
    "2026-11-21T14:03:60Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",  # past year 9999 in UTC
    "2026-11-21T14:03:32+24:00",
    "2026-11-21T14:03:32+01:00:30",
    "2026-11-21T14:03:32.Z",
    "2026-11-21T14:03:32ZZ",
    " 2026-11-21T14:03:32Z",
    "2026-11-21T14:03:32Z ",
    "2026-11-21T14:03:32Z\n",
    "\u0662\u0660\u0662\u0666-11-21T14:03:32Z",  # Arabic-Indic digits
    "2026-11-21X14:03:32Z",
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is UTC
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": text}
    assert validate_request("StatusNotification", status) is None


@pytest.mark.parametrize("text", REJECTED)
def test_rejected(text: str) -> None:
    assert parse_timestamp(text) is None
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": text}
    violation = validate_request("StatusNotification", status)
    assert violation is not None
    assert violation.error_code == "PropertyConstraintViolation"


def test_format_is_utc_milliseconds_z() -> None:
    assert format_timestamp(BASE) == "2026-11-21T14:03:32.000Z"
    assert format_timestamp(BASE.replace(microsecond=123999)) == "2026-11-21T14:03:32.123Z"
    plus_two = timezone(timedelta(hours=2))
    assert (
        format_timestamp(datetime(2026, 1, 1, 1, 0, tzinfo=plus_two)) == "2025-12-31T23:00:00.000Z"
    )
    # Naive values are taken to be UTC already.
    assert format_timestamp(datetime(2026, 11, 21, 14, 3, 32)) == "2026-11-21T14:03:32.000Z"
    assert format_timestamp(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000Z"


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_format_then_parse(text: str, expected: datetime) -> None:
    formatted = format_timestamp(expected)
    assert len(formatted) == 24
    assert parse_timestamp(formatted) == expected.replace(
        microsecond=expected.microsecond // 1000 * 1000
    )
