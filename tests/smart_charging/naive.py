"""A deliberately naive evaluator of the spec's rules at one instant, to check the engine against.

It shares nothing with csms.smart_charging.composite but the value types: no breakpoints, no
cells, recurrences found by stepping cycle by cycle, rounding done with math.floor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from csms.smart_charging import (
    ActiveTransaction,
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedulePeriod,
    Installed,
    RateLimit,
    RecurrencyKind,
)

Limit = tuple[Decimal, int | None]  # (limit in the asked unit, numberPhases)


def _period_in_force(
    profile: ChargingProfile, t: datetime, relative_start: datetime
) -> ChargingSchedulePeriod | None:
    if profile.valid_from is not None and not profile.valid_from <= t:
        return None
    if profile.valid_to is not None and not t < profile.valid_to:
        return None
    schedule = profile.charging_schedule
    if profile.charging_profile_kind is ChargingProfileKind.RELATIVE:
        begin = relative_start
    else:
        assert schedule.start_schedule is not None
        begin = schedule.start_schedule
    if profile.charging_profile_kind is ChargingProfileKind.RECURRING:
        days = 1 if profile.recurrency_kind is RecurrencyKind.DAILY else 7
        cycle = timedelta(days=days)
        while begin > t:
            begin -= cycle
        while begin + cycle <= t:
            begin += cycle
    elapsed = (t - begin).total_seconds()
    if elapsed < 0:
        return None
    if schedule.duration is not None and elapsed >= schedule.duration:
        return None
    started = [p for p in schedule.charging_schedule_period if p.start_period <= elapsed]
    return started[-1]


def _highest(
    profiles: list[ChargingProfile], t: datetime, relative_start: datetime
) -> tuple[ChargingProfile, ChargingSchedulePeriod] | None:
    in_force = []
    for profile in profiles:
        period = _period_in_force(profile, t, relative_start)
        if period is not None:
            in_force.append((profile.stack_level, profile, period))
    if not in_force:
        return None
    _, profile, period = max(in_force, key=lambda entry: entry[0])
    return profile, period


def _in_unit(
    limit: Decimal,
    unit: ChargingRateUnit,
    wanted: ChargingRateUnit,
    phases: int,
    voltage: Decimal,
) -> Decimal:
    if unit != wanted:
        if wanted == ChargingRateUnit.W:
            limit = limit * voltage * phases
        else:
            limit = limit / voltage / phases
    return Decimal(math.floor(limit * 10)) / 10


def prevailing_limits(
    installed: Sequence[Installed],
    *,
    connector_id: int,
    t: datetime,
    start: datetime,
    transaction: ActiveTransaction | None,
    unit: ChargingRateUnit,
    local_limit: RateLimit | None = None,
    voltage: Decimal = Decimal(230),
    default_phases: int = 3,
) -> list[Limit]:
    """The limit of each purpose (and the local one) that prevails at `t`, in `unit`."""
    purpose = ChargingProfilePurpose
    charge_point_max = [
        i.profile
        for i in installed
        if i.profile.charging_profile_purpose == purpose.CHARGE_POINT_MAX_PROFILE
    ]
    tx_group: list[ChargingProfile] = []
    if connector_id != 0:
        tx_group = [
            i.profile
            for i in installed
            if i.profile.charging_profile_purpose == purpose.TX_PROFILE
            and i.connector_id == connector_id
            and transaction is not None
            and i.profile.transaction_id in (None, transaction.transaction_id)
        ]
        if not tx_group:
            own = [
                i.profile
                for i in installed
                if i.profile.charging_profile_purpose == purpose.TX_DEFAULT_PROFILE
                and i.connector_id == connector_id
            ]
            own_levels = [p.stack_level for p in own]
            tx_group = own + [
                i.profile
                for i in installed
                if i.profile.charging_profile_purpose == purpose.TX_DEFAULT_PROFILE
                and i.connector_id == 0
                and i.profile.stack_level not in own_levels
            ]
    relative_start = transaction.start if transaction is not None else start
    found: list[Limit] = []
    for group in (charge_point_max, tx_group):
        winner = _highest(group, t, relative_start)
        if winner is not None:
            profile, period = winner
            phases = period.number_phases if period.number_phases else default_phases
            limit = _in_unit(
                period.limit, profile.charging_schedule.charging_rate_unit, unit, phases, voltage
            )
            found.append((limit, period.number_phases))
    if local_limit is not None:
        phases = local_limit.number_phases if local_limit.number_phases else default_phases
        limit = _in_unit(local_limit.limit, local_limit.charging_rate_unit, unit, phases, voltage)
        found.append((limit, local_limit.number_phases))
    return found


def lowest(found: list[Limit]) -> Decimal | None:
    return min(limit for limit, _ in found) if found else None
