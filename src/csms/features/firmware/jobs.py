"""Firmware and diagnostics jobs (spec 4.4, 4.5, 5.9, 5.19): what the CSMS concludes from each
thing it learns about one, as pure changes the store applies atomically (`FileJobChange`).

A job is created when the CSMS sends UpdateFirmware or GetDiagnostics ("Requested"), becomes
"Accepted" with the answer, then takes each status the charge point reports. Its `outcome` is
None while it runs, then Succeeded (Installed / Uploaded), Failed (a failure status, a refused
or broken transfer; `reason` says which) or TimedOut (no news before the deadline).

A status notification concerns the charge point's newest job of its kind, unless that job has
succeeded (the charge point then reports something the CSMS did not ask for). It is kept by a
job that failed (with the CSMS's more precise reason), and revives one that timed out. Every
notification moves the deadline to at least `file_job_grace` seconds later: the CSMS gives up
only on silence. Nothing is lost across a reboot of the charge point: the job is in the store.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from csms.features import commands
from csms.features.commands import Sent
from csms.features.context import Services
from csms.ocpp16 import Action
from csms.ocpp16.timestamps import format_timestamp
from csms.ocppj import CallError, CallResult
from csms.storage import FileJob, FileJobChange, FileJobEvent, NewFileJob

log = logging.getLogger("csms.features.file_jobs")


class JobKind(StrEnum):
    FIRMWARE = "firmware"
    DIAGNOSTICS = "diagnostics"


class JobStep(StrEnum):
    """The statuses of a job before the charge point reports any."""

    REQUESTED = "Requested"  # sent, not answered yet
    ACCEPTED = "Accepted"  # answered (UpdateFirmware.conf / GetDiagnostics.conf)


class Outcome(StrEnum):
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    TIMED_OUT = "TimedOut"


def window_end(start: datetime, retries: int | None, retry_interval: int | None) -> datetime:
    """When the last attempt the request allows may start: retries after the first, each
    retry_interval seconds apart (spec 6.25, 6.55; absent = the charge point decides: 0)."""
    return start + timedelta(seconds=max(retries or 0, 0) * max(retry_interval or 0, 0))


def event(job: FileJob, at: datetime, name: str, detail: str | None = None) -> FileJobEvent:
    return FileJobEvent(job_id=job.id, at=at, event=name, detail=detail)


def accepted(at: datetime, *, file_name: str | None = None, detail: str) -> FileJobChange:
    """The charge point answered the request. Only a job still Requested becomes Accepted: a
    notification may have overtaken the answer's processing."""

    def change(job: FileJob) -> tuple[FileJob, list[FileJobEvent]]:
        status = JobStep.ACCEPTED if job.status == JobStep.REQUESTED else job.status
        new = dataclasses.replace(job, status=status, file_name=file_name, updated_at=at)
        return new, [event(job, at, JobStep.ACCEPTED, detail)]

    return change


def failed(at: datetime, reason: str, name: str) -> FileJobChange:
    """The CSMS knows the job cannot succeed (not sent, refused, transfer broke off)."""

    def change(job: FileJob) -> tuple[FileJob, list[FileJobEvent]] | None:
        if job.outcome == Outcome.SUCCEEDED:
            return None
        new = dataclasses.replace(
            job, outcome=Outcome.FAILED, reason=reason, updated_at=at, finished_at=at
        )
        return new, [event(job, at, name, reason)]

    return change


