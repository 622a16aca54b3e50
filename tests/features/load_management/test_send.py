"""Load management on the wire (features/load_management/send.py): each way a SetChargingProfile
can end is one outcome (worker.py says what each means for the limit in force), only an Accepted
one is recorded as installed; a charge point that left its group is cleared of our profiles, and
what it did not clear is tried again."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from csms.features import commands
from csms.features.load_management.send import clear_departed, profile_of, set_profile
from csms.ocppj import CallError, CallResult, ErrorCode
from csms.transport import NotConnected

PROFILE = {
    "chargingProfileId": 900001,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "transactionId": 7,
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16, "numberPhases": 3}],
    },
}


class Connection:
    def __init__(self, answer: Any, registration: str = "Accepted") -> None:
        self.answer = answer
        self.registration = registration
        self.sent: list[str] = []

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[Any]:
        async def call(action: str, payload: dict[str, Any]) -> Any:
            self.sent.append(action)
            if isinstance(self.answer, BaseException):
                raise self.answer
            return self.answer

        yield call


def services(connection: Connection | None) -> tuple[Any, list[Any]]:
    recorded: list[Any] = []

    async def record_load_profile(profile: Any) -> None:
        recorded.append(profile)

    return SimpleNamespace(
        registry=SimpleNamespace(get=lambda charge_point_id: connection),
        store=SimpleNamespace(record_load_profile=record_load_profile),
        clock=SimpleNamespace(now=lambda: datetime(2030, 1, 1, tzinfo=UTC)),
    ), recorded


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (CallResult(unique_id="1", payload={"status": "Rejected"}), "Rejected"),
        (CallResult(unique_id="1", payload={"status": "NotSupported"}), "NotSupported"),
        (CallResult(unique_id="1", payload={"status": "Maybe"}), "InvalidAnswer"),
        (CallError(unique_id="1", error_code=ErrorCode.NOT_IMPLEMENTED), "NotImplemented"),
        (TimeoutError(), "Timeout"),
        (NotConnected(), "Offline"),  # the connection closed while the CALL was out
    ],
)
async def test_each_end_of_the_call_is_an_outcome_and_nothing_is_recorded(
    answer: Any, outcome: str
) -> None:
    connection = Connection(answer)
    fake, recorded = services(connection)
    assert await set_profile(fake, "CP1", 1, PROFILE) == outcome
    assert connection.sent == ["SetChargingProfile"]
    assert recorded == []


async def test_an_accepted_profile_is_recorded_as_installed() -> None:
    fake, recorded = services(Connection(CallResult(unique_id="1", payload={"status": "Accepted"})))
    assert await set_profile(fake, "CP1", 1, PROFILE) == "Accepted"
    (installed,) = recorded
    assert (installed.charging_profile_id, installed.transaction_id) == (900001, 7)


async def test_nothing_goes_to_an_offline_or_rejected_charge_point() -> None:
    fake, _ = services(None)
    assert await set_profile(fake, "CP1", 1, PROFILE) == "Offline"
    rejected = Connection(CallResult(unique_id="1", payload={"status": "Accepted"}), "Rejected")
    fake, recorded = services(rejected)
    assert await set_profile(fake, "CP1", 1, PROFILE) == "NotAllowed"  # spec 4.2
    assert rejected.sent == [] and recorded == []


def departed(answers: dict[int, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[int]]:
    """Services whose model has CP1 departed with the profiles in `answers` (id: the answer
    to its ClearChargingProfile, or an exception to raise)."""
    tried: list[int] = []

    async def send_command(services: Any, charge_point_id: str, action: str, payload: Any) -> Any:
        tried.append(payload["id"])
        answer = answers[payload["id"]]
        if isinstance(answer, BaseException):
            raise answer
        return SimpleNamespace(response=answer)

    monkeypatch.setattr(commands, "send", send_command)
    model = SimpleNamespace(
        departed={"CP1": set(answers)},
        departed_due={"CP1"},
        clearing=True,
        check_idle=lambda: None,
    )
    return SimpleNamespace(load=model), tried


def cleared(status: str) -> CallResult:
    return CallResult(unique_id="1", payload={"status": status})


async def test_profiles_cleared_or_unknown_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, tried = departed({900000: cleared("Accepted"), 900001: cleared("Unknown")}, monkeypatch)
    await clear_departed(fake)
    assert tried == [900000, 900001]
    assert fake.load.departed == {} and not fake.load.clearing


@pytest.mark.parametrize(
    "answer",
    [cleared("Rejected"), CallError(unique_id="1", error_code=ErrorCode.NOT_SUPPORTED)],
)
async def test_a_profile_not_cleared_is_kept_to_try_again(
    answer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, tried = departed({900000: answer, 900001: cleared("Accepted")}, monkeypatch)
    await clear_departed(fake)
    assert tried == [900000, 900001]
    assert fake.load.departed == {"CP1": {900000}}


async def test_a_charge_point_that_cannot_be_reached_keeps_all_of_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offline = commands.CommandFailed("CP1 is not connected")
    fake, tried = departed({900000: offline, 900001: cleared("Accepted")}, monkeypatch)
    await clear_departed(fake)
    assert tried == [900000]  # the next waits for the charge point to be back
    assert fake.load.departed == {"CP1": {900000, 900001}}


@pytest.mark.parametrize("connector_id", [1, 2, 31, 32, 33, 100])
def test_each_connector_has_a_profile_id_of_its_own(connector_id: int) -> None:
    """state.py: the fallback is PROFILE_ID_BASE on connector 0, the TxProfile of connector n
    PROFILE_ID_BASE + n (each replaces the one before it on its connector)."""
    fake = SimpleNamespace(settings=SimpleNamespace(load_stack_level=5))
    cp = SimpleNamespace(
        max_stack_level=None, power_only=False, member=SimpleNamespace(phases=3, group_id=1)
    )
    tx = SimpleNamespace(connector_id=connector_id, transaction_id=7)
    wire = profile_of(fake, cp, tx, Decimal(16))  # type: ignore[arg-type]
    assert (wire["chargingProfileId"], wire["stackLevel"]) == (900_000 + connector_id, 5)
    fallback = profile_of(fake, cp, None, Decimal(16))  # type: ignore[arg-type]
    assert (fallback["chargingProfileId"], fallback["stackLevel"]) == (900_000, 4)
