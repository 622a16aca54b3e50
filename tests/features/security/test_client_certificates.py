"""Security profile 3 over real TLS (whitepaper 2.5, A00.FR.401-408, A02): a charge point gets a
certificate the CSMS's CA issued from its own CSR and connects with it; a certificate with
another CN, an expired one, one of a CA the CSMS does not trust, a revoked one and none at all
are refused, each with its reason logged."""

from __future__ import annotations

import asyncio
import logging
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.features.security.tls import tls_csms, trusting
from tests.harness import Harness
from websockets.exceptions import InvalidMessage, InvalidStatus

from csms.simulator import SimulatedChargePoint
from csms.simulator.certificates import CertificateState, client_context

PASSWORD = "Secret-Password-01"


async def provisioned(harness: Harness, charge_point_id: str, **fields: Any) -> None:
    body = {"registrationStatus": "Accepted", "password": PASSWORD, **fields}
    response = await harness.api.put(f"/charge-points/{charge_point_id}", json=body)
    assert response.status_code == 200, response.text


async def issued_certificates(harness: Harness, charge_point_id: str) -> list[dict[str, Any]]:
    response = await harness.api.get(f"/charge-points/{charge_point_id}/certificates")
    assert response.status_code == 200, response.text
    issued: list[dict[str, Any]] = response.json()["issued"]
    return issued


async def until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():  # noqa: ASYNC110 - what it waits for is in another process's answers
            await asyncio.sleep(0.02)


async def obtain_certificate(harness: Harness, cp: SimulatedChargePoint) -> dict[str, Any]:
    """SignCertificate from the connected charge point; the CSMS signs it and sends it back."""
    assert await cp.sign_certificate() == {"status": "Accepted"}
    delivered = await cp.expect_call("CertificateSigned")
    chain = delivered.payload["certificateChain"]
    assert chain.count("BEGIN CERTIFICATE") == 2  # the leaf, then the CA

    async def recorded() -> bool:
        issued = await issued_certificates(harness, cp.charge_point_id)
        return bool(issued) and issued[0]["delivery"] == "Accepted"

    await until(recorded)
    return (await issued_certificates(harness, cp.charge_point_id))[0]


def with_certificate(chain: str, key: ec.EllipticCurvePrivateKey, server_ca: str) -> ssl.SSLContext:
    return client_context(CertificateState(certificate_chain=chain, key=key), server_ca)


async def refused_status(cp: SimulatedChargePoint) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with cp:
            pass
    return refused.value.response.status_code


async def test_a_charge_point_connects_with_the_certificate_issued_from_its_csr(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with tls_csms(tmp_path) as (harness, url, server_ca):
        await provisioned(harness, "CP3", securityProfile=2)
        cp = harness.charge_point("CP3", url=url, ssl=trusting(server_ca), password=PASSWORD)
        cp.enable_security(2)
        async with cp:
            assert (await cp.boot())["status"] == "Accepted"
            issued = await obtain_certificate(harness, cp)
        certificate = cp.state.certificates.certificate
        assert certificate is not None
        assert format(certificate.serial_number, "x") == issued["serialNumber"]
        assert issued["subject"] == "CN=CP3,O=CSMS"
        # What the CSMS stored and shows is the public certificate only.
        assert "PRIVATE" not in str(await issued_certificates(harness, "CP3"))
        assert "PRIVATE" not in caplog.text

        response = await harness.api.put("/charge-points/CP3", json={"securityProfile": 3})
        assert response.json()["securityProfile"] == 3
        # Profile 3: the certificate, no password.
        cp3 = harness.charge_point("CP3", url=url, ssl=cp.client_ssl_context(server_ca))
        async with cp3:
            assert (await cp3.boot())["status"] == "Accepted"
            connection = harness.app.services.registry.get("CP3")
            assert connection.client_certificate_serial == issued["serialNumber"]

        # Below the profile: the password over TLS is not enough any more.
        again = harness.charge_point("CP3", url=url, ssl=trusting(server_ca), password=PASSWORD)
        assert await refused_status(again) == 401
        events = (await harness.api.get("/charge-points/CP3/security-events")).json()
        assert events[0]["type"] == "ConnectionBelowSecurityProfile"
        assert events[0]["origin"] == "CentralSystem"
        assert "security profile 3 required" in events[0]["techInfo"]


async def test_certificates_that_are_not_the_charge_points_own_are_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with tls_csms(tmp_path) as (harness, url, server_ca):
        await provisioned(harness, "CP3", securityProfile=3)
        authority = harness.app.services.authority
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)

        def issued(common_name: str, at: datetime) -> str:
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
            return authority.issue(subject, key.public_key(), at).chain_pem

        # No certificate (and no password).
        assert (
            await refused_status(harness.charge_point("CP3", url=url, ssl=trusting(server_ca)))
            == 401
        )
        # Another charge point's certificate.
        other = with_certificate(issued("CP-OTHER", now), key, server_ca)
        assert await refused_status(harness.charge_point("CP3", url=url, ssl=other)) == 401
        assert "client certificate CN 'CP-OTHER' is not the charge point id" in caplog.text
        # Expired, and of a CA the CSMS does not trust: the TLS handshake fails.
        expired = with_certificate(issued("CP3", now - timedelta(days=800)), key, server_ca)
        foreign_ca = trustme.CA()
        foreign = foreign_ca.issue_cert("CP3")
        untrusted = ssl.create_default_context(cadata=server_ca)
        foreign.configure_cert(untrusted)
        for context in (expired, untrusted):
            # TLS 1.3: the client learns it as the connection closing before the upgrade.
            with pytest.raises((ssl.SSLError, OSError, InvalidMessage)):
                async with harness.charge_point("CP3", url=url, ssl=context):
                    pass
        await until(lambda: _logged(caplog, "unable to get local issuer certificate"))
        assert "certificate has expired" in caplog.text

        # Its own certificate works.
        own = with_certificate(issued("CP3", now), key, server_ca)
        async with harness.charge_point("CP3", url=url, ssl=own) as cp:
            assert (await cp.boot())["status"] == "Accepted"
        events = (await harness.api.get("/charge-points/CP3/security-events")).json()
        assert {event["type"] for event in events} == {
            "InvalidChargePointCertificateAtConnection",
            "ConnectionBelowSecurityProfile",
        }


async def test_a_revoked_certificate_is_closed_and_refused(tmp_path: Path) -> None:
    async with tls_csms(tmp_path) as (harness, url, server_ca):
        await provisioned(harness, "CP3", securityProfile=2)
        cp = harness.charge_point("CP3", url=url, ssl=trusting(server_ca), password=PASSWORD)
        cp.enable_security(2)
        async with cp:
            await cp.boot()
            issued = await obtain_certificate(harness, cp)
        await harness.api.put("/charge-points/CP3", json={"securityProfile": 3})
        async with harness.charge_point(
            "CP3", url=url, ssl=cp.client_ssl_context(server_ca)
        ) as cp3:
            await cp3.boot()
            response = await harness.api.post(
                f"/certificates/{issued['serialNumber']}/revoke", json={"reason": "stolen"}
            )
            assert response.status_code == 200, response.text
            assert response.json()["revocationReason"] == "stolen"
            await cp3.wait_closed()
        refused = harness.charge_point("CP3", url=url, ssl=cp.client_ssl_context(server_ca))
        assert await refused_status(refused) == 401


async def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return text in caplog.text
