"""Charger profiles: which charge points one describes (BootNotification vendor, model and
firmwareVersion, or charge point ids) and its rules. The built-in ones describe the stacks the
CSMS is tested against (the simulator's stack presets, docs/simulator-misbehaviours.md);
operators add their own (api/charger_profiles.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Final

# The rules as the API spells them (camelCase) -> the field.
_RULE_NAMES: Final = {
    "capDates": "cap_dates",
    "startSchedule": "start_schedule",
    "maxKeys": "max_keys",
    "txDefaultFallback": "tx_default_fallback",
    "localLimitAmps": "local_limit_amps",
    "heartbeatInterval": "heartbeat_interval",
}

# The heartbeatInterval a profile may give, seconds: a second to a day.
HEARTBEAT_INTERVAL_RANGE: Final = (1, 86_400)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """How to talk to a charge point. Several matching profiles combine (`merged`)."""

    # Dates after 2037-12-31T23:59:59Z are sent as that date (32-bit time: the stack refuses
    # or drops later ones): idTagInfo.expiryDate, ReserveNow.expiryDate, profile dates.
    cap_dates: bool = False
    # Absolute charging profiles always carry startSchedule (spec 7.13 makes it optional).
    start_schedule: bool = False
    # GetConfiguration asks for at most this many keys per request (like the charge point's
    # GetConfigurationMaxKeys, spec 9.1, when the CSMS has not read it).
    max_keys: int | None = None
    # The charge point falls back to its TxDefaultProfile when a TxProfile's schedule ends
    # (the composite comparison reports its reading next to the CSMS's).
    tx_default_fallback: bool = False
    # The charge point's own maximum, A per phase on 3 phases: what its composite schedule
    # reports where no profile limits charging.
    local_limit_amps: Decimal | None = None
    # The interval answered to an Accepted BootNotification (spec 4.2) when the operator set
    # no HeartbeatInterval for the charge point (features/core/handlers.py); several matching
    # profiles: heartbeat_interval_of.
    heartbeat_interval: int | None = None

    def __post_init__(self) -> None:
        if self.max_keys is not None and self.max_keys < 1:
            raise ValueError("maxKeys must be at least 1")
        low, high = HEARTBEAT_INTERVAL_RANGE
        if self.heartbeat_interval is not None and not low <= self.heartbeat_interval <= high:
            raise ValueError(f"heartbeatInterval must be {low} to {high} seconds")
        if self.local_limit_amps is not None and not (
            self.local_limit_amps.is_finite() and self.local_limit_amps > 0
        ):
            raise ValueError("localLimitAmps must be a number above 0")

    def merged(self, other: Rules) -> Rules:
        """Both rule sets: any switch on, the smallest maxKeys, the first local limit, the
        shortest heartbeat interval (between profiles of equal standing: rules_of)."""
        keys = [k for k in (self.max_keys, other.max_keys) if k is not None]
        intervals = [
            i for i in (self.heartbeat_interval, other.heartbeat_interval) if i is not None
        ]
        return Rules(
            cap_dates=self.cap_dates or other.cap_dates,
            start_schedule=self.start_schedule or other.start_schedule,
            max_keys=min(keys) if keys else None,
            tx_default_fallback=self.tx_default_fallback or other.tx_default_fallback,
            local_limit_amps=(
                self.local_limit_amps
                if self.local_limit_amps is not None
                else other.local_limit_amps
            ),
            heartbeat_interval=min(intervals) if intervals else None,
        )

    def as_json(self) -> dict[str, Any]:
        """The rules that are set, as the API spells them."""
        out: dict[str, Any] = {}
        for name, attribute in _RULE_NAMES.items():
            value = getattr(self, attribute)
            if value not in (None, False):
                out[name] = float(value) if isinstance(value, Decimal) else value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rules:
        """ValueError naming the rule when one is unknown or of the wrong type."""
        values: dict[str, Any] = {}
        kinds = {f.name: f.type for f in fields(cls)}
        for name, value in data.items():
            attribute = _RULE_NAMES.get(name)
            if attribute is None:
                raise ValueError(f"unknown rule {name!r} (known: {', '.join(_RULE_NAMES)})")
            values[attribute] = _rule_value(name, kinds[attribute], value)
        return cls(**values)


def rule_fields() -> list[tuple[str, str, str]]:
    """(API name, field, kind) of every rule, kind "bool", "int" or "number": for forms."""
    kinds = {f.name: f.type for f in fields(Rules)}
    names = {"bool": "bool", "int | None": "int"}
    return [
        (name, attribute, names.get(str(kinds[attribute]), "number"))
        for name, attribute in _RULE_NAMES.items()
    ]


def _rule_value(name: str, kind: object, value: Any) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name}: expected true or false")
        return value
    if value is None:
        return None
    if kind == "int | None":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name}: expected a whole number")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name}: expected a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name}: expected a number") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerProfile:
    """Which charge points a profile describes and how to talk to them. The patterns are
    regular expressions matched in full, ignoring case; a profile matches a charge point whose
    id is listed, or whose BootNotification fits every pattern given (at least one)."""

    name: str
    description: str = ""
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    charge_point_ids: tuple[str, ...] = ()
    rules: Rules = field(default_factory=Rules)
    builtin: bool = False

    def __post_init__(self) -> None:
        for label, pattern in self._patterns():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{label}: not a regular expression: {exc}") from None

    def _patterns(self) -> list[tuple[str, str]]:
        named = (
            ("vendor", self.vendor),
            ("model", self.model),
            ("firmwareVersion", self.firmware_version),
        )
        return [(label, pattern) for label, pattern in named if pattern is not None]

    def matches(
        self,
        charge_point_id: str,
        *,
        vendor: str | None,
        model: str | None,
        firmware_version: str | None,
    ) -> bool:
        if charge_point_id in self.charge_point_ids:
            return True
        patterns = self._patterns()
        if not patterns:
            return False
        reported = {"vendor": vendor, "model": model, "firmwareVersion": firmware_version}
        return all(
            reported[label] is not None
            and re.fullmatch(pattern, reported[label] or "", re.IGNORECASE) is not None
            for label, pattern in patterns
        )


def matching(
    profiles: Iterable[ChargerProfile],
    charge_point_id: str,
    *,
    vendor: str | None,
    model: str | None,
    firmware_version: str | None,
) -> list[ChargerProfile]:
    return [
        profile
        for profile in profiles
        if profile.matches(
            charge_point_id, vendor=vendor, model=model, firmware_version=firmware_version
        )
    ]


def rules_of(profiles: Iterable[ChargerProfile], charge_point_id: str | None = None) -> Rules:
    """The rules of the profiles matching a charge point (`matching`), combined (`merged`);
    the heartbeat interval by precedence (`heartbeat_interval_of`)."""
    found = tuple(profiles)
    combined = Rules()
    for profile in found:
        combined = combined.merged(profile.rules)
    return replace(combined, heartbeat_interval=heartbeat_interval_of(found, charge_point_id))


def heartbeat_interval_of(
    profiles: Iterable[ChargerProfile], charge_point_id: str | None = None
) -> int | None:
    """The heartbeatInterval of the profiles matching a charge point: an operator's profile
    that lists its id, else an operator's that matched its boot, else a built-in one listing
    it, else a built-in one by its boot; the shortest interval among profiles of one standing.
    None when none gives one."""
    best: tuple[int, int] | None = None
    for profile in profiles:
        interval = profile.rules.heartbeat_interval
        if interval is None:
            continue
        by_id = charge_point_id is not None and charge_point_id in profile.charge_point_ids
        standing = (2 if profile.builtin else 0) + (0 if by_id else 1)
        if best is None or (standing, interval) < best:
            best = (standing, interval)
    return None if best is None else best[1]


def with_cap_dates(rules: Rules, policy: str) -> Rules:
    """The server-wide date policy (Settings.cap_dates): always, never or as the profiles say."""
    if policy == "always":
        return replace(rules, cap_dates=True)
    if policy == "never":
        return replace(rules, cap_dates=False)
    return rules


# The stacks the CSMS is tested against: the simulator and its stack presets (simulator/
# stacks.py), which act like the charger stacks of docs/charger-compatibility.md. A real charger
# with one of these behaviours gets a profile of its own with the same rules.
_SIMULATOR = "SimVendor"
BUILTIN: Final[tuple[ChargerProfile, ...]] = (
    ChargerProfile(
        name="csms-simulator",
        description="the CSMS's simulator: reports 32 A where no profile limits charging",
        vendor=_SIMULATOR,
        rules=Rules(local_limit_amps=Decimal(32)),
        builtin=True,
    ),
    ChargerProfile(
        name="32-bit-time",
        description="a stack with 32-bit time: drops or refuses dates from 2038 on",
        vendor=_SIMULATOR,
        model="Sim32",
        rules=Rules(cap_dates=True),
        builtin=True,
    ),
    ChargerProfile(
        name="cpp-stack",
        description=(
            "an EVerest-like C++ stack: 32-bit dates, millisecond clock, falls back to its "
            "TxDefaultProfile when a TxProfile's schedule ends, -1 for no limit"
        ),
        vendor=_SIMULATOR,
        model="SimCpp",
        rules=Rules(cap_dates=True, start_schedule=True, tx_default_fallback=True),
        builtin=True,
    ),
    ChargerProfile(
        name="strict-schema-ts",
        description=(
            "a strict-schema TypeScript simulator: refuses dates from 2038 on, "
            "GetConfigurationMaxKeys 5"
        ),
        vendor=_SIMULATOR,
        model="SimTs",
        rules=Rules(cap_dates=True, start_schedule=True, max_keys=5),
        builtin=True,
    ),
)
