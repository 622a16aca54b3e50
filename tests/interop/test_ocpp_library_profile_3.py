"""A charge point we did not write on security profile 3: the PyPI `ocpp` library's ChargePoint
(which checks every answer against the official schemas, the whitepaper's included) sends its
CSR over TLS with Basic auth (profile 2), installs the certificate the CSMS sends back, and
connects again with it as its TLS client certificate, without a password (profile 3)."""

from __future__ import annotations

import asyncio
import base64
import ssl
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from ocpp.routing import on
from ocpp.v16 import ChargePoint as LibraryChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import CertificateSignedStatus, RegistrationStatus
from tests.features.security.tls import tls_csms, trusting
from websockets.asyncio.client import connect

from csms.simulator.certificates import CertificateState, client_context, make_csr

PASSWORD = "Interop-Password-001"


class SecureCharger(LibraryChargePoint):  # type: ignore[misc]
    chain: asyncio.Future[str]

    @on("CertificateSigned")
    def on_certificate_signed(self, certificate_chain: str) -> call_result.CertificateSigned:
        self.chain.set_result(certificate_chain)
        return call_result.CertificateSigned(status=CertificateSignedStatus.accepted)


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def test_library_charge_point_connects_with_profile_3(tmp_path: Path) -> None:
    async with tls_csms(tmp_path) as (harness, url, server_ca):
        response = await harness.api.put(
            "/charge-points/LIB3",
            json={"registrationStatus": "Accepted", "password": PASSWORD, "securityProfile": 2},
        )
        assert response.status_code == 200, response.text
        basic = base64.b64encode(f"LIB3:{PASSWORD}".encode()).decode()
        csr, key = make_csr("LIB3", organization="Interop CPO")
        async with connect(
            f"{url}/LIB3",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            ssl=trusting(server_ca),
            additional_headers={"Authorization": f"Basic {basic}"},
        ) as websocket:
            cp = SecureCharger("LIB3", websocket)
            cp.chain = asyncio.get_running_loop().create_future()
            listener = asyncio.create_task(cp.start())
            try:
                boot = await cp.call(
                    call.BootNotification(charge_point_model="Interop", charge_point_vendor="MH")
                )
                assert boot.status == RegistrationStatus.accepted
                signing = await cp.call(call.SignCertificate(csr=csr))
                assert signing.status == "Accepted"
                chain = await asyncio.wait_for(cp.chain, 5)
            finally:
                listener.cancel()
        leaf = x509.load_pem_x509_certificates(chain.encode())[0]
        assert leaf.public_key() == key.public_key()

        await harness.api.put("/charge-points/LIB3", json={"securityProfile": 3})
        mutual: ssl.SSLContext = client_context(
            CertificateState(certificate_chain=chain, key=key), server_ca
        )
        async with connect(f"{url}/LIB3", subprotocols=["ocpp1.6"], ssl=mutual) as websocket:  # type: ignore[list-item]
            cp = SecureCharger("LIB3", websocket)
            listener = asyncio.create_task(cp.start())
            try:
                boot = await cp.call(
                    call.BootNotification(charge_point_model="Interop", charge_point_vendor="MH")
                )
                assert boot.status == RegistrationStatus.accepted
                await cp.call(
                    call.SecurityEventNotification(
                        type="StartupOfTheDevice", timestamp=now(), tech_info="profile 3"
                    )
                )
            finally:
                listener.cancel()
        events = (await harness.api.get("/charge-points/LIB3/security-events")).json()
        assert events[0]["type"] == "StartupOfTheDevice"
        assert events[0]["critical"] is True
