"""Samples of the security whitepaper's certificate and security event messages (see
samples.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from csms.ocpp16.certificate_messages import (
    CertificateHashData,
    CertificateSignedRequest,
    CertificateSignedResponse,
    CertificateSignedStatus,
    CertificateUse,
    DeleteCertificateRequest,
    DeleteCertificateResponse,
    DeleteCertificateStatus,
    GenericStatus,
    GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse,
    GetInstalledCertificateStatus,
    HashAlgorithm,
    InstallCertificateRequest,
    InstallCertificateResponse,
    InstallCertificateStatus,
    SecurityEventNotificationRequest,
    SecurityEventNotificationResponse,
    SignCertificateRequest,
    SignCertificateResponse,
)

NOW = datetime(2026, 5, 4, 10, 30, 0, 125000, tzinfo=UTC)
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
HASH_DATA = CertificateHashData(
    hash_algorithm=HashAlgorithm.SHA256,
    issuer_name_hash="a1" * 32,
    issuer_key_hash="b2" * 32,
    serial_number="0f3c",
)

CERTIFICATE_SAMPLES: list[object] = [
    SecurityEventNotificationRequest(
        type="InvalidCentralSystemCertificate", timestamp=NOW, tech_info="expired"
    ),
    SecurityEventNotificationRequest(type="StartupOfTheDevice", timestamp=NOW),
    SecurityEventNotificationResponse(),
    SignCertificateRequest(csr="-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n"),
    SignCertificateResponse(status=GenericStatus.REJECTED),
    CertificateSignedRequest(certificate_chain=PEM),
    CertificateSignedResponse(status=CertificateSignedStatus.ACCEPTED),
    InstallCertificateRequest(
        certificate_type=CertificateUse.MANUFACTURER_ROOT_CERTIFICATE, certificate=PEM
    ),
    InstallCertificateResponse(status=InstallCertificateStatus.FAILED),
    DeleteCertificateRequest(certificate_hash_data=HASH_DATA),
    DeleteCertificateResponse(status=DeleteCertificateStatus.NOT_FOUND),
    GetInstalledCertificateIdsRequest(
        certificate_type=CertificateUse.CENTRAL_SYSTEM_ROOT_CERTIFICATE
    ),
    GetInstalledCertificateIdsResponse(
        status=GetInstalledCertificateStatus.ACCEPTED, certificate_hash_data=[HASH_DATA]
    ),
    GetInstalledCertificateIdsResponse(status=GetInstalledCertificateStatus.NOT_FOUND),
]
