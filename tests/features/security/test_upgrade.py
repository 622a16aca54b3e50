"""Raising a security profile when the charge point drops the connection as soon as it has
accepted the new one (whitepaper A05.FR.06): the Reset waits for it and goes out on the new
connection; until then the old profile is still allowed (A05.FR.08: it may fall back), after it
no longer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.features.security.test_client_certificates import (
    PASSWORD,
    obtain_certificate,
    provisioned,
)
from tests.features.security.tls import tls_csms, trusting
from websockets.exceptions import InvalidStatus


async def test_the_reset_follows_the_charge_point_to_its_new_profile(tmp_path: Path) -> None:
    async with tls_csms(tmp_path) as (harness, url, server_ca):
        await provisioned(harness, "UP1", securityProfile=2)
        cp = harness.charge_point("UP1", url=url, ssl=trusting(server_ca), password=PASSWORD)
        cp.enable_security(2)
        cp.state.certificates.roots["CentralSystemRootCertificate"] = [server_ca]
        dropped = asyncio.Event()

        def accept_and_drop(payload: dict[str, Any]) -> dict[str, Any]:
            # Answered first, then the connection goes (the reader sees the close).
            asyncio.get_running_loop().call_later(0.05, dropped.set)
            return {"status": "Accepted"}

        async with cp:
            await cp.boot()
            await obtain_certificate(harness, cp)
            cp.answers["ChangeConfiguration"] = accept_and_drop

            async def too_late(payload: dict[str, Any]) -> dict[str, Any]:
                await asyncio.sleep(2)  # the connection is gone before this answer
                return {"status": "Accepted"}

            cp.answers["Reset"] = too_late
            upgrade = asyncio.create_task(
                harness.api.post(
                    "/charge-points/UP1/security-profile/upgrade",
                    json={"securityProfile": 3},
                    params={"connectTimeout": 10},
                )
            )
            await cp.expect_call("ChangeConfiguration")
            await dropped.wait()
        # Meanwhile the old profile is still allowed (a fallback) ...
        assert (await harness.store.security_of("UP1")).fallback_profile == 2
        # ... and the charge point back with its certificate gets the Reset.
        new = harness.charge_point("UP1", url=url, ssl=cp.client_ssl_context(server_ca))
        async with new:
            reset = await new.expect_call("Reset", timeout=10)
            assert reset.payload == {"type": "Hard"}
            response = await upgrade
        assert response.status_code == 200, response.text
        assert response.json()["reset"] == {"status": "Accepted"}
        security = await harness.store.security_of("UP1")
        assert (security.security_profile, security.fallback_profile) == (3, None)
        old = harness.charge_point("UP1", url=url, ssl=trusting(server_ca), password=PASSWORD)
        with pytest.raises(InvalidStatus):
            await old.connect()
