"""OCPP-J framing (J 4): parse and serialize, and that no peer text can make parse raise."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.ocppj import Call, CallError, CallResult, ErrorCode, Malformed, parse, serialize


def test_round_trip_of_each_frame_type() -> None:
    frames = [
        Call(unique_id="19223201", action="BootNotification", payload={"a": 1}),
        CallResult(unique_id="19223201", payload={"status": "Accepted"}),
        CallError(
            unique_id="162376037",
            error_code=ErrorCode.NOT_SUPPORTED,
            error_description="SendLocalList.req not implemented",
        ),
    ]
    for frame in frames:
        assert parse(serialize(frame)) == frame


def test_call_error_always_has_five_elements_with_object_details() -> None:
    # J 4.2.3: description "" when none, details {} when none.
    text = serialize(CallError(unique_id="1", error_code=ErrorCode.GENERIC_ERROR))
    assert json.loads(text) == [4, "1", "GenericError", "", {}]


def test_error_codes_use_the_16_spellings() -> None:
    assert {c.value for c in ErrorCode} == {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON"),
        ('{"a": 1}', "not a JSON array"),
        ("[]", "not a JSON array"),
        ('[5, "1", "Heartbeat", {}]', "unknown message type"),
        ('["2", "1", "Heartbeat", {}]', "unknown message type"),
        ("[3, 1, {}]", "unusable message id"),
        ('[4, "' + "x" * 37 + '", "GenericError", "", {}]', "unusable message id"),
        ('[3, "1", []]', "payload is not a JSON object"),
    ],
)
def test_unusable_text_is_ignored(text: str, reason: str) -> None:
    result = parse(text)
    assert isinstance(result, Malformed)
    assert reason in result.reason
    assert result.reply is None


@pytest.mark.parametrize(
    "text",
    [
        '[2, "42", "Heartbeat"]',
        '[2, "42", "Heartbeat", {}, 1]',
        '[2, "42", 7, {}]',
        '[2, "42", "Heartbeat", null]',
        '[2, "42", "Heartbeat", []]',
    ],
)
def test_a_call_with_a_readable_id_but_bad_shape_is_answered_formation_violation(
    text: str,
) -> None:
    result = parse(text)
    assert isinstance(result, Malformed)
    assert result.reply is not None
    assert result.reply.unique_id == "42"
    assert result.reply.error_code == ErrorCode.FORMATION_VIOLATION


def test_unknown_error_codes_are_kept_as_text() -> None:
    frame = parse('[4, "1", "SomethingElse", "x", {}]')
    assert isinstance(frame, CallError)
    assert frame.error_code == "SomethingElse"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=20,
)


@given(st.text())
def test_any_text_parses_to_a_frame_or_malformed(text: str) -> None:
    assert isinstance(parse(text), Call | CallResult | CallError | Malformed)


@given(st.lists(json_values, max_size=6))
def test_any_json_array_parses_to_a_frame_or_malformed(items: list[object]) -> None:
    result = parse(json.dumps(items))
    assert isinstance(result, Call | CallResult | CallError | Malformed)
    if isinstance(result, Malformed) and result.reply is not None:
        # Whatever we answer is itself a well-formed CALLERROR.
        assert parse(serialize(result.reply)) == result.reply


@pytest.mark.parametrize(
    ("text", "echo"),
    [
        ('[2, 1, "Heartbeat", {}]', "-1"),
        ("[2]", "-1"),
        ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "x" * 37),
        ('[2, "", "Heartbeat", {}]', ""),  # J 4.1.4: 1 to 36 characters, never none
        ('[2, "' + "x" * 500 + '", "Heartbeat", {}]', "x" * 500),
    ],
)
def test_a_call_with_an_unusable_id_is_answered_formation_violation(text: str, echo: str) -> None:
    # J 4.2.3 (unique identifier too long); "-1" when the id is not a string at all.
    result = parse(text)
    assert isinstance(result, Malformed) and result.reply is not None
    assert result.reply.unique_id == echo
    assert result.reply.error_code == "FormationViolation"


def test_an_echoed_lone_surrogate_is_serialized_as_an_escape() -> None:
    text = serialize(CallError(unique_id="\ud800", error_code="GenericError"))
    text.encode("utf-8")
    assert text.startswith('[4,"\\ud800"')
    assert serialize(CallResult(unique_id="é", payload={})) == '[3,"é",{}]'


def test_an_id_of_36_characters_is_usable() -> None:
    # J 4.1.4: at most 36 characters; 36 is the bound, not above it.
    result = parse('[2, "' + "x" * 36 + '", "Heartbeat", {}]')
    assert result == Call(unique_id="x" * 36, action="Heartbeat", payload={})


@pytest.mark.parametrize(
    ("unique_id", "shown"),
    [
        ("x" * 58, "'" + "x" * 58 + "'"),  # its ascii() is 60 characters: shown whole
        ("x" * 59, "'" + "x" * 56 + "..."),  # 61: cut to 57, and "..."
        ("x" * 10_000, "'" + "x" * 56 + "..."),
        (["y" * 100], "['" + "y" * 55 + "..."),
    ],
)
def test_an_unusable_id_is_shown_cut_to_60_characters(unique_id: object, shown: str) -> None:
    """The reason (logged) shows a long unusable id cut, never the whole of what a peer sent."""
    result = parse(json.dumps([3, unique_id, {}]))
    assert isinstance(result, Malformed)
    assert result.reason == f"unusable message id {shown}"


def test_decimal_limits_serialize_as_json_numbers() -> None:
    # Whole values as integers, others as they are: 16.6 is not rounded to either side.
    payload = {"a": Decimal("16.6"), "b": Decimal("16.4"), "c": Decimal("16.5"), "d": Decimal(32)}
    text = serialize(Call(unique_id="1", action="SetChargingProfile", payload=payload))
    assert text == '[2,"1","SetChargingProfile",{"a":16.6,"b":16.4,"c":16.5,"d":32}]'
