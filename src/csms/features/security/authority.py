"""The CSMS's certificate authority for charge point certificates (whitepaper 2.6, A02/A03) and
the checks of what charge points and operators hand in (docs/security.md).

- `check_csr`: a SignCertificate CSR is PEM PKCS#10 (CRLF and percent-encoded line breaks
  tolerated, catalogue quirk 2.6-4), correctly self-signed, not RSA-PSS (OCTT refuses it, quirk
  2.6-2), with a key of at least 2048 bits (RSA, DSA) or 224 bits (EC) (A00.FR.502/503) and a
  subject CN equal to the charge point id (A00.FR.511: the CN names the charge point).
- `BuiltInAuthority`: a CA key and certificate made on first start in the data directory (or
  given as files); it issues client certificates (SHA-256, ECDSA or RSA PKCS#1 v1.5).
- `Signer`: what the CSMS hands a checked CSR to. The built-in authority is one; an external
  CA (A02.FR.04) is plugged in by giving Services another object with the same method.

The CA's private key is read here and nowhere else; it never appears in a log, an API answer
or an OCPP message. The charge point's private key never reaches the CSMS at all (A02.FR.05).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

log = logging.getLogger("csms.features.security")

MIN_RSA_BITS = 2048  # A00.FR.502 (RSA and DSA)
MIN_EC_BITS = 224  # A00.FR.503
CA_DIRECTORY = "ca"


class Refused(ValueError):
    """A CSR or certificate that is not acceptable; the message says why (safe to log)."""


def normalise_pem(text: str) -> str:
    """PEM as some chargers send it: CRLF or CR line breaks, percent-encoded breaks."""
    if "%0A" in text.upper():
        text = unquote(text)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"


def check_csr(pem: str, charge_point_id: str) -> x509.CertificateSigningRequest:
    """The CSR of a SignCertificate.req, or Refused with the reason."""
    try:
        csr = x509.load_pem_x509_csr(normalise_pem(pem).encode("utf-8", "surrogateescape"))
    except ValueError:
        raise Refused("not a PEM certificate signing request") from None
    if csr.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
        raise Refused("RSA-PSS signatures are not accepted; sign the CSR with SHA256withRSA")
    try:
        valid = csr.is_signature_valid
    except (UnsupportedAlgorithm, ValueError):
        valid = False
    if not valid:
        raise Refused("the CSR's signature does not verify")
    check_key(csr.public_key())
    common_name = _common_name(csr.subject)
    if common_name != charge_point_id:
        raise Refused(f"subject CN {common_name!r} is not the charge point id {charge_point_id!r}")
    return csr


def check_key(key: object) -> None:
    """A00.FR.501-503: RSA/DSA at least 2048 bits, EC at least 224 bits; nothing else."""
    if isinstance(key, rsa.RSAPublicKey | dsa.DSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise Refused(f"a {key.key_size}-bit key; at least {MIN_RSA_BITS} bits are required")
        return
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            raise Refused(f"a {key.curve.key_size}-bit curve; at least {MIN_EC_BITS} bits")
        return
    raise Refused(f"an unsupported key type ({type(key).__name__})")


def load_certificates(pem: str) -> list[x509.Certificate]:
    """Every certificate of a PEM text (at least one), or Refused."""
    try:
        found = x509.load_pem_x509_certificates(
            normalise_pem(pem).encode("utf-8", "surrogateescape")
        )
    except ValueError:
        raise Refused("not a PEM X.509 certificate") from None
    return found


def _common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def common_name(certificate: x509.Certificate) -> str | None:
    return _common_name(certificate.subject)


@dataclass(frozen=True, slots=True)
class Issued:
    certificate: x509.Certificate
    # The certificate chain sent in CertificateSigned.req: the leaf, then the issuer(s).
    chain_pem: str


class Signer(Protocol):
    """Signs a checked CSR for a charge point (the built-in CA, or an external one)."""

    async def sign(
        self, charge_point_id: str, csr: x509.CertificateSigningRequest, now: datetime
    ) -> Issued: ...


class BuiltInAuthority:
    """A CA key and self-signed certificate; issues charge point client certificates."""

    def __init__(
        self,
        certificate: x509.Certificate,
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
        *,
        validity_days: int = 365,
    ) -> None:
        self.certificate = certificate
        self._key = key
        self.validity_days = validity_days

    def __repr__(self) -> str:  # never the key
        return f"BuiltInAuthority({self.certificate.subject.rfc4514_string()!r})"

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    async def sign(
        self, charge_point_id: str, csr: x509.CertificateSigningRequest, now: datetime
    ) -> Issued:
        return self.issue(csr.subject, csr.public_key(), now)

    def issue(self, subject: x509.Name, public_key: object, now: datetime) -> Issued:
        """A client certificate for `public_key` (checked already) with `subject`."""
        assert isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
        key_usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
            data_encipherment=False,
            key_agreement=isinstance(public_key, ec.EllipticCurvePublicKey),
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        issuer_key = self.certificate.public_key()
        assert isinstance(issuer_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(_serial())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=self.validity_days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), critical=False
            )
            # SHA-256; an RSA CA key signs PKCS#1 v1.5 (SHA256withRSA), never PSS (quirk 2.6-2).
            .sign(self._key, hashes.SHA256())
        )
        chain = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return Issued(certificate, chain + self.certificate_pem)

    @classmethod
    def load_or_create(
        cls,
        data_dir: Path,
        now: datetime,
        *,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        validity_days: int = 365,
    ) -> BuiltInAuthority:
        """The CA of the given files, else of data_dir/ca/, made there on first start."""
        if cert_file is None or key_file is None:
            directory = data_dir / CA_DIRECTORY
            cert_file, key_file = directory / "ca.pem", directory / "ca.key"
            if not cert_file.exists():
                _create(directory, cert_file, key_file, now)
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError(f"{key_file}: the CA key must be RSA or EC")
        return cls(certificate, key, validity_days=validity_days)


def _serial() -> int:
    # Positive, at most 159 bits (RFC 5280 4.1.2.2: at most 20 octets).
    return secrets.randbits(159) | 1


def _create(directory: Path, cert_file: Path, key_file: Path, now: datetime) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CSMS"),
            x509.NameAttribute(NameOID.COMMON_NAME, "CSMS charge point CA"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    # The key file is readable by its owner only, written before the certificate that marks
    # the CA as made.
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    log.info("created the charge point CA in %s", directory)


_HEX = re.compile(r"^[0-9a-fA-F]+$")


def is_hex(text: str) -> bool:
    return bool(_HEX.match(text))
