"""Site load allocation: table tests and hypothesis invariants."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.smart_charging import Allocation, Demand, Strategy, allocate

EQUAL = Strategy.EQUAL_SHARE
PRIORITY = Strategy.PRIORITY
SIX = Decimal(6)


def demand(
    key: str, max_current: int | str, *, priority: int = 0, observed: str | None = None
) -> Demand:
    return Demand(
        key=key,
        max_current=Decimal(max_current),
        priority=priority,
        observed_draw=None if observed is None else Decimal(observed),
    )


def shares(allocations: list[Allocation]) -> dict[str, Decimal]:
    return {a.key: a.limit for a in allocations}


def floor_tenth(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_FLOOR)


# --- tables -----------------------------------------------------------------------------------


def test_equal_share_rounds_down() -> None:
    result = allocate(Decimal(32), [demand("a", 16), demand("b", 16), demand("c", 16)])
    assert shares(result) == {"a": Decimal("10.6"), "b": Decimal("10.6"), "c": Decimal("10.6")}
    assert not any(a.paused for a in result)


def test_equal_share_gives_what_a_capped_demand_leaves_to_the_others() -> None:
    result = allocate(Decimal(40), [demand("a", 8), demand("b", 32), demand("c", 32)])
    assert shares(result) == {"a": Decimal(8), "b": Decimal(16), "c": Decimal(16)}


def test_plenty_for_everyone() -> None:
    result = allocate(Decimal(100), [demand("a", 16), demand("b", 32)])
    assert shares(result) == {"a": Decimal(16), "b": Decimal(32)}


def test_a_car_drawing_less_is_capped_at_its_draw_plus_margin() -> None:
    result = allocate(
        Decimal(32), [demand("a", 32, observed="4.3"), demand("b", 32)], draw_margin=Decimal(2)
    )
    # a: max(4.3 + 2, 6) = 6.3; b gets the rest.
    assert shares(result) == {"a": Decimal("6.3"), "b": Decimal("25.7")}


def test_a_car_drawing_almost_nothing_still_gets_min_current() -> None:
    result = allocate(Decimal(32), [demand("a", 32, observed="0.5"), demand("b", 32)])
    assert shares(result) == {"a": Decimal(6), "b": Decimal(26)}


def test_pauses_when_not_everyone_can_get_min_current() -> None:
    result = allocate(Decimal(16), [demand("a", 32), demand("b", 32), demand("c", 32)])
    assert shares(result) == {"a": Decimal(8), "b": Decimal(8), "c": Decimal(0)}
    assert [a.paused for a in result] == [False, False, True]


def test_pauses_the_lowest_priority_first() -> None:
    result = allocate(
        Decimal(12),
        [demand("a", 32, priority=0), demand("b", 32, priority=5), demand("c", 32, priority=1)],
    )
    assert shares(result) == {"a": Decimal(0), "b": Decimal(6), "c": Decimal(6)}


def test_a_demand_without_a_priority_has_priority_zero() -> None:
    """Unset is 0: served after any positive priority and before any negative one, whatever
    the order of the input."""
    unset = Demand(key="unset", max_current=Decimal(32))
    assert unset.priority == 0
    for strategy in (EQUAL, PRIORITY):
        above = allocate(Decimal(6), [unset, demand("one", 32, priority=1)], strategy=strategy)
        assert shares(above) == {"unset": Decimal(0), "one": Decimal(6)}
        below = allocate(Decimal(6), [demand("minus", 32, priority=-1), unset], strategy=strategy)
        assert shares(below) == {"minus": Decimal(0), "unset": Decimal(6)}


def test_priority_fills_the_highest_tier_after_everyone_has_min_current() -> None:
    demands = [
        demand("a", 32, priority=2),
        demand("b", 32, priority=1),
        demand("c", 32, priority=1),
    ]
    assert shares(allocate(Decimal(40), demands, strategy=PRIORITY)) == {
        "a": Decimal(28),
        "b": Decimal(6),
        "c": Decimal(6),
    }
    assert shares(allocate(Decimal(60), demands, strategy=PRIORITY)) == {
        "a": Decimal(32),
        "b": Decimal(14),
        "c": Decimal(14),
    }
    assert shares(allocate(Decimal(60), demands, strategy=EQUAL)) == {
        "a": Decimal(20),
        "b": Decimal(20),
        "c": Decimal(20),
    }


def test_a_demand_that_cannot_take_min_current_is_paused() -> None:
    result = allocate(Decimal(32), [demand("a", 5), demand("b", 16)])
    assert shares(result) == {"a": Decimal(0), "b": Decimal(16)}
    assert result[0].paused


def test_zero_limit_pauses_everyone() -> None:
    result = allocate(Decimal(0), [demand("a", 16), demand("b", 16)])
    assert all(a.paused and a.limit == 0 for a in result)


def test_no_minimum() -> None:
    result = allocate(Decimal(3), [demand("a", 16), demand("b", 16)], min_current=Decimal(0))
    assert shares(result) == {"a": Decimal("1.5"), "b": Decimal("1.5")}


def test_number_phases_is_carried_through() -> None:
    one_phase = Demand(key="a", max_current=Decimal(16), phases=1)
    assert allocate(Decimal(32), [one_phase])[0].number_phases == 1


@pytest.mark.parametrize(
    ("limit", "demands", "options"),
    [
        (Decimal(-1), [], {}),
        (Decimal(10), [demand("a", 16), demand("a", 16)], {}),
        (Decimal(10), [], {"min_current": Decimal("6.05")}),
        (Decimal(10), [], {"draw_margin": Decimal(-1)}),
    ],
)
def test_bad_input_is_refused(
    limit: Decimal, demands: list[Demand], options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        allocate(limit, demands, **options)


def test_bad_demand_is_refused() -> None:
    with pytest.raises(ValueError):
        Demand(key="a", max_current=Decimal(16), phases=4)
    with pytest.raises(ValueError):
        Demand(key="a", max_current=Decimal(-1))


# --- properties ---------------------------------------------------------------------------------

amps = st.integers(0, 640).map(lambda tenths: Decimal(tenths) / 10)
demand_lists = st.lists(
    st.builds(
        Demand,
        key=st.just(""),
        max_current=amps,
        phases=st.sampled_from([1, 3]),
        priority=st.integers(0, 3),
        observed_draw=st.none() | amps,
    ),
    max_size=8,
).map(lambda ds: [replace(d, key=f"k{i}") for i, d in enumerate(ds)])
limits = st.integers(0, 2000).map(lambda tenths: Decimal(tenths) / 10)
minimums = st.sampled_from([Decimal(0), Decimal(6), Decimal("6.5"), Decimal(10)])
margins = st.sampled_from([Decimal(0), Decimal(2)])


def cap(d: Demand, min_current: Decimal, margin: Decimal) -> Decimal:
    # Restated from the module's documented model, to check the allocation against.
    if d.observed_draw is None:
        return d.max_current
    return min(d.max_current, max(d.observed_draw + margin, min_current))


@settings(max_examples=300, deadline=None)
@given(
    limit=limits,
    demands=demand_lists,
    min_current=minimums,
    margin=margins,
    strategy=st.sampled_from(Strategy),
)
def test_allocation_invariants(
    limit: Decimal,
    demands: list[Demand],
    min_current: Decimal,
    margin: Decimal,
    strategy: Strategy,
) -> None:
    result = allocate(
        limit, demands, min_current=min_current, strategy=strategy, draw_margin=margin
    )
    assert [a.key for a in result] == [d.key for d in demands]
    assert sum((a.limit for a in result), Decimal(0)) <= limit
    caps = {d.key: cap(d, min_current, margin) for d in demands}
    active = [(d, a) for d, a in zip(demands, result, strict=True) if not a.paused]
    paused = [(d, a) for d, a in zip(demands, result, strict=True) if a.paused]
    for d, a in active:
        assert min_current <= a.limit <= caps[d.key] <= d.max_current
        assert a.limit == floor_tenth(a.limit)
    for d, a in paused:
        assert a.limit == 0
        if caps[d.key] >= min_current:
            # Paused only for want of room, and never ahead of a lower priority.
            assert (len(active) + 1) * min_current > limit
            assert all(d.priority <= other.priority for other, _ in active)
    # Nothing handed out that someone active could still have taken (rounding aside).
    handed_out = sum((a.limit for _, a in active), Decimal(0))
    wanted = sum((caps[d.key] for d, _ in active), Decimal(0))
    assert handed_out >= min(limit, wanted) - Decimal("0.1") * len(active)

    def is_full(d: Demand, a: Allocation) -> bool:
        return a.limit == floor_tenth(caps[d.key])

    for d, a in active:
        for other, b in active:
            same_tier = strategy is EQUAL or d.priority == other.priority
            # Max-min fairness: less than someone else only when it cannot take more.
            if same_tier and a.limit < b.limit:
                assert is_full(d, a)
            # Priority: a lower tier gets more than the minimum only after higher tiers are full.
            if strategy is PRIORITY and other.priority < d.priority and b.limit > min_current:
                assert is_full(d, a)
