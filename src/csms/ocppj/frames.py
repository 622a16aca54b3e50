"""OCPP-J frames: parse text into CALL / CALLRESULT / CALLERROR and serialize them back.

Parsing never raises on peer input: anything that is not a well-formed frame comes back as a
`Malformed` value saying what to do about it (answer with a CALLERROR, or ignore).

A CALL whose message id is unusable is still answered (J 4.2.3 names "unique identifier too
long" among the errors a CALLERROR reports): a string id (empty or over 36 characters) is echoed
as it came, any other id (a number, null, an object, or none at all) is answered with the id
"-1", the convention OCPP 2.0.1 adopted for a CALL whose id cannot be read. Serialized text is
always encodable as UTF-8: an echoed lone surrogate is written as a JSON escape
(docs/field-behaviour.md, "Input limits and ids").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, Final

# J 4.1.4: a message id is a string of at most 36 characters.
MAX_UNIQUE_ID_LENGTH: Final = 36
# The id a CALLERROR carries when the CALL's own id cannot be echoed (not a string).
UNREADABLE_ID: Final = "-1"
# Lone UTF-16 surrogates: a JSON text may escape them, UTF-8 cannot carry them.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class MessageTypeId(IntEnum):
    """J 4.1.3."""

    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


class ErrorCode(StrEnum):
    """J 4.2.3 table 7, in the 1.6 spellings: FormationViolation, OccurenceConstraintViolation."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """J 4.2.1: [2, uniqueId, action, payload]."""

    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallResult:
    """J 4.2.2: [3, uniqueId, payload]."""

    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallError:
    """J 4.2.3: [4, uniqueId, errorCode, errorDescription, errorDetails]."""

    unique_id: str
    error_code: ErrorCode | str
    error_description: str = ""
    error_details: dict[str, Any] = field(default_factory=dict)


Frame = Call | CallResult | CallError


@dataclass(frozen=True, slots=True, kw_only=True)
class Malformed:
    """Text that is not a usable frame.

    `reply` is the CALLERROR to send back when the text was recognisably a CALL (so its id is
    known); otherwise it is None and the text is to be ignored and logged (J 4.1.3 for unknown
    message types; a frame without a usable id cannot be answered at all).
    """

    reason: str
    reply: CallError | None = None


def parse(text: str | bytes) -> Frame | Malformed:
    """Parse one WebSocket message into a frame. Never raises."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return Malformed(reason=f"not JSON: {exc}")
    if not isinstance(message, list) or not message:
        return Malformed(reason="not a JSON array")
    type_id = message[0]
    if type(type_id) is not int or type_id not in _ARITY:
        return Malformed(reason=f"unknown message type {type_id!r}")
    unique_id = message[1] if len(message) > 1 else None
    if not isinstance(unique_id, str) or not 0 < len(unique_id) <= MAX_UNIQUE_ID_LENGTH:
        return _unusable_id(type_id, unique_id)
    if len(message) != _ARITY[type_id]:
        return _malformed_shape(type_id, unique_id, f"expected {_ARITY[type_id]} elements")
    if type_id == MessageTypeId.CALL:
        return _call(unique_id, message[2], message[3])
    if type_id == MessageTypeId.CALLRESULT:
        payload = message[2]
        if not isinstance(payload, dict):
            return Malformed(reason="CALLRESULT payload is not a JSON object")
        return CallResult(unique_id=unique_id, payload=payload)
    code, description, details = message[2], message[3], message[4]
    if not isinstance(code, str) or not isinstance(description, str):
        return Malformed(reason="CALLERROR code or description is not a string")
    return CallError(
        unique_id=unique_id,
        error_code=_error_code(code),
        error_description=description,
        error_details=details if isinstance(details, dict) else {"details": details},
    )


def _unusable_id(type_id: int, unique_id: Any) -> Malformed:
    """A frame whose message id is unusable; a CALL's is answered (J 4.1.4)."""
    reason = f"unusable message id {_short(unique_id)}"
    if type_id != MessageTypeId.CALL:
        return Malformed(reason=reason)
    echo = unique_id if isinstance(unique_id, str) else UNREADABLE_ID
    return Malformed(
        reason=reason,
        reply=CallError(
            unique_id=echo,
            error_code=ErrorCode.FORMATION_VIOLATION,
            error_description=f"message id must be a string of 1 to {MAX_UNIQUE_ID_LENGTH}"
            " characters (J 4.1.4)",
        ),
    )


def _call(unique_id: str, action: Any, payload: Any) -> Call | Malformed:
    if not isinstance(action, str) or not action:
        return _malformed_shape(MessageTypeId.CALL, unique_id, "action is not a string")
    if not isinstance(payload, dict):
        return _malformed_shape(MessageTypeId.CALL, unique_id, "payload is not a JSON object")
    return Call(unique_id=unique_id, action=action, payload=payload)


def serialize(frame: Frame) -> str:
    """The JSON text of a frame (compact, UTF-8 safe)."""
    message: list[Any]
    if isinstance(frame, Call):
        message = [MessageTypeId.CALL, frame.unique_id, frame.action, frame.payload]
    elif isinstance(frame, CallResult):
        message = [MessageTypeId.CALLRESULT, frame.unique_id, frame.payload]
    else:
        message = [
            MessageTypeId.CALLERROR,
            frame.unique_id,
            str(frame.error_code),
            frame.error_description,
            frame.error_details,
        ]
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    if _SURROGATE.search(text) is not None:
        # An echoed lone surrogate (a peer's id or key): escaped, the text stays valid UTF-8.
        text = json.dumps(message, separators=(",", ":"), default=_json_default)
    return text


class CallRefused(Exception):
    """Raised by a handler to answer the CALL with this CALLERROR instead of a CALLRESULT."""

    def __init__(self, error_code: ErrorCode, description: str) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description


_ARITY: Final[dict[int, int]] = {
    MessageTypeId.CALL: 4,
    MessageTypeId.CALLRESULT: 3,
    MessageTypeId.CALLERROR: 5,
}


def _malformed_shape(type_id: int, unique_id: str, reason: str) -> Malformed:
    if type_id != MessageTypeId.CALL:
        return Malformed(reason=reason)
    # J 4.2.3: a CALL we cannot read as a CALL is answered; FormationViolation = not conforming
    # to the PDU structure.
    reply = CallError(
        unique_id=unique_id,
        error_code=ErrorCode.FORMATION_VIOLATION,
        error_description=reason,
    )
    return Malformed(reason=reason, reply=reply)


def _short(value: object, limit: int = 60) -> str:
    text = ascii(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error_code(code: str) -> ErrorCode | str:
    try:
        return ErrorCode(code)
    except ValueError:
        return code


def _json_default(value: object) -> object:
    # Decimal limits (schema multipleOf 0.1) serialize as JSON numbers.
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")
