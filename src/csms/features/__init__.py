"""CSMS behaviour: one package per OCPP 1.6 feature profile, their routes joined in one table.

core/, firmware/, local_list/, reservation/, remote_trigger/, smart_charging/ and
load_management/ and security/ each export ROUTES (the charge point's CALLs they answer; empty for a
profile whose messages all go from the CSMS) and their commands. The modules at this level are
the plumbing they share: router, context, commands, admission, authorization, clocks,
transaction_starts. Importing this package imports every feature, which registers their result
hooks (commands.on_result). See docs/architecture.md.
"""

from csms.features import (
    core,
    firmware,
    load_management,
    local_list,
    remote_trigger,
    reservation,
    security,
    smart_charging,
)
from csms.features.context import Handler

ROUTES: dict[str, Handler] = {
    **core.ROUTES,
    **firmware.ROUTES,
    **local_list.ROUTES,
    **reservation.ROUTES,
    **remote_trigger.ROUTES,
    **smart_charging.ROUTES,
    **load_management.ROUTES,
    **security.ROUTES,
}

__all__ = ["ROUTES"]
