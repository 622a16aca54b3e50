"""Sans-I/O OCPP-J 1.6 RPC: frames, error codes and the per-connection Session (OCPP-J 4)."""

from csms.ocppj.frames import (
    Call,
    CallError,
    CallRefused,
    CallResult,
    ErrorCode,
    Frame,
    Malformed,
    MessageTypeId,
    parse,
    serialize,
)
from csms.ocppj.session import (
    Event,
    IncomingCall,
    Reply,
    ResponseReceived,
    Session,
    Unmatched,
)

__all__ = [
    "Call",
    "CallError",
    "CallRefused",
    "CallResult",
    "ErrorCode",
    "Event",
    "Frame",
    "IncomingCall",
    "Malformed",
    "MessageTypeId",
    "Reply",
    "ResponseReceived",
    "Session",
    "Unmatched",
    "parse",
    "serialize",
]
