"""The router (features/router.py) when our own side fails: a handler that raises and one that
would send a schema-invalid answer are answered InternalError and the connection stays
(J 4.2.3); a call observer that raises spoils nothing, and every observer is told of each CALL
handled. (The codes for unknown and Central System actions: test_edges.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from tests.harness import Harness

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


async def failing(data: str, message_id: str | None) -> tuple[str, str | None]:
    raise RuntimeError("vendor handler broke")


async def unknown_status(data: str, message_id: str | None) -> tuple[str, str | None]:
    return "Bogus", None


async def data_not_a_string(data: str, message_id: str | None) -> tuple[str, Any]:
    return "Accepted", 5


@pytest.mark.parametrize(
    ("handler", "description"),
    [
        (failing, "DataTransfer failed"),
        (unknown_status, "DataTransfer failed"),
        (data_not_a_string, "invalid answer"),
    ],
)
async def test_a_failing_handler_is_answered_internal_error(
    harness: Harness, handler: Any, description: str
) -> None:
    harness.app.services.data_transfer["com.example"] = {None: handler}
    async with harness.raw() as raw:
        assert (await raw.exchange([2, "boot", "BootNotification", BOOT]))[0] == 3
        reply = await raw.exchange([2, "d1", "DataTransfer", {"vendorId": "com.example"}])
        assert reply[:4] == [4, "d1", "InternalError", description], reply
        reply = await raw.exchange([2, "ok", "Heartbeat", {}])
        assert reply[0] == 3 and "currentTime" in reply[2]


async def test_observers_see_every_call_and_one_that_raises_spoils_nothing(
    harness: Harness,
) -> None:
    seen: list[tuple[str, str, str]] = []

    def broken(charge_point_id: str, call: Any, request: Any) -> None:
        raise RuntimeError("observer broke")

    def recording(charge_point_id: str, call: Any, request: Any) -> None:
        seen.append((charge_point_id, call.action, type(request).__name__))

    observers = harness.app.services.call_observers
    observers.extend([broken, recording])
    try:
        async with harness.raw("OBS") as raw:
            assert (await raw.exchange([2, "b", "BootNotification", BOOT]))[0] == 3
            assert (await raw.exchange([2, "h", "Heartbeat", {}]))[0] == 3
            # Refused CALLs are not handled: no observer hears of them.
            assert (await raw.exchange([2, "r", "Reset", {"type": "Soft"}]))[0] == 4
            assert (await raw.exchange([2, "a", "Authorize", {"idTag": "X"}]))[0] == 3
    finally:
        observers.remove(broken)
        observers.remove(recording)
    assert seen == [
        ("OBS", "BootNotification", "BootNotificationRequest"),
        ("OBS", "Heartbeat", "HeartbeatRequest"),
        ("OBS", "Authorize", "AuthorizeRequest"),
    ]
