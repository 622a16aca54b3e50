"""Certificate management (whitepaper A02/A03, M03-M05; docs/security.md).

- SignCertificate.req (A02.FR.11/12): the CSR is checked (authority.check_csr); Accepted when it
  passes and a signer is configured, else Rejected with the reason logged. Once the answer is
  sent (Context.after_reply) the signer signs it, the CSMS stores the certificate and sends it
  in CertificateSigned.req; the answer is stored with it.
- InstallCertificate (M05): a root certificate, checked before it is sent (PEM, a CA, not
  expired); Accepted: kept as installed, with its SHA-256 hash data.
- GetInstalledCertificateIds (M03): what the charge point reports replaces what was kept of
  that type.
- DeleteCertificate (M04): by the hash data the charge point reported (M04.FR.07: the
  algorithm it used); Accepted: no longer kept as installed.
- Revocation: an issued certificate revoked by the operator no longer opens a connection, and
  a connection open with it is closed (profiles.py checks it at the handshake).
- Renewal outside certification mode is an operator trigger (`request_renewal`, an
  ExtendedTriggerMessage SignChargePointCertificate), not a task of its own.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from cryptography import x509

from csms.features import commands
from csms.features.commands import Sent, on_result
from csms.features.context import Context, Handler, Services
from csms.features.security.authority import (
    Refused,
    check_csr,
    common_name,
    load_certificates,
)
from csms.ocpp16 import Action, from_payload, to_payload
from csms.ocpp16.certificate_hash import hash_data, serial_hex
from csms.ocpp16.certificate_messages import (
    CertificateHashData,
    CertificateUse,
    GenericStatus,
    SignCertificateRequest,
    SignCertificateResponse,
)
from csms.ocppj import CallResult
from csms.storage.security_records import InstalledCertificate, IssuedCertificate

log = logging.getLogger("csms.features.security")


async def sign_certificate(
    ctx: Context, request: SignCertificateRequest
) -> SignCertificateResponse:
    services = ctx.services
    if services.signer is None:
        log.warning("%s: SignCertificate Rejected: no certificate authority", ctx.charge_point_id)
        return SignCertificateResponse(status=GenericStatus.REJECTED)
    try:
        csr = check_csr(request.csr, ctx.charge_point_id)
    except Refused as refused:
        log.warning("%s: SignCertificate Rejected: %s", ctx.charge_point_id, refused)
        return SignCertificateResponse(status=GenericStatus.REJECTED)
    charge_point_id = ctx.charge_point_id

    async def deliver() -> None:
        await issue_and_send(services, charge_point_id, csr)

    ctx.after_reply(deliver)
    return SignCertificateResponse(status=GenericStatus.ACCEPTED)


async def issue_and_send(
    services: Services, charge_point_id: str, csr: x509.CertificateSigningRequest
) -> None:
    """Sign, store, send CertificateSigned.req (a follow-up: failures are logged)."""
    assert services.signer is not None
    now = services.clock.now()
    try:
        issued = await services.signer.sign(charge_point_id, csr, now)
    except Exception:
        log.exception("%s: the signer failed", charge_point_id)
        return
    certificate = issued.certificate
    await services.store.add_issued_certificate(
        IssuedCertificate(
            id=None,
            charge_point_id=charge_point_id,
            serial_number=serial_hex(certificate),
            subject=certificate.subject.rfc4514_string(),
            pem=issued.chain_pem.split("-----END CERTIFICATE-----")[0]
            + "-----END CERTIFICATE-----\n",
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            issued_at=now,
        )
    )
    log.info(
        "%s: issued certificate serial %s until %s",
        charge_point_id,
        serial_hex(certificate),
        certificate.not_valid_after_utc.isoformat(),
    )
    try:
        await commands.send(
            services,
            charge_point_id,
            Action.CERTIFICATE_SIGNED,
            {"certificateChain": issued.chain_pem},
        )
    except commands.CommandFailed as failed:
        log.warning("%s: CertificateSigned not delivered: %s", charge_point_id, failed)


def status_of(sent: Sent) -> str | None:
    """The `status` of the charge point's CALLRESULT (None for a CALLERROR)."""
    response = sent.response
    if isinstance(response, CallResult):
        status = response.payload.get("status")
        return status if isinstance(status, str) else None
    return None


@on_result(Action.CERTIFICATE_SIGNED)
async def _certificate_signed_answered(services: Services, sent: Sent) -> dict[str, Any] | None:
    status = status_of(sent)
    try:
        leaf = load_certificates(sent.request["certificateChain"])[0]
    except Refused:
        return None  # not one of ours (sent through the generic endpoint)
    if status is not None:
        await services.store.set_certificate_delivery(serial_hex(leaf), status)
    return {"serialNumber": serial_hex(leaf)}


# -- root certificates on the charge point ------------------------------------------------------


def check_root_certificate(pem: str, now: datetime) -> x509.Certificate:
    """One CA certificate in PEM, valid now; Refused otherwise (422 at the API)."""
    certificates = load_certificates(pem)
    if len(certificates) != 1:
        raise Refused(f"expected one certificate, found {len(certificates)}")
    certificate = certificates[0]
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        is_ca = constraints.value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise Refused("not a CA certificate (basicConstraints CA:TRUE is required)")
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise Refused("the certificate is not valid now (expired or not yet valid)")
    try:
        hash_data(certificate)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    return certificate


