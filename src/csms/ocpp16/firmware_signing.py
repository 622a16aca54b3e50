"""The signature of a signed firmware image (security whitepaper 4, L01.FR.04/09/12; hashes
A00.FR.506): one of the signing certificate's key over the whole file with SHA-256, RSA (PKCS #1
v1.5 or PSS) or ECDSA. Pure, no I/O: shared by the CSMS (features/security/firmware_signatures,
which adds its policy) and the simulated charge point (simulator/signed_firmware)."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed


def load_certificate(pem: str) -> x509.Certificate:
    """The PEM X.509 certificate; ValueError if it is not one (or its key is unsupported)."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("utf-8", "surrogatepass"))
        certificate.public_key()
    except UnsupportedAlgorithm as exc:
        raise ValueError(str(exc)) from None
    return certificate


def signature_matches(
    key: CertificatePublicKeyTypes, signature: bytes, sha256_digest: bytes
) -> bool:
    """Whether `signature` is one of `key` over the file whose SHA-256 is `sha256_digest`."""
    prehashed = Prehashed(hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePublicKey):
        try:
            key.verify(signature, sha256_digest, ec.ECDSA(prehashed))
        except InvalidSignature:
            return False
        return True
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    for scheme in (padding.PKCS1v15(), pss):
        try:
            key.verify(signature, sha256_digest, scheme, prehashed)
        except InvalidSignature:
            continue
        return True
    return False
