"""What the rules change in what the CSMS sends: dates capped at 2037-12-31T23:59:59Z,
startSchedule filled in for Absolute profiles, GetConfiguration split into batches of at most
maxKeys keys; and `-1` limits read as "no limit". Each change is returned as an Adaptation for
the caller to log (once per charge point)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from csms.quirks.profiles import Rules

# The last second a signed 32-bit time_t holds (2038-01-19) rounded down to a year's end: a
# date that every such stack stores, and that reads as "far in the future" to a person.
LATEST_DATE: Final = datetime(2037, 12, 31, 23, 59, 59, tzinfo=UTC)
_LATEST_TEXT: Final = "2037-12-31T23:59:59Z"

# Where the dates are, per action: a path of keys, "*" for every item of a list.
_PROFILE_DATES: Final = (
    ("validFrom",),
    ("validTo",),
    ("chargingSchedule", "startSchedule"),
)
_REQUEST_DATES: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "ReserveNow": (("expiryDate",),),
    "SendLocalList": (("localAuthorizationList", "*", "idTagInfo", "expiryDate"),),
    "SetChargingProfile": tuple(("csChargingProfiles", *path) for path in _PROFILE_DATES),
    "RemoteStartTransaction": tuple(("chargingProfile", *path) for path in _PROFILE_DATES),
}
_ANSWER_DATES: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    action: (("idTagInfo", "expiryDate"),)
    for action in ("Authorize", "StartTransaction", "StopTransaction")
}
_PROFILE_OF: Final = {
    "SetChargingProfile": "csChargingProfiles",
    "RemoteStartTransaction": "chargingProfile",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Adaptation:
    """One change a rule made: `rule` (capDates, startSchedule, maxKeys) in `action`."""

    rule: str
    action: str
    detail: str


def adapt_request(
    action: str, payload: dict[str, Any], rules: Rules, *, now: datetime
) -> tuple[dict[str, Any], list[Adaptation]]:
    """The request as this charge point should get it, and what was changed (`payload` is
    left as it is). `now`: the startSchedule of an Absolute profile with neither startSchedule
    nor validFrom (the time it is installed, docs/charger-compatibility.md)."""
    changed: list[Adaptation] = []
    out = payload
    key = _PROFILE_OF.get(action)
    if rules.start_schedule and key is not None and _needs_start(payload.get(key)):
        out = copy.deepcopy(payload)
        profile = out[key]
        start = profile.get("validFrom") or _text(now)
        profile["chargingSchedule"]["startSchedule"] = start
        changed.append(
            Adaptation(
                rule="startSchedule",
                action=action,
                detail=f"Absolute profile {profile.get('chargingProfileId')} sent with "
                f"startSchedule {start}",
            )
        )
    if rules.cap_dates:
        out, capped = _capped(out, _REQUEST_DATES.get(action, ()), action)
        changed += capped
    return out, changed


def adapt_answer(
    action: str, payload: dict[str, Any], rules: Rules
) -> tuple[dict[str, Any], list[Adaptation]]:
    """A CALLRESULT payload of ours as this charge point should get it."""
    if not rules.cap_dates:
        return payload, []
    return _capped(payload, _ANSWER_DATES.get(action, ()), action)


def _needs_start(profile: Any) -> bool:
    return (
        isinstance(profile, dict)
        and profile.get("chargingProfileKind") == "Absolute"
        and isinstance(profile.get("chargingSchedule"), dict)
        and profile["chargingSchedule"].get("startSchedule") is None
    )


def _capped(
    payload: dict[str, Any], paths: Iterable[tuple[str, ...]], action: str
) -> tuple[dict[str, Any], list[Adaptation]]:
    found = [
        (parent, key, value)
        for path in paths
        for parent, key, value in _leaves(payload, path)
        if _after_latest(value)
    ]
    if not found:
        return payload, []
    out = copy.deepcopy(payload)
    changed = []
    for path in paths:
        for parent, key, value in _leaves(out, path):
            if _after_latest(value):
                parent[key] = LATEST_DATE if isinstance(value, datetime) else _LATEST_TEXT
                changed.append(
                    Adaptation(
                        rule="capDates",
                        action=action,
                        detail=f"{'.'.join(path)} {_text(value)} sent as {_LATEST_TEXT}",
                    )
                )
    return out, changed


def _leaves(node: Any, path: Sequence[str]) -> list[tuple[dict[str, Any], str, Any]]:
    """(the dict holding it, its key, the value) of each value at `path` under `node`."""
    if not path:
        return []
    head, rest = path[0], path[1:]
    if head == "*":
        items = node if isinstance(node, list) else []
        return [leaf for item in items for leaf in _leaves(item, rest)]
    if not isinstance(node, dict) or node.get(head) is None:
        return []
    if not rest:
        return [(node, head, node[head])]
    return _leaves(node[head], rest)


def _after_latest(value: Any) -> bool:
    moment = value if isinstance(value, datetime) else _parsed(value)
    return moment is not None and moment > LATEST_DATE


def _parsed(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


# -- GetConfiguration in batches (spec 9.1 GetConfigurationMaxKeys) ------------------------------


def key_batches(keys: Sequence[str], max_keys: int | None) -> list[list[str]]:
    """The keys of one GetConfiguration, in requests of at most `max_keys` keys."""
    if max_keys is None or len(keys) <= max_keys:
        return [list(keys)]
    return [list(keys[i : i + max_keys]) for i in range(0, len(keys), max_keys)]


def merged_configuration(answers: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The answers to the batches as one GetConfiguration.conf."""
    known: list[Any] = []
    unknown: list[Any] = []
    for answer in answers:
        known += answer.get("configurationKey", [])
        unknown += answer.get("unknownKey", [])
    merged: dict[str, Any] = {"configurationKey": known}
    if unknown:
        merged["unknownKey"] = unknown
    return merged


# -- limits ------------------------------------------------------------------------------------


def no_limit(limit: Decimal | None) -> Decimal | None:
    """A charge point's limit as the CSMS reads it: a negative one (stacks send -1) is "no
    limit" (None), never a negative power or current."""
    if limit is not None and limit < 0:
        return None
    return limit
