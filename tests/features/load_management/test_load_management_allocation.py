"""The arithmetic of load management over a tree of groups (load_management/allocation.py) and
the measured current of meter values (load_management/meter.py): examples, and properties
that hold for any tree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from csms.features.load_management.allocation import (
    GroupNode,
    LeafDemand,
    allocate_tree,
    fallback_limits,
)
from csms.features.load_management.meter import measured_current
from csms.ocpp16 import MeterValue, SampledValue
from csms.smart_charging import Strategy

D = Decimal


def demand(key: str, max_current: int = 32, **fields: object) -> LeafDemand:
    return LeafDemand(key=key, max_current=D(max_current), **fields)  # type: ignore[arg-type]


def limits(root: GroupNode) -> dict[str, Decimal]:
    return {key: share.limit for key, share in allocate_tree(root).items()}


def test_equal_share_in_one_group() -> None:
    root = GroupNode(id=1, limit_amps=D(32), demands=(demand("a"), demand("b")))
    shares = allocate_tree(root)
    assert limits(root) == {"a": 16, "b": 16}
    assert shares["a"].bound_by == 1 and not shares["a"].paused


def test_a_feeder_bounds_its_transactions_and_the_site_shares_the_rest() -> None:
    feeder = GroupNode(id=2, limit_amps=D(16), demands=(demand("a"), demand("b")))
    site = GroupNode(id=1, limit_amps=D(40), children=(feeder,), demands=(demand("c"),))
    shares = allocate_tree(site)
    assert limits(site) == {"a": 8, "b": 8, "c": 24}
    assert (shares["a"].bound_by, shares["c"].bound_by) == (2, 1)


def test_the_site_bounds_a_feeder_below_its_own_limit() -> None:
    feeder = GroupNode(id=2, limit_amps=D(60), demands=(demand("a"), demand("b")))
    site = GroupNode(id=1, limit_amps=D(30), children=(feeder,), demands=(demand("c"),))
    assert limits(site) == {"a": 10, "b": 10, "c": 10}


def test_paused_below_the_minimum_later_arrivals_first() -> None:
    root = GroupNode(id=1, limit_amps=D(16), demands=(demand("a"), demand("b"), demand("c")))
    shares = allocate_tree(root)
    assert limits(root) == {"a": 8, "b": 8, "c": 0}
    assert shares["c"].paused and shares["c"].bound_by == 1


def test_measured_draw_leaves_headroom() -> None:
    root = GroupNode(id=1, limit_amps=D(32), demands=(demand("a", observed_draw=D(8)), demand("b")))
    shares = allocate_tree(root)
    assert limits(root) == {"a": 10, "b": 22}
    assert shares["a"].demand == 10 and shares["a"].bound_by is None


def test_a_fixed_limit_is_reserved_in_every_group_above() -> None:
    feeder = GroupNode(id=2, limit_amps=D(20), demands=(demand("a", fixed=D(16)), demand("b")))
    site = GroupNode(id=1, limit_amps=D(30), children=(feeder,), demands=(demand("c"),))
    shares = allocate_tree(site)
    # The feeder has 4 A left for b, less than its minimum: paused; the site 14 A for c.
    assert limits(site) == {"a": 16, "b": 0, "c": 14}
    assert shares["a"].fixed and shares["b"].paused


def test_priority_strategy_serves_the_minimum_first() -> None:
    root = GroupNode(
        id=1,
        limit_amps=D(20),
        strategy=Strategy.PRIORITY,
        demands=(demand("low"), demand("high", priority=1)),
    )
    assert limits(root) == {"low": 6, "high": 14}


def test_fallback_keeps_every_group_safe() -> None:
    feeder = GroupNode(id=2, limit_amps=D(16))
    site = GroupNode(id=1, limit_amps=D(100), children=(feeder,))
    # Site: 2 connectors on the feeder + 8 directly: 10 A each, the feeder's 8 A each.
    assert fallback_limits(site, {1: 8, 2: 2}) == {1: 10, 2: 8}
    assert fallback_limits(site, {1: 0, 2: 3}) == {1: D("33.3"), 2: D("5.3")}
    # A group missing from the mapping has no connectors of its own: the site's 4 are the
    # feeder's, 25 A each by the site, 4 A by the feeder.
    assert fallback_limits(site, {2: 4}) == {1: 25, 2: 4}


@st.composite
def trees(draw: st.DrawFn, depth: int = 0, ids: list[int] | None = None) -> GroupNode:
    ids = ids if ids is not None else [0]
    ids[0] += 1
    node_id = ids[0]
    children: tuple[GroupNode, ...] = ()
    if depth < 2:
        children = tuple(draw(st.lists(trees(depth=depth + 1, ids=ids), max_size=2)))
    count = draw(st.integers(0, 6))
    demands = tuple(
        LeafDemand(
            key=f"{node_id}-{n}",
            max_current=D(draw(st.integers(6, 32))),
            priority=draw(st.integers(0, 2)),
            observed_draw=draw(st.none() | st.integers(0, 32).map(D)),
            fixed=draw(st.none() | st.integers(0, 8).map(D)),
        )
        for n in range(count)
    )
    return GroupNode(
        id=node_id,
        limit_amps=D(draw(st.integers(0, 120))),
        strategy=draw(st.sampled_from(Strategy)),
        min_current=D(draw(st.sampled_from((0, 6, 8)))),
        children=children,
        demands=demands,
    )


@settings(max_examples=300, deadline=None)
@given(trees())
def test_no_group_gets_more_than_its_limit(root: GroupNode) -> None:
    shares = allocate_tree(root)
    assert set(shares) == {d.key for d in root.all_demands()}
    for node in root.walk():
        fixed = sum((d.fixed for d in node.all_demands() if d.fixed is not None), D(0))
        changeable = sum((shares[d.key].limit for d in node.all_demands() if d.fixed is None), D(0))
        # What can be changed fits in what the reserved limits leave (nothing if they take all).
        assert changeable <= max(node.limit_amps - fixed, D(0))
    for d in root.all_demands():
        share = shares[d.key]
        if d.fixed is not None:
            assert share.fixed and share.limit == d.fixed
            continue
        assert share.limit <= d.max_current
        assert share.limit % D("0.1") == 0
        # Paused (limit 0), or at least the minimum of the site that admitted it.
        assert share.limit == 0 if share.paused else share.limit >= root.min_current


def meter_value(*samples: SampledValue, minutes: int = 0) -> MeterValue:
    moment = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return MeterValue(timestamp=moment, sampled_value=list(samples))


def test_measured_current_per_phase_the_highest() -> None:
    value = meter_value(
        SampledValue(value="7.2", measurand="Current.Import", phase="L1", unit="A"),  # type: ignore[arg-type]
        SampledValue(value="8.01", measurand="Current.Import", phase="L2", unit="A"),  # type: ignore[arg-type]
        SampledValue(value="30", measurand="Current.Import", phase="N", unit="A"),  # type: ignore[arg-type]
    )
    assert measured_current([value], voltage=D(230), phases=3) == D("8.1")


def test_measured_current_from_power_and_the_newest_value() -> None:
    older = meter_value(
        SampledValue(value="10", measurand="Current.Import", unit="A"),  # type: ignore[arg-type]
    )
    newer = meter_value(
        SampledValue(value="11.04", measurand="Power.Active.Import", unit="kW"),  # type: ignore[arg-type]
        minutes=1,
    )
    assert measured_current([newer, older], voltage=D(230), phases=3) == D(16)
    energy_only = meter_value(SampledValue(value="1234"))
    assert measured_current([energy_only], voltage=D(230), phases=3) is None
