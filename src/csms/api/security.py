"""Security whitepaper endpoints (docs/security.md): security events, the profile upgrade and
the AuthorizationKey change, certificates (install, list, delete, renew, revoke) and the CA's
certificate. No private key is ever part of an answer: the CSMS never has a charge point's,
and the CA's stays in its file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import Field, StringConstraints

from csms.api.commands import answer
from csms.api.deps import known_charge_point, services_of
from csms.api.models import Model
from csms.features.commands import Sent
from csms.features.security import certificates, profiles
from csms.features.security.authority import Refused
from csms.ocpp16 import to_payload
from csms.ocpp16.certificate_messages import CertificateHashData, CertificateUse, HashAlgorithm
from csms.storage.security_records import InstalledCertificate, IssuedCertificate, SecurityEvent

router = APIRouter(tags=["security"])

CertificateType = Literal["CentralSystemRootCertificate", "ManufacturerRootCertificate"]
Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]+$", max_length=128)]
ConnectTimeout = Annotated[
    float, Query(ge=0, le=600, description="Wait up to this many seconds for it to connect")
]


class SecurityEventOut(Model):
    id: int
    type: str
    timestamp: datetime
    tech_info: str | None
    critical: bool
    origin: str
    received_at: datetime

    @classmethod
    def of(cls, event: SecurityEvent) -> SecurityEventOut:
        assert event.id is not None
        return cls(
            id=event.id,
            type=event.type,
            timestamp=event.timestamp,
            tech_info=event.tech_info,
            critical=event.critical,
            origin=event.origin,
            received_at=event.received_at,
        )


class UpgradeIn(Model):
    security_profile: int = Field(ge=1, le=3)


class AuthorizationKeyIn(Model):
    # 16-20 printable characters; left out: the CSMS makes one (and never shows it).
    password: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{16,20}$")] | None = None


class InstallIn(Model):
    certificate_type: CertificateType
    certificate: str = Field(min_length=1, max_length=5500)


class InstalledIdsIn(Model):
    certificate_type: CertificateType


class HashDataIn(Model):
    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"]
    issuer_name_hash: Hex
    issuer_key_hash: Hex
    serial_number: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]+$", max_length=40)]


class DeleteIn(Model):
    """Either the id of an installed certificate the CSMS lists, or its hash data."""

    installed_id: int | None = None
    certificate_hash_data: HashDataIn | None = None


class RevokeIn(Model):
    reason: str | None = Field(default=None, max_length=200)


class IssuedOut(Model):
    serial_number: str
    subject: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    delivery: str | None
    revoked_at: datetime | None
    revocation_reason: str | None
    certificate: str  # PEM, public

    @classmethod
    def of(cls, issued: IssuedCertificate) -> IssuedOut:
        return cls(
            serial_number=issued.serial_number,
            subject=issued.subject,
            not_before=issued.not_before,
            not_after=issued.not_after,
            issued_at=issued.issued_at,
            delivery=issued.delivery,
            revoked_at=issued.revoked_at,
            revocation_reason=issued.revocation_reason,
            certificate=issued.pem,
        )


class InstalledOut(Model):
    id: int
    certificate_type: str
    certificate_hash_data: dict[str, str]
    subject: str | None
    recorded_at: datetime

    @classmethod
    def of(cls, installed: InstalledCertificate) -> InstalledOut:
        assert installed.id is not None
        return cls(
            id=installed.id,
            certificate_type=installed.certificate_type,
            certificate_hash_data=to_payload(_hash_data(installed)),
            subject=installed.subject,
            recorded_at=installed.recorded_at,
        )


class CertificatesOut(Model):
    issued: list[IssuedOut]
    installed: list[InstalledOut]


def _hash_data(installed: InstalledCertificate) -> CertificateHashData:
    return CertificateHashData(
        hash_algorithm=HashAlgorithm(installed.hash_algorithm),
        issuer_name_hash=installed.issuer_name_hash,
        issuer_key_hash=installed.issuer_key_hash,
        serial_number=installed.serial_number,
    )


def _with_details(sent: Sent) -> JSONResponse:
    response = answer(sent)
    if sent.details and response.status_code == status.HTTP_200_OK:
        return JSONResponse({**_body(sent), **sent.details})
    return response


def _body(sent: Sent) -> dict[str, Any]:
    payload = getattr(sent.response, "payload", {})
    return dict(payload)


def _refused(exc: Exception, field: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field}: {exc}")


CP = "/charge-points/{charge_point_id}"


@router.get(CP + "/security-events")
async def list_security_events(
    request: Request,
    charge_point_id: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(alias="beforeId", ge=1)] = None,
) -> list[SecurityEventOut]:
    """Security events of the charge point and the CSMS's own about it, newest first."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    found = await services.store.security_events(charge_point_id, limit=limit, before_id=before_id)
    return [SecurityEventOut.of(event) for event in found]


