"""A firmware manufacturer for tests (security whitepaper 4): a signing key with its
self-signed certificate (PEM), and the Base64 signature of a file with SHA-256 (ECDSA P-256,
or RSA PKCS #1 v1.5 / PSS)."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

KeyKind = Literal["ec", "rsa", "rsa-pss", "rsa-1024"]


@dataclass(frozen=True)
class FirmwareSigner:
    kind: KeyKind
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate_pem: str

    def sign(self, data: bytes) -> str:
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            signature = self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        elif self.kind == "rsa-pss":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            signature = self.key.sign(data, pss, hashes.SHA256())
        else:
            signature = self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")


def make_signer(
    kind: KeyKind = "ec", *, not_before: datetime | None = None, days: int = 365
) -> FirmwareSigner:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if kind == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = _rsa_key(1024 if kind == "rsa-1024" else 2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Manufacturer"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Firmware Signing"),
        ]
    )
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return FirmwareSigner(kind, key, pem)


@functools.cache
def _rsa_key(bits: int) -> rsa.RSAPrivateKey:
    # Generating RSA keys is slow: one per size for the whole run.
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)
