"""Schema violations and the OCPP-J 1.6 error codes they map to (J 4.2.3, catalogue 5.3/5.13)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from csms.ocpp16 import (
    SchemaViolation,
    decode_request,
    decode_response,
    validate_request,
    validate_response,
)
from csms.ocppj import ErrorCode

TYPE = ErrorCode.TYPE_CONSTRAINT_VIOLATION
OCCURENCE = ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
PROPERTY = ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
FORMATION = ErrorCode.FORMATION_VIOLATION

BOOT = {"chargePointVendor": "Alfen BV", "chargePointModel": "NG920"}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
SAMPLE = {"value": "10", "unit": "Wh"}
TIME = "2026-11-21T14:03:32Z"


def _meter(*sampled: Any) -> dict[str, Any]:
    return {"connectorId": 1, "meterValue": [{"timestamp": TIME, "sampledValue": list(sampled)}]}


METER = _meter(SAMPLE)


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def _without(base: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in base.items() if k != key}


# (action, payload, error code, description) for requests.
REQUEST_CASES = [
    # Required field missing.
    (
        "BootNotification",
        _without(BOOT, "chargePointModel"),
        OCCURENCE,
        "chargePointModel: required field missing",
    ),
    (
        "BootNotification",
        {},
        OCCURENCE,
        "chargePointVendor, chargePointModel: required fields missing",
    ),
    (
        "MeterValues",
        {"connectorId": 1, "meterValue": [{"sampledValue": [SAMPLE]}]},
        OCCURENCE,
        "meterValue[0].timestamp: required field missing",
    ),
    # CiString too long.
    (
        "BootNotification",
        _with(BOOT, chargePointVendor="V" * 21),
        TYPE,
        "chargePointVendor: longer than 20 characters",
    ),
    ("StatusNotification", _with(STATUS, info="i" * 51), TYPE, "info: longer than 50 characters"),
    (
        "GetConfiguration",
        {"key": ["HeartbeatInterval", "k" * 51]},
        TYPE,
        "key[1]: longer than 50 characters",
    ),
    # Wrong JSON type.
    (
        "StatusNotification",
        _with(STATUS, connectorId="1"),
        TYPE,
        "connectorId: must be integer, not string",
    ),
    (
        "StatusNotification",
        _with(STATUS, connectorId=1.0),
        TYPE,
        "connectorId: must be integer, not number",
    ),
    (
        "StatusNotification",
        _with(STATUS, connectorId=True),
        TYPE,
        "connectorId: must be integer, not boolean",
    ),
    (
        "StatusNotification",
        _with(STATUS, connectorId=None),
        TYPE,
        "connectorId: must be integer, not null",
    ),
    (
        "DataTransfer",
        {"vendorId": "com.example", "data": {"price": 1}},
        TYPE,
        "data: must be string, not object",
    ),
    (
        "MeterValues",
        _with(METER, meterValue={"timestamp": TIME}),
        TYPE,
        "meterValue: must be array, not object",
    ),
    # Value not allowed.
    (
        "StatusNotification",
        _with(STATUS, status="Foo"),
        PROPERTY,
        "status: 'Foo' is not one of Available, Preparing",
    ),
    (
        "StatusNotification",
        _with(STATUS, status="available"),
        PROPERTY,
        "status: 'available' is not one of",
    ),
    (
        "MeterValues",
        _meter({"value": "1", "measurand": "Energy"}),
        PROPERTY,
        "meterValue[0].sampledValue[0].measurand: 'Energy' is not allowed",
    ),
    (
        "StatusNotification",
        _with(STATUS, timestamp="yesterday"),
        PROPERTY,
        "timestamp: 'yesterday' is not a valid date-time",
    ),
    (
        "StatusNotification",
        _with(STATUS, timestamp="2026-02-30T10:00:00Z"),
        PROPERTY,
        "timestamp: '2026-02-30T10:00:00Z' is not a valid date-time",
    ),
    (
        "UpdateFirmware",
        {"location": "not a uri", "retrieveDate": TIME},
        PROPERTY,
        "location: 'not a uri' is not a valid uri",
    ),
    (
        "SendLocalList",
        {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "OK"}}],
        },
        PROPERTY,
        "localAuthorizationList[0].idTagInfo.status: 'OK' is not one of",
    ),
    # Too few items.
    (
        "MeterValues",
        _with(METER, meterValue=[]),
        OCCURENCE,
        "meterValue: must have at least 1 item(s)",
    ),
    (
        "MeterValues",
        _meter(),
        OCCURENCE,
        "meterValue[0].sampledValue: must have at least 1 item(s)",
    ),
    # Unknown property, at the top and nested.
    ("BootNotification", _with(BOOT, firmware="1.0"), FORMATION, "firmware: unknown property"),
    ("Heartbeat", {"now": 1}, FORMATION, "now: unknown property"),
    (
        "MeterValues",
        _meter(_with(SAMPLE, signature="x")),
        FORMATION,
        "meterValue[0].sampledValue[0].signature: unknown property",
    ),
]


@pytest.mark.parametrize(
    ("action", "payload", "code", "description"),
    REQUEST_CASES,
    ids=[f"{case[0]}-{case[3].split(':')[0]}-{case[2]}" for case in REQUEST_CASES],
)
def test_request_violation(
    action: str, payload: dict[str, Any], code: ErrorCode, description: str
) -> None:
    violation = validate_request(action, payload)
    assert violation is not None
    assert violation.error_code == code
    assert violation.description.startswith(description)
    assert decode_request(action, payload) == violation


RESPONSE_CASES = [
    (
        "BootNotification",
        {"status": "Accepted", "currentTime": TIME, "interval": 30.5},
        TYPE,
        "interval: must be integer, not number",
    ),
    (
        "BootNotification",
        {"status": "Accepted", "interval": 300},
        OCCURENCE,
        "currentTime: required field missing",
    ),
    ("Heartbeat", {}, OCCURENCE, "currentTime: required field missing"),
    ("Reset", {"status": "Done"}, PROPERTY, "status: 'Done' is not one of Accepted, Rejected"),
    (
        "StartTransaction",
        {"transactionId": 1, "idTagInfo": {"status": "Accepted", "reason": "x"}},
        FORMATION,
        "idTagInfo.reason: unknown property",
    ),
    (
        "GetConfiguration",
        {"configurationKey": [{"key": "A", "readonly": "true"}]},
        TYPE,
        "configurationKey[0].readonly: must be boolean, not string",
    ),
]


@pytest.mark.parametrize(("action", "payload", "code", "description"), RESPONSE_CASES)
def test_response_violation(
    action: str, payload: dict[str, Any], code: ErrorCode, description: str
) -> None:
    violation = validate_response(action, payload)
    assert violation == SchemaViolation(error_code=code, description=description)
    assert decode_response(action, payload) == violation


@pytest.mark.parametrize("payload", [[], "x", 1, None, [BOOT]])
def test_payload_that_is_not_an_object_is_a_formation_violation(payload: Any) -> None:
    violation = validate_request("BootNotification", payload)
    assert violation is not None
    assert violation.error_code == FORMATION
    assert violation.description.startswith("payload: must be object")


def test_boundaries_are_valid() -> None:
    assert validate_request("BootNotification", _with(BOOT, chargePointVendor="V" * 20)) is None
    assert validate_request("ChangeConfiguration", {"key": "k" * 50, "value": "v" * 500}) is None
    assert validate_request("StatusNotification", _with(STATUS, connectorId=0)) is None
    # No minimum in the 1.6 schemas: a negative connector id is a business error, not a schema one.
    assert validate_request("StatusNotification", _with(STATUS, connectorId=-1)) is None


def test_mapping_that_is_not_a_dict_is_accepted() -> None:
    from types import MappingProxyType

    assert validate_request("BootNotification", MappingProxyType(BOOT)) is None


@pytest.mark.parametrize("validate", [validate_request, validate_response])
def test_unknown_action_raises_key_error(validate: Any) -> None:
    with pytest.raises(KeyError):
        validate("FooBar", {})
    with pytest.raises(KeyError):
        decode_request("SignedFirmwareStatus", {"status": "Idle"})  # no such action
    with pytest.raises(KeyError):
        decode_response("bootnotification", {})


# --- multipleOf 0.1 (limit, minChargingRate) -------------------------------------------------

VALID_TENTHS = [
    *(6.1, 0.3, 32.0, 32, 0, 0.0, -0.1, 0.7, 1e3, 100000.5, 2.2, 1e20, 7),
    *map(Decimal, ["6.1", "6.10", "32", "1E+2", "0.000", "-0.0"]),
]
INVALID_TENTHS = [
    *(6.15, 0.05, 0.30000000000000004, 1e-7, 2.675, math.nan, math.inf, -math.inf),
    *map(Decimal, ["6.15", "0.01", "NaN", "Infinity", "-sNaN"]),
]


def _profile(limit: Any, min_rate: Any = None) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16},
            {"startPeriod": 60, "limit": limit},
        ],
    }
    if min_rate is not None:
        schedule["minChargingRate"] = min_rate
    return {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": schedule,
    }


def _set_profile(profile: dict[str, Any]) -> dict[str, Any]:
    return {"connectorId": 1, "csChargingProfiles": profile}


def _remote_start(profile: dict[str, Any]) -> dict[str, Any]:
    return {"idTag": "T", "chargingProfile": profile}


def _composite(schedule: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Accepted", "chargingSchedule": schedule}


def test_the_float_trap_is_real() -> None:
    # Why a plain float check cannot be used: 0.3 is not a float multiple of 0.1.
    assert 0.3 % 0.1 != 0
    assert 6.1 % 0.1 != 0


@pytest.mark.parametrize("limit", VALID_TENTHS, ids=repr)
def test_multiple_of_tenth_accepted(limit: Any) -> None:
    assert (
        validate_request(
            "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": _profile(limit)}
        )
        is None
    )
    assert (
        validate_request(
            "RemoteStartTransaction", {"idTag": "T", "chargingProfile": _profile(16, limit)}
        )
        is None
    )
    schedule = _profile(limit)["chargingSchedule"]
    assert validate_response("GetCompositeSchedule", _composite(schedule)) is None


@pytest.mark.parametrize("limit", INVALID_TENTHS, ids=repr)
def test_multiple_of_tenth_rejected(limit: Any) -> None:
    violation = validate_request("SetChargingProfile", _set_profile(_profile(limit)))
    assert violation is not None
    assert violation.error_code == PROPERTY
    assert violation.description.startswith(
        "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit: "
    )
    assert violation.description.endswith("is not a multiple of 0.1")
    violation = validate_request("RemoteStartTransaction", _remote_start(_profile(16, limit)))
    assert violation is not None
    assert violation.error_code == PROPERTY
    assert violation.description.startswith("chargingProfile.chargingSchedule.minChargingRate: ")
    schedule = _profile(limit)["chargingSchedule"]
    violation = validate_response("GetCompositeSchedule", _composite(schedule))
    assert violation is not None
    assert violation.description.startswith("chargingSchedule.chargingSchedulePeriod[1].limit: ")


def test_limit_must_be_a_number() -> None:
    violation = validate_request("SetChargingProfile", _set_profile(_profile("6.1")))
    assert violation is not None
    assert violation.error_code == TYPE
    assert violation.description == (
        "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit:"
        " must be number, not string"
    )


def test_first_violation_in_payload_order_is_reported_with_other_checks_first() -> None:
    # A bad limit is only reported once the rest of the payload is schema-valid.
    profile = _profile(6.15)
    profile["stackLevel"] = "0"
    violation = validate_request("SetChargingProfile", _set_profile(profile))
    assert violation is not None
    assert violation.error_code == TYPE
