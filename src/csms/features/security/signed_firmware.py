"""Signed firmware update (security whitepaper 4, L01): SignedUpdateFirmware and the
SignedFirmwareStatusNotifications that follow it, on the firmware jobs of features/firmware/
(variant "SignedUpdateFirmware", kind firmware).

- The request names the image by the job's link (a hosted image, whose signature the CSMS
  checked on upload: firmware_signatures.py) or any location with a certificate and signature
  the operator gives (checked for form only: the CSMS does not have the file).
- The requestId is the job's id (a request sent through the generic command endpoint keeps its
  own): every notification names it (L01.FR.10) and so finds its job, also one that is not the
  newest (a replay of an older update arriving late). A notification without one (Idle,
  L01.FR.21) concerns the newest signed job.
- Installed succeeds; DownloadFailed, InvalidSignature, InstallationFailed and
  InstallVerificationFailed fail the job; the rest is progress (InstallRebooting: the charge
  point reboots, the job waits for it). Every notification moves the deadline (jobs.reported).
- The answer: Accepted starts the job; AcceptedCanceled too, and it ends the charge point's
  other running signed jobs (L01.FR.26); Rejected, InvalidCertificate and RevokedCertificate
  fail it with that reason.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from csms.features.commands import Sent, on_result
from csms.features.context import Context, Handler, Services
from csms.features.firmware.firmware import hosted_image, image_locator
from csms.features.firmware.jobs import (
    JobKind,
    accepted,
    cancel_others,
    failed,
    job_of_request,
    new_job,
    noted,
    open_job,
    reported,
    send_for_job,
    window_end,
    with_retries,
)
from csms.features.security.firmware_signatures import check_certificate, decode_signature
from csms.ocpp16 import Action
from csms.ocpp16.security_firmware_messages import (
    SignedFirmwareStatus,
    SignedFirmwareStatusNotificationRequest,
    SignedFirmwareStatusNotificationResponse,
    UpdateFirmwareStatus,
)
from csms.ocpp16.timestamps import format_timestamp, parse_timestamp
from csms.ocppj import CallResult
from csms.storage import FileJob, FileJobChange, Notification

log = logging.getLogger("csms.features.signed_firmware")

SIGNED: Final = "SignedUpdateFirmware"

_S = SignedFirmwareStatus
_FAILURES: Final = {
    _S.DOWNLOAD_FAILED: "the charge point reported DownloadFailed",
    _S.INVALID_SIGNATURE: "the charge point reported InvalidSignature: the firmware's signature"
    " did not verify",
    _S.INSTALLATION_FAILED: "the charge point reported InstallationFailed",
    _S.INSTALL_VERIFICATION_FAILED: "the charge point reported InstallVerificationFailed",
}
_STARTED: Final = frozenset({UpdateFirmwareStatus.ACCEPTED, UpdateFirmwareStatus.ACCEPTED_CANCELED})


class UnsignedFirmwareImage(ValueError):
    """A hosted image without a signing certificate and signature."""


def status_change(status: SignedFirmwareStatus, at: datetime, grace: int) -> FileJobChange:
    """What a SignedFirmwareStatusNotification means for its job."""
    if status == _S.IDLE:
        return noted(at, status, "not performing firmware update related tasks")
    return reported(
        status,
        at,
        grace=grace,
        success=status == _S.INSTALLED,
        failure=_FAILURES.get(status),
        detail="SignedFirmwareStatusNotification",
    )


async def signed_firmware_status_notification(
    ctx: Context, request: SignedFirmwareStatusNotificationRequest
) -> SignedFirmwareStatusNotificationResponse:
    """Whitepaper 5.19, L01.FR.01/10/21: always answered; recorded; the job of its requestId
    follows it (also after the reboot of InstallRebooting, and also when it comes late)."""
    now = ctx.now()
    status = SignedFirmwareStatus(request.status)
    store = ctx.store
    await store.record_notification(
        Notification(
            charge_point_id=ctx.charge_point_id,
            kind="signed_firmware",
            status=status,
            received_at=now,
        )
    )
    change = status_change(status, now, ctx.services.settings.file_job_grace)
    job: FileJob | None
    if request.request_id is None:
        job = await store.change_latest_file_job(
            ctx.charge_point_id, JobKind.FIRMWARE, change, variants=(SIGNED,)
        )
    else:
        job = await store.find_file_job(ctx.charge_point_id, JobKind.FIRMWARE, request.request_id)
        if job is not None:
            job = await store.change_file_job(job.id, change)
    if job is None and status != _S.IDLE:
        log.info(
            "%s: SignedFirmwareStatusNotification %s (requestId %s) without a job",
            ctx.charge_point_id,
            status,
            request.request_id,
        )
    return SignedFirmwareStatusNotificationResponse()


@on_result(Action.SIGNED_UPDATE_FIRMWARE)
async def _signed_update_firmware_answered(services: Services, sent: Sent) -> dict[str, Any]:
    """Whitepaper 5.22: the job is Accepted, or failed with the status refused. A request sent
    through the generic command endpoint gets its job here."""
    now = services.clock.now()
    assert isinstance(sent.response, CallResult)
    status = UpdateFirmwareStatus(sent.response.payload["status"])
    job = await _job_of(services, sent)
    detail = f"SignedUpdateFirmware.conf {status}"
    if status in _STARTED:
        changed = await services.store.change_file_job(job.id, accepted(now, detail=detail))
        if status == UpdateFirmwareStatus.ACCEPTED_CANCELED:
            reason = f"canceled by the charge point for the SignedUpdateFirmware of job {job.id}"
            await cancel_others(services, job, (SIGNED,), reason)
    else:
        reason = f"the charge point answered {status}"
        changed = await services.store.change_file_job(job.id, failed(now, reason, "Refused"))
    return {"job_id": (changed or job).id, "request_id": job.request_id}


async def _job_of(services: Services, sent: Sent) -> FileJob:
    """The job of a typed request not answered yet, else a new one for the generic command."""
    request = sent.request
    charge_point_id, request_id = sent.charge_point_id, request["requestId"]
    job = await job_of_request(services, charge_point_id, JobKind.FIRMWARE, request_id)
    if job is not None:
        return job
    now = services.clock.now()
    firmware = request["firmware"]
    retrieve = parse_timestamp(firmware["retrieveDateTime"]) or now
    retries, retry_interval = request.get("retries"), request.get("retryInterval")
    new = new_job(
        services,
        JobKind.FIRMWARE,
        charge_point_id,
        firmware["location"],
        window_end(max(retrieve, now), retries, retry_interval),
        retries=retries,
        retry_interval=retry_interval,
        retrieve_date=retrieve,
        variant=SIGNED,
        request_id=request_id,
    )
    return await open_job(services, new)


async def signed_update_firmware(
    services: Services,
    charge_point_id: str,
    *,
    image_id: int | None = None,
    location: str | None = None,
    signing_certificate: str | None = None,
    signature: str | None = None,
    retrieve_date: datetime | None = None,
    install_date: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    connect_timeout: float = 0.0,
) -> tuple[Sent, FileJob]:
    """Send SignedUpdateFirmware for a hosted signed image (a link of the job, its certificate
    and signature) or a `location` with the given certificate and signature, and return the
    answer with the job that follows it. Raises UnknownFirmwareImage, UnsignedFirmwareImage,
    SignatureRefused (a malformed certificate or signature), or CommandFailed when it could not
    be sent (the job is then Failed with that reason)."""
    now = services.clock.now()
    retrieve_date = retrieve_date or now
    end = window_end(max(retrieve_date, now), retries, retry_interval)
    locate = None
    if image_id is not None:
        image = await hosted_image(services, image_id)
        if image.signing_certificate is None or image.signature is None:
            raise UnsignedFirmwareImage(f"firmware image {image_id} is not signed")
        signing_certificate, signature = image.signing_certificate, image.signature
        locate = image_locator(services, charge_point_id, image, end)
    elif location is None or signing_certificate is None or signature is None:
        raise ValueError("an image id, or a location with a signing certificate and signature")
    check_certificate(signing_certificate, now)
    decode_signature(signature)
    new = new_job(
        services,
        JobKind.FIRMWARE,
        charge_point_id,
        location or "",
        end,
        retries=retries,
        retry_interval=retry_interval,
        retrieve_date=retrieve_date,
        image_id=image_id,
        variant=SIGNED,
    )
    job = await open_job(services, new, locate=locate)
    assert job.request_id is not None
    firmware: dict[str, Any] = {
        "location": job.location,
        "retrieveDateTime": format_timestamp(retrieve_date),
        "signingCertificate": signing_certificate,
        "signature": signature,
    }
    if install_date is not None:
        firmware["installDateTime"] = format_timestamp(install_date)
    payload = with_retries(
        {"requestId": job.request_id, "firmware": firmware}, retries, retry_interval
    )
    return await send_for_job(
        services, job, Action.SIGNED_UPDATE_FIRMWARE, payload, connect_timeout
    )


ROUTES: dict[str, Handler] = {
    Action.SIGNED_FIRMWARE_STATUS_NOTIFICATION: signed_firmware_status_notification,
}
