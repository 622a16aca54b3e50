"""The WebSocket handshake: path and id (J 3.1.1), sub-protocol (J 3.1.2, TC_088), unknown
charge points (J 3.2), HTTP Basic auth (whitepaper 2.3), and one connection per charge point."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest
from tests.harness import Harness, csms
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from csms.transport.basic_auth import hash_password


async def test_tc_088_subprotocol_negotiation(harness: Harness) -> None:
    # Only an unknown protocol offered: no upgrade.
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{harness.url}/CP1", subprotocols=["ocpp0.1"]):  # type: ignore[list-item]
            pass
    assert refused.value.response.status_code == 400
    # ocpp1.6 among others: upgraded with exactly ocpp1.6.
    async with connect(
        f"{harness.url}/CP1",
        subprotocols=["ocpp0.1", "ocpp1.6"],  # type: ignore[list-item]
    ) as websocket:
        assert websocket.subprotocol == "ocpp1.6"
        assert websocket.response is not None
        assert websocket.response.headers["Sec-WebSocket-Protocol"] == "ocpp1.6"


async def test_missing_subprotocol_header_is_accepted_as_16(harness: Harness) -> None:
    async with connect(f"{harness.url}/CP1") as websocket:
        assert websocket.subprotocol is None
        await websocket.send(
            '[2, "1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]'
        )
        assert '"Accepted"' in str(await asyncio.wait_for(websocket.recv(), 5))


async def test_percent_encoded_id_is_decoded(harness: Harness) -> None:
    async with harness.charge_point("RDAM-123", url=harness.url) as cp:
        await cp.boot()
    async with connect(f"{harness.url}/RDAM%2D124", subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
        pass
    assert await harness.store.get_charge_point("RDAM-124") is not None
    stored = await harness.store.get_charge_point("RDAM-123")
    assert stored is not None and stored.boot is not None


@pytest.mark.parametrize("path", ["/", "/ocpp", "/ocpp/", "/other/CP1", "/ocpp/a/b"])
async def test_paths_without_a_charge_point_id_get_404(harness: Harness, path: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{harness.app.ocpp_port}{path}"):
            pass
    assert refused.value.response.status_code == 404


async def test_unknown_charge_point_is_refused_under_reject_policy(tmp_path: Path) -> None:
    async with csms(tmp_path / "db.sqlite", unknown_charge_points="reject") as running:
        with pytest.raises(InvalidStatus) as refused:
            async with running.charge_point("NOPE"):
                pass
        assert refused.value.response.status_code == 404
        assert await running.store.get_charge_point("NOPE") is None


async def test_unknown_charge_point_is_registered_under_accept_policy(harness: Harness) -> None:
    async with harness.charge_point("NEW1"):
        pass
    assert await harness.store.get_charge_point("NEW1") is not None


async def test_basic_auth(harness: Harness) -> None:
    await harness.store.save_charge_point(
        "SECURE",
        registration_status="Accepted",
        password_hash=hash_password("0123456789abcdef"),
        description=None,
    )
    for password in (None, "wrong-password!!"):
        with pytest.raises(InvalidStatus) as refused:
            async with harness.charge_point("SECURE", password=password):
                pass
        assert refused.value.response.status_code == 401
    # Username must be the charge point id.
    token = base64.b64encode(b"OTHER:0123456789abcdef").decode()
    with pytest.raises(InvalidStatus):
        async with connect(
            f"{harness.url}/SECURE", additional_headers={"Authorization": f"Basic {token}"}
        ):
            pass
    async with harness.charge_point("SECURE", password="0123456789abcdef") as cp:
        assert (await cp.boot())["status"] == "Accepted"


async def test_new_connection_replaces_the_old_one(harness: Harness) -> None:
    async with harness.charge_point("CP1") as first:
        await first.boot()
        old = harness.app.services.registry.get("CP1")
        async with harness.charge_point("CP1") as second:
            # The old socket is closed; its late close does not evict the new connection.
            assert old is not None
            await asyncio.wait_for(old.closed.wait(), 5)
            current = harness.app.services.registry.get("CP1")
            assert current is not None and current is not old
            # Accepted before: the reconnecting charge point may talk without a new boot (J 5.4).
            assert "currentTime" in await second.heartbeat()
