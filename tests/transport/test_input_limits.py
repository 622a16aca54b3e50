"""Input limits over OCPP (docs/field-behaviour.md, "Input limits and ids"): values the schema
allows but no column can hold are refused with PropertyConstraintViolation naming the field,
answers that echo undecodable text keep the connection, unusable message ids are answered
(J 4.2.3), DataTransfer data is bounded, and only ids of the documented rule connect."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from pathlib import Path

import pytest
from tests.db import temporary_postgres_database
from tests.harness import Harness, csms
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from csms.ocppj import Call
from csms.transport import Admitted, Handled, OcppConnection, OcppServer, Peer, Refused, Registry

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
START = {"connectorId": 1, "idTag": "T1", "meterStart": 0, "timestamp": "2025-01-01T00:00:00Z"}
STOP = {"transactionId": 1, "meterStop": 0, "timestamp": "2025-01-01T00:00:00Z"}


async def _raw_frame(websocket: object, text: str) -> list[object]:
    await websocket.send(text)  # type: ignore[attr-defined]
    reply = await asyncio.wait_for(websocket.recv(), 5)  # type: ignore[attr-defined]
    decoded: list[object] = json.loads(reply)
    return decoded


async def test_an_echoed_lone_surrogate_keeps_the_connection(harness: Harness) -> None:
    async with harness.raw("SURR1") as raw:
        await raw.exchange([2, "boot", "BootNotification", BOOT])
        answer = await _raw_frame(raw.websocket, '[2,"\\ud800","Heartbeat",{}]')
        assert answer[0] == 3 and answer[1] == "\ud800"
        answer = await _raw_frame(raw.websocket, '[2,"c1","Heartbeat",{"\\ud800":1}]')
        assert answer[:3] == [4, "c1", "FormationViolation"]
        assert (await raw.exchange([2, "hb", "Heartbeat", {}]))[0] == 3


OUT_OF_RANGE = [
    ("StatusNotification", {**STATUS, "connectorId": 2**31}, "connectorId"),
    ("StartTransaction", {**START, "connectorId": 2**63}, "connectorId"),
    ("StartTransaction", {**START, "meterStart": 2**31}, "meterStart"),
    ("StartTransaction", {**START, "reservationId": -(2**31) - 1}, "reservationId"),
    ("StopTransaction", {**STOP, "transactionId": 2**31}, "transactionId"),
    ("StopTransaction", {**STOP, "meterStop": 2**63}, "meterStop"),
    ("Authorize", {"idTag": "A\x00B"}, "idTag"),
    ("Authorize", {"idTag": "A\ud800"}, "idTag"),
    ("StartTransaction", {**START, "idTag": "\x00"}, "idTag"),
    ("DataTransfer", {"vendorId": "V\x00"}, "vendorId"),
    ("DataTransfer", {"vendorId": "V", "data": "x\ud800"}, "data"),
    ("StatusNotification", {**STATUS, "info": "\x00"}, "info"),
    ("StatusNotification", {**STATUS, "connectorId": 2**31 - 1}, None),
    ("Authorize", {"idTag": "\U0001f600ok"}, None),
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_values_no_column_can_hold_are_refused_naming_the_field(
    tmp_path: Path, backend: str
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        database: str | Path = tmp_path / "csms.db"
        if backend == "postgresql":
            database = await stack.enter_async_context(temporary_postgres_database())
        running = await stack.enter_async_context(csms(database))
        async with running.raw("RANGE1") as raw:
            await raw.exchange([2, "boot", "BootNotification", BOOT])
            for index, (action, payload, field) in enumerate(OUT_OF_RANGE):
                text = json.dumps([2, f"r{index}", action, payload])
                answer = await _raw_frame(raw.websocket, text)
                if field is None:
                    assert answer[0] == 3, answer
                    continue
                assert answer[:3] == [4, f"r{index}", "PropertyConstraintViolation"], answer
                assert str(answer[3]).startswith(f"{field}:"), answer
            assert (await raw.exchange([2, "hb", "Heartbeat", {}]))[0] == 3


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ('[2,"' + "x" * 37 + '","Heartbeat",{}]', [4, "x" * 37, "FormationViolation"]),
        ('[2,"","Heartbeat",{}]', [4, "", "FormationViolation"]),
        ('[2,17,"Heartbeat",{}]', [4, "-1", "FormationViolation"]),
        ('[2,null,"Heartbeat",{}]', [4, "-1", "FormationViolation"]),
        ('[2,{"a":1},"Heartbeat",{}]', [4, "-1", "FormationViolation"]),
        ("[2]", [4, "-1", "FormationViolation"]),
    ],
)
async def test_a_call_with_an_unusable_message_id_is_answered(
    harness: Harness, text: str, reply: list[object]
) -> None:
    async with harness.raw("MSGID1") as raw:
        await raw.exchange([2, "boot", "BootNotification", BOOT])
        answer = await _raw_frame(raw.websocket, text)
        assert answer[:3] == reply
        assert (await raw.exchange([2, "hb", "Heartbeat", {}]))[0] == 3


async def test_data_transfer_data_is_bounded(tmp_path: Path) -> None:
    async with (
        csms(tmp_path / "csms.db", data_transfer_max_bytes=1000) as running,
        running.raw("DT1") as raw,
    ):
        await raw.exchange([2, "boot", "BootNotification", BOOT])
        fits = await raw.exchange([2, "d1", "DataTransfer", {"vendorId": "V", "data": "é" * 500}])
        assert fits[0] == 3
        over = await raw.exchange([2, "d2", "DataTransfer", {"vendorId": "V", "data": "x" * 1001}])
        assert over[:3] == [4, "d2", "PropertyConstraintViolation"]
        assert over[3].startswith("data:")
        # The bound is on UTF-8 bytes, not characters: 334 "€" (3 bytes each) are 1002 bytes
        # in 334 characters, fewer than the limit (and than limit - 4), more than limit // 4.
        wide = await raw.exchange([2, "d3", "DataTransfer", {"vendorId": "V", "data": "€" * 334}])
        assert wide[:3] == [4, "d3", "PropertyConstraintViolation"]
        assert "1002 bytes" in wide[3]
        assert (await raw.exchange([2, "hb", "Heartbeat", {}]))[0] == 3


async def _http_status(port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        return int(status_line.split()[1])
    finally:
        writer.close()


async def test_a_failed_upgrade_leaves_nothing_and_registers_nothing(harness: Harness) -> None:
    port = harness.app.ocpp_port
    server = harness.app.ocpp_server
    plain = b"GET /ocpp/PLAIN1 HTTP/1.1\r\nHost: x\r\n\r\n"
    assert await _http_status(port, plain) == 426
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/WRONGPROTO", subprotocols=["ocpp2.0"]):  # type: ignore[list-item]
            pass
    assert refused.value.response.status_code == 400
    assert server.admitted_count() == 0
    assert await harness.store.get_charge_point("PLAIN1") is None
    assert await harness.store.get_charge_point("WRONGPROTO") is None
    async with harness.charge_point("GOOD1") as cp:
        await cp.boot()
    assert server.admitted_count() == 0
    assert await harness.store.get_charge_point("GOOD1") is not None


@pytest.mark.parametrize(
    "path",
    ["%00", "%3Cscript%3E", "CP%FF", "CP%20", "CP%EF%BC%A1", "a:b", "x" * 49, "CP%2F1"],
)
async def test_ids_outside_the_rule_are_refused_at_the_ocpp_endpoint(
    harness: Harness, path: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{harness.app.ocpp_port}/ocpp/{path}"):
            pass
    assert refused.value.response.status_code == 400
    assert await harness.store.list_charge_points() == []


async def test_undecodable_ids_do_not_collide(harness: Harness) -> None:
    for path in ("CP%FF", "CP%FE"):
        with pytest.raises(InvalidStatus):
            async with connect(f"ws://127.0.0.1:{harness.app.ocpp_port}/ocpp/{path}"):
                pass
    assert await harness.store.list_charge_points() == []


@pytest.mark.parametrize("lookalike", ["secure1", "Secure1", "SECURE1%20", "%EF%BC%B3ECURE1"])
async def test_lookalikes_of_a_known_id_are_refused(harness: Harness, lookalike: str) -> None:
    put = await harness.api.put("/charge-points/SECURE1", json={"password": "p" * 16})
    assert put.status_code == 200
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{harness.app.ocpp_port}/ocpp/{lookalike}"):
            pass
    assert refused.value.response.status_code in (400, 404)
    assert [cp.id for cp in await harness.store.list_charge_points()] == ["SECURE1"]


async def test_basic_auth_credentials_that_are_not_utf8_get_401(harness: Harness) -> None:
    put = await harness.api.put("/charge-points/SECURE2", json={"password": "p" * 16})
    assert put.status_code == 200
    for raw in (b"SECURE2:\xff\xfe", b"\xff:pppppppppppppppp", b"SECURE2:" + b"\xed\xa0\x80" * 6):
        token = base64.b64encode(raw).decode()
        with pytest.raises(InvalidStatus) as refused:
            async with connect(
                f"{harness.url}/SECURE2", additional_headers={"Authorization": f"Basic {token}"}
            ):
                pass
        assert refused.value.response.status_code == 401


class _AdmitAll:
    async def admit(
        self, charge_point_id: str, credentials: tuple[str, str] | None, peer: Peer
    ) -> Admitted | Refused:
        return Admitted(accepted=True)


class _FailingDispatcher:
    """A dispatcher whose every CALL fails: the transport must still answer each one."""

    async def dispatch(self, connection: OcppConnection, call: Call) -> Handled:
        raise RuntimeError(f"{call.action} broke")


async def test_a_call_whose_dispatch_fails_is_still_answered() -> None:
    server = OcppServer(registry=Registry(), admission=_AdmitAll(), dispatcher=_FailingDispatcher())
    async with await server.start("127.0.0.1", 0) as listening:
        port = next(iter(listening.sockets)).getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            for unique_id in ("a", "b"):
                answer = await _raw_frame(ws, json.dumps([2, unique_id, "Heartbeat", {}]))
                assert answer[:3] == [4, unique_id, "InternalError"]
