"""The composite OCPP 1.6 types that messages nest (spec section 7).

Conventions shared with the message classes:

- field names are the snake_case of the JSON property names (`idTagInfo` -> `id_tag_info`);
- required fields come first and have no default; optional ones default to None (an absent
  list is None, which is not the same as an empty list);
- CiStringN fields are `str` (the schema enforces the length N; spec 7.15-7.19), enumerations
  are the StrEnums of `csms.ocpp16.enums`, dateTime is an aware `datetime` in UTC, and the
  one-decimal fields (`limit`, `minChargingRate`) are `Decimal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from csms.ocpp16.enums import (
    AuthorizationStatus,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    Location,
    Measurand,
    Phase,
    ReadingContext,
    RecurrencyKindType,
    UnitOfMeasure,
    ValueFormat,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdTagInfo:
    """Spec 7.27 (errata 3.73-3.75): authorization status of an idTag."""

    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None  # IdToken = CiString20 (spec 7.28)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationData:
    """Spec 7.1: one entry of a SendLocalList update.

    In a differential update an entry without id_tag_info deletes the idTag (spec 5.15).
    """

    id_tag: str  # CiString20
    id_tag_info: IdTagInfo | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyValue:
    """Spec 7.29: one configuration key in GetConfiguration.conf."""

    key: str  # CiString50
    readonly: bool
    value: str | None = None  # CiString500


@dataclass(frozen=True, slots=True, kw_only=True)
class SampledValue:
    """Spec 7.43. `value` is a string to allow signed data; absent fields take the defaults of
    spec 7.43 (context Sample.Periodic, format Raw, measurand Energy.Active.Import.Register,
    location Outlet, unit Wh), which this codec does not fill in."""

    value: str
    context: ReadingContext | None = None
    format: ValueFormat | None = None
    measurand: Measurand | None = None
    phase: Phase | None = None
    location: Location | None = None
    unit: UnitOfMeasure | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterValue:
    """Spec 7.33: sampled values taken at one point in time (schema: at least one)."""

    timestamp: datetime
    sampled_value: list[SampledValue]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingSchedulePeriod:
    """Spec 7.14. `limit` has at most one decimal (schema multipleOf 0.1)."""

    start_period: int
    limit: Decimal
    number_phases: int | None = None  # absent means 3 (spec 7.14)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingSchedule:
    """Spec 7.13."""

    charging_rate_unit: ChargingRateUnitType
    charging_schedule_period: list[ChargingSchedulePeriod]
    duration: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: Decimal | None = None  # one decimal at most (schema multipleOf 0.1)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingProfile:
    """Spec 7.8 (the schema names it csChargingProfiles in SetChargingProfile.req)."""

    charging_profile_id: int
    stack_level: int
    charging_profile_purpose: ChargingProfilePurposeType
    charging_profile_kind: ChargingProfileKindType
    charging_schedule: ChargingSchedule
    transaction_id: int | None = None  # only meaningful for TxProfile (spec 7.8)
    recurrency_kind: RecurrencyKindType | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
