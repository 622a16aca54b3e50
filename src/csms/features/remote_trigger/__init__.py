"""Remote Trigger profile (spec 5.17; errata 3.40).

TriggerMessage, and waiting (bounded) for the message it asked for, which may come before the
answer, after it or never (`trigger`). ROUTES is empty: what the charge point sends in reply is
an ordinary message of its own profile, seen here through a call observer (router.py). See
docs/architecture.md.
"""

from csms.features.context import Handler
from csms.features.remote_trigger.trigger import (
    Triggered,
    TriggerRefused,
    send_trigger,
    trigger_message,
)

ROUTES: dict[str, Handler] = {}

__all__ = ["ROUTES", "TriggerRefused", "Triggered", "send_trigger", "trigger_message"]
