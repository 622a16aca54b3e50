"""Table tests for composite_schedule: the spec's rules and examples, re-derived, and OCTT cases.

OCTT cases (test-case document 2024-04, sections 2.22.x) set their profiles "x" seconds before
the GetCompositeSchedule; here x = 5 and the profiles start at T0, the composite at T0 + 5 s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from csms.smart_charging import (
    ActiveTransaction,
    ChargingRateUnit,
    CompositePeriod,
    Installed,
    RateLimit,
    composite_schedule,
    convert_limit,
)

from .builders import (
    CP_MAX,
    DAILY,
    DAY,
    RECURRING,
    RELATIVE,
    T0,
    TX,
    TX_DEFAULT,
    WEEK,
    WEEKLY,
    A,
    W,
    at,
    expect,
    limits,
    on,
    profile,
)

X = 5
TRANSACTION = ActiveTransaction(transaction_id=42, start=at(-60))


# --- OCTT cases ------------------------------------------------------------------------------


@pytest.mark.parametrize(("unit", "factor"), [(A, 1), (W, 1000)])
def test_tc_066_combining_purposes(unit: ChargingRateUnit, factor: int) -> None:
    # TC_066_CS: ChargePointMax 10; TxDefault and TxProfile both stack level 0 on the connector.
    def scaled(*pairs: tuple[int, int]) -> list[tuple[int, int]]:
        return [(start, limit * factor) for start, limit in pairs]

    installed = on(0, profile(CP_MAX, *scaled((0, 10)), unit=unit, duration=86_400)) + on(
        1,
        profile(
            TX_DEFAULT,
            *scaled((0, 6), (60, 10), (120, 8), (180, 15), (260, 8)),
            unit=unit,
            duration=300,
            valid_from=T0,
            valid_to=at(401),
        ),
        profile(
            TX,
            *scaled((0, 8), (50, 11), (140, 16), (200, 6), (240, 12)),
            unit=unit,
            duration=260,
            valid_from=T0,
            valid_to=at(401),
            transaction_id=TRANSACTION.transaction_id,
        ),
    )
    composite = composite_schedule(
        installed,
        connector_id=1,
        start=at(X),
        duration=400,
        charging_rate_unit=unit,
        transaction=TRANSACTION,
    )
    # After the TxProfile ends (260) the TxDefaultProfile's 8 does not come back (3.13.1).
    assert limits(composite) == expect(*scaled((0, 8), (50 - X, 10), (200 - X, 6), (240 - X, 10)))
    assert composite.duration == 400
    assert composite.charging_rate_unit is unit
    assert composite.schedule_start == at(X)
    assert composite.connector_id == 1


def test_tc_072_stacking() -> None:
    # TC_072_CS: stack level 1 (duration 150) over stack level 0 (duration 400).
    end = at(401)
    installed = on(
        1,
        profile(TX_DEFAULT, (0, 6), (100, 8), (200, 10), duration=400, valid_from=T0, valid_to=end),
        profile(
            TX_DEFAULT, (0, 7), (100, 9), stack_level=1, duration=150, valid_from=T0, valid_to=end
        ),
    )
    composite = composite_schedule(
        installed, connector_id=1, start=at(X), duration=350, charging_rate_unit=A
    )
    assert limits(composite) == expect((0, 7), (100 - X, 9), (150 - X, 8), (200 - X, 10))


def _tc_067_profiles() -> tuple[list[Installed], list[Installed], list[Installed]]:
    end = at(401)
    first = on(1, profile(TX_DEFAULT, (0, 6), (60, 8), (200, 10), stack_level=1, duration=400))
    second = on(1, profile(TX_DEFAULT, (0, 7), (100, 9), duration=400, valid_from=T0, valid_to=end))
    third = on(0, profile(CP_MAX, (0, 11), (200, 12), duration=DAY, valid_from=T0, valid_to=end))
    return first, second, third


def test_tc_067_clear_charging_profile_steps() -> None:
    _, second, third = _tc_067_profiles()

    def composite(installed: list[Installed]) -> list[tuple[int, Decimal | None]]:
        return limits(
            composite_schedule(
                installed,
                connector_id=1,
                start=at(X),
                duration=350,
                charging_rate_unit=A,
                local_limit=RateLimit(limit=Decimal(32), charging_rate_unit=A),
            )
        )

    # Step 4: the first profile cleared by id.
    assert composite(second + third) == expect((0, 7), (100 - X, 9))
    # Step 8: the TxDefaultProfile cleared by purpose and stack level.
    assert composite(third) == expect((0, 11), (200 - X, 12))
    # Step 12: all cleared; the charge point reports its local limit.
    assert composite([]) == expect((0, 32))


def test_tc_067_before_any_clear() -> None:
    first, second, third = _tc_067_profiles()
    composite = composite_schedule(
        first + second + third, connector_id=1, start=at(X), duration=350, charging_rate_unit=A
    )
    assert limits(composite) == expect((0, 6), (60 - X, 8), (200 - X, 10))


def test_tc_056_single_tx_default_profile_on_idle_connector() -> None:
    installed = on(
        1,
        profile(TX_DEFAULT, (0, "6.0", 1), duration=304, valid_from=T0, valid_to=at(400)),
    )
    composite = composite_schedule(
        installed, connector_id=1, start=at(X), duration=304, charging_rate_unit=A
    )
    assert composite.charging_schedule_period == (
        CompositePeriod(start_period=0, limit=Decimal(6), number_phases=1),
        CompositePeriod(start_period=304 - X, limit=None),
    )


# --- spec 3.13.7: the daily TxDefaultProfile example -----------------------------------------


def _daily_example() -> list[Installed]:
    return on(
        0,
        profile(
            TX_DEFAULT,
            (0, 11000, 3),
            (28_800, 6000, 3),
            (72_000, 11000, 3),
            kind=RECURRING,
            recurrency_kind=DAILY,
            unit=W,
            duration=86_400,
            start_schedule=datetime(2013, 1, 1, tzinfo=UTC),
        ),
    )


def test_spec_daily_example_in_watts() -> None:
    start = datetime(2024, 3, 10, 6, tzinfo=UTC)
    composite = composite_schedule(_daily_example(), connector_id=2, start=start, duration=DAY)
    assert composite.charging_rate_unit is W
    # 06:00 -> 08:00 at 11 kW, 08:00 -> 20:00 at 6 kW, then 11 kW through midnight to 06:00.
    assert limits(composite) == expect((0, 11000), (7200, 6000), (50_400, 11000))
    assert {p.number_phases for p in composite.charging_schedule_period} == {3}


def test_spec_daily_example_in_amperes() -> None:
    start = datetime(2024, 3, 10, tzinfo=UTC)
    composite = composite_schedule(
        _daily_example(), connector_id=1, start=start, duration=DAY, charging_rate_unit=A
    )
    # 11000 / (230 x 3) = 15.94..., 6000 / 690 = 8.69..., both rounded down.
    assert limits(composite) == expect((0, "15.9"), (28_800, "8.6"), (72_000, "15.9"))


# --- spec 3.13.2: a weekly calendar with a holiday on top ------------------------------------

HOUR = 3600


def _weekly_calendar() -> list[Installed]:
    # Full current (32 A) on weekdays 23:00-06:00 and all weekend, reduced (10 A) otherwise.
    weekdays = [
        period
        for day in range(5)
        for period in ((day * DAY + 6 * HOUR, 10), (day * DAY + 23 * HOUR, 32))
    ]
    return on(
        0,
        profile(
            TX_DEFAULT, (0, 32), *weekdays, kind=RECURRING, recurrency_kind=WEEKLY, duration=WEEK
        ),
    )


def _weekday_changes(*days: int) -> list[tuple[int, int]]:
    return [
        change
        for day in days
        for change in ((day * DAY + 6 * HOUR, 10), (day * DAY + 23 * HOUR, 32))
    ]


def test_spec_weekly_calendar() -> None:
    composite = composite_schedule(
        _weekly_calendar(), connector_id=1, start=at(2 * WEEK), duration=WEEK
    )
    assert limits(composite) == expect((0, 32), *_weekday_changes(0, 1, 2, 3, 4))


def test_spec_weekly_calendar_with_a_holiday_exception() -> None:
    # The Wednesday of the third week is a holiday: full current all day, one stack level up.
    holiday = on(
        0,
        profile(
            TX_DEFAULT, (0, 32), stack_level=1, start_schedule=at(2 * WEEK + 2 * DAY), duration=DAY
        ),
    )
    week_two = composite_schedule(
        _weekly_calendar() + holiday, connector_id=1, start=at(2 * WEEK), duration=WEEK
    )
    assert limits(week_two) == expect((0, 32), *_weekday_changes(0, 1, 3, 4))
    # The week after is the plain calendar again.
    week_three = composite_schedule(
        _weekly_calendar() + holiday, connector_id=1, start=at(3 * WEEK), duration=WEEK
    )
    assert limits(week_three) == expect((0, 32), *_weekday_changes(0, 1, 2, 3, 4))


# --- stacking, 3.13.2 and errata 3.7 / 3.43 --------------------------------------------------


def test_higher_stack_level_without_duration_never_falls_back() -> None:
    installed = on(
        1,
        profile(TX_DEFAULT, (0, 6)),
        profile(TX_DEFAULT, (0, 16), stack_level=3),
    )
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=10 * DAY)
    assert limits(composite) == expect((0, 16))


def test_falls_back_to_lower_stack_level_outside_valid_from_valid_to() -> None:
    installed = on(
        1,
        profile(TX_DEFAULT, (0, 16)),
        profile(TX_DEFAULT, (0, 10), stack_level=1, valid_from=at(100), valid_to=at(200)),
    )
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=300)
    assert limits(composite) == expect((0, 16), (100, 10), (200, 16))


def test_no_limit_outside_valid_from_valid_to_without_lower_level() -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 10), valid_from=at(100), valid_to=at(200)))
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=300)
    assert limits(composite) == expect((0, None), (100, 10), (200, None))


def test_absolute_schedule_not_yet_started_and_ended() -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 10), (50, 12), start_schedule=at(100), duration=80))
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=300)
    assert limits(composite) == expect((0, None), (100, 10), (150, 12), (180, None))


def test_duplicate_stack_level_within_a_purpose_is_refused() -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 10)), profile(TX_DEFAULT, (0, 12)))
    with pytest.raises(ValueError, match="stack level 0"):
        composite_schedule(installed, connector_id=1, start=at(0), duration=10)


def test_same_stack_level_in_different_purposes_is_fine() -> None:
    installed = on(0, profile(CP_MAX, (0, 10))) + on(1, profile(TX_DEFAULT, (0, 12)))
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=10)
    assert limits(composite) == expect((0, 10))


# --- purposes, 3.13.1 / 3.13.3 ----------------------------------------------------------------


def test_charge_point_max_is_the_minimum_cap() -> None:
    cp_max = on(0, profile(CP_MAX, (0, 10), (100, 32)))
    tx_default = on(1, profile(TX_DEFAULT, (0, 16), (50, 6), (150, 20)))
    composite = composite_schedule(cp_max + tx_default, connector_id=1, start=at(0), duration=300)
    assert limits(composite) == expect((0, 10), (50, 6), (150, 20))


def test_tx_profile_overrides_tx_default_profile() -> None:
    installed = on(
        1,
        profile(TX_DEFAULT, (0, 6), stack_level=5),
        profile(TX, (0, 20), transaction_id=42),
    )
    composite = composite_schedule(
        installed, connector_id=1, start=at(0), duration=100, transaction=TRANSACTION
    )
    assert limits(composite) == expect((0, 20))


def test_tx_profile_without_transaction_id_applies_to_the_running_transaction() -> None:
    # 5.16.2: a profile given in RemoteStartTransaction has no transactionId.
    installed = on(1, profile(TX_DEFAULT, (0, 6)), profile(TX, (0, 20)))
    composite = composite_schedule(
        installed, connector_id=1, start=at(0), duration=100, transaction=TRANSACTION
    )
    assert limits(composite) == expect((0, 20))


@pytest.mark.parametrize(
    "transaction", [None, ActiveTransaction(transaction_id=7, start=at(-10))], ids=["none", "other"]
)
def test_tx_profile_for_no_or_another_transaction_is_ignored(
    transaction: ActiveTransaction | None,
) -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 6)), profile(TX, (0, 20), transaction_id=42))
    composite = composite_schedule(
        installed, connector_id=1, start=at(0), duration=100, transaction=transaction
    )
    assert limits(composite) == expect((0, 6))


def test_tx_profile_on_another_connector_is_ignored() -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 6))) + on(2, profile(TX, (0, 20)))
    composite = composite_schedule(
        installed, connector_id=1, start=at(0), duration=100, transaction=TRANSACTION
    )
    assert limits(composite) == expect((0, 6))


def test_after_tx_profile_ends_only_charge_point_max_remains() -> None:
    installed = on(0, profile(CP_MAX, (0, 32))) + on(
        1, profile(TX_DEFAULT, (0, 6)), profile(TX, (0, 20), duration=100)
    )
    composite = composite_schedule(
        installed, connector_id=1, start=at(0), duration=200, transaction=TRANSACTION
    )
    assert limits(composite) == expect((0, 20), (100, 32))


def test_connector_tx_default_replaces_connector_zero_one_at_the_same_stack_level() -> None:
    installed = on(0, profile(TX_DEFAULT, (0, 10))) + on(1, profile(TX_DEFAULT, (0, 16)))
    one = composite_schedule(installed, connector_id=1, start=at(0), duration=100)
    two = composite_schedule(installed, connector_id=2, start=at(0), duration=100)
    assert limits(one) == expect((0, 16))
    assert limits(two) == expect((0, 10))


def test_connector_zero_tx_default_at_a_higher_stack_level_still_stacks_on_top() -> None:
    installed = on(0, profile(TX_DEFAULT, (0, 8), stack_level=1, duration=100)) + on(
        1, profile(TX_DEFAULT, (0, 16))
    )
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=200)
    assert limits(composite) == expect((0, 8), (100, 16))


def test_connector_zero_reports_the_charge_point_max_stack_only() -> None:
    installed = on(0, profile(CP_MAX, (0, 40)), profile(TX_DEFAULT, (0, 6))) + on(
        1, profile(TX_DEFAULT, (0, 10))
    )
    composite = composite_schedule(installed, connector_id=0, start=at(0), duration=100)
    assert limits(composite) == expect((0, 40))


def test_connector_zero_has_no_transaction() -> None:
    with pytest.raises(ValueError, match="connector 0"):
        composite_schedule([], connector_id=0, start=at(0), duration=10, transaction=TRANSACTION)


# --- kinds: Relative and Recurring -------------------------------------------------------------


def test_relative_starts_at_the_transaction_start() -> None:
    transaction = ActiveTransaction(transaction_id=42, start=at(-300))
    installed = on(1, profile(TX, (0, 10), (600, 16), kind=RELATIVE, duration=1800))
    composite = composite_schedule(
        installed, connector_id=1, start=at(0), duration=3600, transaction=transaction
    )
    assert limits(composite) == expect((0, 10), (300, 16), (1500, None))


def test_relative_without_transaction_is_evaluated_as_if_one_started_now() -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 10), (600, 16), kind=RELATIVE))
    composite = composite_schedule(installed, connector_id=1, start=at(123), duration=3600)
    assert limits(composite) == expect((0, 10), (600, 16))


def test_recurring_daily_across_midnight() -> None:
    installed = on(
        1,
        profile(
            TX_DEFAULT,
            (0, 8),
            (6 * 3600, 32),
            (22 * 3600, 8),
            kind=RECURRING,
            recurrency_kind=DAILY,
        ),
    )
    composite = composite_schedule(
        installed, connector_id=1, start=at(3 * DAY - 3600), duration=8 * 3600
    )
    assert limits(composite) == expect((0, 8), (7 * 3600, 32))


def test_recurring_weekly_across_the_week_boundary() -> None:
    # T0 is a Monday: 32 A on weekdays, 16 A from Saturday 00:00.
    installed = on(
        1, profile(TX_DEFAULT, (0, 32), (5 * DAY, 16), kind=RECURRING, recurrency_kind=WEEKLY)
    )
    composite = composite_schedule(
        installed, connector_id=1, start=at(3 * WEEK - 7200), duration=4 * 3600
    )
    assert limits(composite) == expect((0, 16), (7200, 32))


def test_recurring_shorter_than_its_cycle_falls_back_each_cycle() -> None:
    # Errata 3.43: after the duration, the lower stack level applies until the next cycle.
    installed = on(
        1,
        profile(TX_DEFAULT, (0, 16)),
        profile(TX_DEFAULT, (0, 10), stack_level=1, kind=RECURRING, duration=3600),
    )
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=2 * DAY)
    assert limits(composite) == expect((0, 10), (3600, 16), (DAY, 10), (DAY + 3600, 16))


def test_recurring_periods_and_duration_beyond_the_cycle_are_not_executed() -> None:
    # Errata 3.44: the 90000 s period of a daily schedule never runs.
    installed = on(1, profile(TX_DEFAULT, (0, 10), (90_000, 20), kind=RECURRING, duration=2 * DAY))
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=3 * DAY)
    assert limits(composite) == expect((0, 10))


def test_recurring_runs_at_its_time_of_day_also_before_start_schedule() -> None:
    installed = on(
        1,
        profile(
            TX_DEFAULT,
            (0, 6),
            (3600, 16),
            kind=RECURRING,
            duration=7200,
            start_schedule=at(10 * DAY + 8 * 3600),
        ),
    )
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=DAY)
    assert limits(composite) == expect((0, None), (8 * 3600, 6), (9 * 3600, 16), (10 * 3600, None))


# --- units, 7.12 / errata 3.69 / 3.34 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "phases", "default_phases", "voltage", "watts"),
    [
        (16, 3, 3, 230, "11040"),
        (16, 1, 3, 230, "3680"),
        (16, None, 3, 230, "11040"),
        (16, None, 1, 230, "3680"),
        (16, 1, 3, 120, "1920"),
        ("6.5", 2, 3, 230, "2990"),
    ],
)
def test_amperes_to_watts(
    limit: int | str, phases: int | None, default_phases: int, voltage: int, watts: str
) -> None:
    installed = on(1, profile(TX_DEFAULT, (0, limit, phases)))
    composite = composite_schedule(
        installed,
        connector_id=1,
        start=at(0),
        duration=60,
        charging_rate_unit=W,
        voltage=Decimal(voltage),
        default_phases=default_phases,
    )
    assert limits(composite) == expect((0, watts))
    assert composite.charging_schedule_period[0].number_phases == phases


@pytest.mark.parametrize(
    ("watts", "phases", "amperes"),
    [(11000, 3, "15.9"), (11000, 1, "47.8"), (11040, 3, "16"), (3680, 1, "16"), (7400, 2, "16")],
)
def test_watts_to_amperes_rounds_down(watts: int, phases: int, amperes: str) -> None:
    installed = on(1, profile(TX_DEFAULT, (0, watts, phases), unit=W))
    composite = composite_schedule(
        installed, connector_id=1, start=at(0), duration=60, charging_rate_unit=A
    )
    assert limits(composite) == expect((0, amperes))


def test_mixed_units_compare_in_the_requested_unit_with_each_limits_phases() -> None:
    installed = on(0, profile(CP_MAX, (0, 11000, 3), unit=W)) + on(
        1, profile(TX_DEFAULT, (0, 10, 1))
    )
    in_watts = composite_schedule(
        installed, connector_id=1, start=at(0), duration=60, charging_rate_unit=W
    )
    assert in_watts.charging_schedule_period == (
        CompositePeriod(start_period=0, limit=Decimal(2300), number_phases=1),
    )
    # No unit asked and the profiles disagree: amperes.
    in_default = composite_schedule(installed, connector_id=1, start=at(0), duration=60)
    assert in_default.charging_rate_unit is A
    assert limits(in_default) == expect((0, 10))


def test_unit_follows_the_profiles_when_none_is_requested() -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 7000), unit=W))
    assert (
        composite_schedule(installed, connector_id=1, start=at(0), duration=9).charging_rate_unit
        is W
    )
    assert composite_schedule([], connector_id=1, start=at(0), duration=9).charging_rate_unit is A
    local = RateLimit(limit=Decimal(22000), charging_rate_unit=W)
    only_local = composite_schedule([], connector_id=1, start=at(0), duration=9, local_limit=local)
    assert only_local.charging_rate_unit is W
    assert limits(only_local) == expect((0, 22000))


def test_convert_limit_is_exact() -> None:
    assert convert_limit(
        Decimal(16), from_unit=A, to_unit=W, number_phases=3, voltage=Decimal(230)
    ) == Decimal(11040)
    assert convert_limit(
        Decimal(11040), from_unit=W, to_unit=A, number_phases=3, voltage=Decimal(230)
    ) == Decimal(16)
    assert convert_limit(
        Decimal("7.5"), from_unit=A, to_unit=A, number_phases=1, voltage=Decimal(230)
    ) == Decimal("7.5")


# --- local limit, resolution, edges -------------------------------------------------------------


def test_local_limit_caps_and_fills_gaps() -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 40), (100, 10), duration=200))
    composite = composite_schedule(
        installed,
        connector_id=1,
        start=at(0),
        duration=300,
        local_limit=RateLimit(limit=Decimal(32), charging_rate_unit=A),
    )
    assert limits(composite) == expect((0, 32), (100, 10), (200, 32))


def test_change_inside_a_second_takes_the_lower_value_for_that_second() -> None:
    up = on(1, profile(TX_DEFAULT, (0, 10), (100, 16)))
    down = on(1, profile(TX_DEFAULT, (0, 16), (100, 10)))
    start = T0 + timedelta(milliseconds=500)
    # The schedule changes 99.5 s after `start`.
    assert limits(composite_schedule(up, connector_id=1, start=start, duration=200)) == expect(
        (0, 10), (100, 16)
    )
    assert limits(composite_schedule(down, connector_id=1, start=start, duration=200)) == expect(
        (0, 16), (99, 10)
    )


def test_zero_duration_reports_the_value_at_start() -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 10), (100, 16)))
    composite = composite_schedule(installed, connector_id=1, start=at(150), duration=0)
    assert limits(composite) == expect((0, 16))


def test_adjacent_equal_periods_are_merged() -> None:
    installed = on(0, profile(CP_MAX, (0, 10), (50, 10), (60, 10))) + on(
        1, profile(TX_DEFAULT, (0, 10), (30, 10), (70, 12))
    )
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=100)
    assert limits(composite) == expect((0, 10))


def test_period_at() -> None:
    installed = on(1, profile(TX_DEFAULT, (0, 10), (100, 16)))
    composite = composite_schedule(installed, connector_id=1, start=at(0), duration=200)
    assert composite.period_at(0).limit == 10
    assert composite.period_at(99).limit == 10
    assert composite.period_at(100).limit == 16
    assert composite.period_at(199).limit == 16


def test_min_charging_rate_kept_only_for_a_single_profile_in_the_output_unit() -> None:
    single = on(1, profile(TX_DEFAULT, (0, 16), min_charging_rate="6.0"))
    kept = composite_schedule(single, connector_id=1, start=at(0), duration=60)
    assert kept.min_charging_rate == Decimal(6)
    converted = composite_schedule(
        single, connector_id=1, start=at(0), duration=60, charging_rate_unit=W
    )
    assert converted.min_charging_rate is None
    two = single + on(0, profile(CP_MAX, (0, 32)))
    assert (
        composite_schedule(two, connector_id=1, start=at(0), duration=60).min_charging_rate is None
    )


@pytest.mark.parametrize(
    "arguments",
    [
        {"start": datetime(2024, 1, 1)},
        {"duration": -1},
        {"connector_id": -1},
        {"voltage": Decimal(0)},
        {"default_phases": 4},
    ],
)
def test_bad_arguments_are_refused(arguments: dict[str, object]) -> None:
    call: dict[str, object] = {"connector_id": 1, "start": at(0), "duration": 10} | arguments
    with pytest.raises(ValueError):
        composite_schedule([], **call)  # type: ignore[arg-type]
