"""certificateHashData of OCPP (whitepaper 6.1, as in OCSP, RFC 6960 4.1.1): the hashes of the
issuer's DER-encoded name and of the issuer's public key (the subjectPublicKey BIT STRING's
value), and the serial number in hexadecimal. No I/O; shared by the CSMS
(features/security/) and the simulator."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from csms.ocpp16.certificate_messages import CertificateHashData, HashAlgorithm

_ALGORITHMS: dict[HashAlgorithm, type[hashes.HashAlgorithm]] = {
    HashAlgorithm.SHA256: hashes.SHA256,
    HashAlgorithm.SHA384: hashes.SHA384,
    HashAlgorithm.SHA512: hashes.SHA512,
}


def serial_hex(certificate: x509.Certificate) -> str:
    """The serial number as OCPP writes it: hexadecimal, no 0x, no leading zeroes."""
    return format(certificate.serial_number, "x")


def _digest(algorithm: HashAlgorithm, data: bytes) -> str:
    digest = hashes.Hash(_ALGORITHMS[algorithm]())
    digest.update(data)
    return digest.finalize().hex()


def public_key_bits(key: object) -> bytes:
    """The value of a subjectPublicKey BIT STRING (what OCSP's issuerKeyHash hashes)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    raise ValueError(f"no OCPP hash data for a {type(key).__name__}")


def hash_data(
    certificate: x509.Certificate,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
    issuer: x509.Certificate | None = None,
) -> CertificateHashData:
    """The hash data of `certificate`; its issuer's key is its own when it is self-signed (a
    root) and `issuer` is not given."""
    issuer_key = (issuer or certificate).public_key()
    return CertificateHashData(
        hash_algorithm=algorithm,
        issuer_name_hash=_digest(algorithm, certificate.issuer.public_bytes()),
        issuer_key_hash=_digest(algorithm, public_key_bits(issuer_key)),
        serial_number=serial_hex(certificate),
    )


def same_certificate(a: CertificateHashData, b: CertificateHashData) -> bool:
    """Whether two hash data name the same certificate (same algorithm; hex in any case, serial
    numbers with or without leading zeroes)."""
    return (
        a.hash_algorithm == b.hash_algorithm
        and a.issuer_name_hash.lower() == b.issuer_name_hash.lower()
        and a.issuer_key_hash.lower() == b.issuer_key_hash.lower()
        and a.serial_number.lower().lstrip("0") == b.serial_number.lower().lstrip("0")
    )
