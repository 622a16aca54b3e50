"""Charger profiles at work (docs/charger-compatibility.md): which profiles describe a charge
point (its BootNotification, the built-in and the operators' profiles), the rules that follow,
and the adaptations they make to what the CSMS sends, each logged once per charge point.

Plumbing, like clocks.py: commands.send adapts every request (typed or generic endpoint), the
router every answer; the composite comparison reads the rules (smart_charging/).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from csms.quirks import (
    BUILTIN,
    Adaptation,
    ChargerProfile,
    Rules,
    adapt_answer,
    adapt_request,
    heartbeat_interval_of,
    matching,
    rules_of,
)
from csms.quirks.profiles import with_cap_dates
from csms.storage import ChargerProfileRecord, Store

if TYPE_CHECKING:
    from csms.features.context import Services

log = logging.getLogger("csms.features.charger_profiles")

# How many adaptations are kept per charge point for the operator to see (the first ones).
_KEPT = 20
# Boot identities whose matching profiles are remembered (all of them forgotten beyond).
_MATCHED_MAX = 100_000


def profile_of(record: ChargerProfileRecord) -> ChargerProfile:
    """ValueError naming what is wrong (a pattern, a rule)."""
    return ChargerProfile(
        name=record.name,
        description=record.description,
        vendor=record.vendor,
        model=record.model,
        firmware_version=record.firmware_version,
        charge_point_ids=tuple(record.charge_point_ids),
        rules=Rules.from_json(record.rules),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Described:
    """What the CSMS knows about one charge point's stack."""

    charge_point_id: str
    vendor: str | None
    model: str | None
    firmware_version: str | None
    profiles: tuple[ChargerProfile, ...]
    rules: Rules


@dataclass(slots=True)
class ChargerProfiles:
    """The profiles (the operators' read once, again after a change) and the adaptations seen."""

    _operators: tuple[ChargerProfile, ...] | None = None
    # (charge point, rule, action) already logged.
    _logged: set[tuple[str, str, str]] = field(default_factory=set)
    _seen: dict[str, list[Adaptation]] = field(default_factory=dict)
    # (charge point, vendor, model, firmware) -> the matching profiles: the answers to every
    # Authorize and StartTransaction ask, so the patterns are matched once per boot identity.
    _matched: dict[tuple[str, str | None, str | None, str | None], tuple[ChargerProfile, ...]] = (
        field(default_factory=dict)
    )
    # Counts the changes: a match computed across one is not remembered.
    _generation: int = 0

    async def all(self, store: Store) -> tuple[ChargerProfile, ...]:
        operators = self._operators
        if operators is None:
            generation = self._generation
            read = []
            for record in await store.list_charger_profiles():
                try:
                    read.append(profile_of(record))
                except ValueError as exc:  # stored by an older version with other rules
                    log.warning("charger profile %s ignored: %s", record.name, exc)
            operators = tuple(read)
            if generation == self._generation:
                self._operators = operators
        return BUILTIN + operators

    def changed(self) -> None:
        """An operator added, replaced or deleted a profile."""
        self._operators = None
        self._matched.clear()
        self._generation += 1

    async def describe(self, services: Services, charge_point_id: str) -> Described:
        charge_point = await services.store.get_charge_point(charge_point_id)
        boot = charge_point.boot if charge_point is not None else None
        vendor = boot.charge_point_vendor if boot else None
        model = boot.charge_point_model if boot else None
        firmware = boot.firmware_version if boot else None
        found = await self.matched(
            services.store, charge_point_id, vendor=vendor, model=model, firmware_version=firmware
        )
        return Described(
            charge_point_id=charge_point_id,
            vendor=vendor,
            model=model,
            firmware_version=firmware,
            profiles=found,
            rules=with_cap_dates(rules_of(found, charge_point_id), services.settings.cap_dates),
        )

    async def matched(
        self,
        store: Store,
        charge_point_id: str,
        *,
        vendor: str | None,
        model: str | None,
        firmware_version: str | None,
    ) -> tuple[ChargerProfile, ...]:
        """The profiles matching this boot identity: remembered, so the patterns are matched
        (and the operators' profiles read) once per identity and change."""
        key = (charge_point_id, vendor, model, firmware_version)
        found = self._matched.get(key)
        if found is None:
            generation = self._generation
            found = tuple(
                matching(
                    await self.all(store),
                    charge_point_id,
                    vendor=vendor,
                    model=model,
                    firmware_version=firmware_version,
                )
            )
            if len(self._matched) >= _MATCHED_MAX:
                self._matched.clear()
            if generation == self._generation:
                self._matched[key] = found
        return found

    async def rules(self, services: Services, charge_point_id: str) -> Rules:
        return (await self.describe(services, charge_point_id)).rules

    def adaptations(self, charge_point_id: str) -> list[Adaptation]:
        return list(self._seen.get(charge_point_id, ()))

    def note(self, charge_point_id: str, adaptations: list[Adaptation]) -> None:
        """Log each kind of adaptation once per charge point (rule and action)."""
        for adaptation in adaptations:
            key = (charge_point_id, adaptation.rule, adaptation.action)
            if key in self._logged:
                continue
            self._logged.add(key)
            seen = self._seen.setdefault(charge_point_id, [])
            if len(seen) < _KEPT:
                seen.append(adaptation)
            log.info(
                "%s: %s adapted by rule %s: %s (logged once per charge point)",
                charge_point_id,
                adaptation.action,
                adaptation.rule,
                adaptation.detail,
            )


async def heartbeat_interval_at_boot(
    services: Services,
    charge_point_id: str,
    *,
    vendor: str | None,
    model: str | None,
    firmware_version: str | None,
) -> tuple[int, str]:
    """The interval an Accepted BootNotification of this identity is answered (spec 4.2), and
    where it comes from: the charge point's last accepted HeartbeatInterval change (spec
    9.1.10; "operator"), else the heartbeatInterval of the matching charger profiles
    ("profile"), else the server's ("default"). A boot never undoes what an operator set
    (docs/charger-compatibility.md, "Configuration the operator set stays set"). Reads the
    cached configured values and the kept match: no database read per boot."""
    value = (await services.store.configured_values(charge_point_id)).get("HeartbeatInterval")
    if value is not None and value.strip().isdigit():
        return int(value), "operator"
    matched = await services.charger_profiles.matched(
        services.store,
        charge_point_id,
        vendor=vendor,
        model=model,
        firmware_version=firmware_version,
    )
    by_profile = heartbeat_interval_of(matched, charge_point_id)
    if by_profile is not None:
        return by_profile, "profile"
    return services.settings.heartbeat_interval, "default"


async def adapted_request(
    services: Services, charge_point_id: str, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """A CSMS request as this charge point should get it (commands.send)."""
    profiles = services.charger_profiles
    rules = await profiles.rules(services, charge_point_id)
    out, changed = adapt_request(action, payload, rules, now=services.clock.now())
    profiles.note(charge_point_id, changed)
    return out


async def adapted_answer(
    services: Services, charge_point_id: str, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """A CALLRESULT payload of ours as this charge point should get it (the router)."""
    if action not in _ANSWERS_WITH_DATES:
        return payload
    profiles = services.charger_profiles
    rules = await profiles.rules(services, charge_point_id)
    out, changed = adapt_answer(action, payload, rules)
    profiles.note(charge_point_id, changed)
    return out


_ANSWERS_WITH_DATES = frozenset({"Authorize", "StartTransaction", "StopTransaction"})
