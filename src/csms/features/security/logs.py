"""Security and diagnostics logs (security whitepaper 3, N01; messages 5.9, 5.10, 5.13, 5.14):
GetLog and the LogStatusNotifications that follow it, on the diagnostics jobs of
features/firmware/ (kind diagnostics, variant the logType). The charge point uploads to the
CSMS's own FTP or HTTP endpoints (files/), as for GetDiagnostics, and what arrived decides
what Uploaded and UploadFailure mean (diagnostics.upload_outcome).

- The requestId is the job's id (a request sent through the generic command endpoint keeps its
  own); a notification finds its job by it, or without one (Idle) concerns the newest log job.
- Uploaded succeeds when a whole file arrived (or the location is not the CSMS's own);
  UploadFailure, BadMessage, NotSupportedOperation and PermissionDenied fail the job with what
  they mean; Uploading is progress; Idle is only noted.
- GetLog.conf Rejected fails the job; AcceptedCanceled also ends the charge point's other
  running log job (whitepaper N01: a new request cancels the ongoing upload).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from csms.features.commands import Sent, on_result
from csms.features.context import Context, Handler, Services
from csms.features.firmware.diagnostics import Protocol, upload_locator, upload_outcome
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
from csms.ocpp16 import Action
from csms.ocpp16.security_firmware_messages import (
    LogStatus,
    LogStatusNotificationRequest,
    LogStatusNotificationResponse,
    LogType,
    UploadLogStatus,
)
from csms.ocpp16.timestamps import format_timestamp, parse_timestamp
from csms.ocppj import CallResult
from csms.storage import FileJob, FileJobChange, Notification

log = logging.getLogger("csms.features.logs")

LOG_VARIANTS: Final = (LogType.DIAGNOSTICS_LOG.value, LogType.SECURITY_LOG.value)

_U = UploadLogStatus
_FAILURES: Final = {
    _U.BAD_MESSAGE: "the charge point reported BadMessage: the upload location could not be used",
    _U.NOT_SUPPORTED_OPERATION: "the charge point reported NotSupportedOperation",
    _U.PERMISSION_DENIED: "the charge point reported PermissionDenied: the upload was refused",
}


async def log_status_notification(
    ctx: Context, request: LogStatusNotificationRequest
) -> LogStatusNotificationResponse:
    """Whitepaper 5.13: always answered; recorded; the job of its requestId follows it."""
    now = ctx.now()
    status = UploadLogStatus(request.status)
    store = ctx.store
    await store.record_notification(
        Notification(
            charge_point_id=ctx.charge_point_id, kind="log", status=status, received_at=now
        )
    )
    if request.request_id is None:
        jobs = await store.list_file_jobs(
            ctx.charge_point_id, JobKind.DIAGNOSTICS, limit=1, variants=LOG_VARIANTS
        )
        job = jobs[0] if jobs else None
    else:
        job = await store.find_file_job(
            ctx.charge_point_id, JobKind.DIAGNOSTICS, request.request_id
        )
    if job is None:
        if status != _U.IDLE:
            log.info(
                "%s: LogStatusNotification %s (requestId %s) without a job",
                ctx.charge_point_id,
                status,
                request.request_id,
            )
        return LogStatusNotificationResponse()
    await store.change_file_job(job.id, await _change_for(ctx.services, job, status, now))
    return LogStatusNotificationResponse()


async def _change_for(
    services: Services, job: FileJob, status: UploadLogStatus, now: datetime
) -> FileJobChange:
    grace = services.settings.file_job_grace
    if status == _U.IDLE:
        return noted(now, status, "not performing log related tasks")
    if status == _U.UPLOADING:
        return reported(status, now, grace=grace, detail="LogStatusNotification")
    if status in _FAILURES:
        return reported(status, now, grace=grace, failure=_FAILURES[status])
    return await upload_outcome(services, job, status, now, uploaded=status == _U.UPLOADED)


@on_result(Action.GET_LOG)
async def _get_log_answered(services: Services, sent: Sent) -> dict[str, Any]:
    """Whitepaper 5.10: the job is Accepted with the file name announced, or fails when
    Rejected. A request sent through the generic command endpoint gets its job here."""
    now = services.clock.now()
    assert isinstance(sent.response, CallResult)
    status = LogStatus(sent.response.payload["status"])
    file_name = sent.response.payload.get("filename")
    job = await _job_of(services, sent)
    if status == LogStatus.REJECTED:
        changed = await services.store.change_file_job(
            job.id, failed(now, "the charge point answered Rejected", "Refused")
        )
    else:
        detail = f"GetLog.conf {status} filename={file_name!r}"
        changed = await services.store.change_file_job(
            job.id, accepted(now, file_name=file_name, detail=detail)
        )
        if status == LogStatus.ACCEPTED_CANCELED:
            reason = f"canceled by the charge point for the GetLog of job {job.id}"
            await cancel_others(services, job, LOG_VARIANTS, reason)
    return {"job_id": (changed or job).id, "request_id": job.request_id}


async def _job_of(services: Services, sent: Sent) -> FileJob:
    """The job of a typed request not answered yet, else a new one for the generic command."""
    request = sent.request
    charge_point_id, request_id = sent.charge_point_id, request["requestId"]
    job = await job_of_request(services, charge_point_id, JobKind.DIAGNOSTICS, request_id)
    if job is not None:
        return job
    retries, retry_interval = request.get("retries"), request.get("retryInterval")
    parameters = request["log"]
    new = new_job(
        services,
        JobKind.DIAGNOSTICS,
        charge_point_id,
        parameters["remoteLocation"],
        window_end(services.clock.now(), retries, retry_interval),
        retries=retries,
        retry_interval=retry_interval,
        start_time=_time(parameters.get("oldestTimestamp")),
        stop_time=_time(parameters.get("latestTimestamp")),
        variant=request["logType"],
        request_id=request_id,
    )
    return await open_job(services, new)


def _time(value: str | None) -> datetime | None:
    return None if value is None else parse_timestamp(value)


async def get_log(
    services: Services,
    charge_point_id: str,
    log_type: LogType,
    *,
    location: str | None = None,
    protocol: Protocol = "ftp",
    oldest: datetime | None = None,
    latest: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    connect_timeout: float = 0.0,
) -> tuple[Sent, FileJob]:
    """Send GetLog with an upload location of the CSMS (FTP credentials or a signed HTTP link
    of the job), or any `location`, and return the answer with the job that follows it.
    Raises CommandFailed when it could not be sent (the job is then Failed with that reason),
    ValueError when the CSMS does not receive files by `protocol`."""
    now = services.clock.now()
    end = window_end(now, retries, retry_interval)
    locate = None
    if location is None:
        locate = upload_locator(services, charge_point_id, protocol, end)
    new = new_job(
        services,
        JobKind.DIAGNOSTICS,
        charge_point_id,
        location or "",
        end,
        retries=retries,
        retry_interval=retry_interval,
        start_time=oldest,
        stop_time=latest,
        variant=log_type.value,
    )
    job = await open_job(services, new, locate=locate)
    assert job.request_id is not None
    parameters: dict[str, Any] = {"remoteLocation": job.location}
    if oldest is not None:
        parameters["oldestTimestamp"] = format_timestamp(oldest)
    if latest is not None:
        parameters["latestTimestamp"] = format_timestamp(latest)
    payload = {"logType": log_type.value, "requestId": job.request_id, "log": parameters}
    payload = with_retries(payload, retries, retry_interval)
    return await send_for_job(services, job, Action.GET_LOG, payload, connect_timeout)


ROUTES: dict[str, Handler] = {
    Action.LOG_STATUS_NOTIFICATION: log_status_notification,
}
