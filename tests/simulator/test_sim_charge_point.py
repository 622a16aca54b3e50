"""SimulatedChargePoint against a peer CSMS: scripted steps, RPC rules, CSMS CALLs, handshake."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from csms.ocpp16 import validate_request
from csms.ocppj import CallError, CallResult, ErrorCode
from csms.simulator import CallErrorReceived, SchemaError, SimulatedChargePoint
from tests.simulator.peer import SILENT, ErrorAnswer, PeerCSMS


@pytest.fixture
async def cp(peer: PeerCSMS) -> AsyncIterator[SimulatedChargePoint]:
    async with SimulatedChargePoint("CP1", peer.url, response_timeout=5.0) as charge_point:
        yield charge_point


# -- scripted steps ---------------------------------------------------------------------------


async def test_boot_sends_vendor_and_model_and_adopts_the_heartbeat_interval(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    response = await cp.boot()

    call = await peer.expect("BootNotification")
    assert call.payload == {"chargePointVendor": "SimVendor", "chargePointModel": "SimModel"}
    assert response["status"] == "Accepted"
    assert cp.boot_response == response
    assert cp.configuration["HeartbeatInterval"] == ("30", False)


async def test_boot_and_report_reports_every_connector_and_the_charge_point(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    await cp.boot_and_report()

    await peer.expect("BootNotification")
    for connector_id in (0, 1, 2):
        call = await peer.expect("StatusNotification")
        assert call.payload["connectorId"] == connector_id
        assert call.payload["status"] == "Available"
        assert call.payload["errorCode"] == "NoError"
        assert call.payload["timestamp"].endswith("Z")
    peer.no_more_calls()
    assert cp.state.connector_status == {0: "Available", 1: "Available", 2: "Available"}


async def test_boot_and_report_fails_when_the_boot_is_not_accepted(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    peer.answers["BootNotification"] = {
        "status": "Pending",
        "currentTime": "2025-01-01T00:00:00Z",
        "interval": 5,
    }

    with pytest.raises(AssertionError, match="not Accepted"):
        await cp.boot_and_report()

    await peer.expect("BootNotification")
    peer.no_more_calls()
    assert cp.configuration["HeartbeatInterval"] == ("300", False)


async def test_status_notification_with_every_optional_field(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    response = await cp.status_notification(
        1,
        "Faulted",
        "ConnectorLockFailure",
        info="lock stuck",
        timestamp=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
        vendor_id="SimVendor",
        vendor_error_code="E42",
    )

    call = await peer.expect("StatusNotification")
    assert response == {}
    assert call.payload == {
        "connectorId": 1,
        "errorCode": "ConnectorLockFailure",
        "info": "lock stuck",
        "status": "Faulted",
        "timestamp": "2025-03-04T05:06:07.000Z",
        "vendorId": "SimVendor",
        "vendorErrorCode": "E42",
    }


async def test_a_charging_session_is_remembered_and_forgotten(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    assert (await cp.authorize("TAG1")) == {"idTagInfo": {"status": "Accepted"}}
    started = await cp.start_transaction(1, "TAG1", meter_start=100, reservation_id=7)
    transaction_id = started["transactionId"]
    assert cp.transactions[transaction_id].connector_id == 1
    assert cp.transactions[transaction_id].id_tag == "TAG1"
    await cp.meter_values(1, transaction_id=transaction_id, energy_wh=1500)
    stopped = await cp.stop_transaction(
        transaction_id, 2000, reason="Local", id_tag="TAG1", transaction_data=[]
    )

    assert (await peer.expect("Authorize")).payload == {"idTag": "TAG1"}
    start = await peer.expect("StartTransaction")
    assert start.payload["connectorId"] == 1
    assert start.payload["idTag"] == "TAG1"
    assert start.payload["meterStart"] == 100
    assert start.payload["reservationId"] == 7
    meter = await peer.expect("MeterValues")
    assert meter.payload["transactionId"] == transaction_id
    stop = await peer.expect("StopTransaction")
    assert stop.payload["transactionId"] == transaction_id
    assert stop.payload["meterStop"] == 2000
    assert stop.payload["reason"] == "Local"
    assert stop.payload["idTag"] == "TAG1"
    assert stopped == {"idTagInfo": {"status": "Accepted"}}
    assert cp.transactions == {}


async def test_default_meter_values_carry_energy_power_and_current_per_phase(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    started = await cp.start_transaction(2, "TAG1", meter_start=500)
    await cp.meter_values(2, transaction_id=started["transactionId"])
    await cp.meter_values(2, energy_wh=750, timestamp="2025-01-01T00:00:00Z")

    await peer.expect("StartTransaction")
    first = (await peer.expect("MeterValues")).payload
    [meter_value] = first["meterValue"]
    samples = meter_value["sampledValue"]
    measured = [(s["measurand"], s.get("phase"), s["unit"]) for s in samples]
    assert measured == [
        ("Energy.Active.Import.Register", None, "Wh"),
        ("Power.Active.Import", "L1", "W"),
        ("Power.Active.Import", "L2", "W"),
        ("Power.Active.Import", "L3", "W"),
        ("Current.Import", "L1", "A"),
        ("Current.Import", "L2", "A"),
        ("Current.Import", "L3", "A"),
    ]
    assert samples[0]["value"] == "500"
    assert float(samples[4]["value"]) > 0
    second = (await peer.expect("MeterValues")).payload
    assert "transactionId" not in second
    assert second["meterValue"][0]["timestamp"] == "2025-01-01T00:00:00Z"
    assert second["meterValue"][0]["sampledValue"][0]["value"] == "750"


async def test_explicit_sampled_values_are_sent_as_given(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    sampled = [{"value": "12.5", "measurand": "SoC", "unit": "Percent"}]
    await cp.meter_values(1, sampled_values=sampled)

    call = await peer.expect("MeterValues")
    assert call.payload["meterValue"][0]["sampledValue"] == sampled


async def test_the_remaining_steps(peer: PeerCSMS, cp: SimulatedChargePoint) -> None:
    heartbeat = await cp.heartbeat()
    transfer = await cp.data_transfer("com.example", "ping", "hello")
    firmware = await cp.firmware_status("Downloading")
    diagnostics = await cp.diagnostics_status("Uploaded")

    assert (await peer.expect("Heartbeat")).payload == {}
    assert (await peer.expect("DataTransfer")).payload == {
        "vendorId": "com.example",
        "messageId": "ping",
        "data": "hello",
    }
    assert (await peer.expect("FirmwareStatusNotification")).payload == {"status": "Downloading"}
    assert (await peer.expect("DiagnosticsStatusNotification")).payload == {"status": "Uploaded"}
    assert "currentTime" in heartbeat
    assert transfer == {"status": "Accepted", "data": "pong"}
    assert firmware == {}
    assert diagnostics == {}


async def test_timestamps_are_utc_with_z_from_the_clock(peer: PeerCSMS) -> None:
    fixed = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    async with SimulatedChargePoint("CP1", peer.url, clock=lambda: fixed) as cp:
        await cp.status_notification(0, "Available")

    call = await peer.expect("StatusNotification")
    assert call.payload["timestamp"] == "2030-01-02T03:04:05.678Z"


# -- RPC rules ---------------------------------------------------------------------------------


async def test_call_times_out_and_a_late_answer_is_not_taken_for_the_next(
    peer: PeerCSMS,
) -> None:
    peer.answers["Heartbeat"] = SILENT
    async with SimulatedChargePoint("CP1", peer.url, response_timeout=0.2) as cp:
        with pytest.raises(TimeoutError, match="Heartbeat"):
            await cp.heartbeat()
        late = await peer.expect("Heartbeat")
        await peer.send_text(
            json.dumps([3, late.unique_id, {"currentTime": "2025-01-01T00:00:00Z"}])
        )
        # The late answer matches no pending CALL: it surfaces as raw text, not as an answer.
        assert json.loads(await cp.receive_raw(timeout=5)) == [
            3,
            late.unique_id,
            {"currentTime": "2025-01-01T00:00:00Z"},
        ]
        assert (await cp.authorize("TAG1"))["idTagInfo"]["status"] == "Accepted"


async def test_callerror_raises_call_error_received(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    peer.answers["Authorize"] = ErrorAnswer("InternalError", "database down")

    with pytest.raises(CallErrorReceived) as caught:
        await cp.authorize("TAG1")

    assert caught.value.action == "Authorize"
    assert caught.value.error_code == "InternalError"
    assert caught.value.error.error_description == "database down"


async def test_a_response_breaking_the_schema_raises_schema_error(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    peer.answers["Authorize"] = {"idTagInfo": {"status": "Fine"}}

    with pytest.raises(SchemaError) as caught:
        await cp.authorize("TAG1")

    assert isinstance(caught.value, AssertionError)
    assert caught.value.action == "Authorize"


async def test_without_validation_the_response_is_returned_as_is(peer: PeerCSMS) -> None:
    peer.answers["Authorize"] = {"idTagInfo": {"status": "Fine"}}
    async with SimulatedChargePoint("CP1", peer.url, validate=False) as cp:
        assert await cp.authorize("TAG1") == {"idTagInfo": {"status": "Fine"}}


async def test_an_invalid_request_is_refused_before_it_is_sent(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    with pytest.raises(SchemaError):
        await cp.call("Authorize", {"idTag": "X" * 21})

    assert cp.log == []
    await cp.heartbeat()
    await peer.expect("Heartbeat")  # the first frame the CSMS saw


async def test_a_custom_action_is_sent_without_validation(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    with pytest.raises(CallErrorReceived) as caught:
        await cp.call("MakeCoffee", {"sugar": 2})

    assert caught.value.error_code == "NotImplemented"


async def test_calls_are_serialized_one_at_a_time(peer: PeerCSMS, cp: SimulatedChargePoint) -> None:
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(cp.heartbeat()) for _ in range(5)]

    assert all("currentTime" in task.result() for task in tasks)
    # J 4.1.1: each CALL was sent only after the previous one was answered.
    kinds = [json.loads(logged.text)[0] for logged in cp.log]
    assert kinds == [2, 3] * 5


async def test_a_call_fails_when_the_csms_closes_the_connection(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    peer.answers["Heartbeat"] = SILENT
    server_side = await peer.connections.get()
    heartbeat = asyncio.create_task(cp.heartbeat())
    await peer.expect("Heartbeat")
    await server_side.close()
    with pytest.raises(ConnectionError):
        await heartbeat
    await cp.wait_closed()
    assert not cp.connected
    assert cp.close_code == 1000
    with pytest.raises(ConnectionError):
        await cp.heartbeat()


async def test_the_log_records_both_directions_in_order(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    before = time.monotonic()
    await cp.heartbeat()
    await peer.result("ClearCache", {})
    await cp.expect_call("ClearCache")

    directions = [logged.direction for logged in cp.log]
    assert directions == ["sent", "received", "received", "sent"]
    times = [logged.time for logged in cp.log]
    assert before <= times[0] <= times[1] <= times[2] <= times[3] <= time.monotonic()
    frames = [logged.frame for logged in cp.log]
    assert isinstance(frames[1], CallResult)
    assert frames[0].unique_id == frames[1].unique_id  # type: ignore[union-attr]


# -- raw frames ------------------------------------------------------------------------------


async def test_send_raw_and_receive_raw(peer: PeerCSMS, cp: SimulatedChargePoint) -> None:
    await cp.send_raw('[2,"raw-1","Heartbeat",{}]')

    answer = json.loads(await cp.receive_raw(timeout=5))
    assert answer[:2] == [3, "raw-1"]
    await peer.expect("Heartbeat")


async def test_receive_raw_times_out(cp: SimulatedChargePoint) -> None:
    with pytest.raises(TimeoutError):
        await cp.receive_raw(timeout=0.05)


async def test_a_malformed_csms_call_is_answered_with_formation_violation(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    await peer.send_text('[2,"bad-1","Reset"]')

    reply = json.loads(await peer.receive_other())
    assert reply[:3] == [4, "bad-1", "FormationViolation"]
    assert await cp.receive_raw(timeout=5) == '[2,"bad-1","Reset"]'
    cp.no_unexpected_calls()


# -- CALLs from the CSMS ---------------------------------------------------------------------


async def test_expect_call_returns_the_answered_call(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    answer = await peer.result("Reset", {"type": "Hard"})

    call = await cp.expect_call("Reset")
    assert answer == {"status": "Accepted"}
    assert call.payload == {"type": "Hard"}
    cp.no_unexpected_calls()


async def test_expect_call_fails_on_a_different_action(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    await peer.result("Reset", {"type": "Soft"})
    await peer.result("ClearCache", {})

    with pytest.raises(AssertionError, match=r"expected a ClearCache CALL.*got Reset"):
        await cp.expect_call("ClearCache")
    assert (await cp.expect_call()).action == "ClearCache"


async def test_expect_call_fails_when_nothing_arrives(cp: SimulatedChargePoint) -> None:
    with pytest.raises(AssertionError, match="no CALL"):
        await cp.expect_call("Reset", timeout=0.05)


async def test_no_unexpected_calls_fails_on_an_unconsumed_call(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    await peer.result("ClearCache", {})

    with pytest.raises(AssertionError, match=r"unexpected CALLs.*ClearCache"):
        cp.no_unexpected_calls()
    cp.no_unexpected_calls()  # the queue was emptied


async def test_no_unexpected_calls_sees_a_call_still_being_answered(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    answering = asyncio.Event()
    release = asyncio.Event()

    async def slow_reset(payload: dict[str, object]) -> dict[str, object]:
        answering.set()
        await release.wait()
        return {"status": "Accepted"}

    cp.answers["Reset"] = slow_reset
    reset = asyncio.create_task(peer.result("Reset", {"type": "Soft"}))
    async with asyncio.timeout(5):
        await answering.wait()

    with pytest.raises(AssertionError, match="Reset"):
        cp.no_unexpected_calls()
    release.set()
    assert await reset == {"status": "Accepted"}


async def test_an_invalid_csms_call_is_answered_with_the_schema_error_code(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    payload = {"type": "Warm"}
    violation = validate_request("Reset", payload)
    assert violation is not None

    answer = await peer.call("Reset", payload)

    assert isinstance(answer, CallError)
    assert answer.error_code == violation.error_code
    with pytest.raises(SchemaError):
        await cp.expect_call("Reset")


async def test_unknown_and_charge_point_actions_are_not_implemented_or_not_supported(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    unknown = await peer.call("MakeCoffee", {})
    misdirected = await peer.call("Heartbeat", {})

    assert isinstance(unknown, CallError)
    assert unknown.error_code == ErrorCode.NOT_IMPLEMENTED
    assert isinstance(misdirected, CallError)
    assert misdirected.error_code == ErrorCode.NOT_SUPPORTED
    assert (await cp.expect_call()).action == "MakeCoffee"
    assert (await cp.expect_call()).action == "Heartbeat"


async def test_answers_can_be_overridden_per_action(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    cp.answers["RemoteStartTransaction"] = {"status": "Rejected"}
    cp.answers["Reset"] = lambda payload: {
        "status": "Rejected" if payload["type"] == "Hard" else "Accepted"
    }

    async def unlock(payload: dict[str, object]) -> dict[str, object]:
        return {"status": "UnlockFailed"}

    cp.answers["UnlockConnector"] = unlock
    cp.answers["ClearCache"] = CallError(
        unique_id="", error_code=ErrorCode.INTERNAL_ERROR, error_description="busy"
    )

    assert await peer.result("RemoteStartTransaction", {"idTag": "TAG1", "connectorId": 1}) == {
        "status": "Rejected"
    }
    assert await peer.result("Reset", {"type": "Hard"}) == {"status": "Rejected"}
    assert await peer.result("Reset", {"type": "Soft"}) == {"status": "Accepted"}
    assert await peer.result("UnlockConnector", {"connectorId": 1}) == {"status": "UnlockFailed"}
    cleared = await peer.call("ClearCache", {})
    assert isinstance(cleared, CallError)
    assert cleared.error_code == ErrorCode.INTERNAL_ERROR
    for action in ("RemoteStartTransaction", "Reset", "Reset", "UnlockConnector", "ClearCache"):
        await cp.expect_call(action)


async def test_a_failing_answer_is_an_internal_error_raised_at_expect_call(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    def broken(payload: dict[str, object]) -> dict[str, object]:
        raise ValueError("no answer today")

    cp.answers["Reset"] = broken

    answer = await peer.call("Reset", {"type": "Soft"})

    assert isinstance(answer, CallError)
    assert answer.error_code == ErrorCode.INTERNAL_ERROR
    with pytest.raises(ValueError, match="no answer today"):
        await cp.expect_call("Reset")


async def test_a_csms_call_crossing_our_call_is_answered(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    """J 4.1.1: CALLs of the two sides may cross."""
    peer.answers["Authorize"] = SILENT
    authorize = asyncio.create_task(cp.authorize("TAG1"))
    call = await peer.expect("Authorize")

    reset = await peer.result("Reset", {"type": "Soft"})
    await peer.send_text(json.dumps([3, call.unique_id, {"idTagInfo": {"status": "Accepted"}}]))

    assert reset == {"status": "Accepted"}
    assert (await authorize)["idTagInfo"]["status"] == "Accepted"
    assert (await cp.expect_call("Reset")).payload == {"type": "Soft"}


# -- handshake -------------------------------------------------------------------------------


async def test_the_id_is_percent_encoded_and_basic_auth_sent(peer: PeerCSMS) -> None:
    async with SimulatedChargePoint("RDAM 123/é", peer.url + "/", password="s3cr3t-p@ss") as cp:
        assert cp.connected
        assert cp.subprotocol == "ocpp1.6"

    [request] = peer.requests
    assert request.path == "/ocpp/RDAM%20123%2F%C3%A9"
    assert request.headers["Sec-WebSocket-Protocol"] == "ocpp1.6"
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(token).decode() == "RDAM 123/é:s3cr3t-p@ss"
    assert not cp.connected


async def test_no_authorization_header_without_a_password(peer: PeerCSMS) -> None:
    async with SimulatedChargePoint("CP1", peer.url, subprotocols=("ocpp1.5", "ocpp1.6")):
        pass

    [request] = peer.requests
    assert "Authorization" not in request.headers
    assert request.headers["Sec-WebSocket-Protocol"] == "ocpp1.5, ocpp1.6"


async def test_reconnect_keeps_the_state_and_uses_a_new_password(peer: PeerCSMS) -> None:
    async with SimulatedChargePoint("CP1", peer.url, password="old-password-1234") as cp:
        cp.configuration["AuthorizationKey"] = ("", False)
        started = await cp.start_transaction(1, "TAG1")
        new_password = "new-password-5678"
        changed = await peer.result(
            "ChangeConfiguration",
            {"key": "AuthorizationKey", "value": new_password.encode().hex()},
        )
        assert changed == {"status": "Accepted"}
        await cp.expect_call("ChangeConfiguration")

        await cp.reconnect()

        assert cp.connected
        assert started["transactionId"] in cp.transactions
        await cp.heartbeat()
        # The write-only key is not readable (security whitepaper).
        answer = await peer.result("GetConfiguration", {"key": ["AuthorizationKey"]})
        assert answer == {"configurationKey": [], "unknownKey": ["AuthorizationKey"]}
    first, second = peer.requests
    assert base64.b64decode(first.headers["Authorization"].split()[1]) == b"CP1:old-password-1234"
    assert base64.b64decode(second.headers["Authorization"].split()[1]) == b"CP1:new-password-5678"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


async def test_tls_with_the_given_ssl_context(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))

    async with PeerCSMS.running(ssl=server_context) as peer:
        assert peer.url.startswith("wss://")
        async with SimulatedChargePoint("CP1", peer.url, ssl=client_context) as cp:
            assert (await cp.boot())["status"] == "Accepted"


async def test_a_refused_handshake_raises_the_http_status() -> None:
    def refuse(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(HTTPStatus.UNAUTHORIZED, "who are you?\n")

    async def never(websocket: ServerConnection) -> None:
        raise AssertionError("the upgrade was refused")

    async with serve(never, "127.0.0.1", 0, process_request=refuse) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        cp = SimulatedChargePoint("CP1", f"ws://127.0.0.1:{port}/ocpp")
        with pytest.raises(InvalidStatus) as caught:
            await cp.connect()

    assert caught.value.response.status_code == HTTPStatus.UNAUTHORIZED
    assert not cp.connected
    with pytest.raises(ConnectionError):
        await cp.heartbeat()
