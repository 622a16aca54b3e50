"""Unknown charge points under each --unknown-charge-points policy (features/admission.py):
pending (the default) registers them Pending until an operator accepts them (spec 4.2, J errata
3.10), accept registers them Accepted, reject refuses the upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.harness import csms
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from csms.settings import Settings, UnknownChargePoints
from csms.simulator import CallErrorReceived


def test_pending_is_the_default_policy() -> None:
    assert Settings().unknown_charge_points == UnknownChargePoints.PENDING


async def test_unknown_charge_point_waits_pending_until_the_operator_accepts_it(
    tmp_path: Path,
) -> None:
    async with (
        csms(
            tmp_path / "db.sqlite", unknown_charge_points=Settings().unknown_charge_points
        ) as running,
        running.charge_point("NEW1") as cp,
    ):
        boot = await cp.boot()
        assert boot["status"] == "Pending"
        assert boot["interval"] == running.app.services.settings.boot_retry_interval
        listed = (await running.api.get("/charge-points")).json()
        assert [(c["id"], c["registrationStatus"]) for c in listed] == [("NEW1", "Pending")]
        with pytest.raises(CallErrorReceived) as refused:
            await cp.heartbeat()
        assert refused.value.error_code == "SecurityError"

        put = await running.api.put("/charge-points/NEW1", json={"registrationStatus": "Accepted"})
        assert put.status_code == 200
        assert (await cp.boot())["status"] == "Accepted"
        assert "currentTime" in await cp.heartbeat()


async def test_lookalikes_of_a_known_id_are_refused_under_pending(tmp_path: Path) -> None:
    async with csms(tmp_path / "db.sqlite", unknown_charge_points="pending") as running:
        put = await running.api.put(
            "/charge-points/SECURE1", json={"registrationStatus": "Accepted"}
        )
        assert put.status_code == 200
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{running.url}/Secure1"):
                pass
        assert refused.value.response.status_code == 404
        assert [cp.id for cp in await running.store.list_charge_points()] == ["SECURE1"]
        # Noted, with the id it looks like, for the operator to approve or refuse.
        noted = running.app.services.unknown_charge_points.list()
        assert [(a.charge_point_id, a.reason) for a in noted] == [("Secure1", "looks like SECURE1")]


async def test_accept_policy_registers_unknown_charge_points_accepted(tmp_path: Path) -> None:
    async with csms(tmp_path / "db.sqlite", unknown_charge_points="accept") as running:
        async with running.charge_point("NEW2") as cp:
            assert (await cp.boot())["status"] == "Accepted"
        stored = await running.store.get_charge_point("NEW2")
        assert stored is not None and stored.registration_status == "Accepted"
