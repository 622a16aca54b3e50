"""What load management takes from a SetChargingProfile's outcome (worker.py `_answered`): only
Accepted puts a limit in force, whatever else a charge point answers, also a CALLERROR code of
its own that J 4.2.3 does not list (the CSMS keeps such codes as text, ocppj/frames.py)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from csms.features.load_management.machine import TxEvent
from csms.features.load_management.worker import _answered, _Change


def answered(status: str) -> tuple[bool, Any, list[TxEvent]]:
    events: list[TxEvent] = []
    tx = SimpleNamespace(accepted=None, limit_since=None, on=events.append)
    cp = SimpleNamespace(stuck=False)
    services = SimpleNamespace(
        load=SimpleNamespace(retry_later=lambda cp, seconds: None),
        settings=SimpleNamespace(load_retry_interval=30),
    )
    change = _Change(cp=cp, tx=tx, limit=Decimal(16))  # type: ignore[arg-type]
    return _answered(services, change, status), tx, events  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["Rejected", "NotSupported", "GenericError", "Abort", "AAA"])
def test_only_accepted_puts_a_limit_in_force(status: str) -> None:
    accepted, tx, events = answered(status)
    assert not accepted and tx.accepted is None
    assert events == [TxEvent.REFUSED]


def test_accepted_puts_the_limit_in_force() -> None:
    accepted, tx, events = answered("Accepted")
    assert accepted and tx.accepted == Decimal(16)
    assert events == []
