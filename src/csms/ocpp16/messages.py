"""Every OCPP 1.6 request and response dataclass (spec section 6), in one namespace.

The classes live in `charge_point_messages` (operations of spec 4) and
`central_system_messages` (operations of spec 5); the nested types in `types`.
"""

from __future__ import annotations

from typing import TypeAlias

from csms.ocpp16.central_system_messages import (
    CancelReservationRequest,
    CancelReservationResponse,
    ChangeAvailabilityRequest,
    ChangeAvailabilityResponse,
    ChangeConfigurationRequest,
    ChangeConfigurationResponse,
    ClearCacheRequest,
    ClearCacheResponse,
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
    GetConfigurationRequest,
    GetConfigurationResponse,
    GetDiagnosticsRequest,
    GetDiagnosticsResponse,
    GetLocalListVersionRequest,
    GetLocalListVersionResponse,
    RemoteStartTransactionRequest,
    RemoteStartTransactionResponse,
    RemoteStopTransactionRequest,
    RemoteStopTransactionResponse,
    ReserveNowRequest,
    ReserveNowResponse,
    ResetRequest,
    ResetResponse,
    SendLocalListRequest,
    SendLocalListResponse,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
    TriggerMessageRequest,
    TriggerMessageResponse,
    UnlockConnectorRequest,
    UnlockConnectorResponse,
    UpdateFirmwareRequest,
    UpdateFirmwareResponse,
)
from csms.ocpp16.certificate_messages import (
    CertificateSignedRequest,
    CertificateSignedResponse,
    DeleteCertificateRequest,
    DeleteCertificateResponse,
    GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse,
    InstallCertificateRequest,
    InstallCertificateResponse,
    SecurityEventNotificationRequest,
    SecurityEventNotificationResponse,
    SignCertificateRequest,
    SignCertificateResponse,
)
from csms.ocpp16.charge_point_messages import (
    AuthorizeRequest,
    AuthorizeResponse,
    BootNotificationRequest,
    BootNotificationResponse,
    DataTransferRequest,
    DataTransferResponse,
    DiagnosticsStatusNotificationRequest,
    DiagnosticsStatusNotificationResponse,
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    MeterValuesRequest,
    MeterValuesResponse,
    StartTransactionRequest,
    StartTransactionResponse,
    StatusNotificationRequest,
    StatusNotificationResponse,
    StopTransactionRequest,
    StopTransactionResponse,
)
from csms.ocpp16.security_firmware_messages import (
    ExtendedTriggerMessageRequest,
    ExtendedTriggerMessageResponse,
    GetLogRequest,
    GetLogResponse,
    LogStatusNotificationRequest,
    LogStatusNotificationResponse,
    SignedFirmwareStatusNotificationRequest,
    SignedFirmwareStatusNotificationResponse,
    SignedUpdateFirmwareRequest,
    SignedUpdateFirmwareResponse,
)
from csms.ocpp16.types import (
    AuthorizationData,
    ChargingProfile,
    ChargingSchedule,
    ChargingSchedulePeriod,
    IdTagInfo,
    KeyValue,
    MeterValue,
    SampledValue,
)

Request: TypeAlias = (
    AuthorizeRequest
    | BootNotificationRequest
    | CancelReservationRequest
    | ChangeAvailabilityRequest
    | ChangeConfigurationRequest
    | ClearCacheRequest
    | ClearChargingProfileRequest
    | DataTransferRequest
    | DiagnosticsStatusNotificationRequest
    | FirmwareStatusNotificationRequest
    | GetCompositeScheduleRequest
    | GetConfigurationRequest
    | GetDiagnosticsRequest
    | GetLocalListVersionRequest
    | HeartbeatRequest
    | MeterValuesRequest
    | RemoteStartTransactionRequest
    | RemoteStopTransactionRequest
    | ReserveNowRequest
    | ResetRequest
    | SendLocalListRequest
    | SetChargingProfileRequest
    | StartTransactionRequest
    | StatusNotificationRequest
    | StopTransactionRequest
    | TriggerMessageRequest
    | UnlockConnectorRequest
    | UpdateFirmwareRequest
    # Security whitepaper: signed firmware, logs, extended trigger.
    | ExtendedTriggerMessageRequest
    | GetLogRequest
    | LogStatusNotificationRequest
    | SignedFirmwareStatusNotificationRequest
    | SignedUpdateFirmwareRequest
    # Security whitepaper: certificates and security events.
    | CertificateSignedRequest
    | DeleteCertificateRequest
    | GetInstalledCertificateIdsRequest
    | InstallCertificateRequest
    | SecurityEventNotificationRequest
    | SignCertificateRequest
)
"""Any `.req` PDU."""

