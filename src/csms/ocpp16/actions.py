"""The action table: for each OCPP 1.6 action its request and response classes and its sender."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from csms.ocpp16 import certificate_messages as sec
from csms.ocpp16 import messages as m
from csms.ocpp16 import security_firmware_messages as sfm
from csms.ocpp16.enums import Action


class Sender(StrEnum):
    """Who sends the request of an action (spec 4: charge point, spec 5: central system)."""

    CHARGE_POINT = "ChargePoint"
    CENTRAL_SYSTEM = "CentralSystem"


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionSpec:
    """One row of the action table.

    `sender` is who sends the request. DataTransfer is listed as CHARGE_POINT but may be sent by
    either side (spec 4.3 and 5.6): ask `can_send` rather than comparing `sender`.
    """

    action: Action
    request: type
    response: type
    sender: Sender


def _spec(action: Action, request: type, response: type, sender: Sender) -> ActionSpec:
    return ActionSpec(action=action, request=request, response=response, sender=sender)


_CP: Final = Sender.CHARGE_POINT
_CS: Final = Sender.CENTRAL_SYSTEM
_A: Final = Action

_TABLE: Final = (
    # Spec 4: operations initiated by the charge point.
    _spec(_A.AUTHORIZE, m.AuthorizeRequest, m.AuthorizeResponse, _CP),
    _spec(_A.BOOT_NOTIFICATION, m.BootNotificationRequest, m.BootNotificationResponse, _CP),
    _spec(_A.DATA_TRANSFER, m.DataTransferRequest, m.DataTransferResponse, _CP),
    _spec(
        _A.DIAGNOSTICS_STATUS_NOTIFICATION,
        m.DiagnosticsStatusNotificationRequest,
        m.DiagnosticsStatusNotificationResponse,
        _CP,
    ),
    _spec(
        _A.FIRMWARE_STATUS_NOTIFICATION,
        m.FirmwareStatusNotificationRequest,
        m.FirmwareStatusNotificationResponse,
        _CP,
    ),
    _spec(_A.HEARTBEAT, m.HeartbeatRequest, m.HeartbeatResponse, _CP),
    _spec(_A.METER_VALUES, m.MeterValuesRequest, m.MeterValuesResponse, _CP),
    _spec(_A.START_TRANSACTION, m.StartTransactionRequest, m.StartTransactionResponse, _CP),
    _spec(_A.STATUS_NOTIFICATION, m.StatusNotificationRequest, m.StatusNotificationResponse, _CP),
    _spec(_A.STOP_TRANSACTION, m.StopTransactionRequest, m.StopTransactionResponse, _CP),
    # Spec 5: operations initiated by the central system.
    _spec(_A.CANCEL_RESERVATION, m.CancelReservationRequest, m.CancelReservationResponse, _CS),
    _spec(_A.CHANGE_AVAILABILITY, m.ChangeAvailabilityRequest, m.ChangeAvailabilityResponse, _CS),
    _spec(
        _A.CHANGE_CONFIGURATION, m.ChangeConfigurationRequest, m.ChangeConfigurationResponse, _CS
    ),
    _spec(_A.CLEAR_CACHE, m.ClearCacheRequest, m.ClearCacheResponse, _CS),
    _spec(
        _A.CLEAR_CHARGING_PROFILE,
        m.ClearChargingProfileRequest,
        m.ClearChargingProfileResponse,
        _CS,
    ),
    _spec(
        _A.GET_COMPOSITE_SCHEDULE,
        m.GetCompositeScheduleRequest,
        m.GetCompositeScheduleResponse,
        _CS,
    ),
    _spec(_A.GET_CONFIGURATION, m.GetConfigurationRequest, m.GetConfigurationResponse, _CS),
    _spec(_A.GET_DIAGNOSTICS, m.GetDiagnosticsRequest, m.GetDiagnosticsResponse, _CS),
    _spec(
        _A.GET_LOCAL_LIST_VERSION, m.GetLocalListVersionRequest, m.GetLocalListVersionResponse, _CS
    ),
    _spec(
        _A.REMOTE_START_TRANSACTION,
        m.RemoteStartTransactionRequest,
        m.RemoteStartTransactionResponse,
        _CS,
    ),
    _spec(
        _A.REMOTE_STOP_TRANSACTION,
        m.RemoteStopTransactionRequest,
        m.RemoteStopTransactionResponse,
        _CS,
    ),
    _spec(_A.RESERVE_NOW, m.ReserveNowRequest, m.ReserveNowResponse, _CS),
    _spec(_A.RESET, m.ResetRequest, m.ResetResponse, _CS),
    _spec(_A.SEND_LOCAL_LIST, m.SendLocalListRequest, m.SendLocalListResponse, _CS),
    _spec(_A.SET_CHARGING_PROFILE, m.SetChargingProfileRequest, m.SetChargingProfileResponse, _CS),
    _spec(_A.TRIGGER_MESSAGE, m.TriggerMessageRequest, m.TriggerMessageResponse, _CS),
    _spec(_A.UNLOCK_CONNECTOR, m.UnlockConnectorRequest, m.UnlockConnectorResponse, _CS),
    _spec(_A.UPDATE_FIRMWARE, m.UpdateFirmwareRequest, m.UpdateFirmwareResponse, _CS),
    # Security whitepaper 5: signed firmware, logs and the extended trigger.
    _spec(
        _A.SIGNED_FIRMWARE_STATUS_NOTIFICATION,
        sfm.SignedFirmwareStatusNotificationRequest,
        sfm.SignedFirmwareStatusNotificationResponse,
        _CP,
    ),
    _spec(
        _A.LOG_STATUS_NOTIFICATION,
        sfm.LogStatusNotificationRequest,
        sfm.LogStatusNotificationResponse,
        _CP,
    ),
    _spec(
        _A.SIGNED_UPDATE_FIRMWARE,
        sfm.SignedUpdateFirmwareRequest,
        sfm.SignedUpdateFirmwareResponse,
        _CS,
    ),
    _spec(_A.GET_LOG, sfm.GetLogRequest, sfm.GetLogResponse, _CS),
    _spec(
        _A.EXTENDED_TRIGGER_MESSAGE,
        sfm.ExtendedTriggerMessageRequest,
        sfm.ExtendedTriggerMessageResponse,
        _CS,
    ),
    # Security whitepaper: certificates and security events.
    _spec(
        _A.SECURITY_EVENT_NOTIFICATION,
        sec.SecurityEventNotificationRequest,
        sec.SecurityEventNotificationResponse,
        _CP,
    ),
    _spec(_A.SIGN_CERTIFICATE, sec.SignCertificateRequest, sec.SignCertificateResponse, _CP),
    _spec(_A.CERTIFICATE_SIGNED, sec.CertificateSignedRequest, sec.CertificateSignedResponse, _CS),
    _spec(
        _A.INSTALL_CERTIFICATE, sec.InstallCertificateRequest, sec.InstallCertificateResponse, _CS
    ),
    _spec(_A.DELETE_CERTIFICATE, sec.DeleteCertificateRequest, sec.DeleteCertificateResponse, _CS),
    _spec(
        _A.GET_INSTALLED_CERTIFICATE_IDS,
        sec.GetInstalledCertificateIdsRequest,
        sec.GetInstalledCertificateIdsResponse,
        _CS,
    ),
)

ACTIONS: Final[Mapping[str, ActionSpec]] = MappingProxyType({s.action.value: s for s in _TABLE})
"""Every OCPP 1.6 action by its name (the `action` of a CALL, J 4.2.1)."""

_BY_REQUEST: Final[Mapping[type, ActionSpec]] = MappingProxyType({s.request: s for s in _TABLE})

# Spec 4.3 and 5.6: DataTransfer is the one action either side may initiate.
_BOTH_WAYS: Final = frozenset({Action.DATA_TRANSFER})


def can_send(action: str, sender: Sender) -> bool:
    """Whether `sender` may send the request of `action`. False for an unknown action."""
    spec = ACTIONS.get(action)
    if spec is None:
        return False
    return spec.sender == sender or spec.action in _BOTH_WAYS


def action_for(request: object) -> ActionSpec:
    """The table row of a request message, for sending it in a CALL; KeyError if not a request."""
    return _BY_REQUEST[type(request)]
