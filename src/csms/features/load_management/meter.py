"""Site load management: what a car draws, from the meter values its charge point sends (spec
4.7, 7.43): the current per phase, to give what it does not use to the others."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from csms.ocpp16 import MeterValue

_TENTH = Decimal("0.1")


def measured_current(
    meter_values: Iterable[MeterValue], *, voltage: Decimal, phases: int
) -> Decimal | None:
    """The current per phase a car draws, from the newest MeterValue that says: the highest
    Current.Import of a phase (or the one without phase), else Power.Active.Import per phase
    (or the total over `phases`) / voltage. Rounded up to 0.1 A. None: nothing usable."""
    for meter_value in sorted(meter_values, key=lambda m: m.timestamp, reverse=True):
        currents: list[Decimal] = []
        powers: list[tuple[Decimal, bool]] = []
        for sample in meter_value.sampled_value:
            if sample.format == "SignedData" or sample.location in ("Body", "Inlet"):
                continue
            if sample.phase == "N":
                continue
            value = _number(sample.value)
            if value is None:
                continue
            if sample.measurand == "Current.Import" and sample.unit in (None, "A"):
                currents.append(value)
            elif sample.measurand == "Power.Active.Import" and sample.unit in (None, "W", "kW"):
                watts = value * 1000 if sample.unit == "kW" else value
                powers.append((watts, sample.phase is not None))
        if currents:
            return max(currents).quantize(_TENTH, ROUND_CEILING)
        if powers:
            per_phase = [w / voltage if phased else w / (voltage * phases) for w, phased in powers]
            return max(per_phase).quantize(_TENTH, ROUND_CEILING)
    return None


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None
