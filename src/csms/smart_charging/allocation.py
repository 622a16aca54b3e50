"""Site load management: share one current limit among the connectors charging behind it.

Pure arithmetic; the caller turns each allocation into a TxProfile (or TxDefaultProfile) limit.

The model, kept simple on purpose:

* Everything is amperes per phase. The constraint is that the allocations add up to at most
  `limit_amps`. That is the load on the most loaded phase when every car may sit on the same
  phase (a 1-phase car on L1, a 3-phase car on L1-L3): phase-rotation-aware packing of 1-phase
  cars could do better and is left out. `phases` is carried through for the caller's
  numberPhases and for W conversions.
* A car charges at `min_current` or more, or not at all (IEC 61851-1 allows no PWM current below
  6 A; OCPP's minChargingRate, 7.13, carries the same idea). Demands that cannot all get
  `min_current` are paused (limit 0), the lowest priority first, then the later in the input.
* A car that draws less than it is allowed (`observed_draw`) is capped at what it draws plus
  `draw_margin`, so that the rest goes to the others; the margin lets it ramp back up.
* EQUAL_SHARE is max-min fair (water-filling): every active demand gets the same current unless
  it is capped lower by what it can take. PRIORITY first gives every active demand
  `min_current`, then hands out the rest tier by tier, highest priority first, water-filling
  within a tier.
* Allocations are rounded down to 0.1 A (the wire's multipleOf 0.1), so the sum never exceeds
  the limit; what rounding leaves over stays unused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext
from enum import StrEnum
from itertools import groupby

_TENTH = Decimal("0.1")
_ZERO = Decimal(0)


class Strategy(StrEnum):
    EQUAL_SHARE = "EqualShare"
    PRIORITY = "Priority"


@dataclass(frozen=True, slots=True, kw_only=True)
class Demand:
    """One connector that wants to charge."""

    key: str
    # What the connector, cable and car can take, A per phase.
    max_current: Decimal
    phases: int = 3
    # Higher is served first.
    priority: int = 0
    # What the car is drawing now, A per phase, when known.
    observed_draw: Decimal | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.phases <= 3:
            raise ValueError(f"phases must be 1, 2 or 3, got {self.phases}")
        for name, value in (
            ("max_current", self.max_current),
            ("observed_draw", self.observed_draw),
        ):
            if value is not None and (not value.is_finite() or value < 0):
                raise ValueError(f"{name} must be a finite, non-negative Decimal, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    key: str
    # A per phase; 0 when paused.
    limit: Decimal
    paused: bool
    number_phases: int


def allocate(
    limit_amps: Decimal,
    demands: Sequence[Demand],
    *,
    min_current: Decimal = Decimal(6),
    strategy: Strategy = Strategy.EQUAL_SHARE,
    draw_margin: Decimal = Decimal(2),
) -> list[Allocation]:
    """Share `limit_amps` among `demands`; one Allocation per demand, in the same order."""
    if not limit_amps.is_finite() or limit_amps < 0:
        raise ValueError(f"limit_amps must be a finite, non-negative Decimal, got {limit_amps!r}")
    if min_current < 0 or min_current % _TENTH != 0:
        raise ValueError(f"min_current must be a non-negative multiple of 0.1, got {min_current}")
    if draw_margin < 0:
        raise ValueError(f"draw_margin must be >= 0, got {draw_margin}")
    if len({demand.key for demand in demands}) != len(demands):
        raise ValueError("demand keys must be unique")

    caps = {demand.key: _cap(demand, min_current, draw_margin) for demand in demands}
    servable = [demand for demand in demands if caps[demand.key] >= min_current]
    # sorted() is stable: within a priority, earlier demands are admitted first.
    by_priority = sorted(servable, key=lambda demand: -demand.priority)
    room = len(by_priority) if min_current == 0 else int(limit_amps // min_current)
    admitted = by_priority[:room]

    extra: dict[str, Decimal] = {}
    remaining = limit_amps - min_current * len(admitted)
    tiers: list[list[Demand]] = [admitted]
    if strategy is Strategy.PRIORITY:
        tiers = [list(tier) for _, tier in groupby(admitted, key=lambda demand: demand.priority)]
    for tier in tiers:
        wants = {demand.key: caps[demand.key] - min_current for demand in tier}
        level = _water_level(remaining, list(wants.values()))
        for key, want in wants.items():
            extra[key] = min(want, level)
            remaining -= extra[key]

    allocations = []
    for demand in demands:
        if demand.key in extra:
            limit = _floor_tenth(min_current + extra[demand.key])
            allocations.append(
                Allocation(key=demand.key, limit=limit, paused=False, number_phases=demand.phases)
            )
        else:
            allocations.append(
                Allocation(key=demand.key, limit=_ZERO, paused=True, number_phases=demand.phases)
            )
    return allocations


def _cap(demand: Demand, min_current: Decimal, draw_margin: Decimal) -> Decimal:
    """The most worth giving: what it can take, or what it draws plus a margin."""
    if demand.observed_draw is None:
        return demand.max_current
    return min(demand.max_current, max(demand.observed_draw + draw_margin, min_current))


def _water_level(amount: Decimal, wants: list[Decimal]) -> Decimal:
    """The level L with sum(min(want, L)) == min(amount, sum(wants)): max-min fair shares."""
    if not wants:
        return _ZERO
    left, count = max(amount, _ZERO), len(wants)
    for want in sorted(wants):
        if want * count > left:
            # Rounded down, so that the shares never add up to more than `amount`.
            with localcontext(rounding=ROUND_FLOOR):
                return left / count
        left -= want
        count -= 1
    return max(wants)


def _floor_tenth(value: Decimal) -> Decimal:
    return value.quantize(_TENTH, rounding=ROUND_FLOOR)
