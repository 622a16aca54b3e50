"""The billable energy arithmetic (features/core/energy.py), without I/O: properties over any
register readings, and the readings real chargers send (a reset after a crash, kWh, context,
late samples, a wrong clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from csms.features.core.energy import (
    EnergyFlag,
    Reading,
    billable_energy,
    energy_over_segments,
    register_readings,
)
from csms.storage import MeterSample, Transaction

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
wh = st.integers(min_value=0, max_value=10**9)


def transaction(meter_start: int, meter_stop: int | None) -> Transaction:
    return Transaction(
        id=1,
        charge_point_id="CP",
        connector_id=1,
        id_tag="TAG",
        id_tag_status="Accepted",
        meter_start=meter_start,
        start_time=T0,
        reservation_id=None,
        stop_time=None if meter_stop is None else T0 + timedelta(hours=1),
        meter_stop=meter_stop,
    )


def sample(value: str | int, minute: int = 1, **fields: Any) -> MeterSample:
    return MeterSample(
        charge_point_id="CP",
        connector_id=1,
        transaction_id=1,
        timestamp=T0 + timedelta(minutes=minute),
        value=str(value),
        **fields,
    )


def readings(values: list[int]) -> list[Reading]:
    return [Reading(Decimal(v)) for v in values]


@given(st.lists(wh, max_size=30), wh, st.one_of(st.none(), wh))
def test_never_negative(samples: list[int], start: int, stop: int | None) -> None:
    energy = billable_energy(
        transaction(start, stop), [sample(v, n) for n, v in enumerate(samples)]
    )
    assert energy.wh >= 0


@given(st.lists(wh, min_size=2, max_size=30))
def test_monotonic_readings_bill_stop_minus_start(values: list[int]) -> None:
    values.sort()
    start, *middle, stop = values
    energy = billable_energy(transaction(start, stop), [sample(v, n) for n, v in enumerate(middle)])
    assert energy.wh == stop - start
    assert EnergyFlag.REGISTER_RESET not in energy.flags
    assert EnergyFlag.REGISTER_ROLLBACK not in energy.flags


@given(st.lists(st.lists(wh, min_size=1, max_size=8), min_size=1, max_size=6))
def test_the_energy_is_the_sum_over_monotonic_segments(segments: list[list[int]]) -> None:
    # Each segment rises; the next starts below where the previous ended (a fall).
    values: list[int] = []
    expected = 0
    for segment in segments:
        segment.sort()
        if values and segment[0] >= values[-1]:
            continue  # not a fall: would join the previous segment
        values += segment
        expected += segment[-1] - segment[0]
    result = energy_over_segments(readings(values))
    assert result.wh == expected
    falls = sum(b < a for a, b in pairwise(values))
    assert result.resets + result.rollbacks == falls


@given(st.lists(wh, max_size=20))
def test_the_order_received_does_not_matter(values: list[int]) -> None:
    taken = [sample(v, n) for n, v in enumerate(values)]
    forward = billable_energy(transaction(0, None), taken)
    backward = billable_energy(transaction(0, None), list(reversed(taken)))
    assert forward == backward


def test_a_charger_that_lost_its_meter_state_bills_what_it_measured() -> None:
    # Issue 15: meterStart 232, the register restarted at 0 after a crash, meterStop 48.
    alone = billable_energy(transaction(232, 48), [])
    assert alone.wh == 0
    assert alone.flags == ("meter_stop_below_start", "register_reset")
    # With its samples: 232 -> 300 before the crash, 0 -> 48 after.
    sampled = billable_energy(
        transaction(232, 48), [sample(300, 1), sample(0, 2), sample(20, 3), sample(48, 4)]
    )
    assert sampled.wh == (300 - 232) + 48
    assert sampled.flags == ("from_samples", "meter_stop_below_start", "register_reset")


def test_a_rollback_to_an_older_value_is_not_billed_twice() -> None:
    energy = billable_energy(transaction(1000, 1700), [sample(1500, 1), sample(1200, 2)])
    assert energy.wh == 500 + 500
    assert energy.flags == ("from_samples", "register_rollback")


def test_kwh_readings_and_their_resolution() -> None:
    kwh = [sample("1.5", 1, unit="kWh"), sample("2.25", 2, unit="kWh")]
    assert billable_energy(transaction(1000, 3000), kwh).wh == 2000
    # 1234 Wh read back as 1.2 kWh is the same reading rounded, not a fall.
    coarse = billable_energy(transaction(1234, 2000), [sample("1.2", 1, unit="kWh")])
    assert (coarse.wh, coarse.flags) == (766, ("from_samples",))


def test_only_the_total_import_register_of_the_outlet_counts() -> None:
    others = [
        sample(9999, 1, measurand="Power.Active.Import", unit="W"),
        sample(9999, 1, phase="L1"),
        sample(9999, 1, location="EV"),
        sample(9999, 1, measurand="Energy.Active.Export.Register"),
    ]
    energy = billable_energy(transaction(100, 200), others)
    assert (energy.wh, energy.flags) == (100, ())


def test_unreadable_register_samples_are_left_out_and_flagged() -> None:
    bad = [
        sample("abc", 1),
        sample("-5", 1),
        sample("NaN", 1),
        sample("12", 1, unit="varh"),
        sample("1e30", 1),
        sample("300", 1, format="SignedData"),
    ]
    energy = billable_energy(transaction(100, 200), bad)
    assert (energy.wh, energy.flags) == (100, ("unreadable_sample",))


def test_context_orders_readings_of_the_same_time_and_a_suspect_clock_its_receipt() -> None:
    begin = sample(100, 0, context="Transaction.Begin")
    end = sample(400, 0, context="Transaction.End")
    periodic = sample(250, 0, context="Sample.Periodic")
    found, _ = register_readings([end, periodic, begin])
    assert [r.wh for r in found] == [100, 250, 400]
    # A sample stamped 1970 by a reset clock, received after the others: ordered by receipt.
    reset_clock = MeterSample(
        charge_point_id="CP",
        connector_id=1,
        transaction_id=1,
        timestamp=datetime(1970, 1, 1, tzinfo=UTC),
        value="500",
        received_at=T0 + timedelta(minutes=30),
        clock_suspect=True,
    )
    found, _ = register_readings([reset_clock, sample(300, 10)])
    assert [r.wh for r in found] == [300, 500]


def test_no_meter_stop_bills_up_to_the_last_sample() -> None:
    energy = billable_energy(transaction(100, None), [sample(150, 1), sample(180, 2)])
    assert (energy.wh, energy.flags) == (80, ("from_samples", "no_meter_stop"))
    assert billable_energy(transaction(100, None), []).flags == ("no_meter_stop",)
