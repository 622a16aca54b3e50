"""Checking a signed firmware image (security whitepaper 4, L01.FR.04/09/11/12; key sizes
A00.FR.501-503, hashes A00.FR.506): the signing certificate is a PEM X.509 certificate with an
RSA key of at least 2048 bits or an elliptic-curve key of at least 224 bits, valid now, and the
signature (Base64) is one of that key over the whole file with SHA-256 (ocpp16/firmware_signing:
RSA PKCS #1 v1.5 or PSS, or ECDSA). Pure: no I/O; the caller gives the file's SHA-256 digest.

Each refusal is a `SignatureRefused` naming the field it is about ("signingCertificate",
"signature"), so that the API answers 422 with it (docs/signed-firmware.md).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from csms.ocpp16.firmware_signing import load_certificate, signature_matches

# The whitepaper's field sizes (FirmwareType, whitepaper 6.9).
MAX_CERTIFICATE_LENGTH: Final = 5500
MAX_SIGNATURE_LENGTH: Final = 800
# A00.FR.502/503: security equivalent to 112 symmetric bits.
MIN_RSA_BITS: Final = 2048
MIN_EC_BITS: Final = 224


class SignatureRefused(ValueError):
    """A signing certificate or signature the CSMS will not send; `field` names which."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningCertificate:
    """What the CSMS shows of a checked signing certificate."""

    subject: str
    not_after: datetime


def check_certificate(pem: str, now: datetime) -> x509.Certificate:
    """The signing certificate, if it is one the whitepaper allows and valid at `now`."""
    field = "signingCertificate"
    if len(pem) > MAX_CERTIFICATE_LENGTH:
        raise SignatureRefused(field, f"longer than {MAX_CERTIFICATE_LENGTH} characters")
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise SignatureRefused(field, "not a PEM encoded X.509 certificate")
    try:
        certificate = load_certificate(pem)
    except ValueError as exc:
        raise SignatureRefused(field, f"not a readable X.509 certificate ({exc})") from None
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise SignatureRefused(field, f"RSA key of {key.key_size} bits, under {MIN_RSA_BITS}")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            raise SignatureRefused(
                field, f"elliptic-curve key of {key.curve.key_size} bits, under {MIN_EC_BITS}"
            )
    else:
        raise SignatureRefused(field, "the key is neither RSA nor elliptic-curve")
    if now < certificate.not_valid_before_utc:
        raise SignatureRefused(field, f"not valid before {certificate.not_valid_before_utc}")
    if now > certificate.not_valid_after_utc:
        raise SignatureRefused(field, f"expired at {certificate.not_valid_after_utc}")
    return certificate


def decode_signature(text: str) -> bytes:
    """The signature's bytes from its Base64 text."""
    field = "signature"
    if len(text) > MAX_SIGNATURE_LENGTH:
        raise SignatureRefused(field, f"longer than {MAX_SIGNATURE_LENGTH} characters")
    try:
        signature = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise SignatureRefused(field, "not Base64") from None
    if not signature:
        raise SignatureRefused(field, "empty")
    return signature


def verify_firmware(
    sha256_digest: bytes, certificate_pem: str, signature_text: str, now: datetime
) -> SigningCertificate:
    """Check that `signature_text` signs the file whose SHA-256 is `sha256_digest` with the key
    of `certificate_pem`; SignatureRefused (naming the field) if not."""
    certificate = check_certificate(certificate_pem, now)
    signature = decode_signature(signature_text)
    if not signature_matches(certificate.public_key(), signature, sha256_digest):
        raise SignatureRefused(
            "signature", "does not verify against the file with the signing certificate's key"
        )
    return SigningCertificate(
        subject=certificate.subject.rfc4514_string(), not_after=certificate.not_valid_after_utc
    )