@router.post(CP + "/security-profile/upgrade")
async def upgrade_security_profile(
    request: Request, charge_point_id: str, body: UpgradeIn, connect_timeout: ConnectTimeout = 30.0
) -> JSONResponse:
    """ChangeConfiguration SecurityProfile then Reset Hard (whitepaper A05, TC_083); from the
    charge point's first connection with the new profile on the old one is refused."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    try:
        upgrade = await profiles.upgrade_profile(
            services, charge_point_id, body.security_profile, reconnect_timeout=connect_timeout
        )
    except profiles.ProfileChangeRefused as exc:
        raise _refused(exc, "securityProfile") from None
    return JSONResponse(
        {
            "changeConfiguration": _body(upgrade.change_configuration),
            "reset": None if upgrade.reset is None else _body(upgrade.reset),
            "securityProfile": await profiles.profile_of(services, charge_point_id),
        }
    )


@router.post(CP + "/authorization-key")
async def change_authorization_key(
    request: Request, charge_point_id: str, body: AuthorizationKeyIn
) -> JSONResponse:
    """A new Basic-auth password sent as AuthorizationKey (whitepaper A01, TC_073); once
    Accepted the old one is refused. The password is never shown or logged."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    sent = await profiles.change_authorization_key(services, charge_point_id, body.password)
    return answer(sent)


@router.get(CP + "/certificates")
async def list_certificates(request: Request, charge_point_id: str) -> CertificatesOut:
    """The certificates the CA issued to it and the root certificates it has installed."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    store = services.store
    return CertificatesOut(
        issued=[IssuedOut.of(c) for c in await store.issued_certificates(charge_point_id)],
        installed=[InstalledOut.of(c) for c in await store.installed_certificates(charge_point_id)],
    )


@router.post(CP + "/certificates/install")
async def install_certificate(
    request: Request, charge_point_id: str, body: InstallIn, connect_timeout: ConnectTimeout = 0.0
) -> JSONResponse:
    """InstallCertificate (whitepaper M05): a root CA certificate in PEM, checked first (422)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    try:
        sent = await certificates.install_certificate(
            services, charge_point_id, CertificateUse(body.certificate_type), body.certificate
        )
    except Refused as exc:
        raise _refused(exc, "certificate") from None
    return _with_details(sent)


@router.post(CP + "/certificates/installed-ids")
async def get_installed_certificate_ids(
    request: Request, charge_point_id: str, body: InstalledIdsIn
) -> JSONResponse:
    """GetInstalledCertificateIds (whitepaper M03); what it reports is kept."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    sent = await certificates.get_installed_certificate_ids(
        services, charge_point_id, CertificateUse(body.certificate_type)
    )
    return answer(sent)


@router.post(CP + "/certificates/delete")
async def delete_certificate(
    request: Request, charge_point_id: str, body: DeleteIn
) -> JSONResponse:
    """DeleteCertificate (whitepaper M04) by an installed certificate's id (its hash data as the
    charge point reported it, M04.FR.07) or by hash data given."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    if (body.installed_id is None) == (body.certificate_hash_data is None):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "give one of installedId and certificateHashData",
        )
    if body.certificate_hash_data is not None:
        given = body.certificate_hash_data
        data = CertificateHashData(
            hash_algorithm=HashAlgorithm(given.hash_algorithm),
            issuer_name_hash=given.issuer_name_hash,
            issuer_key_hash=given.issuer_key_hash,
            serial_number=given.serial_number,
        )
    else:
        installed = [
            c
            for c in await services.store.installed_certificates(charge_point_id)
            if c.id == body.installed_id
        ]
        if not installed:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"installedId: no certificate {body.installed_id}"
            )
        data = _hash_data(installed[0])
    sent = await certificates.delete_certificate(services, charge_point_id, data)
    return answer(sent)


@router.post(CP + "/certificates/renew")
async def renew_certificate(request: Request, charge_point_id: str) -> JSONResponse:
    """ExtendedTriggerMessage SignChargePointCertificate (whitepaper A02, TC_074): the charge
    point makes a new key and CSR, which the CA signs."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    return answer(await certificates.request_renewal(services, charge_point_id))


@router.post("/certificates/{serial_number}/revoke")
async def revoke_certificate(request: Request, serial_number: str, body: RevokeIn) -> IssuedOut:
    """Revoke a certificate the CA issued: it opens no connection from now on, and one open
    with it is closed."""
    services = services_of(request)
    revoked = await certificates.revoke(services, serial_number, body.reason)
    if revoked is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no certificate {serial_number!r} issued")
    return IssuedOut.of(revoked)


@router.get("/certificate-authority")
async def certificate_authority(request: Request) -> dict[str, Any]:
    """The CA's certificate (PEM): what a charge point's TLS client certificate chains to."""
    authority = services_of(request).authority
    if authority is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no built-in certificate authority")
    return {
        **certificates.describe(authority.certificate),
        "certificate": authority.certificate_pem,
    }
