"""The message log (docs/message-log.md): every OCPP-J frame received from and sent to each
charge point, with the CSMS's time, direction, message type, action and unique id, kept for
`message_log_days` days.

The transport tells `MessageLog` of each frame (transport/connection.py, `FrameLog`); it never
waits: the row is queued for the store's writer (written with the next batch of writes, or
within half a second; dropped and counted when the queue is full, storage/groupcommit.py), and
a "message" event goes to the live event bus when someone watches the live message log.
Received text that is no frame (J 4.1.3, 4.2.3) is logged too, as MALFORMED. Text longer than
MAX_TEXT_BYTES is cut (UTF-8 bytes) and marked truncated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from csms.events import MESSAGE, EventBus
from csms.ocppj import (
    Call,
    CallError,
    CallResult,
    Event,
    Frame,
    IncomingCall,
    Reply,
    ResponseReceived,
)
from csms.storage import LoggedMessage, Store

log = logging.getLogger("csms.message_log")

MAX_TEXT_BYTES = 64 * 1024
# The text a "message" event carries at most (the whole frame is in the log).
MAX_EVENT_TEXT = 4096
# A unique id is at most 36 characters (J 4.1.4); a malformed frame's echoed id is cut here.
MAX_UNIQUE_ID = 100

IN = "in"
OUT = "out"
MALFORMED = "MALFORMED"


class MessageLog:
    """The transport's FrameLog: logs to the store (when `enabled`) and to the event bus."""

    def __init__(
        self,
        store: Store,
        events: EventBus,
        *,
        enabled: bool,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._events = events
        self._enabled = enabled
        self._clock = clock
        self._dropped_reported = 0

    def received(self, charge_point_id: str, text: str | bytes, event: Event) -> None:
        if isinstance(event, IncomingCall):
            call = event.call
            self._record(charge_point_id, IN, text, "CALL", call.action, call.unique_id)
        elif isinstance(event, ResponseReceived):
            response = event.response
            self._record(
                charge_point_id,
                IN,
                text,
                _type(response),
                event.call.action,
                response.unique_id,
            )
        elif isinstance(event, Reply):
            self._record(
                charge_point_id,
                IN,
                text,
                MALFORMED,
                None,
                event.frame.unique_id,
                note=event.reason,
            )
        elif event.frame is not None:  # an answer no CALL of ours waits for
            frame = event.frame
            self._record(
                charge_point_id, IN, text, _type(frame), None, frame.unique_id, note=event.reason
            )
        else:
            self._record(charge_point_id, IN, text, MALFORMED, None, None, note=event.reason)

    def sent(self, charge_point_id: str, text: str, frame: Frame, action: str | None) -> None:
        if action == "ChangeConfiguration" and _SECRET_KEY in text:
            text = _without_secret(text)
        self._record(charge_point_id, OUT, text, _type(frame), action, frame.unique_id)

    def _record(
        self,
        charge_point_id: str,
        direction: str,
        raw: str | bytes,
        message_type: str,
        action: str | None,
        unique_id: str | None,
        *,
        note: str | None = None,
    ) -> None:
        if not self._enabled and not self._events.wants(MESSAGE):
            return
        text, truncated = storable_text(raw)
        if unique_id is not None and len(unique_id) > MAX_UNIQUE_ID:
            unique_id = unique_id[:MAX_UNIQUE_ID]
        at = self._clock()
        if self._enabled:
            message = LoggedMessage(
                charge_point_id=charge_point_id,
                at=at,
                direction=direction,
                message_type=message_type,
                action=action,
                unique_id=storable_text(unique_id)[0] if unique_id is not None else None,
                text=text,
                truncated=truncated,
                note=storable_text(note)[0] if note is not None else None,
            )
            if not self._store.log_message(message):
                self._report_drop()
        if self._events.wants(MESSAGE):
            self._events.publish(
                MESSAGE,
                charge_point_id,
                {
                    "direction": direction,
                    "messageType": message_type,
                    "action": action,
                    "uniqueId": unique_id,
                    "text": text[:MAX_EVENT_TEXT],
                    "truncated": truncated or len(text) > MAX_EVENT_TEXT,
                },
            )

    def _report_drop(self) -> None:
        dropped = self._store.message_log_counts().dropped
        # Said once, then at every power of two: a full queue must not flood the log too.
        if dropped & (dropped - 1) == 0:
            log.warning("message log queue full: %d frames not logged so far", dropped)


# The Basic-auth password's hex form (whitepaper A01.FR.09: never logged).
_SECRET_KEY = '"AuthorizationKey"'


def _without_secret(text: str) -> str:
    """A ChangeConfiguration.req of the AuthorizationKey with its value masked."""
    try:
        frame = json.loads(text)
        frame[3]["value"] = "***"
    except (ValueError, TypeError, IndexError, KeyError):
        return '[2, "?", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "***"}]'
    return json.dumps(frame, separators=(",", ":"))


def storable_text(raw: str | bytes) -> tuple[str, bool]:
    """Text any database column can hold, at most MAX_TEXT_BYTES of UTF-8: bytes (a binary
    frame) decoded with replacement, NUL characters replaced; and whether it was cut. (Lone
    surrogates cannot occur: the WebSocket library decodes text frames strictly, and
    ocppj.serialize escapes them.)"""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    truncated = False
    # A character is at most 4 bytes of UTF-8: shorter text needs no encoding to be measured.
    if len(text) > MAX_TEXT_BYTES // 4:
        encoded = text.encode("utf-8", "surrogatepass")
        if len(encoded) > MAX_TEXT_BYTES:
            text = encoded[:MAX_TEXT_BYTES].decode("utf-8", "ignore")
            truncated = True
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text, truncated


def _type(frame: Frame) -> str:
    if isinstance(frame, Call):
        return "CALL"
    if isinstance(frame, CallResult):
        return "CALLRESULT"
    assert isinstance(frame, CallError)
    return "CALLERROR"
