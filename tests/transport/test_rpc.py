"""RPC over a live connection (J 4): malformed frames, error codes, one CALL in flight, timeouts.
A bad frame never closes the connection: the next valid CALL is answered."""

from __future__ import annotations

import asyncio

import pytest
from tests.harness import Harness

from csms.ocppj import CallError, CallResult
from csms.transport import NotConnected

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


async def booted(raw: object) -> None:
    reply = await raw.exchange([2, "boot", "BootNotification", BOOT])  # type: ignore[attr-defined]
    assert reply[0] == 3 and reply[2]["status"] == "Accepted"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ([2, "e1", "FooBar", {}], "NotImplemented"),
        ([2, "e2", "Reset", {"type": "Hard"}], "NotSupported"),
        ([2, "e3", "Heartbeat", {"extra": 1}], "FormationViolation"),
        ([2, "e4", "Authorize", {}], "OccurenceConstraintViolation"),
        ([2, "e5", "Authorize", {"idTag": 5}], "TypeConstraintViolation"),
        ([2, "e6", "Authorize", {"idTag": "x" * 21}], "TypeConstraintViolation"),
        (
            [
                2,
                "e7",
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"},
            ],
            "PropertyConstraintViolation",
        ),
        ([2, "e8", "Heartbeat"], "FormationViolation"),
        ([2, "e9", "Heartbeat", []], "FormationViolation"),
    ],
)
async def test_bad_calls_get_the_right_call_error_and_the_connection_stays(
    harness: Harness, frame: list[object], code: str
) -> None:
    async with harness.raw() as raw:
        await booted(raw)
        reply = await raw.exchange(frame)
        assert reply[0] == 4 and reply[1] == frame[1] and reply[2] == code
        assert isinstance(reply[3], str) and reply[4] == {}
        reply = await raw.exchange([2, "ok", "Heartbeat", {}])
        assert reply[0] == 3 and reply[1] == "ok" and "currentTime" in reply[2]


@pytest.mark.parametrize(
    "text",
    ["not json", '{"a": 1}', "[]", '[9, "x", {}]', '[3, "nobody", {}]', "[3, 5, {}]"],
)
async def test_unanswerable_frames_are_ignored(harness: Harness, text: str) -> None:
    async with harness.raw() as raw:
        await booted(raw)
        await raw.send(text)
        reply = await raw.exchange([2, "ok", "Heartbeat", {}])
        assert reply[1] == "ok"


async def test_calls_before_an_accepted_boot_get_security_error(harness: Harness) -> None:
    # J errata 3.10.
    async with harness.raw("NEWCP") as raw:
        reply = await raw.exchange([2, "1", "Authorize", {"idTag": "TAG"}])
        assert reply[:3] == [4, "1", "SecurityError"]
        await booted(raw)
        reply = await raw.exchange([2, "2", "Authorize", {"idTag": "TAG"}])
        assert reply[0] == 3


async def test_pending_charge_point_stays_gated(harness: Harness) -> None:
    await harness.store.save_charge_point(
        "PEND", registration_status="Pending", password_hash=None, description=None
    )
    async with harness.raw("PEND") as raw:
        reply = await raw.exchange([2, "1", "BootNotification", BOOT])
        assert reply[2]["status"] == "Pending"
        assert reply[2]["interval"] == harness.app.services.settings.boot_retry_interval
        reply = await raw.exchange([2, "2", "Heartbeat", {}])
        assert reply[:3] == [4, "2", "SecurityError"]


async def test_csms_call_is_answered_and_late_answers_are_dropped(harness: Harness) -> None:
    async with harness.raw("CP1") as raw:
        await booted(raw)
        connection = harness.app.services.registry.get("CP1")
        assert connection is not None

        # A CALL the charge point never answers times out ...
        with pytest.raises(TimeoutError):
            await connection.call("ClearCache", {}, timeout=0.2)
        late = await raw.receive()
        assert late[:3] == [2, late[1], "ClearCache"]
        # ... its late answer matches nothing, and the next CALL works.
        await raw.send([3, late[1], {"status": "Accepted"}])
        pending = asyncio.create_task(connection.call("Reset", {"type": "Soft"}))
        call = await raw.receive()
        assert call[2] == "Reset" and call[1] != late[1]
        # A CALL of the charge point may cross ours (J 4.1.1).
        reply = await raw.exchange([2, "hb", "Heartbeat", {}])
        assert reply[1] == "hb"
        await raw.send([3, call[1], {"status": "Accepted"}])
        result = await pending
        assert isinstance(result, CallResult) and result.payload == {"status": "Accepted"}

        pending = asyncio.create_task(connection.call("Reset", {"type": "Hard"}))
        call = await raw.receive()
        await raw.send([4, call[1], "NotSupported", "no", {}])
        error = await pending
        assert isinstance(error, CallError) and error.error_code == "NotSupported"


async def test_one_csms_call_in_flight_at_a_time(harness: Harness) -> None:
    async with harness.raw("CP1") as raw:
        await booted(raw)
        connection = harness.app.services.registry.get("CP1")
        assert connection is not None
        first = asyncio.create_task(connection.call("ClearCache", {}))
        second = asyncio.create_task(connection.call("Reset", {"type": "Soft"}))
        call = await raw.receive()
        assert call[2] == "ClearCache"
        with pytest.raises(TimeoutError):  # the second waits for the first answer
            await raw.receive(timeout=0.3)
        await raw.send([3, call[1], {"status": "Accepted"}])
        call = await raw.receive()
        assert call[2] == "Reset"
        await raw.send([3, call[1], {"status": "Accepted"}])
        await asyncio.gather(first, second)


async def test_call_to_a_closed_connection_raises_not_connected(harness: Harness) -> None:
    async with harness.raw("CP1") as raw:
        await booted(raw)
        connection = harness.app.services.registry.get("CP1")
        assert connection is not None
        pending = asyncio.create_task(connection.call("ClearCache", {}))
        await raw.receive()
    with pytest.raises(NotConnected):
        await pending
    assert harness.app.services.registry.get("CP1") is None
