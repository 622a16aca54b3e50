"""The checks the profile values make on construction (spec 7.8, 7.13, 7.14 and errata)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from csms.smart_charging import (
    ActiveTransaction,
    ChargingProfile,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    Installed,
)

from .builders import CP_MAX, RECURRING, RELATIVE, T0, TX, TX_DEFAULT, WEEKLY, periods, profile

NAIVE = datetime(2024, 1, 1)


def test_enums_carry_the_spec_strings() -> None:
    assert [str(p) for p in (CP_MAX, TX_DEFAULT, TX)] == [
        "ChargePointMaxProfile",
        "TxDefaultProfile",
        "TxProfile",
    ]
    assert [str(u) for u in ChargingRateUnit] == ["A", "W"]
    assert str(RECURRING) == "Recurring"
    assert str(WEEKLY) == "Weekly"


@pytest.mark.parametrize(
    "fields",
    [
        {"start_period": -1, "limit": Decimal(1)},
        {"start_period": 0, "limit": Decimal(-1)},
        {"start_period": 0, "limit": Decimal("NaN")},
        {"start_period": 0, "limit": Decimal(1), "number_phases": 0},
        {"start_period": 0, "limit": Decimal(1), "number_phases": 4},
    ],
)
def test_bad_periods(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ChargingSchedulePeriod(**fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"charging_schedule_period": ()},
        {"charging_schedule_period": periods((10, 6))},  # errata 3.45: first starts at 0
        {"charging_schedule_period": periods((0, 6), (60, 8), (60, 9))},
        {"charging_schedule_period": periods((0, 6), (60, 8), (30, 9))},
        {"duration": -1},
        {"start_schedule": NAIVE},
        {"min_charging_rate": Decimal(-1)},
    ],
)
def test_bad_schedules(fields: dict[str, Any]) -> None:
    arguments = {
        "charging_rate_unit": ChargingRateUnit.A,
        "charging_schedule_period": periods((0, 6)),
    }
    with pytest.raises(ValueError):
        ChargingSchedule(**(arguments | fields))


@pytest.mark.parametrize(
    "make",
    [
        lambda: profile(TX_DEFAULT, (0, 6), stack_level=-1),
        lambda: profile(TX_DEFAULT, (0, 6), valid_from=NAIVE),
        lambda: profile(TX_DEFAULT, (0, 6), valid_to=NAIVE),
        lambda: profile(TX_DEFAULT, (0, 6), start_schedule=None),  # Absolute needs one
        lambda: profile(TX_DEFAULT, (0, 6), kind=RECURRING, start_schedule=None),
        lambda: profile(TX_DEFAULT, (0, 6), recurrency_kind=WEEKLY),  # errata 3.56
        lambda: profile(TX_DEFAULT, (0, 6), transaction_id=1),  # 7.8: TxProfile only
    ],
)
def test_bad_profiles(make: Any) -> None:
    with pytest.raises(ValueError):
        make()


def test_relative_profile_has_no_start_schedule() -> None:
    relative = profile(TX, (0, 6), kind=RELATIVE)
    with pytest.raises(ValueError, match="Relative"):
        ChargingProfile(
            charging_profile_id=1,
            stack_level=0,
            charging_profile_purpose=TX,
            charging_profile_kind=RELATIVE,
            charging_schedule=ChargingSchedule(
                charging_rate_unit=ChargingRateUnit.A,
                charging_schedule_period=relative.charging_schedule.charging_schedule_period,
                start_schedule=T0,
            ),
        )


@pytest.mark.parametrize(
    ("connector_id", "purpose"),
    [(-1, TX_DEFAULT), (1, CP_MAX), (0, TX)],  # 3.13.1
)
def test_bad_installations(connector_id: int, purpose: Any) -> None:
    with pytest.raises(ValueError):
        Installed(connector_id=connector_id, profile=profile(purpose, (0, 6)))


def test_good_installations() -> None:
    Installed(connector_id=0, profile=profile(CP_MAX, (0, 6)))
    Installed(connector_id=0, profile=profile(TX_DEFAULT, (0, 6)))
    Installed(connector_id=2, profile=profile(TX, (0, 6), transaction_id=9))


def test_transaction_start_is_aware() -> None:
    with pytest.raises(ValueError):
        ActiveTransaction(transaction_id=1, start=NAIVE)
