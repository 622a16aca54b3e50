"""The other reading of the TxProfile/TxDefaultProfile rule (smart_charging/composite.py,
`tx_default_fallback`) and the comparison of composite schedules that tells the truth
(features/smart_charging/comparison.py): no limit against a limit, -1, sub-second edges, the
charge point's own maximum. Pure: no socket."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from csms.features.smart_charging.comparison import (
    Difference,
    Judge,
    differences,
    local_limit_in,
)
from csms.ocpp16 import ChargingRateUnitType, ChargingSchedule, ChargingSchedulePeriod
from csms.smart_charging import (
    ActiveTransaction,
    CompositeSchedule,
    Installed,
    composite_schedule,
)
from tests.smart_charging.builders import CP_MAX, TX, TX_DEFAULT, A, W, at, expect, limits, on
from tests.smart_charging.builders import profile as make

TRANSACTION = ActiveTransaction(transaction_id=42, start=at(0))


def _installed() -> list[Installed]:
    # A TxDefaultProfile of 16 A; the transaction's TxProfile of 8 A for 30 s; a max of 20 A.
    return on(0, make(CP_MAX, (0, 20))) + on(
        1,
        make(TX_DEFAULT, (0, 16)),
        make(TX, (0, 8), duration=30, transaction_id=42),
    )


def _charging(*, tx_default_fallback: bool) -> CompositeSchedule:
    return composite_schedule(
        _installed(),
        connector_id=1,
        start=at(0),
        duration=60,
        transaction=TRANSACTION,
        tx_default_fallback=tx_default_fallback,
    )


def test_after_the_tx_profile_ends_each_reading() -> None:
    # Spec 3.13.1 as the CSMS reads it (OCTT TC_066): the TxDefaultProfile does not come back.
    assert limits(_charging(tx_default_fallback=False)) == expect((0, 8), (30, 20))
    assert limits(_charging(tx_default_fallback=True)) == expect((0, 8), (30, 16))
    # Without a transaction both readings are the TxDefaultProfile's.
    for reading in (False, True):
        alone = composite_schedule(
            _installed(), connector_id=1, start=at(0), duration=60, tx_default_fallback=reading
        )
        assert limits(alone) == expect((0, 16))


def _reported(*periods: tuple[int, float], duration: int | None = 60) -> ChargingSchedule:
    return ChargingSchedule(
        charging_rate_unit=ChargingRateUnitType.A,
        duration=duration,
        charging_schedule_period=[
            ChargingSchedulePeriod(start_period=start, limit=Decimal(str(limit)))
            for start, limit in periods
        ],
    )


def test_no_limit_against_a_limit_is_a_difference_unless_it_is_the_own_maximum() -> None:
    unlimited = composite_schedule([], connector_id=1, start=at(0), duration=60)
    assert limits(unlimited) == expect((0, None))
    reported = _reported((0, 32))
    assert differences(unlimited, reported) == [
        Difference(start_period=0, end_period=60, csms=None, charge_point=Decimal(32))
    ]
    assert differences(unlimited, reported, judge=Judge(local_limit=Decimal(32))) == []
    # -1 is no limit: it agrees with the CSMS's none, and differs from a limit.
    assert differences(unlimited, _reported((0, -1))) == []
    limited = composite_schedule(
        on(1, make(TX_DEFAULT, (0, 10))), connector_id=1, start=at(0), duration=60
    )
    assert differences(limited, _reported((0, -1), (30, 10))) == [
        Difference(start_period=0, end_period=30, csms=Decimal(10), charge_point=None)
    ]
    # The own maximum caps the CSMS's limit too (3.13.3: the local limit).
    high = composite_schedule(
        on(1, make(TX_DEFAULT, (0, 40))), connector_id=1, start=at(0), duration=60
    )
    assert differences(high, _reported((0, 32)), judge=Judge(local_limit=Decimal(32))) == []
    # A time the charge point's schedule does not cover is not "no limit".
    assert differences(limited, _reported((0, 10), duration=50)) == [
        Difference(
            start_period=50, end_period=60, csms=Decimal(10), charge_point=None, covered=False
        )
    ]


def test_the_fallback_reading_is_named() -> None:
    ours = _charging(tx_default_fallback=False)
    theirs = _charging(tx_default_fallback=True)
    found = differences(ours, _reported((0, 8), (30, 16)), fallback=theirs)
    assert found == [
        Difference(
            start_period=30,
            end_period=60,
            csms=Decimal(20),
            charge_point=Decimal(16),
            tx_default_fallback=True,
        )
    ]
    # Another value is not explained by it.
    other = differences(ours, _reported((0, 8), (30, 12)), fallback=theirs)
    assert [d.tx_default_fallback for d in other] == [False]


def test_sub_second_edges_at_the_charge_points_resolution() -> None:
    # The charge point's scheduleStart is 0.5 s into a second; a profile changes 10 s after
    # T0, so 9.5 s after that start: the CSMS gives second 9 its lowest value (6), the charge
    # point, looking once per second at its millisecond, changes at 10.
    start = at(0) + timedelta(milliseconds=500)
    installed = on(1, make(TX_DEFAULT, (0, 10), (10, 6)))
    ours = composite_schedule(installed, connector_id=1, start=start, duration=30)
    assert limits(ours) == expect((0, 10), (9, 6))
    reported = _reported((0, 10), (10, 6), duration=30)
    assert differences(ours, reported) == [
        Difference(start_period=9, end_period=10, csms=Decimal(6), charge_point=Decimal(10))
    ]
    assert differences(ours, reported, judge=Judge(sub_second=True)) == []
    # More than a second off is a disagreement at any resolution.
    late = _reported((0, 10), (11, 6), duration=30)
    assert differences(ours, late, judge=Judge(sub_second=True)) == [
        Difference(start_period=9, end_period=11, csms=Decimal(6), charge_point=Decimal(10))
    ]


def test_local_limit_in_the_compared_unit() -> None:
    assert local_limit_in(Decimal(32), A) == Decimal(32)
    assert local_limit_in(Decimal(32), W) == Decimal("22080.0")
    assert local_limit_in(None, W) is None
