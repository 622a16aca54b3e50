"""The OCPP 1.6 codec in one place: the action table, payload <-> message conversion, schema
validation, and decode = validate then convert.

The pieces live in `actions`, `convert` and `validation`; this module re-exports them, so
callers import from `csms.ocpp16.codec` (or `csms.ocpp16`) only. No I/O and no asyncio.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from csms.ocpp16.actions import ACTIONS, ActionSpec, Sender, action_for, can_send
from csms.ocpp16.convert import from_payload, prepare, to_payload
from csms.ocpp16.messages import Request, Response
from csms.ocpp16.validation import SchemaViolation, validate_request, validate_response

__all__ = [
    "ACTIONS",
    "ActionSpec",
    "SchemaViolation",
    "Sender",
    "action_for",
    "can_send",
    "decode_request",
    "decode_response",
    "from_payload",
    "to_payload",
    "validate_request",
    "validate_response",
]


# Every message class's conversion is worked out now, not on its first message (and a class
# the converter cannot handle fails at import, not in the middle of a session).
for _spec in ACTIONS.values():
    prepare(_spec.request)
    prepare(_spec.response)


def decode_request(action: str, payload: Mapping[str, Any]) -> Request | SchemaViolation:
    """The request message of an `action` CALL, or why its payload is not schema-valid.

    Never raises on peer input, except KeyError for an action that is not OCPP 1.6 (the caller
    answers NotImplemented, J 4.2.3).
    """
    violation = validate_request(action, payload)
    if violation is not None:
        return violation
    message: Request = from_payload(ACTIONS[action].request, payload)
    return message


def decode_response(action: str, payload: Mapping[str, Any]) -> Response | SchemaViolation:
    """The response message to our `action` CALL, or why its payload is not schema-valid."""
    violation = validate_response(action, payload)
    if violation is not None:
        return violation
    message: Response = from_payload(ACTIONS[action].response, payload)
    return message
