"""The simulated charge point's smart charging: its composite schedule (GetCompositeSchedule,
spec 5.7) and the current it charges at, from the profiles it has installed (spec 3.13).

Deliberately simple and separate from the CSMS's engine (`csms.smart_charging`), so that the
CSMS can compare its own composite schedule with this one and a test can make them disagree:
the raw profile JSON is evaluated second by second, each second taking the lowest limit seen at
its first and at its last millisecond (a profile changes at most once in a second, since its
periods are whole seconds). The stacking rules are the spec's, read afresh:

* per purpose, the highest stackLevel among the profiles valid (validFrom/validTo) and inside
  their schedule at that moment (3.13.2, errata 3.43); Recurring restarts every day or week from
  startSchedule (errata 3.79); Relative starts with the transaction (or now, without one);
* TxProfiles of the running transaction (transactionId absent or equal) replace every
  TxDefaultProfile (3.13.1, 7.10); a connector's TxDefaultProfile replaces connector 0's of the
  same stackLevel (3.13.1);
* the purposes combine by the minimum (3.13.3), with the charge point's own maximum
  (`MAX_CURRENT_A` on three phases) as its local limit; connector 0 reports the
  ChargePointMaxProfile (the grid connection);
* W = A x 230 V x phases (numberPhases, else 3; errata 3.69); converted limits are rounded down
  to 0.1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Final

from csms.simulator.meter import CHARGING_CURRENT_A
from csms.simulator.state import ChargePointState, InstalledProfile

Payload = dict[str, Any]

# The charge point's own limit: what it reports where no profile limits charging.
MAX_CURRENT_A: Final = Decimal(32)
VOLTAGE: Final = Decimal(230)
_PHASES: Final = 3
_TENTH: Final = Decimal("0.1")
_SECOND: Final = timedelta(seconds=1)
_LAST_MILLISECOND: Final = timedelta(milliseconds=999)
_CYCLES: Final = {"Daily": timedelta(days=1), "Weekly": timedelta(weeks=1)}

# A limit in force: (limit, unit "A" or "W", number of phases).
Limit = tuple[Decimal, str, int]


def get_composite_schedule(state: ChargePointState, payload: Payload) -> Payload:
    """GetCompositeSchedule.conf (spec 6.22, errata 3.57: no startSchedule) for the request."""
    connector_id: int = payload["connectorId"]
    if connector_id != 0 and not state.is_connector(connector_id):
        return {"status": "Rejected"}  # spec 5.7: an unknown connector
    duration: int = payload["duration"]
    unit: str = payload.get("chargingRateUnit") or "A"
    stack = state.stack
    now = state.clock().astimezone(UTC)
    # A millisecond clock (stacks.py) starts at its millisecond and looks once per second.
    start = (
        now.replace(microsecond=now.microsecond // 1000 * 1000)
        if stack.millisecond_clock
        else now.replace(microsecond=0)
    )
    looks = (timedelta(0),) if stack.millisecond_clock else (timedelta(0), _LAST_MILLISECOND)
    periods: list[Payload] = []
    for second in range(max(duration, 1)):
        moment = start + second * _SECOND
        found = [_limits(state, connector_id, moment + look, start) for look in looks]
        limit, phases = min((_in_unit(f, unit) for f in found), key=lambda c: c[0])
        # Nothing limits charging: its own maximum, or -1 (stacks.py).
        unlimited = stack.no_limit_minus_one and not any(found)
        number = -1 if unlimited else _number(limit)
        if periods and (periods[-1]["limit"], periods[-1].get("numberPhases")) == (
            number,
            phases,
        ):
            continue
        period: Payload = {"startPeriod": second, "limit": number}
        if phases is not None:
            period["numberPhases"] = phases
        periods.append(period)
    return {
        "status": "Accepted",
        "connectorId": connector_id,
        "scheduleStart": start.isoformat(
            timespec="milliseconds" if stack.millisecond_clock else "seconds"
        ).replace("+00:00", "Z"),
        "chargingSchedule": {
            "duration": duration,
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": periods,
        },
    }


def charging_current(state: ChargePointState, connector_id: int, moment: datetime) -> float:
    """The current per phase a three-phase car charges at now: `CHARGING_CURRENT_A`, or less
    where the composite limit says so (the meter values never exceed it)."""
    current = Decimal(str(CHARGING_CURRENT_A))
    for limit, unit, _ in _limits(state, connector_id, moment, moment):
        allowed = limit if unit == "A" else _floor(limit / (VOLTAGE * _PHASES))
        current = min(current, allowed)
    return float(current)


def _in_unit(limits: Iterable[Limit], unit: str) -> tuple[Decimal, int | None]:
    """The lowest limit in `unit`, with its numberPhases (None for the local limit)."""
    best: tuple[Decimal, int | None] = (_converted(MAX_CURRENT_A, "A", _PHASES, unit), None)
    for limit, limit_unit, phases in limits:
        value = _converted(limit, limit_unit, phases, unit)
        if value < best[0]:
            best = (value, phases)
    return best


def _converted(limit: Decimal, unit: str, phases: int, wanted: str) -> Decimal:
    if unit == wanted:
        return limit
    if wanted == "W":
        return _floor(limit * VOLTAGE * phases)
    return _floor(limit / (VOLTAGE * phases))


def _floor(value: Decimal) -> Decimal:
    return value.quantize(_TENTH, rounding=ROUND_FLOOR)


def _number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def _limits(
    state: ChargePointState, connector_id: int, moment: datetime, now: datetime
) -> list[Limit]:
    """The limit of each purpose prevailing on the connector at `moment`."""
    profiles = state.charging_profiles
    transaction = state.transaction_on(connector_id) if connector_id > 0 else None
    relative_start = now
    if transaction is not None and transaction.started_at is not None:
        relative_start = transaction.started_at
    found = []
    maximum = _prevailing(
        [p for p in profiles if p.purpose == "ChargePointMaxProfile"], moment, relative_start
    )
    if maximum is not None:
        found.append(maximum)
    if connector_id == 0:
        return found
    tx_profiles = [
        p
        for p in profiles
        if p.purpose == "TxProfile"
        and p.connector_id == connector_id
        and transaction is not None
        and p.profile.get("transactionId", transaction.transaction_id) == transaction.transaction_id
    ]
    here = [
        p for p in profiles if p.purpose == "TxDefaultProfile" and p.connector_id == connector_id
    ]
    levels = {p.stack_level for p in here}
    defaults = here + [
        p
        for p in profiles
        if p.purpose == "TxDefaultProfile" and p.connector_id == 0 and p.stack_level not in levels
    ]
    tx = _prevailing(tx_profiles or defaults, moment, relative_start)
    if tx is None and tx_profiles and state.stack.tx_default_fallback:
        tx = _prevailing(defaults, moment, relative_start)  # stacks.py: the other reading
    if tx is not None:
        found.append(tx)
    return found


def _prevailing(
    stack: list[InstalledProfile], moment: datetime, relative_start: datetime
) -> Limit | None:
    best: tuple[int, Limit] | None = None
    for installed in stack:
        limit = _limit_of(installed.profile, moment, relative_start, installed.installed_at)
        if limit is not None and (best is None or installed.stack_level > best[0]):
            best = (installed.stack_level, limit)
    return None if best is None else best[1]


def _limit_of(
    profile: Mapping[str, Any],
    moment: datetime,
    relative_start: datetime,
    installed_at: datetime | None = None,
) -> Limit | None:
    valid_from = _time(profile.get("validFrom"))
    valid_to = _time(profile.get("validTo"))
    if (valid_from is not None and moment < valid_from) or (
        valid_to is not None and moment >= valid_to
    ):
        return None
    schedule: Mapping[str, Any] = profile["chargingSchedule"]
    start = _time(schedule.get("startSchedule"))
    kind = profile["chargingProfileKind"]
    if kind == "Absolute" and start is None:  # spec 7.13: optional; from validFrom or install
        start = valid_from or installed_at or relative_start
    if kind == "Relative" or start is None:
        start = relative_start
    elif kind == "Recurring":
        cycle = _CYCLES[profile.get("recurrencyKind", "Daily")]
        start += ((moment - start) // cycle) * cycle
    offset = moment - start
    duration = schedule.get("duration")
    if offset < timedelta(0) or (duration is not None and offset >= duration * _SECOND):
        return None
    current = None
    for period in schedule["chargingSchedulePeriod"]:
        if period["startPeriod"] * _SECOND <= offset:
            current = period
    if current is None:
        return None
    return (
        Decimal(str(current["limit"])),
        schedule["chargingRateUnit"],
        current.get("numberPhases", _PHASES),
    )


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