def reported(
    status: str,
    at: datetime,
    *,
    grace: int,
    success: bool = False,
    failure: str | None = None,
    detail: str | None = None,
) -> FileJobChange:
    """The charge point reported `status` (spec 4.4/4.5): a success, a failure (`failure` is
    the reason unless the CSMS already knows a better one), or progress."""

    def change(job: FileJob) -> tuple[FileJob, list[FileJobEvent]] | None:
        if job.outcome == Outcome.SUCCEEDED:
            return None
        deadline = max(job.deadline, at + timedelta(seconds=grace))
        outcome: str | None
        finished_at: datetime | None
        if success:
            outcome, reason, finished_at = Outcome.SUCCEEDED, None, at
        elif failure is not None:
            known = job.reason if job.outcome == Outcome.FAILED else None
            outcome, reason, finished_at = Outcome.FAILED, known or failure, at
        elif job.outcome == Outcome.FAILED:  # progress after a failure the CSMS saw: kept
            outcome, reason, finished_at = job.outcome, job.reason, job.finished_at
        else:  # progress, also after a timeout: the charge point is at it after all
            outcome, reason, finished_at = None, None, None
        new = dataclasses.replace(
            job,
            status=status,
            outcome=outcome,
            reason=reason,
            updated_at=at,
            deadline=deadline,
            finished_at=finished_at,
        )
        return new, [event(job, at, status, detail if failure is None else reason)]

    return change


def revived(at: datetime, name: str, detail: str) -> FileJobChange:
    """Evidence that an earlier failure is over (a retried upload arrived whole)."""

    def change(job: FileJob) -> tuple[FileJob, list[FileJobEvent]] | None:
        if job.outcome == Outcome.SUCCEEDED:
            return None
        new = dataclasses.replace(job, outcome=None, reason=None, finished_at=None, updated_at=at)
        return new, [event(job, at, name, detail)]

    return change


def noted(at: datetime, name: str, detail: str | None = None) -> FileJobChange:
    """Something worth keeping in the job's history that changes nothing (an Idle report)."""

    def change(job: FileJob) -> tuple[FileJob, list[FileJobEvent]] | None:
        if job.outcome is not None:
            return None
        return job, [event(job, at, name, detail)]

    return change


def timed_out(now: datetime) -> FileJobChange:
    """The sweeper's verdict on a job still running past its deadline."""

    def change(job: FileJob) -> tuple[FileJob, list[FileJobEvent]] | None:
        if job.outcome is not None or job.deadline >= now:
            return None
        reason = (
            f"timed out: no news from the charge point since {format_timestamp(job.updated_at)}"
            f" (status {job.status}; deadline {format_timestamp(job.deadline)})"
        )
        new = dataclasses.replace(
            job, outcome=Outcome.TIMED_OUT, reason=reason, updated_at=now, finished_at=now
        )
        return new, [event(job, now, Outcome.TIMED_OUT, reason)]

    return change


async def requested_job(
    services: Services, charge_point_id: str, kind: JobKind, request: dict[str, Any]
) -> FileJob | None:
    """The job a typed operation made for this request, if the answer is to one: the latest job
    for that location not answered yet, still Requested or already at a status the charge point
    reported (its notification may overtake the answer's processing, J 4.1.1: the CALLs cross)."""
    jobs = await services.store.list_file_jobs(charge_point_id, kind, limit=1)
    if not jobs or jobs[0].location != request["location"]:
        return None
    return await unanswered(services, jobs[0])


async def unanswered(services: Services, job: FileJob) -> FileJob | None:
    """The job if the charge point's answer to its request is not recorded yet."""
    if job.status == JobStep.REQUESTED:
        return job
    if job.status == JobStep.ACCEPTED:
        return None
    answered = any(
        logged.event == JobStep.ACCEPTED for logged in await services.store.file_job_events(job.id)
    )
    return None if answered else job


def new_job(
    services: Services,
    kind: JobKind,
    charge_point_id: str,
    location: str,
    end: datetime,
    *,
    retries: int | None,
    retry_interval: int | None,
    status: str = JobStep.REQUESTED,
    **fields: Any,
) -> NewFileJob:
    """A job requested now, given up `file_job_grace` seconds after `end` (the last attempt its
    request allows: window_end); `fields` are the other NewFileJob fields of its kind."""
    return NewFileJob(
        kind=kind,
        charge_point_id=charge_point_id,
        location=location,
        status=status,
        requested_at=services.clock.now(),
        deadline=end + timedelta(seconds=services.settings.file_job_grace),
        retries=retries,
        retry_interval=retry_interval,
        **fields,
    )


