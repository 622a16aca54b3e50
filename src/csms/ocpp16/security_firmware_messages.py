"""Security whitepaper messages of signed firmware, logs and the extended trigger (whitepaper
5.5, 5.6, 5.9, 5.10, 5.13, 5.14, 5.19-5.22), with their types and enumerations (whitepaper 6).

The requests the central system sends: SignedUpdateFirmware, GetLog, ExtendedTriggerMessage;
the ones the charge point sends: SignedFirmwareStatusNotification, LogStatusNotification. Field
conventions are those of `csms.ocpp16.types`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SignedFirmwareStatus(StrEnum):
    """Whitepaper 6.8 FirmwareStatusEnumType (used by SignedFirmwareStatusNotification)."""

    DOWNLOADED = "Downloaded"
    DOWNLOAD_FAILED = "DownloadFailed"
    DOWNLOADING = "Downloading"
    DOWNLOAD_SCHEDULED = "DownloadScheduled"
    DOWNLOAD_PAUSED = "DownloadPaused"
    IDLE = "Idle"
    INSTALLATION_FAILED = "InstallationFailed"
    INSTALLING = "Installing"
    INSTALLED = "Installed"
    INSTALL_REBOOTING = "InstallRebooting"
    INSTALL_SCHEDULED = "InstallScheduled"
    INSTALL_VERIFICATION_FAILED = "InstallVerificationFailed"
    INVALID_SIGNATURE = "InvalidSignature"
    SIGNATURE_VERIFIED = "SignatureVerified"


class UpdateFirmwareStatus(StrEnum):
    """Whitepaper 6.18 UpdateFirmwareStatusEnumType (SignedUpdateFirmware.conf)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    ACCEPTED_CANCELED = "AcceptedCanceled"
    INVALID_CERTIFICATE = "InvalidCertificate"
    REVOKED_CERTIFICATE = "RevokedCertificate"


class LogType(StrEnum):
    """Whitepaper 6.13 LogEnumType."""

    DIAGNOSTICS_LOG = "DiagnosticsLog"
    SECURITY_LOG = "SecurityLog"


class LogStatus(StrEnum):
    """Whitepaper 6.15 LogStatusEnumType (GetLog.conf)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    ACCEPTED_CANCELED = "AcceptedCanceled"


class UploadLogStatus(StrEnum):
    """Whitepaper 6.19 UploadLogStatusEnumType (LogStatusNotification)."""

    BAD_MESSAGE = "BadMessage"
    IDLE = "Idle"
    NOT_SUPPORTED_OPERATION = "NotSupportedOperation"
    PERMISSION_DENIED = "PermissionDenied"
    UPLOADED = "Uploaded"
    UPLOAD_FAILURE = "UploadFailure"
    UPLOADING = "Uploading"


class ExtendedMessageTrigger(StrEnum):
    """Whitepaper 6.16 MessageTriggerEnumType (ExtendedTriggerMessage)."""

    BOOT_NOTIFICATION = "BootNotification"
    LOG_STATUS_NOTIFICATION = "LogStatusNotification"
    FIRMWARE_STATUS_NOTIFICATION = "FirmwareStatusNotification"
    HEARTBEAT = "Heartbeat"
    METER_VALUES = "MeterValues"
    SIGN_CHARGE_POINT_CERTIFICATE = "SignChargePointCertificate"
    STATUS_NOTIFICATION = "StatusNotification"


class ExtendedTriggerMessageStatus(StrEnum):
    """Whitepaper 6.17 TriggerMessageStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    NOT_IMPLEMENTED = "NotImplemented"


# The charge point's action each requested message stands for (whitepaper 6.16:
# FirmwareStatusNotification asks for a SignedFirmwareStatusNotification, SignChargePointCertificate
# for a SignCertificate).
EXTENDED_TRIGGER_ACTIONS: dict[str, str] = {
    ExtendedMessageTrigger.BOOT_NOTIFICATION: "BootNotification",
    ExtendedMessageTrigger.LOG_STATUS_NOTIFICATION: "LogStatusNotification",
    ExtendedMessageTrigger.FIRMWARE_STATUS_NOTIFICATION: "SignedFirmwareStatusNotification",
    ExtendedMessageTrigger.HEARTBEAT: "Heartbeat",
    ExtendedMessageTrigger.METER_VALUES: "MeterValues",
    ExtendedMessageTrigger.SIGN_CHARGE_POINT_CERTIFICATE: "SignCertificate",
    ExtendedMessageTrigger.STATUS_NOTIFICATION: "StatusNotification",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Firmware:
    """Whitepaper 6.9 FirmwareType: the image, when to fetch and install it, and its proof of origin
    (a PEM X.509 signing certificate, the Base64 signature of the whole file)."""

    location: str  # string[0..512]
    retrieve_date_time: datetime
    signing_certificate: str  # string[0..5500]
    signature: str  # string[0..800]
    install_date_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogParameters:
    """Whitepaper 6.14 LogParametersType: where to upload, and the period of the entries."""

    remote_location: str  # string[0..512]
    oldest_timestamp: datetime | None = None
    latest_timestamp: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedUpdateFirmwareRequest:
    """Whitepaper 5.21."""

    request_id: int
    firmware: Firmware
    retries: int | None = None
    retry_interval: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedUpdateFirmwareResponse:
    """Whitepaper 5.22."""

    status: UpdateFirmwareStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedFirmwareStatusNotificationRequest:
    """Whitepaper 5.19. request_id is required unless the status is Idle (L01.FR.21)."""

    status: SignedFirmwareStatus
    request_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedFirmwareStatusNotificationResponse:
    """Whitepaper 5.20: no fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetLogRequest:
    """Whitepaper 5.9."""

    log: LogParameters
    log_type: LogType
    request_id: int
    retries: int | None = None
    retry_interval: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetLogResponse:
    """Whitepaper 5.10. `filename`: the name of the file that will be uploaded."""

    status: LogStatus
    filename: str | None = None  # string[0..255]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogStatusNotificationRequest:
    """Whitepaper 5.13 (requestId optional since edition 3)."""

    status: UploadLogStatus
    request_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogStatusNotificationResponse:
    """Whitepaper 5.14: no fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendedTriggerMessageRequest:
    """Whitepaper 5.5."""

    requested_message: ExtendedMessageTrigger
    connector_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendedTriggerMessageResponse:
    """Whitepaper 5.6."""

    status: ExtendedTriggerMessageStatus
