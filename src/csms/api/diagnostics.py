"""Diagnostics: GetDiagnostics (spec 5.9) as a job followed through its
DiagnosticsStatusNotifications, and the files charge points uploaded to the CSMS.

    POST /charge-points/{id}/get-diagnostics            send GetDiagnostics; answers the job
    GET  /charge-points/{id}/diagnostics-jobs           the charge point's jobs, newest first
    GET  /diagnostics-jobs/{job id}                     one job, with its history and files
    GET  /diagnostics-jobs/{job id}/files/{file name}   an uploaded file
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, JSONResponse
from pydantic import AwareDatetime, Field

from csms.api.deps import known_charge_point, services_of
from csms.api.firmware import (
    ConnectTimeout,
    FileJobOut,
    JobsLimit,
    files_of,
    job_answer,
    job_detail,
    jobs_of,
)
from csms.api.models import Model
from csms.features.firmware.diagnostics import get_diagnostics
from csms.features.firmware.jobs import JobKind

router = APIRouter(tags=["diagnostics"])


class GetDiagnosticsIn(Model):
    """Without a `location`, the charge point uploads to the CSMS: over FTP (credentials of the
    job) or HTTP (a signed link of the job), as `protocol` says."""

    location: str | None = Field(default=None, min_length=1, max_length=2000)
    protocol: Literal["ftp", "http"] = "ftp"
    retries: int | None = Field(default=None, ge=0)
    retry_interval: int | None = Field(default=None, ge=0)
    start_time: AwareDatetime | None = None
    stop_time: AwareDatetime | None = None


@router.post("/charge-points/{charge_point_id}/get-diagnostics", response_model=FileJobOut)
async def get_diagnostics_of(
    request: Request,
    charge_point_id: str,
    body: GetDiagnosticsIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """GetDiagnostics (spec 5.9). Answers the job that follows it (status Accepted, with the
    file name the charge point announced); its progress: GET /diagnostics-jobs/{id}."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    try:
        sent, job = await get_diagnostics(
            services,
            charge_point_id,
            location=body.location,
            protocol=body.protocol,
            retries=body.retries,
            retry_interval=body.retry_interval,
            start_time=body.start_time,
            stop_time=body.stop_time,
            connect_timeout=connect_timeout,
        )
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return job_answer(sent, job)


@router.get("/charge-points/{charge_point_id}/diagnostics-jobs", response_model=list[FileJobOut])
async def diagnostics_jobs_of(
    request: Request, charge_point_id: str, limit: JobsLimit = 100
) -> list[FileJobOut]:
    return await jobs_of(services_of(request), charge_point_id, JobKind.DIAGNOSTICS, limit)


@router.get("/diagnostics-jobs/{job_id}", response_model=FileJobOut)
async def diagnostics_job(request: Request, job_id: int) -> FileJobOut:
    return await job_detail(services_of(request), job_id, JobKind.DIAGNOSTICS)


@router.get("/diagnostics-jobs/{job_id}/files/{file_name}")
async def diagnostics_file(request: Request, job_id: int, file_name: str) -> FileResponse:
    """A file the charge point uploaded (also an incomplete one: see `complete`)."""
    services = services_of(request)
    recorded = {file.file_name for file in await services.store.diagnostics_files(job_id)}
    path = files_of(services).diagnostics_dir(job_id) / file_name
    if file_name not in recorded or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No file {file_name!r} in job {job_id}")
    return FileResponse(path, media_type="application/octet-stream", filename=file_name)
