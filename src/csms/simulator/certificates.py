"""The charge point side of the security whitepaper's certificate management (A02, A05, M03-M05)
for the simulator: a key pair and a CSR of its own (the private key never leaves it, A02.FR.05),
the signed certificate checked and installed (A02.FR.06/07), root certificates installed,
listed by their OCPP hash data and deleted, and a TLS context with its client certificate
(profile 3). The answers are plain functions of the charge point's state, like answers.py.
"""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from csms.ocpp16 import from_payload, to_payload
from csms.ocpp16.certificate_hash import hash_data, same_certificate
from csms.ocpp16.certificate_messages import CertificateHashData, HashAlgorithm

if TYPE_CHECKING:
    from csms.simulator.state import ChargePointState

Payload = dict[str, Any]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass
class CertificateState:
    """What the charge point keeps of certificates (its own and the roots it trusts)."""

    # certificateType -> PEM root certificates installed
    roots: dict[str, list[str]] = field(default_factory=dict)
    # The hash algorithm it reports installed certificates with (TC_076's configured one).
    hash_algorithm: HashAlgorithm = HashAlgorithm.SHA256
    # The key of its last CSR, waiting for the certificate (A02.FR.02).
    pending_key: PrivateKey | None = None
    # Its client certificate chain (PEM) and the key of the leaf.
    certificate_chain: str | None = None
    key: PrivateKey | None = None
    # CertificateSigned is answered Rejected (TC_077: the charge point finds it invalid).
    reject_signed: bool = False

    @property
    def certificate(self) -> x509.Certificate | None:
        if self.certificate_chain is None:
            return None
        return x509.load_pem_x509_certificates(self.certificate_chain.encode())[0]


def make_csr(
    charge_point_id: str,
    *,
    organization: str | None = None,
    key: PrivateKey | None = None,
    common_name: str | None = None,
) -> tuple[str, PrivateKey]:
    """A new key (EC P-256 unless given) and its PEM CSR, CN = the charge point id (A00.FR.511),
    O = CpoName (A02.FR.13)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.COMMON_NAME, common_name or charge_point_id)]
    if organization:
        names.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(names))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii"), key


def certificate_signed(state: ChargePointState, payload: Payload) -> Payload:
    """A02.FR.06/07: the leaf must be for the key of the last CSR and valid now."""
    own = state.certificates
    try:
        chain = x509.load_pem_x509_certificates(payload["certificateChain"].encode())
    except ValueError:
        return {"status": "Rejected"}
    leaf = chain[0]
    now = state.clock()
    if (
        own.reject_signed
        or own.pending_key is None
        or _public(leaf.public_key()) != _public(own.pending_key.public_key())
        or not leaf.not_valid_before_utc <= now.astimezone(UTC) <= leaf.not_valid_after_utc
    ):
        return {"status": "Rejected"}
    own.certificate_chain = payload["certificateChain"]
    own.key, own.pending_key = own.pending_key, None
    return {"status": "Accepted"}


def install_certificate(state: ChargePointState, payload: Payload) -> Payload:
    try:
        certificates = x509.load_pem_x509_certificates(payload["certificate"].encode())
    except ValueError:
        return {"status": "Rejected"}
    if len(certificates) != 1:
        return {"status": "Rejected"}
    state.certificates.roots.setdefault(payload["certificateType"], []).append(
        payload["certificate"]
    )
    return {"status": "Accepted"}


def installed_hash_data(state: ChargePointState, certificate_type: str) -> list[Payload]:
    algorithm = state.certificates.hash_algorithm
    return [
        to_payload(hash_data(x509.load_pem_x509_certificate(pem.encode()), algorithm))
        for pem in state.certificates.roots.get(certificate_type, [])
    ]


def get_installed_certificate_ids(state: ChargePointState, payload: Payload) -> Payload:
    found = installed_hash_data(state, payload["certificateType"])
    if not found:
        return {"status": "NotFound"}
    return {"status": "Accepted", "certificateHashData": found}


def delete_certificate(state: ChargePointState, payload: Payload) -> Payload:
    target = from_payload(CertificateHashData, payload["certificateHashData"])
    for pems in state.certificates.roots.values():
        for pem in list(pems):
            certificate = x509.load_pem_x509_certificate(pem.encode())
            if same_certificate(hash_data(certificate, target.hash_algorithm), target):
                pems.remove(pem)
                return {"status": "Accepted"}
    return {"status": "NotFound"}


def may_raise_profile(state: ChargePointState, value: str) -> bool:
    """A05.FR.01-04: only upward, with a password for 1-2, a Central System root for 2-3 and
    a client certificate for 3."""
    try:
        new = int(value)
    except ValueError:
        return False
    current = int(state.config_value("SecurityProfile") or "0")
    if new <= current or new > 3:
        return False
    if new in (1, 2) and state.config_value("AuthorizationKey") in (None, ""):
        return False
    if new >= 2 and not state.certificates.roots.get("CentralSystemRootCertificate"):
        return False
    return new != 3 or state.certificates.certificate_chain is not None


def client_context(own: CertificateState, trusted: str | None = None) -> ssl.SSLContext:
    """A TLS client context presenting the charge point's certificate (profile 3), trusting
    `trusted` (PEM) or its installed Central System roots."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    roots = trusted or "".join(own.roots.get("CentralSystemRootCertificate", []))
    context.load_verify_locations(cadata=roots)
    if own.certificate_chain is not None and own.key is not None:
        with tempfile.TemporaryDirectory(prefix="csms-sim-") as directory:
            chain, key = Path(directory) / "chain.pem", Path(directory) / "key.pem"
            chain.write_text(own.certificate_chain)
            key.write_bytes(
                own.key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            context.load_cert_chain(chain, key)
    return context


def _public(key: object) -> bytes:
    assert isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
