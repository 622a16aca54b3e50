"""wss:// (security profile 2, whitepaper 2.4): TLS 1.2+ with the server certificate, plus Basic
auth; a charge point that does not trust the certificate cannot connect."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme
from tests.harness import csms

from csms.transport.basic_auth import hash_password


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
async def test_security_profile_2_over_tls(tmp_path: Path) -> None:
    authority = trustme.CA()
    server_cert = authority.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    server_cert.cert_chain_pems[0].write_to_path(cert)
    server_cert.private_key_pem.write_to_path(key)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)

    async with csms(tmp_path / "db.sqlite", tls_cert=cert, tls_key=key) as harness:
        await harness.store.save_charge_point(
            "TLS1",
            registration_status="Accepted",
            password_hash=hash_password("0123456789abcdef0123"),
            description=None,
        )
        url = harness.url.replace("ws://", "wss://")
        async with harness.charge_point(
            "TLS1", url=url, ssl=trusting, password="0123456789abcdef0123"
        ) as cp:
            assert (await cp.boot())["status"] == "Accepted"

        # Certificates are checked: a charge point that does not trust ours cannot connect.
        with pytest.raises(ssl.SSLCertVerificationError):
            async with harness.charge_point(
                "TLS1", url=url, ssl=ssl.create_default_context(), password="x" * 16
            ):
                pass
        # TLS older than 1.2 is refused (whitepaper 2.4).
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        authority.configure_trust(old)
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises(ssl.SSLError):
            async with harness.charge_point("TLS1", url=url, ssl=old, password="x" * 16):
                pass
