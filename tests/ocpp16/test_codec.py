"""Round trips of every message, the exact payload shape, and the messages against the schemas."""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest

from csms.ocpp16 import (
    ACTIONS,
    Action,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingSchedulePeriod,
    GetConfigurationRequest,
    HeartbeatRequest,
    MeterValuesRequest,
    SchemaViolation,
    SetChargingProfileRequest,
    StartTransactionRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
    UnitOfMeasure,
    decode_request,
    decode_response,
    from_payload,
    to_payload,
    validate_request,
    validate_response,
)
from csms.ocpp16.validation import load_schema
from csms.ocppj import Call, CallResult, parse, serialize
from tests.ocpp16.samples import DEFAULT_PROFILE, NOW, SAMPLES
from tests.ocpp16.schema_refs import inline_refs

# Which action and direction each message class belongs to.
ROLE: dict[type, tuple[str, str]] = {}
for _name, _spec in ACTIONS.items():
    ROLE[_spec.request] = (_name, "request")
    ROLE[_spec.response] = (_name, "response")


def _validate(message: object, payload: dict[str, Any]) -> SchemaViolation | None:
    action, kind = ROLE[type(message)]
    if kind == "request":
        return validate_request(action, payload)
    return validate_response(action, payload)


def _id(message: object) -> str:
    return type(message).__name__


def test_samples_cover_every_request_and_response() -> None:
    assert {type(message) for message in SAMPLES} == set(ROLE)


@pytest.mark.parametrize("message", SAMPLES, ids=_id)
def test_round_trip(message: object) -> None:
    payload = to_payload(message)
    assert _validate(message, payload) is None
    assert from_payload(type(message), payload) == message


@pytest.mark.parametrize("message", SAMPLES, ids=_id)
def test_round_trip_over_the_wire(message: object) -> None:
    # Through csms.ocppj's JSON text and back, where Decimal becomes a JSON number.
    action, kind = ROLE[type(message)]
    frame: Call | CallResult
    if kind == "request":
        frame = Call(unique_id="1", action=action, payload=to_payload(message))
    else:
        frame = CallResult(unique_id="1", payload=to_payload(message))
    received = parse(serialize(frame))
    assert isinstance(received, Call | CallResult)
    decode = decode_request if kind == "request" else decode_response
    assert decode(action, received.payload) == message


def test_payload_shape() -> None:
    message = StatusNotificationRequest(
        connector_id=2,
        error_code=ChargePointErrorCode.NO_ERROR,
        status=ChargePointStatus.SUSPENDED_EV,
        timestamp=datetime(2026, 11, 21, 15, 3, 32, 123456, tzinfo=timezone(timedelta(hours=1))),
    )
    payload = to_payload(message)
    assert payload == {
        "connectorId": 2,
        "errorCode": "NoError",
        "status": "SuspendedEV",
        "timestamp": "2026-11-21T14:03:32.123Z",
    }
    # Plain strings on the wire, not enum members.
    assert type(payload["status"]) is str
    assert json.dumps(payload)


def test_payload_keeps_decimal_and_empty_lists() -> None:
    payload = to_payload(
        SetChargingProfileRequest(connector_id=0, cs_charging_profiles=DEFAULT_PROFILE)
    )
    periods = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
    assert [period["limit"] for period in periods] == [
        Decimal("32.0"),
        Decimal("6.1"),
        Decimal("0.3"),
    ]
    assert all(type(period["limit"]) is Decimal for period in periods)
    assert to_payload(GetConfigurationRequest(key=[])) == {"key": []}
    assert to_payload(GetConfigurationRequest()) == {}
    assert to_payload(HeartbeatRequest()) == {}


def test_decimal_fields_decode_from_json_numbers() -> None:
    assert from_payload(ChargingSchedulePeriod, {"startPeriod": 0, "limit": 6.1}).limit == Decimal(
        "6.1"
    )
    period = from_payload(ChargingSchedulePeriod, {"startPeriod": 0, "limit": 32})
    assert period.limit == Decimal("32")
    assert isinstance(period.limit, Decimal)
    assert from_payload(ChargingSchedulePeriod, {"startPeriod": 0, "limit": 0.3}).limit == Decimal(
        "0.3"
    )


def test_decode_is_lenient_about_timestamps() -> None:
    payload = {
        "connectorId": 1,
        "idTag": "TAG",
        "meterStart": 0,
        "timestamp": "2026-11-21T14:03:32.1234567",
    }
    message = decode_request("StartTransaction", payload)
    assert isinstance(message, StartTransactionRequest)
    assert message.timestamp == datetime(2026, 11, 21, 14, 3, 32, 123456, tzinfo=UTC)
    stop = decode_request(
        "StopTransaction",
        {"meterStop": 5, "transactionId": 1, "timestamp": "2026-11-21T15:03:32+01:00"},
    )
    assert isinstance(stop, StopTransactionRequest)
    assert stop.timestamp == datetime(2026, 11, 21, 14, 3, 32, tzinfo=UTC)
    assert stop.timestamp.tzinfo is UTC


