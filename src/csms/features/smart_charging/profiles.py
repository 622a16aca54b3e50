"""Charging profiles between the wire, the store and the schedule arithmetic, and the checks the
CSMS makes before it sends one (spec 3.13, 5.16, 9.4). No I/O.

The checks are against what the charge point declared in its configuration (spec 3.13.5: the
smart charging keys of 9.4, read by GetConfiguration) and what the CSMS knows of its
transactions. A key the CSMS has not read is not checked: the charge point decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from csms import smart_charging as sc
from csms.features.commands import InvalidCommand
from csms.ocpp16 import ChargingProfile as WireProfile
from csms.ocpp16 import (
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    ChargingSchedule,
    ChargingSchedulePeriod,
    RecurrencyKindType,
    from_payload,
    to_payload,
)
from csms.storage import Configuration, InstalledChargingProfile, Transaction

TX_PROFILE = sc.ChargingProfilePurpose.TX_PROFILE
CHARGE_POINT_MAX_PROFILE = sc.ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE

# The start of an Absolute profile without startSchedule where only its checks need one.
_CHECKS_ONLY = datetime(2000, 1, 1, tzinfo=UTC)

# Spec 9.4.2: the CSL values of ChargingScheduleAllowedChargingRateUnit.
_UNIT_NAMES = {"current": sc.ChargingRateUnit.A, "power": sc.ChargingRateUnit.W}


class ProfileRefused(InvalidCommand):
    """The charge point would refuse the profile, by what it declared or by the spec; nothing
    was sent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """What a charge point declared about smart charging (spec 3.13.5, 9.4); None = not known
    to the CSMS (never read, or a value it could not parse)."""

    max_stack_level: int | None = None  # ChargeProfileMaxStackLevel
    allowed_units: frozenset[sc.ChargingRateUnit] | None = None  # ...AllowedChargingRateUnit
    max_periods: int | None = None  # ChargingScheduleMaxPeriods
    max_installed: int | None = None  # MaxChargingProfilesInstalled
    number_of_connectors: int | None = None  # NumberOfConnectors (9.1)


def capabilities_of(configuration: Configuration) -> Capabilities:
    values = {entry.key: entry.value for entry in configuration.entries}
    return Capabilities(
        max_stack_level=_integer(values.get("ChargeProfileMaxStackLevel")),
        allowed_units=_units(values.get("ChargingScheduleAllowedChargingRateUnit")),
        max_periods=_integer(values.get("ChargingScheduleMaxPeriods")),
        max_installed=_integer(values.get("MaxChargingProfilesInstalled")),
        number_of_connectors=_integer(values.get("NumberOfConnectors")),
    )


def _integer(value: str | None) -> int | None:
    """A limit the charge point declared; a negative one (stacks send -1) is no limit."""
    try:
        number = int(value.strip()) if value is not None else None
    except ValueError:
        return None
    return number if number is None or number >= 0 else None


def _units(value: str | None) -> frozenset[sc.ChargingRateUnit] | None:
    if value is None:
        return None
    units = {_UNIT_NAMES.get(item.strip().casefold()) for item in value.split(",")}
    units.discard(None)
    # Nothing recognisable is a value the CSMS cannot use, not "no unit allowed".
    return frozenset(unit for unit in units if unit is not None) or None


# -- conversions ------------------------------------------------------------------------------


def engine_profile(
    wire: Mapping[str, Any],
    *,
    transaction_id: int | None = None,
    installed_at: datetime = _CHECKS_ONLY,
) -> sc.ChargingProfile:
    """The arithmetic's value for a schema-valid csChargingProfiles; ValueError when it breaks
    a rule of the spec (profiles.py). `transaction_id`, when given, is the transaction a
    TxProfile belongs to (a RemoteStartTransaction's has no transactionId of its own).

    Spec 7.13 makes startSchedule optional, also for Absolute profiles. Such a profile starts,
    as the charge points we test against read it, at its validFrom, else when it was installed
    (`installed_at`): docs/charger-compatibility.md. Under the startSchedule rule the CSMS sends
    that start explicitly (quirks/adapt.py), so both readings agree."""
    typed = from_payload(WireProfile, wire)
    schedule = typed.charging_schedule
    start_schedule = schedule.start_schedule
    if start_schedule is None and typed.charging_profile_kind == ChargingProfileKindType.ABSOLUTE:
        start_schedule = typed.valid_from or installed_at
    return sc.ChargingProfile(
        charging_profile_id=typed.charging_profile_id,
        stack_level=typed.stack_level,
        charging_profile_purpose=sc.ChargingProfilePurpose(typed.charging_profile_purpose),
        charging_profile_kind=sc.ChargingProfileKind(typed.charging_profile_kind),
        transaction_id=transaction_id if transaction_id is not None else typed.transaction_id,
        recurrency_kind=(
            sc.RecurrencyKind(typed.recurrency_kind) if typed.recurrency_kind else None
        ),
        valid_from=typed.valid_from,
        valid_to=typed.valid_to,
        charging_schedule=sc.ChargingSchedule(
            charging_rate_unit=sc.ChargingRateUnit(schedule.charging_rate_unit),
            charging_schedule_period=tuple(
                sc.ChargingSchedulePeriod(
                    start_period=period.start_period,
                    limit=period.limit,
                    number_phases=period.number_phases,
                )
                for period in schedule.charging_schedule_period
            ),
            duration=schedule.duration,
            start_schedule=start_schedule,
            min_charging_rate=schedule.min_charging_rate,
        ),
    )


