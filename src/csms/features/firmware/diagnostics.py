"""Firmware Management, diagnostics half: GetDiagnostics (spec 5.9) and the
DiagnosticsStatusNotifications that report the upload (spec 4.4, errata 3.31).

The CSMS receives the file itself (files/): over FTP with credentials of the job, or over HTTP
at a signed directory link of the job. What arrived decides what Uploaded and UploadFailed
mean: Uploaded to the CSMS with no whole file is a failure; an UploadFailed after part of the
file arrived, or a transfer that broke off, fails the job as "upload incomplete".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from csms.features.commands import Sent, on_result
from csms.features.context import Context, Handler, Services
from csms.features.firmware.jobs import (
    JobKind,
    JobStep,
    Outcome,
    accepted,
    event,
    failed,
    local_address,
    new_job,
    noted,
    open_job,
    reported,
    requested_job,
    revived,
    send_for_job,
    window_end,
)
from csms.files.host import expiry, ftp_login
from csms.ocpp16 import (
    Action,
    DiagnosticsStatus,
    DiagnosticsStatusNotificationRequest,
    DiagnosticsStatusNotificationResponse,
)
from csms.ocpp16.timestamps import format_timestamp, parse_timestamp
from csms.ocppj import CallResult
from csms.storage import DiagnosticsFile, FileJob, FileJobChange, NewFileJob, Notification

log = logging.getLogger("csms.features.diagnostics")

Protocol = Literal["ftp", "http"]


async def diagnostics_status_notification(
    ctx: Context, request: DiagnosticsStatusNotificationRequest
) -> DiagnosticsStatusNotificationResponse:
    """Spec 4.4: always answered; recorded, and the charge point's diagnostics job follows it.
    Idle is only the answer to a TriggerMessage (spec 7.24, TC_054): noted, it changes no job."""
    now = ctx.now()
    status = DiagnosticsStatus(request.status)
    store = ctx.store
    await store.record_notification(
        Notification(
            charge_point_id=ctx.charge_point_id, kind="diagnostics", status=status, received_at=now
        )
    )
    jobs = await store.list_file_jobs(ctx.charge_point_id, JobKind.DIAGNOSTICS, limit=1)
    if not jobs:
        if status != DiagnosticsStatus.IDLE:
            log.info(
                "%s: DiagnosticsStatusNotification %s without a job", ctx.charge_point_id, status
            )
        return DiagnosticsStatusNotificationResponse()
    job = jobs[0]
    change = await _change_for(ctx.services, job, status, now)
    await store.change_file_job(job.id, change)
    return DiagnosticsStatusNotificationResponse()


async def _change_for(
    services: Services, job: FileJob, status: DiagnosticsStatus, now: datetime
) -> FileJobChange:
    grace = services.settings.file_job_grace
    if status == DiagnosticsStatus.IDLE:
        return noted(now, status, "not performing diagnostics related tasks")
    if status == DiagnosticsStatus.UPLOADING:
        return reported(status, now, grace=grace, detail="DiagnosticsStatusNotification")
    return await upload_outcome(
        services, job, status, now, uploaded=status == DiagnosticsStatus.UPLOADED
    )


async def upload_outcome(
    services: Services,
    job: FileJob,
    status: str,
    now: datetime,
    *,
    uploaded: bool,
) -> FileJobChange:
    """What an upload's final status (`uploaded`: Uploaded, else a failure such as
    UploadFailed) means, judged on what arrived when the CSMS is the upload location: Uploaded
    with no whole file is a failure; a failure after part of the file arrived is "upload
    incomplete". Shared with GetLog (features/security/logs.py)."""
    grace = services.settings.file_job_grace
    hosted = is_hosted(job)
    files = await services.store.diagnostics_files(job.id) if hosted else []
    if uploaded:
        if not hosted or any(file.complete for file in files):
            return reported(status, now, grace=grace, success=True, detail=_listed(files))
        return reported(
            status,
            now,
            grace=grace,
            failure=f"the charge point reported {status} but no whole file arrived",
        )
    # A failure: what did arrive is not the whole file.
    for file in files:
        if file.complete:
            await services.store.record_diagnostics_file(_incomplete(file))
    received = sum(file.size for file in files)
    if files:
        reason = f"upload incomplete: {received} bytes of {_listed(files)} received"
    elif hosted:
        reason = f"the charge point reported {status}; nothing arrived"
    else:
        reason = f"the charge point reported {status}"
    return reported(status, now, grace=grace, failure=reason)


