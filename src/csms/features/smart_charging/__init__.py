"""Smart Charging profile (spec 3.13, 5.5, 5.7, 5.16; errata on 3.13).

The profiles the CSMS believes installed on each charge point, learnt from the answers, and the
composite schedule it computes next to the one the charge point reports (`commands`); the
conversions between the wire and the schedule arithmetic and the checks made before a profile
is sent (`profiles`, no I/O). The arithmetic itself (stacking, composite schedules, sharing a
limit) is the top-level package csms.smart_charging: pure, no I/O. ROUTES is empty: the charge
point sends no message of this profile; Core tells `commands` of transactions that start and
end. See docs/architecture.md.
"""

from csms.features.context import Handler
from csms.features.smart_charging.commands import (
    check_remote_start,
    check_set_charging_profile,
    compare_composite,
    csms_composite,
    set_charging_profile,
)
from csms.features.smart_charging.profiles import Composite, ProfileRefused

ROUTES: dict[str, Handler] = {}

__all__ = [
    "ROUTES",
    "Composite",
    "ProfileRefused",
    "check_remote_start",
    "check_set_charging_profile",
    "compare_composite",
    "csms_composite",
    "set_charging_profile",
]
