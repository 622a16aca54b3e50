"""Logging of `csms serve` (docs/operating.md, "Logs"): text or JSON lines, with the charge
point, action and unique id of the CALL being handled where known.

The connection's receive loop sets `charge_point` (and its worker `call`) in context variables;
every record logged under them carries them, whichever module logs it. At INFO the third-party
libraries say nothing but warnings (websockets, uvicorn, alembic); --log-level debug lets them
speak.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The charge point whose connection this code serves, and the (action, unique id) of its CALL.
charge_point: ContextVar[str | None] = ContextVar("charge_point", default=None)
call: ContextVar[tuple[str, str] | None] = ContextVar("call", default=None)
# The operator whose API request this code serves (api/limits.py).
principal: ContextVar[str | None] = ContextVar("principal", default=None)

_QUIET = ("websockets", "uvicorn", "uvicorn.error", "uvicorn.access", "alembic", "aioftp")
_CONTEXT_FIELDS = ("charge_point_id", "action", "unique_id", "principal")

access_log = logging.getLogger("csms.access")


class _Context(logging.Filter):
    """Adds the context variables to each record (unless given with `extra=`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "charge_point_id", None) is None:
            record.charge_point_id = charge_point.get()
        if getattr(record, "principal", None) is None:
            record.principal = principal.get()
        current = call.get()
        if current is not None and getattr(record, "action", None) is None:
            record.action, record.unique_id = current
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the context fields known."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        for name in ("status", "method", "path", "duration_ms"):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")


def setup(level: str, log_format: str) -> None:
    """Configure the root logger of `csms serve`."""
    if log_format not in ("text", "json"):
        raise ValueError(f"log format {log_format!r}: text or json")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_Context())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric)
    quiet = logging.WARNING if not isinstance(numeric, int) or numeric > logging.DEBUG else None
    for name in _QUIET:
        logging.getLogger(name).setLevel(quiet or logging.NOTSET)


def access(method: str, path: str, status: int, started: float, principal: str | None) -> None:
    """One line per operator API request (api/limits.py RequestGuard)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    access_log.info(
        "%s %s %d %.1f ms %s",
        method,
        path,
        status,
        duration_ms,
        principal or "-",
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "principal": principal,
        },
    )
