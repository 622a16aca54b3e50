"""Hypothesis properties of composite_schedule, checked against the naive evaluator."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import accumulate, pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csms.smart_charging import (
    ActiveTransaction,
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    CompositePeriod,
    Installed,
    RateLimit,
    RecurrencyKind,
    composite_schedule,
)

from .builders import CP_MAX, DAY, T0, TX, TX_DEFAULT, WEEK, A, W, on, profile
from .naive import lowest, prevailing_limits

PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TRANSACTION_ID = 42
CYCLES = {RecurrencyKind.DAILY: DAY, RecurrencyKind.WEEKLY: WEEK}

units = st.sampled_from([A, W])
phase_counts = st.sampled_from([None, 1, 3])


def limits_in(unit: ChargingRateUnit) -> st.SearchStrategy[Decimal]:
    if unit is A:
        return st.integers(0, 400).map(lambda tenths: Decimal(tenths) / 10)
    return st.integers(0, 250).map(lambda hundreds: Decimal(hundreds * 100))


@st.composite
def schedule_periods(
    draw: st.DrawFn, unit: ChargingRateUnit, step: float = 1
) -> tuple[ChargingSchedulePeriod, ...]:
    gaps = draw(st.lists(st.integers(1, 300), max_size=3))
    return tuple(
        ChargingSchedulePeriod(
            start_period=start, limit=draw(limits_in(unit)), number_phases=draw(phase_counts)
        )
        for start in accumulate([0, *gaps])
    )


@st.composite
def instants(draw: st.DrawFn, low: int, high: int, step: float = 1) -> Any:
    """T0 + a multiple of `step` seconds within [low, high]."""
    per_second = round(1 / step)
    return T0 + timedelta(seconds=draw(st.integers(low * per_second, high * per_second)) * step)


@st.composite
def charging_profiles(
    draw: st.DrawFn,
    *,
    purpose: ChargingProfilePurpose,
    stack_level: int,
    kinds: tuple[ChargingProfileKind, ...] = tuple(ChargingProfileKind),
    with_validity: bool = True,
    step: float = 1,
) -> ChargingProfile:
    kind = draw(st.sampled_from(kinds))
    unit = draw(units)
    recurrency_kind = None
    start_schedule = None
    if kind is ChargingProfileKind.ABSOLUTE:
        start_schedule = draw(instants(-600, 600, step))
    elif kind is ChargingProfileKind.RECURRING:
        recurrency_kind = draw(st.sampled_from(RecurrencyKind))
        cycles_back = draw(st.integers(-1, 3))
        offset = timedelta(seconds=cycles_back * CYCLES[recurrency_kind])
        start_schedule = draw(instants(-600, 600, step)) - offset
    valid_from = valid_to = None
    if with_validity:
        valid_from = draw(st.none() | instants(-600, 900, step))
        valid_to = draw(st.none() | instants(-600, 900, step))
    transaction_id = None
    if purpose is ChargingProfilePurpose.TX_PROFILE:
        transaction_id = draw(st.sampled_from([None, TRANSACTION_ID, 7]))
    return ChargingProfile(
        charging_profile_id=draw(st.integers(1, 10_000)),
        stack_level=stack_level,
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        recurrency_kind=recurrency_kind,
        transaction_id=transaction_id,
        valid_from=valid_from,
        valid_to=valid_to,
        charging_schedule=ChargingSchedule(
            charging_rate_unit=unit,
            charging_schedule_period=draw(schedule_periods(unit)),
            duration=draw(st.none() | st.integers(0, 1200)),
            start_schedule=start_schedule,
            min_charging_rate=draw(st.none() | limits_in(unit)),
        ),
    )


@st.composite
def installations(
    draw: st.DrawFn,
    /,
    *,
    purposes: tuple[ChargingProfilePurpose, ...] = (CP_MAX, TX_DEFAULT, TX),
    levels: tuple[int, int] = (0, 2),
    max_size: int = 5,
    **profile_options: Any,
) -> list[Installed]:
    """Installed profiles with unique (purpose, connector, stack level), as a store keeps them."""
    installed: list[Installed] = []
    taken: set[tuple[ChargingProfilePurpose, int, int]] = set()
    for _ in range(draw(st.integers(0, max_size))):
        purpose = draw(st.sampled_from(purposes))
        fixed = {CP_MAX: 0, TX: 1}.get(purpose)
        connector_id = draw(st.sampled_from([0, 1])) if fixed is None else fixed
        stack_level = draw(st.integers(*levels))
        if (purpose, connector_id, stack_level) in taken:
            continue
        taken.add((purpose, connector_id, stack_level))
        made = draw(charging_profiles(purpose=purpose, stack_level=stack_level, **profile_options))
        installed.append(Installed(connector_id=connector_id, profile=made))
    return installed


transactions = st.none() | st.builds(
    ActiveTransaction, transaction_id=st.just(TRANSACTION_ID), start=instants(-600, 300)
)
local_limits = st.none() | st.sampled_from(
    [
        RateLimit(limit=Decimal(32), charging_rate_unit=A),
        RateLimit(limit=Decimal(22000), charging_rate_unit=W, number_phases=3),
    ]
)


@PROPERTY_SETTINGS
@given(
    installed=installations(),
    connector_id=st.sampled_from([0, 1, 1, 1]),
    transaction=transactions,
    start=instants(-300, 300),
    duration=st.integers(1, 600),
    unit=st.none() | units,
    local_limit=local_limits,
    voltage=st.sampled_from([Decimal(230), Decimal(120)]),
    default_phases=st.sampled_from([1, 3]),
)
def test_composite_is_the_lowest_prevailing_limit_every_second(
    installed: list[Installed],
    connector_id: int,
    transaction: ActiveTransaction | None,
    start: Any,
    duration: int,
    unit: ChargingRateUnit | None,
    local_limit: RateLimit | None,
    voltage: Decimal,
    default_phases: int,
) -> None:
    if connector_id == 0:
        transaction = None
    composite = composite_schedule(
        installed,
        connector_id=connector_id,
        start=start,
        duration=duration,
        charging_rate_unit=unit,
        transaction=transaction,
        local_limit=local_limit,
        voltage=voltage,
        default_phases=default_phases,
    )
    periods = composite.charging_schedule_period
    assert periods[0].start_period == 0
    assert all(a.start_period < b.start_period for a, b in pairwise(periods))
    assert all(
        (a.limit, a.number_phases) != (b.limit, b.number_phases) for a, b in pairwise(periods)
    )
    for second in range(duration):
        found = prevailing_limits(
            installed,
            connector_id=connector_id,
            t=start + timedelta(seconds=second),
            start=start,
            transaction=transaction,
            unit=composite.charging_rate_unit,
            local_limit=local_limit,
            voltage=voltage,
            default_phases=default_phases,
        )
        reported = composite.period_at(second).limit
        # Never above any limit in force, and exactly the lowest of them (None: no limit at all).
        assert all(reported is not None and reported <= limit for limit, _ in found)
        assert reported == lowest(found), f"at {second} s"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    installed=installations(step=0.25),
    transaction=transactions,
    start=instants(-300, 300, step=0.25),
    duration=st.integers(1, 300),
)
def test_composite_never_exceeds_a_limit_within_a_second(
    installed: list[Installed],
    transaction: ActiveTransaction | None,
    start: Any,
    duration: int,
) -> None:
    # All instants are quarter seconds, so probing every quarter second sees every change.
    composite = composite_schedule(
        installed, connector_id=1, start=start, duration=duration, transaction=transaction
    )
    for second in range(duration):
        lowest_in_second: list[Decimal | None] = []
        for quarter in range(4):
            found = prevailing_limits(
                installed,
                connector_id=1,
                t=start + timedelta(seconds=second + quarter / 4),
                start=start,
                transaction=transaction,
                unit=composite.charging_rate_unit,
            )
            reported = composite.period_at(second).limit
            assert all(reported is not None and reported <= limit for limit, _ in found)
            lowest_in_second.append(lowest(found))
        # And no lower than it must be: the lowest value the second sees.
        limited = [limit for limit in lowest_in_second if limit is not None]
        assert reported == (min(limited) if limited else None)


@PROPERTY_SETTINGS
@given(
    kind=st.sampled_from([ChargingProfileKind.ABSOLUTE, ChargingProfileKind.RELATIVE]),
    unit=units,
    data=st.data(),
    duration=st.integers(1, 1500),
)
def test_a_single_profile_is_its_own_composite(
    kind: ChargingProfileKind, unit: ChargingRateUnit, data: st.DataObject, duration: int
) -> None:
    periods = data.draw(schedule_periods(unit))
    schedule_duration = data.draw(st.none() | st.integers(1, 1500))
    min_charging_rate = data.draw(st.none() | limits_in(unit))
    start = T0 + timedelta(seconds=data.draw(st.integers(-DAY, DAY)))
    single = ChargingProfile(
        charging_profile_id=1,
        stack_level=data.draw(st.integers(0, 9)),
        charging_profile_purpose=TX if kind is ChargingProfileKind.RELATIVE else TX_DEFAULT,
        charging_profile_kind=kind,
        charging_schedule=ChargingSchedule(
            charging_rate_unit=unit,
            charging_schedule_period=periods,
            duration=schedule_duration,
            start_schedule=start if kind is ChargingProfileKind.ABSOLUTE else None,
            min_charging_rate=min_charging_rate,
        ),
    )
    composite = composite_schedule(
        on(1, single),
        connector_id=1,
        start=start,
        duration=duration,
        transaction=ActiveTransaction(transaction_id=5, start=start),
    )
    end = min(duration, schedule_duration or duration)
    expected = [
        CompositePeriod(start_period=p.start_period, limit=p.limit, number_phases=p.number_phases)
        for p in periods
        if p.start_period < end
    ]
    if end < duration:
        expected.append(CompositePeriod(start_period=end, limit=None))
    merged = [
        period
        for before, period in zip([None, *expected], expected, strict=False)
        if before is None
        or (before.limit, before.number_phases) != (period.limit, period.number_phases)
    ]
    assert composite.charging_rate_unit is unit
    assert list(composite.charging_schedule_period) == merged
    assert composite.min_charging_rate == min_charging_rate


@PROPERTY_SETTINGS
@given(
    purpose=st.sampled_from([CP_MAX, TX_DEFAULT]),
    installed=installations(purposes=(CP_MAX, TX_DEFAULT)),
    data=st.data(),
    start=instants(-300, 300),
    duration=st.integers(1, 900),
    unit=st.none() | units,
)
def test_a_profile_below_one_in_force_throughout_changes_nothing(
    purpose: ChargingProfilePurpose,
    installed: list[Installed],
    data: st.DataObject,
    start: Any,
    duration: int,
    unit: ChargingRateUnit | None,
) -> None:
    connector_id = 0 if purpose is CP_MAX else 1
    cover_unit = data.draw(units)
    # No duration, no validFrom/validTo, started before the window: in force all along.
    cover = profile(
        purpose,
        (0, data.draw(limits_in(cover_unit))),
        stack_level=9,
        unit=cover_unit,
        start_schedule=start - timedelta(seconds=data.draw(st.integers(0, 900))),
    )
    below = data.draw(charging_profiles(purpose=purpose, stack_level=data.draw(st.integers(4, 8))))
    base = installed + on(connector_id, cover)
    before = composite_schedule(
        base, connector_id=1, start=start, duration=duration, charging_rate_unit=unit
    )
    after = composite_schedule(
        [*base, *on(data.draw(st.sampled_from([0, connector_id])), below)],
        connector_id=1,
        start=start,
        duration=duration,
        charging_rate_unit=unit,
    )
    assert after == before


@PROPERTY_SETTINGS
@given(
    installed=installations(kinds=(ChargingProfileKind.RECURRING,), with_validity=False),
    connector_id=st.sampled_from([0, 1]),
    start=instants(-DAY, DAY),
    duration=st.integers(0, 2 * DAY),
    unit=st.none() | units,
    cycles=st.integers(-2, 2),
)
def test_recurring_profiles_repeat_exactly(
    installed: list[Installed],
    connector_id: int,
    start: Any,
    duration: int,
    unit: ChargingRateUnit | None,
    cycles: int,
) -> None:
    weekly = any(i.profile.recurrency_kind is RecurrencyKind.WEEKLY for i in installed)
    shift = timedelta(seconds=cycles * (WEEK if weekly else DAY))
    # TxProfiles are ignored without a transaction; the rest has no validity bounds.
    first = composite_schedule(
        installed,
        connector_id=connector_id,
        start=start,
        duration=duration,
        charging_rate_unit=unit,
    )
    shifted = composite_schedule(
        installed,
        connector_id=connector_id,
        start=start + shift,
        duration=duration,
        charging_rate_unit=unit,
    )
    assert shifted.charging_schedule_period == first.charging_schedule_period
    assert shifted.charging_rate_unit is first.charging_rate_unit
    assert shifted.min_charging_rate == first.min_charging_rate