def to_wire(profile: sc.ChargingProfile) -> dict[str, Any]:
    """The csChargingProfiles JSON of an arithmetic value (limits stay Decimal: the frame
    serializer writes them as JSON numbers)."""
    schedule = profile.charging_schedule
    return to_payload(
        WireProfile(
            charging_profile_id=profile.charging_profile_id,
            stack_level=profile.stack_level,
            charging_profile_purpose=ChargingProfilePurposeType(profile.charging_profile_purpose),
            charging_profile_kind=ChargingProfileKindType(profile.charging_profile_kind),
            transaction_id=profile.transaction_id,
            recurrency_kind=(
                RecurrencyKindType(profile.recurrency_kind) if profile.recurrency_kind else None
            ),
            valid_from=profile.valid_from,
            valid_to=profile.valid_to,
            charging_schedule=ChargingSchedule(
                charging_rate_unit=ChargingRateUnitType(schedule.charging_rate_unit),
                charging_schedule_period=[
                    ChargingSchedulePeriod(
                        start_period=period.start_period,
                        limit=period.limit,
                        number_phases=period.number_phases,
                    )
                    for period in schedule.charging_schedule_period
                ],
                duration=schedule.duration,
                start_schedule=schedule.start_schedule,
                min_charging_rate=schedule.min_charging_rate,
            ),
        )
    )


def installed(record: InstalledChargingProfile) -> sc.Installed:
    """A stored profile as the arithmetic sees it; ValueError if it breaks a rule."""
    return sc.Installed(
        connector_id=record.connector_id,
        profile=engine_profile(
            record.profile, transaction_id=record.transaction_id, installed_at=record.installed_at
        ),
    )


def waiting_for_its_transaction(record: InstalledChargingProfile) -> bool:
    """A RemoteStartTransaction's TxProfile whose transaction has not started yet."""
    return record.transaction_id is None and record.remote_start_id_tag is not None


# -- the checks -------------------------------------------------------------------------------


def check_profile(
    wire: Mapping[str, Any],
    *,
    connector_id: int,
    capabilities: Capabilities,
    installed: Sequence[InstalledChargingProfile],
    transaction: Transaction | None,
    remote_start: bool = False,
) -> None:
    """Raise ProfileRefused with the reason if the charge point would refuse `wire` (a
    schema-valid csChargingProfiles) on `connector_id`. `transaction` is the one active on that
    connector; `remote_start`: the profile of a RemoteStartTransaction (spec 5.16.2)."""
    try:
        profile = engine_profile(wire)
    except ValueError as exc:
        raise ProfileRefused(f"invalid charging profile: {exc}") from None
    connectors = capabilities.number_of_connectors
    if connectors is not None and connector_id > connectors:
        raise ProfileRefused(
            f"NumberOfConnectors is {connectors}: connector {connector_id} does not exist"
        )
    if remote_start:
        _check_remote_start(profile)
    else:
        _check_purpose(profile, connector_id, transaction)
    _check_capabilities(profile, connector_id, capabilities, installed)


def _check_remote_start(profile: sc.ChargingProfile) -> None:
    if profile.charging_profile_purpose is not TX_PROFILE:
        raise ProfileRefused(
            "the chargingProfile of a RemoteStartTransaction must be a TxProfile (spec 5.16.2), "
            f"not a {profile.charging_profile_purpose}"
        )
    if profile.transaction_id is not None:
        raise ProfileRefused(
            "the chargingProfile of a RemoteStartTransaction has no transactionId (errata 3.41)"
        )


