"""Smart charging arithmetic: composite schedules, stacking, A<->W, site load allocation.

Pure: no I/O, no asyncio, standard library only (DESIGN.md section 2).
"""

from csms.smart_charging.composite import (
    CompositePeriod,
    CompositeSchedule,
    RateLimit,
    composite_schedule,
    convert_limit,
)
from csms.smart_charging.profiles import (
    ActiveTransaction,
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    Installed,
    RecurrencyKind,
)

__all__ = [
    "ActiveTransaction",
    "ChargingProfile",
    "ChargingProfileKind",
    "ChargingProfilePurpose",
    "ChargingRateUnit",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "CompositePeriod",
    "CompositeSchedule",
    "Installed",
    "RateLimit",
    "RecurrencyKind",
    "composite_schedule",
    "convert_limit",
]