def with_retries(
    payload: dict[str, Any], retries: int | None, retry_interval: int | None
) -> dict[str, Any]:
    """The request payload with its optional retries and retryInterval (spec 6.25, 6.55)."""
    if retries is not None:
        payload["retries"] = retries
    if retry_interval is not None:
        payload["retryInterval"] = retry_interval
    return payload


async def job_of_request(
    services: Services, charge_point_id: str, kind: JobKind, request_id: int
) -> FileJob | None:
    """The job a typed whitepaper request made, if the answer is to it: the newest with that
    requestId whose answer is not recorded yet (a generic command may reuse an old id)."""
    found = await services.store.find_file_job(charge_point_id, kind, request_id)
    return None if found is None else await unanswered(services, found)


async def cancel_others(
    services: Services, job: FileJob, variants: tuple[str, ...], reason: str
) -> None:
    """The charge point answered AcceptedCanceled: its other running jobs of those variants
    ended (whitepaper L01.FR.26, N01)."""
    now = services.clock.now()
    running = await services.store.list_file_jobs(
        job.charge_point_id, job.kind, limit=20, variants=variants
    )
    for other in running:
        if other.id != job.id and other.outcome in (None, Outcome.TIMED_OUT):
            await services.store.change_file_job(other.id, failed(now, reason, "Canceled"))


async def open_job(
    services: Services, new: NewFileJob, locate: Callable[[int], str] | None = None
) -> FileJob:
    """Create the job of a request about to be sent (status Requested), with its first event:
    the location it asks for (made by `locate` from the job's id when the CSMS hosts it)."""
    job = await services.store.create_file_job(new, locate=locate)
    await services.store.add_file_job_event(event(job, new.requested_at, new.status, job.location))
    return job


async def send_for_job(
    services: Services,
    job: FileJob,
    action: Action,
    payload: dict[str, Any],
    connect_timeout: float,
) -> tuple[Sent, FileJob]:
    """Send the request of a job; a request that starts nothing fails the job, with why."""
    store = services.store
    try:
        sent = await commands.send(
            services, job.charge_point_id, action, payload, connect_timeout=connect_timeout
        )
    except commands.CommandFailed as exc:
        await store.change_file_job(
            job.id, failed(services.clock.now(), f"{action} not sent: {exc}", "NotSent")
        )
        raise
    reason = not_answered(sent.response)
    if reason is not None:
        await store.change_file_job(job.id, failed(services.clock.now(), reason, "Refused"))
    current = await store.get_file_job(job.id)
    assert current is not None
    return sent, current


def not_answered(response: CallResult | CallError) -> str | None:
    """The reason a sent request started nothing, if it did not."""
    if isinstance(response, CallError):
        return (
            f"the charge point answered with a CALLERROR: {response.error_code} "
            f"{response.error_description!r}"
        )
    return None


async def sweep(services: Services) -> list[FileJob]:
    """Time out every job past its deadline; the jobs timed out."""
    now = services.clock.now()
    done = []
    for job in await services.store.overdue_file_jobs(now):
        changed = await services.store.change_file_job(job.id, timed_out(now))
        if changed is not None and changed.outcome == Outcome.TIMED_OUT and job.outcome is None:
            log.warning("%s: %s job %d %s", job.charge_point_id, job.kind, job.id, changed.reason)
            done.append(changed)
    return done


def local_address(services: Services, charge_point_id: str) -> str | None:
    """The CSMS address the charge point is connected to (what it can reach us on)."""
    connection = services.registry.get(charge_point_id)
    if connection is None:
        return None
    address = connection.websocket.local_address
    return str(address[0]) if address else None
