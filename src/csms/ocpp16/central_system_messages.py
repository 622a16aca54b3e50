"""Messages of the operations the central system initiates (spec section 5; PDUs in section 6).

Each `<Action>Request` is the `.req` PDU the central system sends, each `<Action>Response` the
`.conf` the charge point answers with. Field conventions are those of `csms.ocpp16.types`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csms.ocpp16.enums import (
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    GetCompositeScheduleStatus,
    MessageTrigger,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateStatus,
    UpdateType,
)
from csms.ocpp16.types import AuthorizationData, ChargingProfile, ChargingSchedule, KeyValue


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReservationRequest:
    """Spec 6.5."""

    reservation_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReservationResponse:
    """Spec 6.6."""

    status: CancelReservationStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeAvailabilityRequest:
    """Spec 6.7. connector_id 0 means the whole charge point."""

    connector_id: int
    type: AvailabilityType


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeAvailabilityResponse:
    """Spec 6.8."""

    status: AvailabilityStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeConfigurationRequest:
    """Spec 6.9."""

    key: str  # CiString50
    value: str  # CiString500


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeConfigurationResponse:
    """Spec 6.10."""

    status: ConfigurationStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearCacheRequest:
    """Spec 6.11: no fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearCacheResponse:
    """Spec 6.12."""

    status: ClearCacheStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearChargingProfileRequest:
    """Spec 6.13: every field is a filter; none at all clears every profile."""

    id: int | None = None
    connector_id: int | None = None
    charging_profile_purpose: ChargingProfilePurposeType | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearChargingProfileResponse:
    """Spec 6.14."""

    status: ClearChargingProfileStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCompositeScheduleRequest:
    """Spec 6.21. `duration` in seconds."""

    connector_id: int
    duration: int
    charging_rate_unit: ChargingRateUnitType | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCompositeScheduleResponse:
    """Spec 6.22."""

    status: GetCompositeScheduleStatus
    connector_id: int | None = None
    schedule_start: datetime | None = None
    charging_schedule: ChargingSchedule | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetConfigurationRequest:
    """Spec 6.23. No key list asks for every key."""

    key: list[str] | None = None  # CiString50 each


@dataclass(frozen=True, slots=True, kw_only=True)
class GetConfigurationResponse:
    """Spec 6.24."""

    configuration_key: list[KeyValue] | None = None
    unknown_key: list[str] | None = None  # CiString50 each


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDiagnosticsRequest:
    """Spec 6.25. `location` is the upload URI; `retry_interval` in seconds."""

    location: str
    retries: int | None = None
    retry_interval: int | None = None
    start_time: datetime | None = None
    stop_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDiagnosticsResponse:
    """Spec 6.26. No file name means no diagnostics are available."""

    file_name: str | None = None  # CiString255


@dataclass(frozen=True, slots=True, kw_only=True)
class GetLocalListVersionRequest:
    """Spec 6.27: no fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetLocalListVersionResponse:
    """Spec 6.28. 0 means no list; -1 means local lists are not supported."""

    list_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStartTransactionRequest:
    """Spec 6.33. A charging profile sent here must have purpose TxProfile (spec 5.16.2)."""

    id_tag: str  # IdToken = CiString20
    connector_id: int | None = None
    charging_profile: ChargingProfile | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStartTransactionResponse:
    """Spec 6.34."""

    status: RemoteStartStopStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStopTransactionRequest:
    """Spec 6.35."""

    transaction_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStopTransactionResponse:
    """Spec 6.36."""

    status: RemoteStartStopStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveNowRequest:
    """Spec 6.37. connector_id 0 is a reservation for the charge point as a whole, only where
    ReserveConnectorZeroSupported is true (spec 5.13)."""

    connector_id: int
    expiry_date: datetime
    id_tag: str  # IdToken = CiString20
    reservation_id: int
    parent_id_tag: str | None = None  # IdToken = CiString20


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveNowResponse:
    """Spec 6.38."""

    status: ReservationStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetRequest:
    """Spec 6.39."""

    type: ResetType


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetResponse:
    """Spec 6.40."""

    status: ResetStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class SendLocalListRequest:
    """Spec 6.41. A full update with an empty (not absent) list empties the local list."""

    list_version: int
    update_type: UpdateType
    local_authorization_list: list[AuthorizationData] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendLocalListResponse:
    """Spec 6.42."""

    status: UpdateStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class SetChargingProfileRequest:
    """Spec 6.43. The schema names the profile field csChargingProfiles."""

    connector_id: int
    cs_charging_profiles: ChargingProfile


@dataclass(frozen=True, slots=True, kw_only=True)
class SetChargingProfileResponse:
    """Spec 6.44."""

    status: ChargingProfileStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerMessageRequest:
    """Spec 6.51."""

    requested_message: MessageTrigger
    connector_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerMessageResponse:
    """Spec 6.52."""

    status: TriggerMessageStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class UnlockConnectorRequest:
    """Spec 6.53."""

    connector_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnlockConnectorResponse:
    """Spec 6.54."""

    status: UnlockStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateFirmwareRequest:
    """Spec 6.55. `retries` and `retry_interval` are integers (OCPP-J errata 2.5)."""

    location: str
    retrieve_date: datetime
    retries: int | None = None
    retry_interval: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateFirmwareResponse:
    """Spec 6.56: no fields."""
