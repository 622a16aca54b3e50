"""Charging profiles as frozen values, for the schedule arithmetic (spec 7.8-7.14, 7.37).

Field names are the spec's in snake_case; the wire conversion lives elsewhere. The checks in
`__post_init__` are the ones the arithmetic relies on or that the spec states as a SHALL for
the combination of fields; they raise `ValueError`, since every profile here is one the CSMS
itself built or sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise


class ChargingProfilePurpose(StrEnum):
    """Spec 7.10."""

    CHARGE_POINT_MAX_PROFILE = "ChargePointMaxProfile"
    TX_DEFAULT_PROFILE = "TxDefaultProfile"
    TX_PROFILE = "TxProfile"


class ChargingProfileKind(StrEnum):
    """Spec 7.9."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(StrEnum):
    """Spec 7.37 as corrected by errata 3.79 (a fixed 24 h / 7 day cycle from startSchedule)."""

    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingRateUnit(StrEnum):
    """Spec 7.12 with errata 3.69: A is per phase, W is the total over all phases."""

    A = "A"
    W = "W"


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")


def _require_limit(name: str, value: Decimal | None) -> None:
    if value is not None and (not value.is_finite() or value < 0):
        raise ValueError(f"{name} must be a finite, non-negative Decimal, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingSchedulePeriod:
    """Spec 7.14. `start_period` is seconds from the start of the schedule."""

    start_period: int
    limit: Decimal
    # Absent means 3 (errata 3.69); the arithmetic takes its `default_phases` for it.
    number_phases: int | None = None

    def __post_init__(self) -> None:
        if self.start_period < 0:
            raise ValueError(f"start_period must be >= 0, got {self.start_period}")
        _require_limit("limit", self.limit)
        if self.number_phases is not None and not 1 <= self.number_phases <= 3:
            raise ValueError(f"number_phases must be 1, 2 or 3, got {self.number_phases}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingSchedule:
    """Spec 7.13."""

    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: tuple[ChargingSchedulePeriod, ...]
    # Seconds; absent means the last period lasts indefinitely (7.13).
    duration: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: Decimal | None = None

    def __post_init__(self) -> None:
        periods = self.charging_schedule_period
        if not periods:
            raise ValueError("a charging schedule needs at least one period (7.13: 1..*)")
        # Errata 3.45 / 3.70: the first period starts at 0.
        if periods[0].start_period != 0:
            raise ValueError("the first charging schedule period must start at 0")
        # 7.14: each startPeriod ends the previous period, so they must ascend.
        for before, after in pairwise(periods):
            if after.start_period <= before.start_period:
                raise ValueError("charging schedule periods must have ascending start_period")
        if self.duration is not None and self.duration < 0:
            raise ValueError(f"duration must be >= 0, got {self.duration}")
        _require_aware("start_schedule", self.start_schedule)
        _require_limit("min_charging_rate", self.min_charging_rate)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingProfile:
    """Spec 7.8."""

    charging_profile_id: int
    stack_level: int
    charging_profile_purpose: ChargingProfilePurpose
    charging_profile_kind: ChargingProfileKind
    charging_schedule: ChargingSchedule
    transaction_id: int | None = None
    recurrency_kind: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def __post_init__(self) -> None:
        if self.stack_level < 0:
            raise ValueError(f"stack_level must be >= 0, got {self.stack_level}")
        _require_aware("valid_from", self.valid_from)
        _require_aware("valid_to", self.valid_to)
        kind = self.charging_profile_kind
        has_start = self.charging_schedule.start_schedule is not None
        if kind is ChargingProfileKind.RELATIVE and has_start:
            # 7.13: startSchedule is the start of an absolute schedule; Relative runs from
            # the start of the transaction.
            raise ValueError("a Relative profile has no start_schedule")
        if kind is not ChargingProfileKind.RELATIVE and not has_start:
            raise ValueError(f"an {kind} profile needs a start_schedule")
        # Errata 3.56: recurrencyKind only (and always) with Recurring.
        if (kind is ChargingProfileKind.RECURRING) != (self.recurrency_kind is not None):
            raise ValueError("recurrency_kind is required with Recurring and only with Recurring")
        # 7.8: transactionId only has a meaning for TxProfile.
        if (
            self.transaction_id is not None
            and self.charging_profile_purpose is not ChargingProfilePurpose.TX_PROFILE
        ):
            raise ValueError("transaction_id is only valid on a TxProfile")


@dataclass(frozen=True, slots=True, kw_only=True)
class Installed:
    """A profile as installed on a charge point, with the connectorId of its SetChargingProfile."""

    connector_id: int
    profile: ChargingProfile

    def __post_init__(self) -> None:
        if self.connector_id < 0:
            raise ValueError(f"connector_id must be >= 0, got {self.connector_id}")
        purpose = self.profile.charging_profile_purpose
        # 3.13.1: ChargePointMaxProfile only on connector 0, TxProfile only on a connector > 0.
        if purpose is ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE and self.connector_id != 0:
            raise ValueError("a ChargePointMaxProfile can only be installed on connector 0")
        if purpose is ChargingProfilePurpose.TX_PROFILE and self.connector_id == 0:
            raise ValueError("a TxProfile can only be installed on a connector > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveTransaction:
    """The transaction running on the connector a composite schedule is asked for."""

    transaction_id: int
    # The StartTransaction.req timestamp: where Relative schedules start (7.9).
    start: datetime

    def __post_init__(self) -> None:
        _require_aware("start", self.start)
