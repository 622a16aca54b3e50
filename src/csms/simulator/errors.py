"""Exceptions raised by the simulated charge point, and its frame log entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from csms.ocppj import CallError, Frame, Malformed, parse


class CallErrorReceived(Exception):
    """The CSMS answered our CALL with a CALLERROR (J 4.2.3)."""

    def __init__(self, action: str, error: CallError) -> None:
        super().__init__(
            f"{action} answered with CALLERROR {error.error_code}: {error.error_description!r}"
        )
        self.action = action
        self.error = error

    @property
    def error_code(self) -> str:
        return str(self.error.error_code)


class SchemaError(AssertionError):
    """A payload does not conform to the official OCPP 1.6 JSON schema.

    An assertion: in tests it means the CSMS sent (or the test made the simulator send) a payload
    that the OCA test tool would fail.
    """

    def __init__(self, message: str, *, action: str, error_code: str, payload: object) -> None:
        super().__init__(message)
        self.action = action
        self.error_code = error_code
        self.payload = payload


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedFrame:
    """One WebSocket message, as sent or received, with its `time.monotonic()` time."""

    direction: Literal["sent", "received"]
    text: str
    time: float

    @property
    def frame(self) -> Frame | Malformed:
        return parse(self.text)
