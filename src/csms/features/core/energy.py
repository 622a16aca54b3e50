"""The billable energy of a transaction (docs/field-behaviour.md, "Energy you can bill"): pure
arithmetic, no I/O, so that it is checked by property tests alone.

Every reading of the transaction's energy register counts: meterStart (spec 6.47, Wh), the
Energy.Active.Import.Register samples of its MeterValues and of StopTransaction's
transactionData (spec 7.31, 7.43: Wh or kWh, a missing measurand or unit is the register in Wh),
and meterStop (spec 6.49, Wh), put in the order the charge point took them. The energy is the
sum of the increases between consecutive readings, i.e. the sum over the monotonic segments of
their last minus their first reading: a register that falls back (reset to 0 after a crash, or
rolled back to an older value) starts a new segment and is flagged; the energy between the fall
and the first reading after it is not known and not billed. Never negative.

`billable_energy(transaction, samples)` is what to call for a transaction's energy in Wh (the
API's energyWh, events reporting a stopped transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from csms.storage import MeterSample, Transaction
from csms.storage.records import ENERGY_REGISTER

# Wh per unit of the register's readings; no unit is Wh (spec 7.43 SampledValue.unit).
WH_PER_UNIT: Final = {None: Decimal(1), "Wh": Decimal(1), "kWh": Decimal(1000)}
# The readings of the meter the transaction is billed on: no location is Outlet (spec 7.43).
METER_LOCATIONS: Final = frozenset({None, "Outlet"})
# Readings above this are not believed (a register of 1 TWh, kept far from the 64-bit column).
MAX_READING_WH: Final = Decimal(10**12)
# Where a reading goes among those taken at the same time (spec 7.9 ReadingContext).
_CONTEXT_RANK: Final = {"Transaction.Begin": 0, "Transaction.End": 2}


class EnergyFlag(StrEnum):
    """Why a transaction's energy is not simply meterStop - meterStart."""

    # Register samples (MeterValues, transactionData) were read besides meterStart/meterStop.
    FROM_SAMPLES = "from_samples"
    # No meterStop: running still, or ended by the CSMS without a StopTransaction; the energy is
    # up to the last reading received.
    NO_METER_STOP = "no_meter_stop"
    # meterStop is lower than meterStart.
    METER_STOP_BELOW_START = "meter_stop_below_start"
    # The register fell below the transaction's first reading, or to at most half the reading
    # before: it restarted (lost its state).
    REGISTER_RESET = "register_reset"
    # The register fell back, less far (an older value restored).
    REGISTER_ROLLBACK = "register_rollback"
    # A register sample that is not a reading in Wh or kWh (not a number, negative, another
    # unit, SignedData): left out.
    UNREADABLE_SAMPLE = "unreadable_sample"


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading of the register, in Wh; `resolution` is the Wh its last digit stands for."""

    wh: Decimal
    resolution: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class BillableEnergy:
    """Wh, never negative, and the names of its EnergyFlags (in the order declared there)."""

    wh: int
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SegmentSum:
    """The energy over the monotonic segments of a sequence of readings, and the falls seen."""

    wh: Decimal
    resets: int
    rollbacks: int


def energy_over_segments(readings: Sequence[Reading]) -> SegmentSum:
    """The sum of the increases between consecutive readings (never negative). A fall smaller
    than the coarser resolution of the two readings (1234 Wh, then 1.2 kWh) is no fall: the
    higher reading stands. A fall below the first reading or to at most half the previous one
    is taken for a reset (the register restarted), any other for a rollback (an older value
    restored); both start a new segment."""
    if not readings:
        return SegmentSum(Decimal(0), 0, 0)
    total = Decimal(0)
    resets = rollbacks = 0
    first = previous = readings[0]
    for reading in readings[1:]:
        if reading.wh >= previous.wh:
            total += reading.wh - previous.wh
        elif previous.wh - reading.wh < max(previous.resolution, reading.resolution):
            continue  # the same reading, rounded differently: keep the higher one
        elif reading.wh < first.wh or 2 * reading.wh <= previous.wh:
            resets += 1
        else:
            rollbacks += 1
        previous = reading
    return SegmentSum(total, resets, rollbacks)


def billable_energy(transaction: Transaction, samples: Iterable[MeterSample]) -> BillableEnergy:
    """The transaction's energy in Wh from every reading of its register, with its flags.
    `samples` are the transaction's sampled values in the order received (any measurand)."""
    registers, unreadable = register_readings(samples)
    readings = [Reading(Decimal(transaction.meter_start)), *registers]
    if transaction.meter_stop is not None:
        readings.append(Reading(Decimal(transaction.meter_stop)))
    segments = energy_over_segments(readings)
    flags: list[EnergyFlag] = []
    if registers:
        flags.append(EnergyFlag.FROM_SAMPLES)
    if transaction.meter_stop is None:
        flags.append(EnergyFlag.NO_METER_STOP)
    elif transaction.meter_stop < transaction.meter_start:
        flags.append(EnergyFlag.METER_STOP_BELOW_START)
    if segments.resets:
        flags.append(EnergyFlag.REGISTER_RESET)
    if segments.rollbacks:
        flags.append(EnergyFlag.REGISTER_ROLLBACK)
    if unreadable:
        flags.append(EnergyFlag.UNREADABLE_SAMPLE)
    return BillableEnergy(int(segments.wh.to_integral_value()), tuple(map(str, flags)))


def register_readings(samples: Iterable[MeterSample]) -> tuple[list[Reading], int]:
    """The readings of the billing register among `samples`, in the order taken (by time, where
    a clock is suspect by receipt time; Transaction.Begin first and Transaction.End last among
    readings of the same time; else as received), and how many register samples were
    unreadable."""
    keyed: list[tuple[datetime, int, int, Reading]] = []
    unreadable = 0
    for order, sample in enumerate(samples):
        if not is_register_sample(sample):
            continue
        reading = reading_of(sample)
        if reading is None:
            unreadable += 1
            continue
        keyed.append(
            (_taken_at(sample), _CONTEXT_RANK.get(sample.context or "", 1), order, reading)
        )
    keyed.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in keyed], unreadable


def is_register_sample(sample: MeterSample) -> bool:
    """A sample of the total energy register of the meter billed on (not a phase's)."""
    return (
        (sample.measurand or ENERGY_REGISTER) == ENERGY_REGISTER
        and sample.phase is None
        and sample.location in METER_LOCATIONS
    )


def reading_of(sample: MeterSample) -> Reading | None:
    """The sample's value in Wh, or None if it is not a readable register value."""
    per_unit = WH_PER_UNIT.get(sample.unit)
    if per_unit is None or sample.format == "SignedData":
        return None
    try:
        value = Decimal(sample.value.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or not 0 <= value * per_unit <= MAX_READING_WH:
        return None
    exponent = value.as_tuple().exponent
    digit = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    return Reading(value * per_unit, resolution=min(digit, Decimal(1)) * per_unit)


def _taken_at(sample: MeterSample) -> datetime:
    if sample.clock_suspect and sample.received_at is not None:
        return sample.received_at
    return sample.timestamp
