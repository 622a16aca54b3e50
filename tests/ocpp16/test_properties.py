"""Hypothesis properties: validation and decoding never raise on peer input, valid payloads
survive a round trip, and our verdicts agree with an independent validator (jsonschema)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csms.ocpp16 import (
    ACTIONS,
    SchemaViolation,
    decode_request,
    decode_response,
    from_payload,
    to_payload,
    validate_request,
    validate_response,
)
from csms.ocpp16.timestamps import is_timestamp
from csms.ocpp16.validation import Kind, load_schema, unstorable
from tests.ocpp16.schema_refs import inline_refs

KINDS: tuple[Kind, ...] = ("request", "response")
ACTION_KINDS = [(action, kind) for action in sorted(ACTIONS) for kind in KINDS]
SCHEMAS = {(action, kind): inline_refs(load_schema(action, kind)) for action, kind in ACTION_KINDS}

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _validate(action: str, kind: Kind, payload: Any) -> SchemaViolation | None:
    return (validate_request if kind == "request" else validate_response)(action, payload)


def _decode(action: str, kind: Kind, payload: Any) -> object:
    return (decode_request if kind == "request" else decode_response)(action, payload)


def _class(action: str, kind: Kind) -> type:
    spec = ACTIONS[action]
    return spec.request if kind == "request" else spec.response


# --- strategies --------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: Python's json module reads them
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def _property_names(schema: dict[str, Any]) -> set[str]:
    names = set(schema.get("properties", {}))
    for sub in schema.get("properties", {}).values():
        names |= _property_names(sub)
    if isinstance(schema.get("items"), dict):
        names |= _property_names(schema["items"])
    return names


ALL_NAMES = sorted(set().union(*(_property_names(schema) for schema in SCHEMAS.values())))
# Objects whose keys are mostly real OCPP property names, to get past the first checks.
json_objects = st.dictionaries(
    st.sampled_from(ALL_NAMES) | st.text(max_size=12), json_values, max_size=8
)

_OFFSETS = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """A timestamp in one of the forms chargers send."""
    value = draw(
        st.datetimes(
            min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=_OFFSETS
        )
    )
    style = draw(st.sampled_from(["iso", "z", "naive", "millis", "nanos"]))
    if style == "iso":
        return value.isoformat()
    if style == "naive":
        return value.replace(tzinfo=None).isoformat()
    utc = value.astimezone(UTC).replace(tzinfo=None)
    if style == "millis":
        return utc.isoformat(timespec="milliseconds") + "Z"
    if style == "nanos":
        return utc.isoformat(timespec="seconds") + f".{draw(st.integers(0, 10**9 - 1)):09d}Z"
    return utc.isoformat() + "Z"


URIS = st.sampled_from(
    [
        "ftp://user:pass@diag.example.com/upload/",
        "https://firmware.example.com/fw-6.4.0.bin",
        "http://10.0.0.1:8080/f",
        "sftp://host/path",
    ]
)

tenths = st.integers(-(10**7), 10**7).map(lambda n: n / 10) | st.integers(-(10**6), 10**6)


# One branch per JSON schema keyword: a generator that mirrors the schema language.
def from_schema(schema: dict[str, Any], *, sloppy: bool) -> st.SearchStrategy[Any]:  # noqa: C901
    """Values valid for `schema`; when sloppy, anything may go wrong at any level."""
    kind = schema.get("type")
    strategy: st.SearchStrategy[Any]
    if "enum" in schema:
        strategy = st.sampled_from(schema["enum"])
    elif kind == "string" and schema.get("format") == "date-time":
        strategy = timestamps()
    elif kind == "string" and schema.get("format") == "uri":
        strategy = URIS
    elif kind == "string":
        # No NUL and no lone surrogates (both refused as unstorable).
        strategy = st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=min(schema.get("maxLength", 40), 60),
        )
    elif kind == "integer":
        # OCPP integers are 32-bit (larger ones are refused as unstorable).
        strategy = st.integers(-(2**31), 2**31 - 1) if not sloppy else st.integers()
    elif kind == "number":
        strategy = tenths
    elif kind == "boolean":
        strategy = st.booleans()
    elif kind == "array":
        items = from_schema(schema["items"], sloppy=sloppy)
        strategy = st.lists(items, min_size=schema.get("minItems", 0), max_size=3)
    elif kind == "object":
        properties = {
            key: from_schema(sub, sloppy=sloppy)
            for key, sub in schema.get("properties", {}).items()
        }
        required = set(schema.get("required", []))
        if sloppy:
            # Required keys may be missing and unknown ones present.
            strategy = st.fixed_dictionaries(
                {}, optional={**properties, "unknownKey1": json_values}
            )
        else:
            strategy = st.fixed_dictionaries(
                {key: value for key, value in properties.items() if key in required},
                optional={key: value for key, value in properties.items() if key not in required},
            )
    else:
        raise AssertionError(f"unexpected schema {schema}")
    if sloppy and kind != "object":
        # Wrong type, wrong value, too long, NaN...
        strategy = strategy | json_scalars | st.text(min_size=20, max_size=600)
    return strategy


VALID = {key: from_schema(schema, sloppy=False) for key, schema in SCHEMAS.items()}
SLOPPY = {key: from_schema(schema, sloppy=True) for key, schema in SCHEMAS.items()}


# --- never raises --------------------------------------------------------------------------------


def _check_answer(action: str, kind: Kind, payload: Any) -> SchemaViolation | None:
    violation = _validate(action, kind, payload)
    decoded = _decode(action, kind, payload)
    if violation is None:
        assert isinstance(decoded, _class(action, kind))
    else:
        assert isinstance(violation, SchemaViolation)
        assert violation.description
        assert decoded == violation
    return violation


@SETTINGS
@given(st.sampled_from(ACTION_KINDS), json_objects | json_values)
def test_any_json_gets_an_answer(action_kind: tuple[str, Kind], payload: Any) -> None:
    _check_answer(*action_kind, payload)


@SETTINGS
@given(st.data())
def test_nearly_valid_payloads_get_an_answer(data: st.DataObject) -> None:
    action, kind = data.draw(st.sampled_from(ACTION_KINDS))
    _check_answer(action, kind, data.draw(SLOPPY[(action, kind)]))


# --- valid payloads ------------------------------------------------------------------------------


@SETTINGS
@given(st.data())
def test_valid_payloads_decode_and_encode_back(data: st.DataObject) -> None:
    action, kind = data.draw(st.sampled_from(ACTION_KINDS))
    payload = data.draw(VALID[(action, kind)])
    assert _validate(action, kind, payload) is None
    message = _decode(action, kind, payload)
    assert isinstance(message, _class(action, kind))
    encoded = to_payload(message)
    # What we send is valid, has the same fields, and is stable from then on.
    assert _validate(action, kind, encoded) is None
    assert _keys(encoded) == _keys(payload)
    assert from_payload(type(message), encoded) == message or _has_sub_millisecond(payload)
    assert to_payload(from_payload(type(message), encoded)) == encoded


def _keys(value: Any, path: str = "") -> set[str]:
    if isinstance(value, dict):
        keys = set()
        for key, sub in value.items():
            keys |= {f"{path}.{key}"} | _keys(sub, f"{path}.{key}")
        return keys
    if isinstance(value, list):
        return set().union(set(), *(_keys(item, f"{path}[{i}]") for i, item in enumerate(value)))
    return set()


def _has_sub_millisecond(value: Any) -> bool:
    # We send milliseconds only, so finer timestamps do not come back equal.
    if isinstance(value, dict):
        return any(_has_sub_millisecond(sub) for sub in value.values())
    if isinstance(value, list):
        return any(_has_sub_millisecond(sub) for sub in value)
    return isinstance(value, str) and re.search(r"\.\d{4,}", value) is not None


# --- an independent opinion ----------------------------------------------------------------------

jsonschema = pytest.importorskip("jsonschema")


def _exact_multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "number"):
        return
    try:
        exact = Fraction(repr(instance)) / Fraction(repr(step))
    except (ValueError, OverflowError):  # NaN, infinity
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {step}")
        return
    if exact.denominator != 1:
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {step}")


# Draft 4 as the schemas declare, with exact decimal multipleOf, our date-time leniency and
# fastjsonschema's notion of a URI: everything else is jsonschema's own judgement.
_Oracle = jsonschema.validators.extend(
    jsonschema.Draft4Validator, {"multipleOf": _exact_multiple_of}
)
_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date-time")(is_timestamp)
_FORMATS.checks("uri")(
    lambda value: (
        not isinstance(value, str) or re.match(r"^\w+:(\/?\/?)[^\s]+\Z", value) is not None
    )
)
ORACLES = {key: _Oracle(schema, format_checker=_FORMATS) for key, schema in SCHEMAS.items()}


@SETTINGS
@given(st.data())
def test_verdicts_agree_with_jsonschema(data: st.DataObject) -> None:
    action, kind = data.draw(st.sampled_from(ACTION_KINDS))
    payload = data.draw(SLOPPY[(action, kind)] | VALID[(action, kind)])
    ours = _validate(action, kind, payload)
    theirs = [error.message for error in ORACLES[(action, kind)].iter_errors(payload)]
    # The schema, and then the values no column can hold (32-bit integers, finite numbers,
    # text without NUL or lone surrogates).
    if not theirs and (unstorable_value := unstorable(payload)) is not None:
        theirs = [unstorable_value.description]
    assert (ours is None) == (not theirs), (ours, theirs)
