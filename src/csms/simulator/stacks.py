"""Charger stacks the simulator can act like (docs/simulator-misbehaviours.md): behaviours seen
on the wire with stacks the CSMS did not write, each switchable, and presets that combine them
the way those stacks do. Built-in charger profiles of the CSMS match the presets' models
(quirks/profiles.py); a preset is what the CSMS is tested against, not the stack itself.

* 32-bit time: a date from 2038 on is dropped (kept without it) or refused (CALLERROR
  PropertyConstraintViolation) in ReserveNow, SendLocalList and charging profiles; in the
  idTagInfo of the CSMS's answers it is dropped (a CALLRESULT cannot be refused).
* millisecond clock: GetCompositeSchedule starts at the clock's millisecond and evaluates each
  second at that offset.
* TxDefaultProfile fallback: after the transaction's TxProfile schedule ends the
  TxDefaultProfile applies again (the other reading of spec 3.13.1).
* -1 for "no limit" in GetCompositeSchedule where no profile limits charging.
* GetConfigurationMaxKeys small: a GetConfiguration for more keys is refused
  (OccurrenceConstraintViolation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from csms.ocppj import CallError, ErrorCode

Payload = dict[str, Any]

# The first instant a signed 32-bit time_t cannot hold (2038-01-19T03:14:08Z), as stacks test it.
FIRST_32_BIT_OVERFLOW: Final = datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC)

_PROFILE_DATES: Final = (("validFrom",), ("validTo",), ("chargingSchedule", "startSchedule"))
_REQUEST_DATES: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "ReserveNow": (("expiryDate",),),
    "SetChargingProfile": tuple(("csChargingProfiles", *p) for p in _PROFILE_DATES),
    "RemoteStartTransaction": tuple(("chargingProfile", *p) for p in _PROFILE_DATES),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Stack:
    """The behaviours of one simulated stack; the default is a charge point without any."""

    name: str = "plain"
    model: str = "SimModel"
    dates_32_bit: str | None = None  # None | "drop" | "refuse"
    millisecond_clock: bool = False
    tx_default_fallback: bool = False
    no_limit_minus_one: bool = False
    get_configuration_max_keys: int | None = None


PRESETS: Final[dict[str, Stack]] = {
    "plain": Stack(),
    "32-bit": Stack(name="32-bit", model="Sim32", dates_32_bit="drop"),
    "cpp": Stack(
        name="cpp",
        model="SimCpp",
        dates_32_bit="drop",
        millisecond_clock=True,
        tx_default_fallback=True,
        no_limit_minus_one=True,
    ),
    "strict-ts": Stack(
        name="strict-ts", model="SimTs", dates_32_bit="refuse", get_configuration_max_keys=5
    ),
}


@dataclass(slots=True)
class Seen:
    """What a stack did with what it could not hold (for tests to assert on)."""

    dropped_dates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def too_late(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment >= FIRST_32_BIT_OVERFLOW


def before_request(
    stack: Stack, seen: Seen, action: str, payload: Payload, unique_id: str
) -> Payload | CallError:
    """The request as the stack reads it, or the CALLERROR it answers instead."""
    max_keys = stack.get_configuration_max_keys
    keys = len(payload.get("key") or []) if action == "GetConfiguration" else 0
    if max_keys is not None and keys > max_keys:
        seen.refused.append(f"GetConfiguration of {keys} keys")
        return CallError(
            unique_id=unique_id,
            error_code=ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
            error_description=f"GetConfigurationMaxKeys is {max_keys}",
        )
    if stack.dates_32_bit is None:
        return payload
    late = _late_dates(action, payload)
    if not late:
        return payload
    if stack.dates_32_bit == "refuse":
        seen.refused.append(f"{action} {', '.join(path for path, _, _ in late)}")
        return CallError(
            unique_id=unique_id,
            error_code=ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            error_description="dates from 2038 on cannot be held (32-bit time)",
        )
    for path, parent, key in late:
        del parent[key]
        seen.dropped_dates.append(f"{action} {path}")
    return payload


def after_answer(stack: Stack, seen: Seen, action: str, response: Payload) -> None:
    """A 32-bit stack keeps an idTagInfo.expiryDate from 2038 on as no expiry at all."""
    info = response.get("idTagInfo")
    late = isinstance(info, dict) and too_late(info.get("expiryDate"))
    if stack.dates_32_bit is not None and late:
        seen.dropped_dates.append(f"{action} idTagInfo.expiryDate")


def _late_dates(action: str, payload: Payload) -> list[tuple[str, Payload, str]]:
    """(path, the dict holding it, its key) of each date from 2038 on (in `payload`, which the
    caller may change: the simulator answers from its own copy)."""
    found = []
    if action == "SendLocalList":
        for index, entry in enumerate(payload.get("localAuthorizationList") or []):
            info = entry.get("idTagInfo")
            if isinstance(info, dict) and too_late(info.get("expiryDate")):
                found.append(
                    (f"localAuthorizationList[{index}].idTagInfo.expiryDate", info, "expiryDate")
                )
    for path in _REQUEST_DATES.get(action, ()):
        node: Any = payload
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and too_late(node.get(path[-1])):
            found.append((".".join(path), node, path[-1]))
    return found
