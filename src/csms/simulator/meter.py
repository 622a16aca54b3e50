"""Default sampled values of the simulated charge point's meter (spec 7.43 SampledValue)."""

from __future__ import annotations

from typing import Any, Final

PHASES: Final = ("L1", "L2", "L3")
# A 3-phase 11 kW charge at 16 A and 230 V phase-to-neutral.
CHARGING_CURRENT_A: Final = 16.0
PHASE_VOLTAGE_V: Final = 230.0


# The units the energy register can be read in (spec 7.43 UnitOfMeasure) and Wh per unit.
ENERGY_UNITS: Final = {"Wh": 1, "kWh": 1000}


def default_sampled_values(
    energy_wh: float,
    *,
    charging: bool,
    current_a: float = CHARGING_CURRENT_A,
    energy_unit: str = "Wh",
) -> list[dict[str, Any]]:
    """The energy register (in `energy_unit`: Wh, or kWh with 3 decimals), plus
    Power.Active.Import and Current.Import per phase L1..L3 (`current_a` per phase while
    charging)."""
    current = current_a if charging else 0.0
    common = {"context": "Sample.Periodic", "format": "Raw", "location": "Outlet"}
    register = (
        _number(energy_wh)
        if energy_unit == "Wh"
        else f"{energy_wh / ENERGY_UNITS[energy_unit]:.3f}"
    )
    values: list[dict[str, Any]] = [
        {
            "value": register,
            **common,
            "measurand": "Energy.Active.Import.Register",
            "unit": energy_unit,
        }
    ]
    for phase in PHASES:
        values.append(
            {
                "value": _number(current * PHASE_VOLTAGE_V),
                **common,
                "measurand": "Power.Active.Import",
                "phase": phase,
                "unit": "W",
            }
        )
    for phase in PHASES:
        values.append(
            {
                "value": _number(current),
                **common,
                "measurand": "Current.Import",
                "phase": phase,
                "unit": "A",
            }
        )
    return values


def _number(value: float) -> str:
    # SampledValue.value is a string; integral readings without a fraction ("1234", not "1234.0").
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")
