"""Firmware Management, firmware half: UpdateFirmware (spec 5.19) and the
FirmwareStatusNotifications that report its progress (spec 4.5, errata 3.12 / 3.47).

The CSMS may host the image itself (files/): the charge point then gets a signed link of the
job, valid from the request until `file_link_ttl` seconds after the last attempt the request
allows (retrieveDate + retries * retryInterval). A download through an expired link is refused
and fails the job with that reason; the DownloadFailed that follows keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from csms.features.commands import Sent, on_result
from csms.features.context import Context, Handler, Services
from csms.features.firmware.jobs import (
    JobKind,
    JobStep,
    accepted,
    event,
    failed,
    local_address,
    new_job,
    noted,
    open_job,
    reported,
    requested_job,
    send_for_job,
    window_end,
    with_retries,
)
from csms.files.host import expiry
from csms.ocpp16 import (
    Action,
    FirmwareStatus,
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
)
from csms.ocpp16.timestamps import format_timestamp, parse_timestamp
from csms.storage import FileJob, FirmwareImage, NewFileJob, Notification

log = logging.getLogger("csms.features.firmware")

_FAILURES = {
    FirmwareStatus.DOWNLOAD_FAILED: "the charge point reported DownloadFailed",
    FirmwareStatus.INSTALLATION_FAILED: "the charge point reported InstallationFailed",
}


class UnknownFirmwareImage(LookupError):
    pass


async def firmware_status_notification(
    ctx: Context, request: FirmwareStatusNotificationRequest
) -> FirmwareStatusNotificationResponse:
    """Spec 4.5: always answered; recorded, and the charge point's firmware job follows it (also
    after the reboot that installing takes: TC_044_1). Idle is only the answer to a
    TriggerMessage (spec 7.25, TC_054): noted, it changes no job."""
    now = ctx.now()
    status = FirmwareStatus(request.status)
    await ctx.store.record_notification(
        Notification(
            charge_point_id=ctx.charge_point_id, kind="firmware", status=status, received_at=now
        )
    )
    if status == FirmwareStatus.IDLE:
        change = noted(now, status, "not performing firmware update related tasks")
    else:
        change = reported(
            status,
            now,
            grace=ctx.services.settings.file_job_grace,
            success=status == FirmwareStatus.INSTALLED,
            failure=_FAILURES.get(status),
            detail="FirmwareStatusNotification",
        )
    job = await ctx.store.change_latest_file_job(ctx.charge_point_id, JobKind.FIRMWARE, change)
    if job is None and status != FirmwareStatus.IDLE:
        log.info("%s: FirmwareStatusNotification %s without a job", ctx.charge_point_id, status)
    return FirmwareStatusNotificationResponse()


@on_result(Action.UPDATE_FIRMWARE)
async def _update_firmware_answered(services: Services, sent: Sent) -> dict[str, Any]:
    """Spec 5.19: UpdateFirmware.conf has no fields; the job is Accepted. A request sent
    through the generic command endpoint gets its job here."""
    now = services.clock.now()
    request = sent.request
    job = await requested_job(services, sent.charge_point_id, JobKind.FIRMWARE, request)
    if job is not None:
        changed = await services.store.change_file_job(
            job.id, accepted(now, detail="UpdateFirmware.conf")
        )
        return {"job_id": changed.id if changed else job.id}
    retrieve_date = parse_timestamp(request["retrieveDate"]) or now
    retries, retry_interval = request.get("retries"), request.get("retryInterval")
    end = window_end(max(retrieve_date, now), retries, retry_interval)
    created = await services.store.create_file_job(
        NewFileJob(
            kind=JobKind.FIRMWARE,
            charge_point_id=sent.charge_point_id,
            location=request["location"],
            status=JobStep.ACCEPTED,
            requested_at=now,
            deadline=end + timedelta(seconds=services.settings.file_job_grace),
            retries=retries,
            retry_interval=retry_interval,
            retrieve_date=retrieve_date,
        )
    )
    await services.store.add_file_job_event(
        event(created, now, JobStep.ACCEPTED, "UpdateFirmware.conf (generic command)")
    )
    return {"job_id": created.id}


async def update_firmware(
    services: Services,
    charge_point_id: str,
    *,
    location: str | None = None,
    image_id: int | None = None,
    retrieve_date: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    connect_timeout: float = 0.0,
) -> tuple[Sent, FileJob]:
    """Send UpdateFirmware for a hosted image (a signed link of the job) or any `location`,
    and return the answer with the job that follows it. Raises UnknownFirmwareImage, or
    CommandFailed when it could not be sent (the job is then Failed with that reason)."""
    now = services.clock.now()
    image: FirmwareImage | None = None
    if image_id is not None:
        image = await hosted_image(services, image_id)
    elif location is None:
        raise ValueError("a location or an image id is needed")
    retrieve_date = retrieve_date or now
    end = window_end(max(retrieve_date, now), retries, retry_interval)
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
    )
    locate = None if image is None else image_locator(services, charge_point_id, image, end)
    job = await open_job(services, new, locate=locate)
    payload = {"location": job.location, "retrieveDate": format_timestamp(retrieve_date)}
    payload = with_retries(payload, retries, retry_interval)
    return await send_for_job(services, job, Action.UPDATE_FIRMWARE, payload, connect_timeout)


async def hosted_image(services: Services, image_id: int) -> FirmwareImage:
    """A hosted image; UnknownFirmwareImage if there is none of that id."""
    image = await services.store.get_firmware_image(image_id)
    if image is None:
        raise UnknownFirmwareImage(f"no firmware image {image_id}")
    return image


def image_locator(
    services: Services, charge_point_id: str, image: FirmwareImage, end: datetime
) -> Callable[[int], str]:
    """The download link of a job for a hosted image, made from the job's id: valid until
    file_link_ttl seconds after `end`, the last attempt the request allows."""
    files = services.files
    if files is None:
        raise RuntimeError("file hosting is not running")
    link_expiry = expiry(end + timedelta(seconds=services.settings.file_link_ttl))
    address = local_address(services, charge_point_id)

    def locate(job_id: int) -> str:
        return files.firmware_job_link(job_id, image.file_name, link_expiry, address)

    return locate


async def download_started(services: Services, job_id: int, client: str) -> None:
    """A charge point fetches the image through the job's link (files/http.py)."""
    job = await services.store.get_file_job(job_id)
    if job is not None:
        await services.store.add_file_job_event(
            event(job, services.clock.now(), "Download", f"by {client}")
        )


async def download_refused(services: Services, job_id: int, reason: str, *, expired: bool) -> None:
    """The job's link was refused: an expired link ends the job (it can only fail again); a
    bad signature is only noted (whoever sent it, the job's own link may still come)."""
    job = await services.store.get_file_job(job_id)
    if job is None or job.kind != JobKind.FIRMWARE:
        return
    now = services.clock.now()
    if expired:
        await services.store.change_file_job(
            job_id, failed(now, f"download refused: {reason}", "DownloadRefused")
        )
    else:
        await services.store.add_file_job_event(event(job, now, "DownloadRefused", reason))
    log.warning("%s: firmware job %d: download refused: %s", job.charge_point_id, job_id, reason)


ROUTES: dict[str, Handler] = {
    Action.FIRMWARE_STATUS_NOTIFICATION: firmware_status_notification,
}
