"""Realistic messages of every OCPP 1.6 request and response, for round-trip tests.

Each class appears at least once with every optional field set and, where it has optional
fields, once more with none of them. Datetimes have millisecond precision (what we send).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from csms.ocpp16 import (
    AuthorizationData,
    AuthorizationStatus,
    AuthorizeRequest,
    AuthorizeResponse,
    AvailabilityStatus,
    AvailabilityType,
    BootNotificationRequest,
    BootNotificationResponse,
    CancelReservationRequest,
    CancelReservationResponse,
    CancelReservationStatus,
    ChangeAvailabilityRequest,
    ChangeAvailabilityResponse,
    ChangeConfigurationRequest,
    ChangeConfigurationResponse,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingProfile,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ChargingSchedule,
    ChargingSchedulePeriod,
    ClearCacheRequest,
    ClearCacheResponse,
    ClearCacheStatus,
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DataTransferRequest,
    DataTransferResponse,
    DataTransferStatus,
    DiagnosticsStatus,
    DiagnosticsStatusNotificationRequest,
    DiagnosticsStatusNotificationResponse,
    FirmwareStatus,
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
    GetCompositeScheduleStatus,
    GetConfigurationRequest,
    GetConfigurationResponse,
    GetDiagnosticsRequest,
    GetDiagnosticsResponse,
    GetLocalListVersionRequest,
    GetLocalListVersionResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    IdTagInfo,
    KeyValue,
    Location,
    Measurand,
    MessageTrigger,
    MeterValue,
    MeterValuesRequest,
    MeterValuesResponse,
    Phase,
    ReadingContext,
    Reason,
    RecurrencyKindType,
    RegistrationStatus,
    RemoteStartStopStatus,
    RemoteStartTransactionRequest,
    RemoteStartTransactionResponse,
    RemoteStopTransactionRequest,
    RemoteStopTransactionResponse,
    ReservationStatus,
    ReserveNowRequest,
    ReserveNowResponse,
    ResetRequest,
    ResetResponse,
    ResetStatus,
    ResetType,
    SampledValue,
    SendLocalListRequest,
    SendLocalListResponse,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
    StartTransactionRequest,
    StartTransactionResponse,
    StatusNotificationRequest,
    StatusNotificationResponse,
    StopTransactionRequest,
    StopTransactionResponse,
    TriggerMessageRequest,
    TriggerMessageResponse,
    TriggerMessageStatus,
    UnitOfMeasure,
    UnlockConnectorRequest,
    UnlockConnectorResponse,
    UnlockStatus,
    UpdateFirmwareRequest,
    UpdateFirmwareResponse,
    UpdateStatus,
    UpdateType,
    ValueFormat,
)
from csms.ocpp16 import security_firmware_messages as sfm
from tests.ocpp16.certificate_samples import CERTIFICATE_SAMPLES

NOW = datetime(2026, 11, 21, 14, 3, 32, 123000, tzinfo=UTC)
LATER = datetime(2026, 11, 22, 6, 0, 0, tzinfo=UTC)

ID_TAG_INFO = IdTagInfo(
    status=AuthorizationStatus.ACCEPTED, expiry_date=LATER, parent_id_tag="FLEET-7"
)

METER_VALUE = MeterValue(
    timestamp=NOW,
    sampled_value=[
        SampledValue(
            value="12345.6",
            context=ReadingContext.SAMPLE_PERIODIC,
            format=ValueFormat.RAW,
            measurand=Measurand.ENERGY_ACTIVE_IMPORT_REGISTER,
            location=Location.OUTLET,
            unit=UnitOfMeasure.KWH,
        ),
        SampledValue(
            value="16.1", measurand=Measurand.CURRENT_IMPORT, phase=Phase.L1, unit=UnitOfMeasure.A
        ),
        SampledValue(
            value="231", measurand=Measurand.VOLTAGE, phase=Phase.L1_N, unit=UnitOfMeasure.V
        ),
        SampledValue(
            value="38.5",
            measurand=Measurand.TEMPERATURE,
            location=Location.BODY,
            unit=UnitOfMeasure.CELSIUS,
        ),
        SampledValue(value="81", measurand=Measurand.SOC, location=Location.EV),
    ],
)

# Only the MeterValues schema of the `ocpp` package knows the unit Hertz (not StopTransaction's).
FREQUENCY = MeterValue(
    timestamp=NOW,
    sampled_value=[
        SampledValue(value="50.01", measurand=Measurand.FREQUENCY, unit=UnitOfMeasure.HERTZ),
        SampledValue(value="49.9", measurand=Measurand.FREQUENCY),
    ],
)

SCHEDULE = ChargingSchedule(
    charging_rate_unit=ChargingRateUnitType.A,
    charging_schedule_period=[
        ChargingSchedulePeriod(start_period=0, limit=Decimal("32.0"), number_phases=3),
        ChargingSchedulePeriod(start_period=1800, limit=Decimal("6.1"), number_phases=1),
        ChargingSchedulePeriod(start_period=3600, limit=Decimal("0.3")),
    ],
    duration=86400,
    start_schedule=NOW,
    min_charging_rate=Decimal("6.0"),
)

TX_PROFILE = ChargingProfile(
    charging_profile_id=12,
    stack_level=0,
    charging_profile_purpose=ChargingProfilePurposeType.TX_PROFILE,
    charging_profile_kind=ChargingProfileKindType.RELATIVE,
    charging_schedule=ChargingSchedule(
        charging_rate_unit=ChargingRateUnitType.W,
        charging_schedule_period=[ChargingSchedulePeriod(start_period=0, limit=Decimal(11000))],
    ),
    transaction_id=42,
)

DEFAULT_PROFILE = ChargingProfile(
    charging_profile_id=1,
    stack_level=2,
    charging_profile_purpose=ChargingProfilePurposeType.TX_DEFAULT_PROFILE,
    charging_profile_kind=ChargingProfileKindType.RECURRING,
    charging_schedule=SCHEDULE,
    recurrency_kind=RecurrencyKindType.DAILY,
    valid_from=NOW,
    valid_to=LATER,
)

SIGNED_FIRMWARE_LOG_SAMPLES: list[object] = [
    sfm.SignedUpdateFirmwareRequest(
        request_id=7,
        firmware=sfm.Firmware(
            location="https://firmware.example.com/signed/6.5.0.bin",
            retrieve_date_time=NOW,
            install_date_time=LATER,
            signing_certificate="-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n",
            signature="MEUCIQDn2vS0aW5hdHVyZQ==",
        ),
        retries=2,
        retry_interval=60,
    ),
    sfm.SignedUpdateFirmwareResponse(status=sfm.UpdateFirmwareStatus.ACCEPTED_CANCELED),
    sfm.SignedFirmwareStatusNotificationRequest(
        status=sfm.SignedFirmwareStatus.INSTALL_REBOOTING, request_id=7
    ),
    sfm.SignedFirmwareStatusNotificationRequest(status=sfm.SignedFirmwareStatus.IDLE),
    sfm.SignedFirmwareStatusNotificationResponse(),
    sfm.GetLogRequest(
        log=sfm.LogParameters(
            remote_location="ftp://user:pass@logs.example.com/",
            oldest_timestamp=NOW,
            latest_timestamp=LATER,
        ),
        log_type=sfm.LogType.SECURITY_LOG,
        request_id=8,
        retries=0,
    ),
    sfm.GetLogResponse(status=sfm.LogStatus.ACCEPTED, filename="security.log"),
    sfm.GetLogResponse(status=sfm.LogStatus.REJECTED),
    sfm.LogStatusNotificationRequest(status=sfm.UploadLogStatus.UPLOADED, request_id=8),
    sfm.LogStatusNotificationResponse(),
    sfm.ExtendedTriggerMessageRequest(
        requested_message=sfm.ExtendedMessageTrigger.SIGN_CHARGE_POINT_CERTIFICATE
    ),
    sfm.ExtendedTriggerMessageRequest(
        requested_message=sfm.ExtendedMessageTrigger.METER_VALUES, connector_id=2
    ),
    sfm.ExtendedTriggerMessageResponse(status=sfm.ExtendedTriggerMessageStatus.NOT_IMPLEMENTED),
]

SAMPLES: list[object] = [
    AuthorizeRequest(id_tag="04E91C2AB35780"),
    AuthorizeResponse(id_tag_info=ID_TAG_INFO),
    AuthorizeResponse(id_tag_info=IdTagInfo(status=AuthorizationStatus.INVALID)),
    BootNotificationRequest(
        charge_point_vendor="Alfen BV",
        charge_point_model="NG920-61025",
        charge_point_serial_number="ace0812345",
        charge_box_serial_number="ace0812345-box",
        firmware_version="6.3.0-4090",
        iccid="89310410106543789301",
        imsi="204043123456789",
        meter_type="Eastron SDM630",
        meter_serial_number="SDM-0042-7781",
    ),
    BootNotificationRequest(charge_point_vendor="Alfen BV", charge_point_model="NG920"),
    BootNotificationResponse(status=RegistrationStatus.ACCEPTED, current_time=NOW, interval=300),
    CancelReservationRequest(reservation_id=9),
    CancelReservationResponse(status=CancelReservationStatus.REJECTED),
    ChangeAvailabilityRequest(connector_id=0, type=AvailabilityType.INOPERATIVE),
    ChangeAvailabilityResponse(status=AvailabilityStatus.SCHEDULED),
    ChangeConfigurationRequest(key="MeterValueSampleInterval", value="60"),
    ChangeConfigurationResponse(status=ConfigurationStatus.REBOOT_REQUIRED),
    ClearCacheRequest(),
    ClearCacheResponse(status=ClearCacheStatus.ACCEPTED),
    ClearChargingProfileRequest(
        id=12,
        connector_id=1,
        charging_profile_purpose=ChargingProfilePurposeType.TX_PROFILE,
        stack_level=0,
    ),
    ClearChargingProfileRequest(),
    ClearChargingProfileResponse(status=ClearChargingProfileStatus.UNKNOWN),
    DataTransferRequest(vendor_id="com.example", message_id="Tariff", data='{"price":0.35}'),
    DataTransferRequest(vendor_id="com.example"),
    DataTransferResponse(status=DataTransferStatus.UNKNOWN_MESSAGE_ID, data=""),
    DataTransferResponse(status=DataTransferStatus.ACCEPTED),
    DiagnosticsStatusNotificationRequest(status=DiagnosticsStatus.UPLOAD_FAILED),
    DiagnosticsStatusNotificationResponse(),
    FirmwareStatusNotificationRequest(status=FirmwareStatus.INSTALLATION_FAILED),
    FirmwareStatusNotificationResponse(),
    GetCompositeScheduleRequest(
        connector_id=1, duration=3600, charging_rate_unit=ChargingRateUnitType.W
    ),
    GetCompositeScheduleRequest(connector_id=0, duration=86400),
    GetCompositeScheduleResponse(
        status=GetCompositeScheduleStatus.ACCEPTED,
        connector_id=1,
        schedule_start=NOW,
        charging_schedule=SCHEDULE,
    ),
    GetCompositeScheduleResponse(status=GetCompositeScheduleStatus.REJECTED),
    GetConfigurationRequest(key=["HeartbeatInterval", "AuthorizeRemoteTxRequests"]),
    GetConfigurationRequest(),
    GetConfigurationRequest(key=[]),
    GetConfigurationResponse(
        configuration_key=[
            KeyValue(key="HeartbeatInterval", readonly=False, value="300"),
            KeyValue(key="NumberOfConnectors", readonly=True, value="2"),
            KeyValue(key="AuthorizationKey", readonly=False),
        ],
        unknown_key=["VendorSpecificThing"],
    ),
    GetConfigurationResponse(),
    GetDiagnosticsRequest(
        location="ftp://diag:secret@csms.example.com:2121/uploads/",
        retries=3,
        retry_interval=60,
        start_time=NOW,
        stop_time=LATER,
    ),
    GetDiagnosticsRequest(location="https://csms.example.com/diagnostics/CP-1"),
    GetDiagnosticsResponse(file_name="diagnostics-CP-1-20261121.tar.gz"),
    GetDiagnosticsResponse(),
    GetLocalListVersionRequest(),
    GetLocalListVersionResponse(list_version=-1),
    HeartbeatRequest(),
    HeartbeatResponse(current_time=NOW),
    MeterValuesRequest(connector_id=1, meter_value=[METER_VALUE, FREQUENCY], transaction_id=42),
    MeterValuesRequest(
        connector_id=0,
        meter_value=[
            MeterValue(
                timestamp=LATER,
                sampled_value=[SampledValue(value="98765", context=ReadingContext.SAMPLE_CLOCK)],
            )
        ],
    ),
    MeterValuesResponse(),
    RemoteStartTransactionRequest(id_tag="APP-USER-1", connector_id=2, charging_profile=TX_PROFILE),
    RemoteStartTransactionRequest(id_tag="APP-USER-1"),
    RemoteStartTransactionResponse(status=RemoteStartStopStatus.ACCEPTED),
    RemoteStopTransactionRequest(transaction_id=42),
    RemoteStopTransactionResponse(status=RemoteStartStopStatus.REJECTED),
    ReserveNowRequest(
        connector_id=1,
        expiry_date=LATER,
        id_tag="04E91C2AB35780",
        reservation_id=9,
        parent_id_tag="FLEET-7",
    ),
    ReserveNowRequest(
        connector_id=0, expiry_date=LATER, id_tag="04E91C2AB35780", reservation_id=10
    ),
    ReserveNowResponse(status=ReservationStatus.OCCUPIED),
    ResetRequest(type=ResetType.SOFT),
    ResetResponse(status=ResetStatus.ACCEPTED),
    SendLocalListRequest(
        list_version=5,
        update_type=UpdateType.DIFFERENTIAL,
        local_authorization_list=[
            AuthorizationData(id_tag="04E91C2AB35780", id_tag_info=ID_TAG_INFO),
            AuthorizationData(id_tag="REVOKED-1"),
        ],
    ),
    SendLocalListRequest(list_version=6, update_type=UpdateType.FULL, local_authorization_list=[]),
    SendLocalListRequest(list_version=7, update_type=UpdateType.FULL),
    SendLocalListResponse(status=UpdateStatus.VERSION_MISMATCH),
    SetChargingProfileRequest(connector_id=0, cs_charging_profiles=DEFAULT_PROFILE),
    SetChargingProfileRequest(connector_id=1, cs_charging_profiles=TX_PROFILE),
    SetChargingProfileResponse(status=ChargingProfileStatus.NOT_SUPPORTED),
    StartTransactionRequest(
        connector_id=1,
        id_tag="04E91C2AB35780",
        meter_start=12345600,
        timestamp=NOW,
        reservation_id=9,
    ),
    StartTransactionRequest(connector_id=2, id_tag="04E91C2AB35780", meter_start=0, timestamp=NOW),
    StartTransactionResponse(
        id_tag_info=IdTagInfo(status=AuthorizationStatus.CONCURRENT_TX), transaction_id=42
    ),
    StatusNotificationRequest(
        connector_id=1,
        error_code=ChargePointErrorCode.EV_COMMUNICATION_ERROR,
        status=ChargePointStatus.SUSPENDED_EVSE,
        info="Control pilot error",
        timestamp=NOW,
        vendor_id="com.alfen",
        vendor_error_code="E-0817",
    ),
    StatusNotificationRequest(
        connector_id=0, error_code=ChargePointErrorCode.NO_ERROR, status=ChargePointStatus.AVAILABLE
    ),
    StatusNotificationResponse(),
    StopTransactionRequest(
        meter_stop=12399900,
        timestamp=LATER,
        transaction_id=42,
        id_tag="04E91C2AB35780",
        reason=Reason.EV_DISCONNECTED,
        transaction_data=[METER_VALUE],
    ),
    StopTransactionRequest(meter_stop=0, timestamp=NOW, transaction_id=-1),
    StopTransactionResponse(id_tag_info=ID_TAG_INFO),
    StopTransactionResponse(),
    TriggerMessageRequest(requested_message=MessageTrigger.STATUS_NOTIFICATION, connector_id=1),
    TriggerMessageRequest(requested_message=MessageTrigger.HEARTBEAT),
    TriggerMessageResponse(status=TriggerMessageStatus.NOT_IMPLEMENTED),
    UnlockConnectorRequest(connector_id=1),
    UnlockConnectorResponse(status=UnlockStatus.UNLOCK_FAILED),
    UpdateFirmwareRequest(
        location="https://firmware.example.com/alfen/6.4.0.bin",
        retrieve_date=LATER,
        retries=5,
        retry_interval=600,
    ),
    UpdateFirmwareRequest(location="ftp://firmware.example.com/fw.bin", retrieve_date=NOW),
    UpdateFirmwareResponse(),
    # Security whitepaper: signed firmware, logs, extended trigger.
    *SIGNED_FIRMWARE_LOG_SAMPLES,
]

# The security whitepaper's messages, in a module of their own.
SAMPLES.extend(CERTIFICATE_SAMPLES)
