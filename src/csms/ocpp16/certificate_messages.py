"""Security whitepaper messages of certificate management and security events (whitepaper
edition 3, sections 4-6 and the JSON schemas `urn:OCPP:Cp:1.6:2020:3:*` shipped with the PyPI
`ocpp` package), typed like the 1.6 ones (conventions of `csms.ocpp16.types`).

Charge point -> CSMS: SecurityEventNotification, SignCertificate. CSMS -> charge point:
CertificateSigned, InstallCertificate, DeleteCertificate, GetInstalledCertificateIds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class GenericStatus(StrEnum):
    """Whitepaper GenericStatusEnumType (SignCertificate.conf)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class CertificateSignedStatus(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class CertificateUse(StrEnum):
    """Which root certificate store an InstallCertificate or GetInstalledCertificateIds is
    about (whitepaper CertificateUseEnumType)."""

    CENTRAL_SYSTEM_ROOT_CERTIFICATE = "CentralSystemRootCertificate"
    MANUFACTURER_ROOT_CERTIFICATE = "ManufacturerRootCertificate"


class InstallCertificateStatus(StrEnum):
    ACCEPTED = "Accepted"
    FAILED = "Failed"
    REJECTED = "Rejected"


class DeleteCertificateStatus(StrEnum):
    ACCEPTED = "Accepted"
    FAILED = "Failed"
    NOT_FOUND = "NotFound"


class GetInstalledCertificateStatus(StrEnum):
    ACCEPTED = "Accepted"
    NOT_FOUND = "NotFound"


class HashAlgorithm(StrEnum):
    SHA256 = "SHA256"
    SHA384 = "SHA384"
    SHA512 = "SHA512"


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateHashData:
    """Whitepaper CertificateHashDataType: identifies one certificate by the hashes of its
    issuer's name and public key and its serial number (hex)."""

    hash_algorithm: HashAlgorithm
    issuer_name_hash: str  # hex, at most 128 characters
    issuer_key_hash: str  # hex, at most 128 characters
    serial_number: str  # hex, at most 40 characters


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEventNotificationRequest:
    type: str  # at most 50 characters; the whitepaper's list or a vendor's own
    timestamp: datetime
    tech_info: str | None = None  # at most 255 characters


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEventNotificationResponse:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SignCertificateRequest:
    csr: str  # PEM PKCS#10, at most 5500 characters


@dataclass(frozen=True, slots=True, kw_only=True)
class SignCertificateResponse:
    status: GenericStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateSignedRequest:
    certificate_chain: str  # PEM, at most 10000 characters


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateSignedResponse:
    status: CertificateSignedStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallCertificateRequest:
    certificate_type: CertificateUse
    certificate: str  # PEM, at most 5500 characters


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallCertificateResponse:
    status: InstallCertificateStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteCertificateRequest:
    certificate_hash_data: CertificateHashData


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteCertificateResponse:
    status: DeleteCertificateStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class GetInstalledCertificateIdsRequest:
    certificate_type: CertificateUse


@dataclass(frozen=True, slots=True, kw_only=True)
class GetInstalledCertificateIdsResponse:
    status: GetInstalledCertificateStatus
    certificate_hash_data: list[CertificateHashData] | None = None
