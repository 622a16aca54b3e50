"""Short constructors for charging profiles in tests (all times relative to T0)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from csms.smart_charging import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    CompositeSchedule,
    Installed,
    RecurrencyKind,
)

# A Monday, so that weekly recurrences line up with calendar weeks in the tests.
T0 = datetime(2024, 1, 1, tzinfo=UTC)
A = ChargingRateUnit.A
W = ChargingRateUnit.W
CP_MAX = ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE
TX_DEFAULT = ChargingProfilePurpose.TX_DEFAULT_PROFILE
TX = ChargingProfilePurpose.TX_PROFILE
ABSOLUTE = ChargingProfileKind.ABSOLUTE
RECURRING = ChargingProfileKind.RECURRING
RELATIVE = ChargingProfileKind.RELATIVE
DAILY = RecurrencyKind.DAILY
WEEKLY = RecurrencyKind.WEEKLY
DAY = 86_400
WEEK = 7 * DAY

_ids = itertools.count(1)

# (startPeriod, limit) or (startPeriod, limit, numberPhases)
PeriodSpec = tuple[int, int | str | Decimal] | tuple[int, int | str | Decimal, int | None]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def periods(*specs: PeriodSpec) -> tuple[ChargingSchedulePeriod, ...]:
    made = []
    for spec in specs:
        phases = spec[2] if len(spec) == 3 else None
        made.append(
            ChargingSchedulePeriod(
                start_period=spec[0], limit=Decimal(str(spec[1])), number_phases=phases
            )
        )
    return tuple(made)


def profile(
    purpose: ChargingProfilePurpose,
    *specs: PeriodSpec,
    stack_level: int = 0,
    kind: ChargingProfileKind = ABSOLUTE,
    recurrency_kind: RecurrencyKind | None = None,
    unit: ChargingRateUnit = A,
    duration: int | None = None,
    start_schedule: datetime | None = T0,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    transaction_id: int | None = None,
    min_charging_rate: str | None = None,
    charging_profile_id: int | None = None,
) -> ChargingProfile:
    if kind is RELATIVE:
        start_schedule = None
    if kind is RECURRING and recurrency_kind is None:
        recurrency_kind = DAILY
    return ChargingProfile(
        charging_profile_id=next(_ids) if charging_profile_id is None else charging_profile_id,
        stack_level=stack_level,
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        recurrency_kind=recurrency_kind,
        transaction_id=transaction_id,
        valid_from=valid_from,
        valid_to=valid_to,
        charging_schedule=ChargingSchedule(
            charging_rate_unit=unit,
            charging_schedule_period=periods(*specs),
            duration=duration,
            start_schedule=start_schedule,
            min_charging_rate=None if min_charging_rate is None else Decimal(min_charging_rate),
        ),
    )


def on(connector_id: int, *profiles: ChargingProfile) -> list[Installed]:
    return [Installed(connector_id=connector_id, profile=p) for p in profiles]


def limits(schedule: CompositeSchedule) -> list[tuple[int, Decimal | None]]:
    """The schedule as [(start_period, limit)]."""
    return [(p.start_period, p.limit) for p in schedule.charging_schedule_period]


def expect(*pairs: tuple[int, int | str | None]) -> list[tuple[int, Decimal | None]]:
    return [(start, None if limit is None else Decimal(str(limit))) for start, limit in pairs]


def flatten(*groups: Sequence[Installed]) -> list[Installed]:
    return [item for group in groups for item in group]