def is_hosted(job: FileJob) -> bool:
    """Whether the job's upload location is the CSMS's own (FTP or HTTP)."""
    return job.location.startswith(f"ftp://{ftp_login(job.id)}:") or (
        f"/files/diagnostics/{job.id}/" in job.location
    )


def _listed(files: list[DiagnosticsFile]) -> str:
    return ", ".join(file.file_name for file in files) or "no file"


def _incomplete(file: DiagnosticsFile) -> DiagnosticsFile:
    return DiagnosticsFile(
        job_id=file.job_id,
        file_name=file.file_name,
        size=file.size,
        complete=False,
        protocol=file.protocol,
        received_at=file.received_at,
    )


@on_result(Action.GET_DIAGNOSTICS)
async def _get_diagnostics_answered(services: Services, sent: Sent) -> dict[str, Any]:
    """Spec 5.9: the job is Accepted with the file name announced (none: no diagnostics
    available, though some charge points upload all the same). A request sent through the
    generic command endpoint gets its job here."""
    now = services.clock.now()
    request = sent.request
    assert isinstance(sent.response, CallResult)
    file_name = sent.response.payload.get("fileName")
    detail = f"GetDiagnostics.conf fileName={file_name!r}"
    job = await requested_job(services, sent.charge_point_id, JobKind.DIAGNOSTICS, request)
    if job is not None:
        changed = await services.store.change_file_job(
            job.id, accepted(now, file_name=file_name, detail=detail)
        )
        return {"job_id": changed.id if changed else job.id}
    retries, retry_interval = request.get("retries"), request.get("retryInterval")
    created = await services.store.create_file_job(
        NewFileJob(
            kind=JobKind.DIAGNOSTICS,
            charge_point_id=sent.charge_point_id,
            location=request["location"],
            status=JobStep.REQUESTED,
            requested_at=now,
            deadline=window_end(now, retries, retry_interval)
            + timedelta(seconds=services.settings.file_job_grace),
            retries=retries,
            retry_interval=retry_interval,
            start_time=_time(request.get("startTime")),
            stop_time=_time(request.get("stopTime")),
        )
    )
    await services.store.change_file_job(
        created.id, accepted(now, file_name=file_name, detail=f"{detail} (generic command)")
    )
    return {"job_id": created.id}


def _time(value: str | None) -> datetime | None:
    return None if value is None else parse_timestamp(value)


async def get_diagnostics(
    services: Services,
    charge_point_id: str,
    *,
    location: str | None = None,
    protocol: Protocol = "ftp",
    retries: int | None = None,
    retry_interval: int | None = None,
    start_time: datetime | None = None,
    stop_time: datetime | None = None,
    connect_timeout: float = 0.0,
) -> tuple[Sent, FileJob]:
    """Send GetDiagnostics with an upload location of the CSMS (FTP credentials or a signed
    HTTP link of the job), or any `location`, and return the answer with the job that follows
    it. Raises CommandFailed when it could not be sent (the job is then Failed with that
    reason), ValueError when FTP is asked for and off."""
    now = services.clock.now()
    end = window_end(now, retries, retry_interval)
    locate = (
        None if location is not None else upload_locator(services, charge_point_id, protocol, end)
    )
    new = new_job(
        services,
        JobKind.DIAGNOSTICS,
        charge_point_id,
        location or "",
        end,
        retries=retries,
        retry_interval=retry_interval,
        start_time=start_time,
        stop_time=stop_time,
    )
    job = await open_job(services, new, locate=locate)
    payload: dict[str, Any] = {"location": job.location}
    for name, value in (
        ("retries", retries),
        ("retryInterval", retry_interval),
        ("startTime", None if start_time is None else format_timestamp(start_time)),
        ("stopTime", None if stop_time is None else format_timestamp(stop_time)),
    ):
        if value is not None:
            payload[name] = value
    return await send_for_job(services, job, Action.GET_DIAGNOSTICS, payload, connect_timeout)


