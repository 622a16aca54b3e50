"""Bad input gets a clear refusal, never a crash (docs/field-behaviour.md): CSRs that are not
PEM, with a forged signature, an RSA-PSS signature, a short key or another CN are answered
SignCertificate Rejected (nothing is issued); a CSR over the schema's size is a CALLERROR;
certificates an operator uploads that are malformed, not a CA or expired get a 422 naming the
field, and nothing is sent. Security events are confirmed and critical ones flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from tests.harness import Harness

from csms.simulator.certificates import make_csr


def _pss_csr(charge_point_id: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, charge_point_id)])
    )
    csr = builder.sign(
        key,
        hashes.SHA256(),
        rsa_padding=padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def _forged_csr(charge_point_id: str) -> str:
    csr, _ = make_csr(charge_point_id)
    der = bytearray(x509.load_pem_x509_csr(csr.encode()).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0xFF  # inside the signature
    forged = x509.load_der_x509_csr(bytes(der))
    return forged.public_bytes(serialization.Encoding.PEM).decode()


BAD_CSRS: dict[str, Any] = {
    "not PEM": lambda cp_id: "hello",
    "truncated": lambda cp_id: make_csr(cp_id)[0][:200],
    "forged signature": _forged_csr,
    "RSA-PSS": _pss_csr,
    "short RSA key": lambda cp_id: make_csr(
        cp_id, key=rsa.generate_private_key(public_exponent=65537, key_size=1024)
    )[0],
    "small curve": lambda cp_id: make_csr(cp_id, key=ec.generate_private_key(ec.SECP192R1()))[0],
    "another CN": lambda cp_id: make_csr(cp_id, common_name="CP-OTHER")[0],
    "CRLF but another CN": lambda cp_id: make_csr(cp_id, common_name="X")[0].replace("\n", "\r\n"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSRS))
async def test_a_bad_csr_is_rejected(harness: Harness, case: str) -> None:
    async with harness.charge_point("CSR1") as cp:
        await cp.boot()
        try:
            csr = BAD_CSRS[case](cp.charge_point_id)
        except ValueError:
            pytest.skip(f"this OpenSSL cannot make a {case} CSR")
        assert await cp.call("SignCertificate", {"csr": csr}) == {"status": "Rejected"}
        assert (await cp.heartbeat())["currentTime"]
        cp.no_unexpected_calls()  # no CertificateSigned
    assert await harness.store.issued_certificates("CSR1") == []


async def test_a_csr_with_crlf_line_breaks_is_accepted(harness: Harness) -> None:
    async with harness.charge_point("CSR2") as cp:
        await cp.boot()
        csr, cp.state.certificates.pending_key = make_csr("CSR2")
        answer = await cp.call("SignCertificate", {"csr": csr.replace("\n", "\r\n")})
        assert answer == {"status": "Accepted"}
        await cp.expect_call("CertificateSigned")


async def test_a_csr_too_long_for_the_schema_is_a_call_error(harness: Harness) -> None:
    async with harness.charge_point("CSR3", validate=False) as cp:
        await cp.boot()
        with pytest.raises(Exception, match="TypeConstraintViolation"):
            await cp.call("SignCertificate", {"csr": "A" * 5501})


def _expired_ca() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old root")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now - timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(
    ("certificate", "reason"),
    [
        ("not a certificate", "not a PEM X.509 certificate"),
        (trustme.CA().issue_cert("leaf.example").cert_chain_pems[0].bytes().decode(), "not a CA"),
        (_expired_ca(), "not valid now"),
        (trustme.CA().cert_pem.bytes().decode() * 2, "expected one certificate"),
    ],
)
async def test_a_bad_certificate_upload_is_422(
    harness: Harness, certificate: str, reason: str
) -> None:
    async with harness.charge_point("INST1") as cp:
        await cp.boot()
        response = await harness.api.post(
            "/charge-points/INST1/certificates/install",
            json={"certificateType": "CentralSystemRootCertificate", "certificate": certificate},
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith("certificate: ")
        assert reason in response.json()["detail"]
        assert (await cp.heartbeat())["currentTime"]
        cp.no_unexpected_calls()


async def test_bad_delete_and_upgrade_requests_are_422(harness: Harness) -> None:
    async with harness.charge_point("DEL1") as cp:
        await cp.boot()
        both: dict[str, Any] = {
            "installedId": 1,
            "certificateHashData": {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "aa",
                "issuerKeyHash": "bb",
                "serialNumber": "01",
            },
        }
        response = await harness.api.post("/charge-points/DEL1/certificates/delete", json=both)
        assert response.status_code == 422
        response = await harness.api.post(
            "/charge-points/DEL1/certificates/delete",
            json={"certificateHashData": {**both["certificateHashData"], "serialNumber": "xyz"}},
        )
        assert response.status_code == 422
        # Profile 2 needs TLS, which this CSMS does not have; and never downward.
        response = await harness.api.post(
            "/charge-points/DEL1/security-profile/upgrade", json={"securityProfile": 2}
        )
        assert response.status_code == 422
        assert "needs TLS" in response.json()["detail"]
        cp.no_unexpected_calls()


async def test_security_events_are_confirmed_and_critical_ones_flagged(harness: Harness) -> None:
    async with harness.charge_point("SEC1") as cp:
        await cp.boot()
        assert await cp.security_event("TamperDetectionActivated", "door open") == {}
        assert await cp.security_event("InvalidMessages") == {}
        assert await cp.security_event("VendorSpecificThing", "x" * 255) == {}
        # The same critical type again while its alert is active: no second alert.
        assert await cp.security_event("TamperDetectionActivated", "door open again") == {}
    listed = (await harness.api.get("/charge-points/SEC1/security-events")).json()
    assert [(e["type"], e["critical"]) for e in listed] == [
        ("TamperDetectionActivated", True),
        ("VendorSpecificThing", False),
        ("InvalidMessages", False),
        ("TamperDetectionActivated", True),
    ]
    alerts = (await harness.api.get("/alerts", params={"active": "true"})).json()
    raised = [a for a in alerts if a["kind"] == "security_event"]
    assert [(a["chargePointId"], a["subject"]) for a in raised] == [
        ("SEC1", "TamperDetectionActivated")
    ]
    assert "door open" in raised[0]["message"]
