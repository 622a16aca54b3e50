"""Security profiles 1 and 2 on the plain listener, and the AuthorizationKey when its answer is
lost (whitepaper A00, A01; docs/security.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.harness import Harness, csms
from websockets.exceptions import InvalidStatus

from csms.simulator import SimulatedChargePoint
from csms.transport.basic_auth import verify_password

PASSWORD = "Profile-Password-001"


async def refused_status(cp: SimulatedChargePoint) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await cp.connect()
    return refused.value.response.status_code


async def test_profile_2_needs_tls_and_a_retrying_charge_point_is_one_event_a_minute(
    harness: Harness,
) -> None:
    body = {"registrationStatus": "Accepted", "password": PASSWORD, "securityProfile": 2}
    assert (await harness.api.put("/charge-points/P2", json=body)).status_code == 200
    cp = harness.charge_point("P2", password=PASSWORD)
    for _ in range(3):
        assert await refused_status(cp) == 401
    events = (await harness.api.get("/charge-points/P2/security-events")).json()
    assert [event["type"] for event in events] == ["ConnectionBelowSecurityProfile"]
    assert "connection has level 1" in events[0]["techInfo"]
    # Lowered by the operator: profile 1 lets the same connection in.
    response = await harness.api.put("/charge-points/P2", json={"securityProfile": 1})
    assert response.json()["securityProfile"] == 1
    await cp.connect()
    assert (await cp.boot())["status"] == "Accepted"
    await cp.close()


async def test_profile_1_without_a_password_stored_refuses_everyone(harness: Harness) -> None:
    body = {"registrationStatus": "Accepted", "securityProfile": 1}
    assert (await harness.api.put("/charge-points/P1", json=body)).status_code == 200
    assert await refused_status(harness.charge_point("P1")) == 401


async def test_the_new_authorization_key_is_taken_when_its_answer_is_lost(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db", call_timeout=0.5) as harness:
        body = {"registrationStatus": "Accepted", "password": PASSWORD, "securityProfile": 1}
        assert (await harness.api.put("/charge-points/K1", json=body)).status_code == 200
        cp = harness.charge_point("K1", password=PASSWORD)
        cp.enable_security(1)
        received: list[str] = []

        async def lost(payload: dict[str, Any]) -> dict[str, Any]:
            # The charge point takes the key, but its answer never reaches the CSMS.
            received.append(payload["value"])
            await asyncio.sleep(2)
            return {"status": "Accepted"}

        cp.answers["ChangeConfiguration"] = lost
        async with cp:
            await cp.boot()
            response = await harness.api.post("/charge-points/K1/authorization-key", json={})
            assert response.status_code == 504, response.text
        new_password = bytes.fromhex(received[0]).decode()
        security = await harness.store.security_of("K1")
        assert security.pending_password_hash is not None
        # Both still open a connection until the new one is used ...
        cp.password = PASSWORD
        await cp.connect()
        await cp.close()
        cp.password = new_password
        await cp.connect()
        await cp.close()
        # ... which makes it the only one.
        stored = await harness.store.get_charge_point("K1")
        assert verify_password(new_password, stored.password_hash)
        assert (await harness.store.security_of("K1")).pending_password_hash is None
        cp.password = PASSWORD
        assert await refused_status(cp) == 401


async def test_a_refused_authorization_key_is_forgotten(harness: Harness) -> None:
    body = {"registrationStatus": "Accepted", "password": PASSWORD}
    assert (await harness.api.put("/charge-points/K2", json=body)).status_code == 200
    cp = harness.charge_point("K2", password=PASSWORD)
    cp.enable_security(1)
    cp.answers["ChangeConfiguration"] = {"status": "Rejected"}
    async with cp:
        await cp.boot()
        response = await harness.api.post(
            "/charge-points/K2/authorization-key", json={"password": "Another-Password-02"}
        )
        assert response.json() == {"status": "Rejected"}
    assert (await harness.store.security_of("K2")).pending_password_hash is None
    cp.password = "Another-Password-02"
    assert await refused_status(cp) == 401
    cp.password = PASSWORD
    await cp.connect()
    await cp.close()
