"""Comparing the CSMS's composite schedule with a charge point's GetCompositeSchedule answer
(spec 5.7) so that it tells the truth (docs/charger-compatibility.md). No I/O.

* "No limit" against a limit is a difference: where no profile limits charging the CSMS has no
  value, and a charge point's value there agrees only when it is that charge point's own
  maximum as its charger profile states it (localLimitAmps); elsewhere its own maximum caps
  the CSMS's limit the same way (the local limit of 3.13.3).
* A charge point's negative limit (stacks send -1) is "no limit" (quirks.no_limit).
* Sub-second edges: a charge point with a millisecond clock reports a scheduleStart inside a
  second and evaluates each second at that offset, so a limit that changes within a second
  shows one second later or earlier than in the CSMS's composite (which gives such a second its
  lowest value). At that resolution a one-second difference next to an edge, where the charge
  point's value is the CSMS's on the other side of the edge, is not a disagreement.
* Where the charge point's values are those of the other reading of the TxProfile/
  TxDefaultProfile rule (smart_charging/composite.py, `tx_default_fallback`), each such
  difference says so: the CSMS keeps its reading and reports the charge point's next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal
from itertools import pairwise

from csms import smart_charging as sc
from csms.ocpp16 import ChargingSchedule
from csms.quirks import no_limit

_VOLTAGE = Decimal(230)
_PHASES = 3
_TENTH = Decimal("0.1")

Periods = Sequence[tuple[int, Decimal | None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """Seconds [start_period, end_period) from the schedule start where the charge point's
    composite limit is not the CSMS's. None: no limit (either side), or a time the charge
    point's schedule does not cover (`covered` false)."""

    start_period: int
    end_period: int
    csms: Decimal | None
    charge_point: Decimal | None
    covered: bool = True
    # The charge point's value is the one of the TxDefaultProfile fallback reading.
    tx_default_fallback: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Judge:
    """What the comparison knows of the charge point: its own maximum (in the compared unit)
    and whether its scheduleStart lies inside a second (a millisecond clock)."""

    local_limit: Decimal | None = None
    sub_second: bool = False

    def agrees(self, csms: Decimal | None, charge_point: Decimal | None) -> bool:
        if csms == charge_point:
            return True
        if self.local_limit is None or charge_point is None:
            return False
        capped = self.local_limit if csms is None else min(csms, self.local_limit)
        return charge_point == capped


def local_limit_in(amps: Decimal | None, unit: sc.ChargingRateUnit) -> Decimal | None:
    """A charger profile's localLimitAmps (3 phases) in the compared unit, at 0.1."""
    if amps is None:
        return None
    value = amps if unit is sc.ChargingRateUnit.A else amps * _VOLTAGE * _PHASES
    return value.quantize(_TENTH, rounding=ROUND_FLOOR)


def periods_of(schedule: sc.CompositeSchedule) -> list[tuple[int, Decimal | None]]:
    return [(p.start_period, p.limit) for p in schedule.charging_schedule_period]


def differences(
    computed: sc.CompositeSchedule,
    reported: ChargingSchedule,
    *,
    judge: Judge | None = None,
    fallback: sc.CompositeSchedule | None = None,
) -> list[Difference]:
    """Where `reported` (a GetCompositeSchedule.conf chargingSchedule, periods relative to the
    same start as `computed` and in its unit) disagrees with `computed`. `fallback`: the
    CSMS's composite in the TxDefaultProfile fallback reading, to name a charge point's
    reading. Limits are compared exactly: both sides are at the wire's 0.1 resolution."""
    judge = judge or Judge()
    end = computed.duration
    covered = end if reported.duration is None else min(end, reported.duration)
    ours = periods_of(computed)
    theirs = [(p.start_period, no_limit(p.limit)) for p in reported.charging_schedule_period]
    other = periods_of(fallback) if fallback is not None else None
    starts = (start for start, _ in [*ours, *theirs, *(other or [])])
    cuts = sorted({0, covered, end, *(start for start in starts if 0 < start < end)})
    found: list[Difference] = []
    for start, stop in pairwise(cuts):
        csms = value_at(ours, start)
        if start >= covered:
            if csms is not None:
                _add(
                    found,
                    Difference(
                        start_period=start,
                        end_period=stop,
                        csms=csms,
                        charge_point=None,
                        covered=False,
                    ),
                )
            continue
        charge_point = value_at(theirs, start)
        if judge.agrees(csms, charge_point) or _edge(judge, ours, charge_point, start, stop):
            continue
        explained = other is not None and judge.agrees(value_at(other, start), charge_point)
        _add(
            found,
            Difference(
                start_period=start,
                end_period=stop,
                csms=csms,
                charge_point=charge_point,
                tx_default_fallback=explained,
            ),
        )
    return found


def _edge(judge: Judge, ours: Periods, charge_point: Decimal | None, start: int, stop: int) -> bool:
    """A one-second difference at the charge point's millisecond resolution: its value is the
    CSMS's of the second before or after."""
    if not judge.sub_second or stop - start != 1:
        return False
    return any(
        judge.agrees(value_at(ours, second), charge_point)
        for second in (start - 1, stop)
        if second >= 0
    )


def _add(found: list[Difference], difference: Difference) -> None:
    """Append, joining it to the previous one when it continues it with the same values."""
    last = found[-1] if found else None
    if (
        last is not None
        and last.end_period == difference.start_period
        and _values(last) == _values(difference)
    ):
        found[-1] = replace(last, end_period=difference.end_period)
    else:
        found.append(difference)


def _values(difference: Difference) -> tuple[object, ...]:
    return (
        difference.csms,
        difference.charge_point,
        difference.covered,
        difference.tx_default_fallback,
    )


def value_at(periods: Periods, offset: int) -> Decimal | None:
    value: Decimal | None = None
    for start, limit in periods:
        if start > offset:
            break
        value = limit
    return value