def _check_purpose(
    profile: sc.ChargingProfile, connector_id: int, transaction: Transaction | None
) -> None:
    purpose = profile.charging_profile_purpose
    if purpose is CHARGE_POINT_MAX_PROFILE and connector_id != 0:
        raise ProfileRefused(
            f"a ChargePointMaxProfile can only be set on connector 0 (spec 3.13.1), "
            f"not on connector {connector_id}"
        )
    if purpose is not TX_PROFILE:
        return
    if connector_id == 0:
        raise ProfileRefused("a TxProfile can only be set on a connector > 0 (spec 3.13.1)")
    if transaction is None:
        raise ProfileRefused(
            f"no transaction is active on connector {connector_id}: a TxProfile needs one "
            "(spec 3.13.1, 5.16.4)"
        )
    if profile.transaction_id is not None and profile.transaction_id != transaction.id:
        raise ProfileRefused(
            f"transactionId {profile.transaction_id} is not the transaction active on "
            f"connector {connector_id} ({transaction.id})"
        )


def _check_capabilities(
    profile: sc.ChargingProfile,
    connector_id: int,
    capabilities: Capabilities,
    installed: Sequence[InstalledChargingProfile],
) -> None:
    limit = capabilities.max_stack_level
    if limit is not None and profile.stack_level > limit:
        raise ProfileRefused(
            f"ChargeProfileMaxStackLevel is {limit}: stackLevel {profile.stack_level} is above it"
        )
    schedule = profile.charging_schedule
    units = capabilities.allowed_units
    if units is not None and schedule.charging_rate_unit not in units:
        allowed = ",".join(name.capitalize() for name, unit in _UNIT_NAMES.items() if unit in units)
        raise ProfileRefused(
            f"ChargingScheduleAllowedChargingRateUnit is {allowed}: chargingRateUnit "
            f"{schedule.charging_rate_unit} is not allowed"
        )
    periods = len(schedule.charging_schedule_period)
    if capabilities.max_periods is not None and periods > capabilities.max_periods:
        raise ProfileRefused(
            f"ChargingScheduleMaxPeriods is {capabilities.max_periods}: the schedule has "
            f"{periods} periods"
        )
    most = capabilities.max_installed
    if most is not None:
        kept = [record for record in installed if not replaces(profile, connector_id, record)]
        if len(kept) + 1 > most:
            raise ProfileRefused(
                f"MaxChargingProfilesInstalled is {most}: {len(kept)} other profiles are "
                "installed already"
            )


def replaces(
    profile: sc.ChargingProfile, connector_id: int, record: InstalledChargingProfile
) -> bool:
    """Whether installing `profile` on `connector_id` replaces `record` (spec 3.13.2, 5.16.3)."""
    return record.charging_profile_id == profile.charging_profile_id or (
        record.connector_id == connector_id
        and record.stack_level == profile.stack_level
        and record.purpose == profile.charging_profile_purpose
    )


# -- composite schedules -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Ignored:
    """An installed profile left out of the CSMS's composite schedule, and why."""

    charging_profile_id: int
    connector_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Composite:
    schedule: sc.CompositeSchedule
    ignored: tuple[Ignored, ...]


def composite_of(
    records: Sequence[InstalledChargingProfile],
    *,
    connector_id: int,
    duration: int,
    start: datetime,
    charging_rate_unit: sc.ChargingRateUnit | None,
    transaction: Transaction | None,
    tx_default_fallback: bool = False,
) -> Composite:
    """The composite schedule of a charge point's installed profiles (spec 3.13.3, 5.7) for
    `transaction`, the one running on the connector; ValueError on bad arguments."""
    usable: list[sc.Installed] = []
    ignored: list[Ignored] = []
    for record in records:
        reason = None
        if waiting_for_its_transaction(record):
            reason = "a RemoteStartTransaction profile waiting for its transaction to start"
        else:
            try:
                usable.append(installed(record))
            except ValueError as exc:
                reason = str(exc)
        if reason is not None:
            ignored.append(
                Ignored(
                    charging_profile_id=record.charging_profile_id,
                    connector_id=record.connector_id,
                    reason=reason,
                )
            )
    schedule = sc.composite_schedule(
        usable,
        connector_id=connector_id,
        start=start,
        duration=duration,
        charging_rate_unit=charging_rate_unit,
        transaction=(
            None
            if transaction is None
            else sc.ActiveTransaction(transaction_id=transaction.id, start=transaction.started_at)
        ),
        tx_default_fallback=tx_default_fallback,
    )
    return Composite(schedule=schedule, ignored=tuple(ignored))