async def install_certificate(
    services: Services, charge_point_id: str, certificate_type: CertificateUse, pem: str
) -> Sent:
    """Check and send InstallCertificate.req (Refused before anything is sent)."""
    check_root_certificate(pem, services.clock.now())
    return await commands.send(
        services,
        charge_point_id,
        Action.INSTALL_CERTIFICATE,
        {"certificateType": str(certificate_type), "certificate": pem},
    )


@on_result(Action.INSTALL_CERTIFICATE)
async def _install_answered(services: Services, sent: Sent) -> dict[str, Any] | None:
    if status_of(sent) != "Accepted":
        return None
    try:
        certificate = load_certificates(sent.request["certificate"])[0]
        data = hash_data(certificate)
    except (Refused, ValueError):
        return None
    await services.store.add_installed_certificate(
        _installed(
            sent.charge_point_id,
            sent.request["certificateType"],
            data,
            services.clock.now(),
            pem=sent.request["certificate"],
            subject=certificate.subject.rfc4514_string(),
        )
    )
    return {"certificateHashData": to_payload(data)}


async def get_installed_certificate_ids(
    services: Services, charge_point_id: str, certificate_type: CertificateUse
) -> Sent:
    return await commands.send(
        services,
        charge_point_id,
        Action.GET_INSTALLED_CERTIFICATE_IDS,
        {"certificateType": str(certificate_type)},
    )


@on_result(Action.GET_INSTALLED_CERTIFICATE_IDS)
async def _installed_ids_answered(services: Services, sent: Sent) -> dict[str, Any] | None:
    status = status_of(sent)
    if status not in ("Accepted", "NotFound"):
        return None
    assert isinstance(sent.response, CallResult)
    reported = sent.response.payload.get("certificateHashData") or []
    now = services.clock.now()
    rows = [
        _installed(
            sent.charge_point_id,
            sent.request["certificateType"],
            from_payload(CertificateHashData, item),
            now,
        )
        for item in (reported if status == "Accepted" else [])
    ]
    await services.store.replace_installed_certificates(
        sent.charge_point_id, sent.request["certificateType"], rows
    )
    return None


async def delete_certificate(
    services: Services, charge_point_id: str, data: CertificateHashData
) -> Sent:
    return await commands.send(
        services,
        charge_point_id,
        Action.DELETE_CERTIFICATE,
        {"certificateHashData": to_payload(data)},
    )


@on_result(Action.DELETE_CERTIFICATE)
async def _delete_answered(services: Services, sent: Sent) -> dict[str, Any] | None:
    if status_of(sent) not in ("Accepted", "NotFound"):
        return None
    data = sent.request["certificateHashData"]
    removed = await services.store.remove_installed_certificate(
        sent.charge_point_id,
        data["issuerNameHash"].lower(),
        data["issuerKeyHash"].lower(),
        data["serialNumber"].lower(),
    )
    return {"removed": removed}


def _installed(
    charge_point_id: str,
    certificate_type: str,
    data: CertificateHashData,
    at: datetime,
    *,
    pem: str | None = None,
    subject: str | None = None,
) -> InstalledCertificate:
    # Kept in lower case: the charge point's report and the DeleteCertificate match by value.
    return InstalledCertificate(
        id=None,
        charge_point_id=charge_point_id,
        certificate_type=certificate_type,
        hash_algorithm=str(data.hash_algorithm),
        issuer_name_hash=data.issuer_name_hash.lower(),
        issuer_key_hash=data.issuer_key_hash.lower(),
        serial_number=data.serial_number.lower(),
        pem=pem,
        subject=subject,
        recorded_at=at,
    )


# -- issued certificates ----------------------------------------------------------------------


async def revoke(
    services: Services, serial_number: str, reason: str | None
) -> IssuedCertificate | None:
    """Revoke an issued certificate; a connection open with it is closed."""
    revoked = await services.store.revoke_certificate(
        serial_number.lower(), at=services.clock.now(), reason=reason
    )
    if revoked is None:
        return None
    log.warning(
        "%s: certificate serial %s revoked%s",
        revoked.charge_point_id,
        revoked.serial_number,
        f": {reason}" if reason else "",
    )
    connection = services.registry.get(revoked.charge_point_id)
    if connection is not None and connection.client_certificate_serial == revoked.serial_number:
        await connection.close(1008, "certificate revoked")
    return revoked


async def request_renewal(services: Services, charge_point_id: str) -> Sent:
    """Ask the charge point for a new CSR (whitepaper A02, ExtendedTriggerMessage
    SignChargePointCertificate, connectorId omitted: TC_074). The SignCertificate.req it sends
    is answered and signed as any other."""
    return await commands.send(
        services,
        charge_point_id,
        "ExtendedTriggerMessage",
        {"requestedMessage": "SignChargePointCertificate"},
    )


def describe(certificate: x509.Certificate) -> dict[str, Any]:
    """What the API shows of a certificate (never a key)."""
    return {
        "subject": certificate.subject.rfc4514_string(),
        "commonName": common_name(certificate),
        "serialNumber": serial_hex(certificate),
        "notBefore": certificate.not_valid_before_utc,
        "notAfter": certificate.not_valid_after_utc,
    }


ROUTES: dict[str, Handler] = {Action.SIGN_CERTIFICATE: sign_certificate}
