"""The composite schedule of installed charging profiles (spec 3.13, 5.7, 6.22).

Method: every instant at which any relevant profile can change its value (period starts,
schedule ends, validFrom/validTo, recurrence starts) is a breakpoint; between two breakpoints
nothing changes, so evaluating the stacking rules once per segment is exact.

The semantic decisions, each with its source:

* Stacking (3.13.2, errata 3.7 and 3.43): per purpose, at each instant, the profile with the
  highest stackLevel among those that are in force wins. In force means inside validFrom/validTo
  *and* inside its schedule (after the schedule start, before start + duration); after a
  schedule ends the next lower stack level takes over, and with none left there is no limit.
* TxProfile over TxDefaultProfile (3.13.1, 7.10): when a TxProfile for the transaction is
  installed on the connector (transactionId equal to the running one, or absent as after a
  RemoteStartTransaction, 5.16.2), the TxDefaultProfiles are not used at all for that
  transaction, also where the TxProfiles themselves have ended: 3.13.1 falls back to the
  TxDefaultProfile only when no TxProfile was given, and OCTT TC_066 expects exactly this
  (after its TxProfile ends, only the ChargePointMaxProfile limit remains although a
  TxDefaultProfile period would still apply). Without a transaction no TxProfile applies
  (3.13.1: the charge point discards it). The other reading, where the TxDefaultProfile takes
  over once the TxProfile's schedule has ended (7.10 "overrules" read as "while in force"),
  is what some stacks do: `tx_default_fallback=True` computes it, so that a comparison can
  name a charge point's reading (docs/charger-compatibility.md).
* TxDefaultProfile on the connector vs on connector 0 (3.13.1 with the replacement rule of
  3.13.2 and 5.16.4): one installed on the connector replaces, for that connector, the one on
  connector 0 *with the same stackLevel*; other stack levels of both stack normally.
* Purposes combine by the minimum (3.13.3): min(ChargePointMaxProfile, TxProfile or
  TxDefaultProfile, the optional local limit).
* connectorId 0 (5.7, errata 3.30): reported as the ChargePointMaxProfile stack (and the local
  limit): the most the charge point may draw from the grid. What the connectors will actually
  draw needs their live state, which a caller can add from the per-connector composites.
* Relative (7.9) schedules start at the transaction start; without a transaction they are
  evaluated as for a transaction starting at `start` (what a car plugged in now would get).
* Recurring (errata 3.79): the schedule restarts every 24 h / 7 days at the time of day (and
  weekday) of startSchedule, also in cycles before startSchedule (validFrom bounds validity);
  periods and duration beyond the cycle are not executed (errata 3.43, 3.44).
* Units (7.12, errata 3.69, 3.34): A is per phase, W the total; W = A x voltage x phases with the
  period's numberPhases, else `default_phases` (the spec's 3). Each limit is converted with its
  own phases into the requested unit; without one requested, the unit all prevailing profiles
  share, else A. Converted values are rounded down to 0.1 (the wire's multipleOf 0.1) so that
  rounding never raises a limit.
* Output resolution is whole seconds (periods are, 7.14); a change inside a second makes that
  second take the lowest value of the second, so the composite never exceeds a limit.
* Gaps: a GetCompositeSchedule.conf schedule covers the requested duration and has no holes
  (each startPeriod ends the previous period, 7.14), so a time where nothing limits charging is
  a period with `limit=None` ("no limit", 3.13.6) unless `local_limit` is given, which then
  fills it (OCTT TC_067 expects the charge point's local limit when no profile is left).
* minChargingRate (7.13) describes one EV; it is kept only when one single profile prevails
  over the whole window and it is already in the output unit.

Over 400 lines: the composite schedule (5.7) is one algorithm (the stacks, their evaluation over
time, the units); its helpers are private to it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from itertools import pairwise

from csms.smart_charging.profiles import (
    ActiveTransaction,
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedulePeriod,
    Installed,
    RecurrencyKind,
)

_SECOND = timedelta(seconds=1)
_CYCLE = {RecurrencyKind.DAILY: timedelta(days=1), RecurrencyKind.WEEKLY: timedelta(weeks=1)}
_TENTH = Decimal("0.1")


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """A limit outside any profile: the charge point's or connector's own maximum."""

    limit: Decimal
    charging_rate_unit: ChargingRateUnit
    number_phases: int | None = None

    def __post_init__(self) -> None:
        if not self.limit.is_finite() or self.limit < 0:
            raise ValueError(f"limit must be a finite, non-negative Decimal, got {self.limit!r}")
        if self.number_phases is not None and not 1 <= self.number_phases <= 3:
            raise ValueError(f"number_phases must be 1, 2 or 3, got {self.number_phases}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompositePeriod:
    """One ChargingSchedulePeriod of a composite schedule (7.14)."""

    # Seconds from CompositeSchedule.schedule_start.
    start_period: int
    # None: nothing limits charging during this period (only without a local limit).
    limit: Decimal | None
    number_phases: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompositeSchedule:
    """What GetCompositeSchedule.conf reports (6.22, with errata 3.57: no startSchedule)."""

    connector_id: int
    schedule_start: datetime
    duration: int
    charging_rate_unit: ChargingRateUnit
    # Contiguous from 0, each period lasting until the next one's start_period or `duration`.
    charging_schedule_period: tuple[CompositePeriod, ...]
    min_charging_rate: Decimal | None = None

    def period_at(self, offset: int) -> CompositePeriod:
        """The period in force `offset` seconds after schedule_start."""
        found = self.charging_schedule_period[0]
        for period in self.charging_schedule_period:
            if period.start_period > offset:
                break
            found = period
        return found


def convert_limit(
    limit: Decimal,
    *,
    from_unit: ChargingRateUnit,
    to_unit: ChargingRateUnit,
    number_phases: int,
    voltage: Decimal,
) -> Decimal:
    """Errata 3.69: W = A x voltage x phases. Not rounded (beyond the Decimal context's)."""
    if from_unit is to_unit:
        return limit
    if to_unit is ChargingRateUnit.W:
        return limit * voltage * number_phases
    return limit / (voltage * number_phases)


def composite_schedule(
    installed: Sequence[Installed],
    *,
    connector_id: int,
    start: datetime,
    duration: int,
    charging_rate_unit: ChargingRateUnit | None = None,
    transaction: ActiveTransaction | None = None,
    local_limit: RateLimit | None = None,
    voltage: Decimal = Decimal(230),
    default_phases: int = 3,
    tx_default_fallback: bool = False,
) -> CompositeSchedule:
    """The composite schedule for `connector_id` over [start, start + duration) (5.7).

    `installed` is everything installed on one charge point (other connectors' profiles are
    ignored as the rules say). `transaction` is the one running on `connector_id`, if any.
    `local_limit` is the charge point's own maximum, when known. `tx_default_fallback`: the
    other reading of 3.13.1, where the TxDefaultProfiles apply whenever no TxProfile of the
    transaction is in force (after its schedule ends, before it starts) as some charge points
    do; off, the CSMS's reading (see the module docstring). Raises ValueError on bad arguments
    and when two profiles of one stack share a stack level.
    """
    _check_arguments(start, duration, connector_id, transaction, voltage, default_phases)
    charge_point_max, tx_profiles, defaults = _stacks(installed, connector_id, transaction)
    tx = [tx_profiles, defaults] if tx_default_fallback else [tx_profiles or defaults]
    relative_start = transaction.start if transaction is not None else start
    cells = _evaluate(charge_point_max, tx, start, duration, relative_start)
    used = {choice.profile for _, choices in cells for choice in choices}
    unit = charging_rate_unit or _unit_of(used, local_limit)
    periods: list[CompositePeriod] = []
    for start_period, choices in cells:
        candidates = [_converted(choice, unit, voltage, default_phases) for choice in choices]
        if local_limit is not None:
            candidates.append(_converted_local(local_limit, unit, voltage, default_phases))
        limit: Decimal | None = None
        number_phases: int | None = None
        if candidates:
            limit, _, number_phases = min(candidates, key=lambda c: c[:2])
        if not periods or (periods[-1].limit, periods[-1].number_phases) != (limit, number_phases):
            periods.append(
                CompositePeriod(start_period=start_period, limit=limit, number_phases=number_phases)
            )

    min_charging_rate = None
    if len(used) == 1:
        (only,) = used
        if only.charging_schedule.charging_rate_unit is unit:
            min_charging_rate = only.charging_schedule.min_charging_rate
    return CompositeSchedule(
        connector_id=connector_id,
        schedule_start=start,
        duration=duration,
        charging_rate_unit=unit,
        charging_schedule_period=tuple(periods),
        min_charging_rate=min_charging_rate,
    )


def _check_arguments(
    start: datetime,
    duration: int,
    connector_id: int,
    transaction: ActiveTransaction | None,
    voltage: Decimal,
    default_phases: int,
) -> None:
    if start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    if duration < 0 or connector_id < 0:
        raise ValueError("duration and connector_id must be >= 0")
    if connector_id == 0 and transaction is not None:
        raise ValueError("connector 0 has no transaction")
    if not voltage > 0 or not 1 <= default_phases <= 3:
        raise ValueError("voltage must be > 0 and default_phases 1, 2 or 3")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Choice:
    """The prevailing profile of one purpose at one instant, and its period in force."""

    profile: ChargingProfile
    period: ChargingSchedulePeriod


def _stacks(
    installed: Sequence[Installed], connector_id: int, transaction: ActiveTransaction | None
) -> tuple[list[ChargingProfile], list[ChargingProfile], list[ChargingProfile]]:
    """The ChargePointMaxProfile stack, the transaction's TxProfiles and the TxDefaultProfile
    stack of the connector."""
    charge_point_max: list[ChargingProfile] = []
    tx_profiles: list[ChargingProfile] = []
    defaults_here: list[ChargingProfile] = []
    defaults_all: list[ChargingProfile] = []
    for item in installed:
        profile = item.profile
        match profile.charging_profile_purpose:
            case ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE:
                charge_point_max.append(profile)
            case ChargingProfilePurpose.TX_PROFILE:
                if (
                    connector_id > 0
                    and item.connector_id == connector_id
                    and transaction is not None
                    and profile.transaction_id in (None, transaction.transaction_id)
                ):
                    tx_profiles.append(profile)
            case ChargingProfilePurpose.TX_DEFAULT_PROFILE:
                if connector_id > 0 and item.connector_id == connector_id:
                    defaults_here.append(profile)
                elif connector_id > 0 and item.connector_id == 0:
                    defaults_all.append(profile)
    for stack in (charge_point_max, tx_profiles, defaults_here, defaults_all):
        _require_unique_stack_levels(stack)
    taken = {profile.stack_level for profile in defaults_here}
    return (
        charge_point_max,
        tx_profiles,
        defaults_here + [profile for profile in defaults_all if profile.stack_level not in taken],
    )


def _require_unique_stack_levels(stack: list[ChargingProfile]) -> None:
    # 3.13.2: a second profile with the same stackLevel and purpose replaces the first, so two
    # of them installed together is a state the profile store must not produce.
    seen: dict[int, int] = {}
    for profile in stack:
        if profile.stack_level in seen:
            raise ValueError(
                f"charging profiles {seen[profile.stack_level]} and "
                f"{profile.charging_profile_id} share purpose and stack level "
                f"{profile.stack_level}; one should have replaced the other"
            )
        seen[profile.stack_level] = profile.charging_profile_id


def _schedule_start(profile: ChargingProfile, t: datetime, relative_start: datetime) -> datetime:
    """The start of the run of the profile's schedule that `t` falls in (or would)."""
    start_schedule = profile.charging_schedule.start_schedule
    if start_schedule is None:  # Relative (profiles.py enforces the pairing)
        return relative_start
    if profile.recurrency_kind is None:  # Absolute
        return start_schedule
    cycle = _CYCLE[profile.recurrency_kind]
    return start_schedule + ((t - start_schedule) // cycle) * cycle


def _period_at(
    profile: ChargingProfile, t: datetime, relative_start: datetime
) -> ChargingSchedulePeriod | None:
    if profile.valid_from is not None and t < profile.valid_from:
        return None
    if profile.valid_to is not None and t >= profile.valid_to:
        return None
    offset = t - _schedule_start(profile, t, relative_start)
    schedule = profile.charging_schedule
    if offset < timedelta(0):
        return None
    if schedule.duration is not None and offset >= schedule.duration * _SECOND:
        return None
    # A Recurring offset is below one cycle, so periods past the cycle never run (errata 3.44).
    in_force = None
    for period in schedule.charging_schedule_period:
        if period.start_period * _SECOND > offset:
            break
        in_force = period
    return in_force


def _prevailing(
    stack: list[ChargingProfile], t: datetime, relative_start: datetime
) -> _Choice | None:
    """3.13.2: the highest stack level among the profiles in force at `t`."""
    best: _Choice | None = None
    for profile in stack:
        if best is not None and profile.stack_level < best.profile.stack_level:
            continue
        period = _period_at(profile, t, relative_start)
        if period is not None:
            best = _Choice(profile=profile, period=period)
    return best


def _evaluate(
    charge_point_max: list[ChargingProfile],
    tx: list[list[ChargingProfile]],
    start: datetime,
    duration: int,
    relative_start: datetime,
) -> list[tuple[int, list[_Choice]]]:
    """Per whole-second cell (by its start offset): what prevails anywhere inside it. `tx` is
    the TxProfile-or-TxDefaultProfile stack in layers: the first one with a profile in force
    at an instant gives its limit."""
    end = start + duration * _SECOND
    breakpoints = sorted(
        {
            instant
            for profile in (*charge_point_max, *(p for layer in tx for p in layer))
            for instant in _breakpoints(profile, start, end, relative_start)
            if start < instant < end
        }
    )
    cells = []
    for c0, c1 in _cells(breakpoints, start, duration):
        # Nothing changes between breakpoints: evaluating at the start of the cell and at each
        # breakpoint inside it (only a one-second cell has any) sees every value it takes.
        low, high = start + c0 * _SECOND, start + c1 * _SECOND
        inside = breakpoints[bisect_right(breakpoints, low) : bisect_left(breakpoints, high)]
        evaluated = [
            choice
            for instant in (low, *inside)
            for choice in (
                _prevailing(charge_point_max, instant, relative_start),
                _first_in_force(tx, instant, relative_start),
            )
        ]
        cells.append((c0, [choice for choice in evaluated if choice is not None]))
    return cells


def _first_in_force(
    layers: list[list[ChargingProfile]], t: datetime, relative_start: datetime
) -> _Choice | None:
    for layer in layers:
        choice = _prevailing(layer, t, relative_start)
        if choice is not None:
            return choice
    return None


def _breakpoints(
    profile: ChargingProfile, start: datetime, end: datetime, relative_start: datetime
) -> Iterator[datetime]:
    """Every instant in [start, end] (and some outside) at which the profile may change."""
    if profile.valid_from is not None:
        yield profile.valid_from
    if profile.valid_to is not None:
        yield profile.valid_to
    schedule = profile.charging_schedule
    first = _schedule_start(profile, start, relative_start)
    runs = [first]
    if profile.recurrency_kind is not None:
        cycle = _CYCLE[profile.recurrency_kind]
        runs = [first + k * cycle for k in range((end - first) // cycle + 2)]
    for run in runs:
        for period in schedule.charging_schedule_period:
            yield run + period.start_period * _SECOND
        if schedule.duration is not None:
            yield run + schedule.duration * _SECOND


def _cells(breakpoints: list[datetime], start: datetime, duration: int) -> list[tuple[int, int]]:
    """Whole-second cells; a breakpoint inside a second gets that second as a cell of its own."""
    if duration == 0:
        return [(0, 0)]
    cuts = {0, duration}
    for instant in breakpoints:
        whole, fraction = divmod(instant - start, _SECOND)
        cuts.add(whole)
        if fraction:
            cuts.add(whole + 1)
    ordered = sorted(cuts)
    return list(pairwise(ordered))


def _unit_of(used: set[ChargingProfile], local_limit: RateLimit | None) -> ChargingRateUnit:
    units = {profile.charging_schedule.charging_rate_unit for profile in used}
    if len(units) == 1:
        return units.pop()
    if not units and local_limit is not None:
        return local_limit.charging_rate_unit
    return ChargingRateUnit.A


def _floor_tenth(value: Decimal) -> Decimal:
    return value.quantize(_TENTH, rounding=ROUND_FLOOR)


# A candidate limit: (limit in the output unit, effective phases, numberPhases to report). The
# lowest limit wins; among equal limits, the fewest phases.
_Candidate = tuple[Decimal, int, int | None]


def _converted(
    choice: _Choice, unit: ChargingRateUnit, voltage: Decimal, default_phases: int
) -> _Candidate:
    phases = choice.period.number_phases or default_phases
    limit = convert_limit(
        choice.period.limit,
        from_unit=choice.profile.charging_schedule.charging_rate_unit,
        to_unit=unit,
        number_phases=phases,
        voltage=voltage,
    )
    return _floor_tenth(limit), phases, choice.period.number_phases


def _converted_local(
    local: RateLimit, unit: ChargingRateUnit, voltage: Decimal, default_phases: int
) -> _Candidate:
    phases = local.number_phases or default_phases
    limit = convert_limit(
        local.limit,
        from_unit=local.charging_rate_unit,
        to_unit=unit,
        number_phases=phases,
        voltage=voltage,
    )
    return _floor_tenth(limit), phases, local.number_phases
