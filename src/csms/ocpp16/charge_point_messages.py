"""Messages of the operations a charge point initiates (spec section 4; PDUs in section 6).

Each `<Action>Request` is the `.req` PDU the charge point sends, each `<Action>Response` the
`.conf` the central system answers with. DataTransfer is here too, although the central system
may also initiate it (spec 5.6). Field conventions are those of `csms.ocpp16.types`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csms.ocpp16.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    Reason,
    RegistrationStatus,
)
from csms.ocpp16.types import IdTagInfo, MeterValue


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizeRequest:
    """Spec 6.1."""

    id_tag: str  # IdToken = CiString20


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizeResponse:
    """Spec 6.2."""

    id_tag_info: IdTagInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class BootNotificationRequest:
    """Spec 6.3."""

    charge_point_vendor: str  # CiString20
    charge_point_model: str  # CiString20
    charge_point_serial_number: str | None = None  # CiString25
    charge_box_serial_number: str | None = None  # CiString25, deprecated in spec 6.3
    firmware_version: str | None = None  # CiString50
    iccid: str | None = None  # CiString20
    imsi: str | None = None  # CiString20
    meter_type: str | None = None  # CiString25
    meter_serial_number: str | None = None  # CiString25


@dataclass(frozen=True, slots=True, kw_only=True)
class BootNotificationResponse:
    """Spec 6.4. `interval` is the heartbeat interval when accepted, otherwise the minimum wait
    before the next BootNotification (errata: an integer, OCPP-J errata 2.4)."""

    status: RegistrationStatus
    current_time: datetime
    interval: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTransferRequest:
    """Spec 6.15. `data` has no length limit and no prescribed format."""

    vendor_id: str  # CiString255
    message_id: str | None = None  # CiString50
    data: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTransferResponse:
    """Spec 6.16."""

    status: DataTransferStatus
    data: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosticsStatusNotificationRequest:
    """Spec 6.17."""

    status: DiagnosticsStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosticsStatusNotificationResponse:
    """Spec 6.18: no fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareStatusNotificationRequest:
    """Spec 6.19."""

    status: FirmwareStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareStatusNotificationResponse:
    """Spec 6.20: no fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatRequest:
    """Spec 6.29: no fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatResponse:
    """Spec 6.30."""

    current_time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterValuesRequest:
    """Spec 6.31. connector_id 0 is the main meter (errata 3.16)."""

    connector_id: int
    meter_value: list[MeterValue]
    transaction_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterValuesResponse:
    """Spec 6.32: no fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTransactionRequest:
    """Spec 6.45."""

    connector_id: int
    id_tag: str  # IdToken = CiString20
    meter_start: int  # Wh
    timestamp: datetime
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTransactionResponse:
    """Spec 6.46."""

    id_tag_info: IdTagInfo
    transaction_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusNotificationRequest:
    """Spec 6.47."""

    connector_id: int
    error_code: ChargePointErrorCode
    status: ChargePointStatus
    info: str | None = None  # CiString50
    timestamp: datetime | None = None
    vendor_id: str | None = None  # CiString255
    vendor_error_code: str | None = None  # CiString50


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusNotificationResponse:
    """Spec 6.48: no fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StopTransactionRequest:
    """Spec 6.49. `reason` is optional (OCPP-J errata 2.6); absent means Local."""

    meter_stop: int  # Wh
    timestamp: datetime
    transaction_id: int
    id_tag: str | None = None  # IdToken = CiString20
    reason: Reason | None = None
    transaction_data: list[MeterValue] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StopTransactionResponse:
    """Spec 6.50."""

    id_tag_info: IdTagInfo | None = None
