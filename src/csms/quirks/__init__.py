"""Charger profiles ("quirks"): what the CSMS knows about a charge point model and firmware, and
the rules that adapt what it sends to it (docs/charger-compatibility.md).

Pure: no I/O, no asyncio, standard library only (docs/architecture.md, "Layers"), like
smart_charging/. features/charger_profiles.py brings it to the wire.
"""

from csms.quirks.adapt import (
    LATEST_DATE,
    Adaptation,
    adapt_answer,
    adapt_request,
    key_batches,
    merged_configuration,
    no_limit,
)
from csms.quirks.profiles import (
    BUILTIN,
    ChargerProfile,
    Rules,
    heartbeat_interval_of,
    matching,
    rules_of,
)

__all__ = [
    "BUILTIN",
    "LATEST_DATE",
    "Adaptation",
    "ChargerProfile",
    "Rules",
    "adapt_answer",
    "adapt_request",
    "heartbeat_interval_of",
    "key_batches",
    "matching",
    "merged_configuration",
    "no_limit",
    "rules_of",
]