def test_decode_gives_enum_members_and_both_celsius_spellings() -> None:
    sampled = [
        {"value": "20.5", "measurand": "Temperature", "unit": "Celcius"},
        {"value": "20.5", "measurand": "Temperature", "unit": "Celsius"},
    ]
    message = decode_request(
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [{"timestamp": "2026-11-21T14:03:32Z", "sampledValue": sampled}],
        },
    )
    assert not isinstance(message, SchemaViolation)
    assert isinstance(message, MeterValuesRequest)
    units = [value.unit for value in message.meter_value[0].sampled_value]
    assert units == [UnitOfMeasure.CELCIUS, UnitOfMeasure.CELSIUS]
    assert all(isinstance(unit, UnitOfMeasure) for unit in units)


def test_misuse_raises() -> None:
    # Only a validated payload may be given to from_payload; only messages to to_payload.
    with pytest.raises(TypeError):
        from_payload(StartTransactionRequest, {"connectorId": 1})
    with pytest.raises(TypeError):
        to_payload(object())


def test_every_action_round_trips_through_decode() -> None:
    seen = {ROLE[type(message)] for message in SAMPLES}
    assert seen == {(name, kind) for name in ACTIONS for kind in ("request", "response")}
    assert set(ACTIONS) == {action.value for action in Action}
    for message in SAMPLES:
        action, kind = ROLE[type(message)]
        decode = decode_request if kind == "request" else decode_response
        assert decode(action, to_payload(message)) == message
    assert NOW.tzinfo is UTC


# --- the dataclasses against the schemas ------------------------------------------------------


def _strip_optional(hint: Any) -> Any:
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return args[0] if typing.get_origin(hint) in (typing.Union, type(int | None)) else hint


def _compare(cls: type, schema: dict[str, Any], where: str) -> None:
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    by_json = {_camel(name): name for name in fields}
    properties: dict[str, Any] = schema.get("properties", {})
    assert set(by_json) == set(properties), where
    required = {key for key, name in by_json.items() if fields[name].default is dataclasses.MISSING}
    assert required == set(schema.get("required", [])), where
    for key, sub in properties.items():
        name = by_json[key]
        hint = _strip_optional(hints[name])
        optional = hint is not hints[name]
        assert optional == (key not in required), f"{where}.{key}"
        if fields[name].default is not dataclasses.MISSING:
            assert fields[name].default is None, f"{where}.{key}"
        _compare_type(hint, sub, f"{where}.{key}")


def _compare_type(hint: Any, schema: dict[str, Any], where: str) -> None:
    kind = schema.get("type")
    if typing.get_origin(hint) is list:
        assert kind == "array", where
        _compare_type(typing.get_args(hint)[0], schema["items"], f"{where}[]")
    elif dataclasses.is_dataclass(hint):
        assert kind == "object", where
        _compare(typing.cast(type, hint), schema, where)
    elif isinstance(hint, type) and issubclass(hint, StrEnum):
        assert kind == "string", where
        values = {member.value for member in hint}
        assert set(schema["enum"]) <= values, where
        extra = values - set(schema["enum"])
        # Only UnitOfMeasure.HERTZ goes beyond a schema (the StopTransaction one).
        assert extra <= {"Hertz"}, where
        assert len(schema["enum"]) == len(set(schema["enum"])), where
    elif hint is datetime:
        assert (kind, schema.get("format")) == ("string", "date-time"), where
    elif hint is Decimal:
        assert (kind, schema.get("multipleOf")) == ("number", 0.1), where
    else:
        expected = {str: "string", int: "integer", bool: "boolean"}[hint]
        assert kind == expected, where
        if hint is str:
            assert (
                "maxLength" in schema
                or schema.get("format") == "uri"
                or where.endswith((".data", ".value"))
            ), f"{where}: a CiString without a length"


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_dataclasses_match_the_official_schemas(action: str) -> None:
    spec = ACTIONS[action]
    _compare(spec.request, inline_refs(load_schema(action, "request")), f"{action}.req")
    _compare(spec.response, inline_refs(load_schema(action, "response")), f"{action}.conf")


def test_every_action_has_both_schemas() -> None:
    assert len(ACTIONS) >= 28 + 6  # 1.6 and the whitepaper's certificate messages
    for action in ACTIONS:
        assert load_schema(action, "request")["type"] == "object"
        assert load_schema(action, "response")["type"] == "object"
        # Compiling works and an empty payload gets an answer either way.
        for validate in (validate_request, validate_response):
            result = validate(action, {})
            assert result is None or isinstance(result, SchemaViolation)
