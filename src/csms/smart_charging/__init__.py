"""Smart charging arithmetic: composite schedules, stacking, A<->W, site load allocation.

Pure: no I/O, no asyncio, standard library only (docs/architecture.md, "Layers").
"""

from csms.smart_charging.allocation import (
    Allocation,
    Demand,
    Strategy,
    allocate,
)
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
    "Allocation",
    "ChargingProfile",
    "ChargingProfileKind",
    "ChargingProfilePurpose",
    "ChargingRateUnit",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "CompositePeriod",
    "CompositeSchedule",
    "Demand",
    "Installed",
    "RateLimit",
    "RecurrencyKind",
    "Strategy",
    "allocate",
    "composite_schedule",
    "convert_limit",
]