def upload_locator(
    services: Services, charge_point_id: str, protocol: Protocol, end: datetime
) -> Callable[[int], str]:
    """The upload location of a job, made from the job's id: FTP credentials of the job, or a
    signed HTTP directory link valid until file_link_ttl seconds after `end`. ValueError when
    the CSMS does not receive files that way."""
    files = services.files
    if files is None or (protocol == "ftp" and files.ftp_port is None):
        raise ValueError(f"no {protocol.upper()} upload location: the CSMS does not receive files")
    address = local_address(services, charge_point_id)
    link_expiry = expiry(end + timedelta(seconds=services.settings.file_link_ttl))

    def locate(job_id: int) -> str:
        assert files is not None
        if protocol == "ftp":
            ftp = files.diagnostics_ftp_location(job_id, address)
            assert ftp is not None
            return ftp
        return files.diagnostics_upload_link(job_id, link_expiry, address)

    return locate


# -- uploads (files/ftp.py, files/http.py) -------------------------------------------------------


async def upload_target(services: Services, job_id: int) -> FileJob | None:
    """The job a charge point may upload to now: a diagnostics job, not done, and within its
    deadline plus the link lifetime (late is accepted: the file may still be of use)."""
    job = await services.store.get_file_job(job_id)
    if job is None or job.kind != JobKind.DIAGNOSTICS or job.outcome == Outcome.SUCCEEDED:
        return None
    limit = job.deadline + timedelta(seconds=services.settings.file_link_ttl)
    return job if services.clock.now() < limit else None


async def upload_finished(
    services: Services,
    job_id: int,
    file_name: str,
    *,
    size: int,
    complete: bool,
    protocol: Protocol,
    detail: str = "",
) -> None:
    """A transfer of `file_name` to the job's directory ended: whole, or broken off."""
    store = services.store
    now = services.clock.now()
    await store.record_diagnostics_file(
        DiagnosticsFile(
            job_id=job_id,
            file_name=file_name,
            size=size,
            complete=complete,
            protocol=protocol,
            received_at=now,
        )
    )
    what = f"{file_name} ({size} bytes over {protocol.upper()})"
    if complete:
        await store.change_file_job(job_id, revived(now, "Received", what))
    else:
        reason = f"upload incomplete: the {protocol.upper()} transfer of {what} broke off"
        await store.change_file_job(job_id, failed(now, f"{reason}{detail}", "UploadIncomplete"))
        log.warning("diagnostics job %d: %s%s", job_id, reason, detail)


async def upload_broke_off(
    services: Services,
    job_id: int,
    reason: str,
    name: str = "UploadIncomplete",
    *,
    note_only: bool = False,
) -> None:
    """An upload to the job failed before a file could be named (a broken multipart body, a
    refused link): fails the job, or with `note_only` is only kept in its history (a link with
    a bad signature says nothing about the job's own)."""
    job = await services.store.get_file_job(job_id)
    if job is None or job.kind != JobKind.DIAGNOSTICS:
        return
    now = services.clock.now()
    if note_only:
        await services.store.add_file_job_event(event(job, now, name, reason))
    else:
        await services.store.change_file_job(job_id, failed(now, reason, name))
    log.warning("%s: diagnostics job %d: %s", job.charge_point_id, job_id, reason)


ROUTES: dict[str, Handler] = {
    Action.DIAGNOSTICS_STATUS_NOTIFICATION: diagnostics_status_notification,
}
