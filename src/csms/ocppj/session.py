"""The OCPP-J RPC state of one connection, without I/O.

The Session turns received text into events and keeps our one outstanding CALL (J 4.1.1: at most
one CALL per direction in flight; CALLs of the two sides may cross). It never raises on peer
input: every text received becomes exactly one event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from csms.ocppj.frames import Call, CallError, CallResult, Malformed, parse


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """The peer called us; answer with a CALLRESULT or CALLERROR of the same unique id."""

    call: Call


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """The answer to our pending CALL."""

    call: Call
    response: CallResult | CallError


@dataclass(frozen=True, slots=True)
class Reply:
    """Send this CALLERROR back at once (the peer's CALL could not be read as a CALL)."""

    frame: CallError
    reason: str


@dataclass(frozen=True, slots=True)
class Unmatched:
    """Nothing to do but log: unparsable text, unknown message type (J 4.1.3), or a response
    that matches no pending CALL (late, after a timeout, or unknown id: then `frame` is it)."""

    reason: str
    frame: CallResult | CallError | None = None


Event = IncomingCall | ResponseReceived | Reply | Unmatched


class Session:
    def __init__(self, *, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._new_id = new_id
        self._pending: Call | None = None

    @property
    def pending(self) -> Call | None:
        """Our CALL awaiting its answer, if any."""
        return self._pending

    def call(self, action: str, payload: dict[str, Any]) -> Call:
        """Make our next CALL frame. The caller must wait for the previous one to end first."""
        if self._pending is not None:
            raise RuntimeError(f"CALL {self._pending.unique_id} is still pending (J 4.1.1)")
        self._pending = Call(unique_id=self._new_id(), action=action, payload=payload)
        return self._pending

    def abandon(self) -> None:
        """Give up on the pending CALL (timeout); a late answer to it becomes Unmatched."""
        self._pending = None

    def receive(self, text: str | bytes) -> Event:
        frame = parse(text)
        if isinstance(frame, Malformed):
            if frame.reply is not None:
                return Reply(frame=frame.reply, reason=frame.reason)
            return Unmatched(reason=frame.reason)
        if isinstance(frame, Call):
            return IncomingCall(call=frame)
        pending = self._pending
        if pending is None or frame.unique_id != pending.unique_id:
            return Unmatched(
                reason=f"response {frame.unique_id!r} matches no pending CALL", frame=frame
            )
        self._pending = None
        return ResponseReceived(call=pending, response=frame)