Response: TypeAlias = (
    AuthorizeResponse
    | BootNotificationResponse
    | CancelReservationResponse
    | ChangeAvailabilityResponse
    | ChangeConfigurationResponse
    | ClearCacheResponse
    | ClearChargingProfileResponse
    | DataTransferResponse
    | DiagnosticsStatusNotificationResponse
    | FirmwareStatusNotificationResponse
    | GetCompositeScheduleResponse
    | GetConfigurationResponse
    | GetDiagnosticsResponse
    | GetLocalListVersionResponse
    | HeartbeatResponse
    | MeterValuesResponse
    | RemoteStartTransactionResponse
    | RemoteStopTransactionResponse
    | ReserveNowResponse
    | ResetResponse
    | SendLocalListResponse
    | SetChargingProfileResponse
    | StartTransactionResponse
    | StatusNotificationResponse
    | StopTransactionResponse
    | TriggerMessageResponse
    | UnlockConnectorResponse
    | UpdateFirmwareResponse
    # Security whitepaper: signed firmware, logs, extended trigger.
    | ExtendedTriggerMessageResponse
    | GetLogResponse
    | LogStatusNotificationResponse
    | SignedFirmwareStatusNotificationResponse
    | SignedUpdateFirmwareResponse
    # Security whitepaper: certificates and security events.
    | CertificateSignedResponse
    | DeleteCertificateResponse
    | GetInstalledCertificateIdsResponse
    | InstallCertificateResponse
    | SecurityEventNotificationResponse
    | SignCertificateResponse
)
"""Any `.conf` PDU."""

__all__ = [
    "AuthorizationData",
    "AuthorizeRequest",
    "AuthorizeResponse",
    "BootNotificationRequest",
    "BootNotificationResponse",
    "CancelReservationRequest",
    "CancelReservationResponse",
    "ChangeAvailabilityRequest",
    "ChangeAvailabilityResponse",
    "ChangeConfigurationRequest",
    "ChangeConfigurationResponse",
    "ChargingProfile",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "ClearCacheRequest",
    "ClearCacheResponse",
    "ClearChargingProfileRequest",
    "ClearChargingProfileResponse",
    "DataTransferRequest",
    "DataTransferResponse",
    "DiagnosticsStatusNotificationRequest",
    "DiagnosticsStatusNotificationResponse",
    "ExtendedTriggerMessageRequest",
    "ExtendedTriggerMessageResponse",
    "FirmwareStatusNotificationRequest",
    "FirmwareStatusNotificationResponse",
    "GetCompositeScheduleRequest",
    "GetCompositeScheduleResponse",
    "GetConfigurationRequest",
    "GetConfigurationResponse",
    "GetDiagnosticsRequest",
    "GetDiagnosticsResponse",
    "GetLocalListVersionRequest",
    "GetLocalListVersionResponse",
    "GetLogRequest",
    "GetLogResponse",
    "HeartbeatRequest",
    "HeartbeatResponse",
    "IdTagInfo",
    "KeyValue",
    "LogStatusNotificationRequest",
    "LogStatusNotificationResponse",
    "MeterValue",
    "MeterValuesRequest",
    "MeterValuesResponse",
    "RemoteStartTransactionRequest",
    "RemoteStartTransactionResponse",
    "RemoteStopTransactionRequest",
    "RemoteStopTransactionResponse",
    "Request",
    "ReserveNowRequest",
    "ReserveNowResponse",
    "ResetRequest",
    "ResetResponse",
    "Response",
    "SampledValue",
    "SendLocalListRequest",
    "SendLocalListResponse",
    "SetChargingProfileRequest",
    "SetChargingProfileResponse",
    "SignedFirmwareStatusNotificationRequest",
    "SignedFirmwareStatusNotificationResponse",
    "SignedUpdateFirmwareRequest",
    "SignedUpdateFirmwareResponse",
    "StartTransactionRequest",
    "StartTransactionResponse",
    "StatusNotificationRequest",
    "StatusNotificationResponse",
    "StopTransactionRequest",
    "StopTransactionResponse",
    "TriggerMessageRequest",
    "TriggerMessageResponse",
    "UnlockConnectorRequest",
    "UnlockConnectorResponse",
    "UpdateFirmwareRequest",
    "UpdateFirmwareResponse",
]
