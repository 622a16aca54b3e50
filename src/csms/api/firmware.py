"""Firmware: hosted images (upload, list, delete, each with a signed download link) and
UpdateFirmware (spec 5.19) as a job followed through its FirmwareStatusNotifications.

    POST   /firmware                                   upload an image (multipart: file)
    GET    /firmware, /firmware/{id}                   images, with a fresh download link
    DELETE /firmware/{id}
    POST   /charge-points/{id}/update-firmware         send UpdateFirmware; answers the job
    GET    /charge-points/{id}/firmware-jobs           the charge point's jobs, newest first
    GET    /firmware-jobs/{job id}                     one job, with its history
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, Field, model_validator

from csms.api.deps import known_charge_point, services_of
from csms.api.models import Model
from csms.api.signatures import refused, signed_image_check
from csms.features.commands import Sent
from csms.features.context import Services
from csms.features.firmware.firmware import UnknownFirmwareImage, update_firmware
from csms.features.firmware.jobs import JobKind
from csms.features.security.firmware_signatures import (
    MAX_CERTIFICATE_LENGTH,
    MAX_SIGNATURE_LENGTH,
    SignatureRefused,
)
from csms.files.host import FileHost, expiry, safe_file_name
from csms.files.images import delete_image, save_image
from csms.ocppj import CallError
from csms.storage import DiagnosticsFile, FileJob, FileJobEvent, FirmwareImage

router = APIRouter(tags=["firmware"])

ConnectTimeout = Annotated[
    float, Query(ge=0, le=600, description="Wait up to this many seconds for it to connect")
]


class FirmwareImageOut(Model):
    id: int
    file_name: str
    size: int
    sha256: str
    description: str | None
    uploaded_at: datetime
    # A signed image (whitepaper 4): what SignedUpdateFirmware sends with it.
    signing_certificate: str | None = None
    signature: str | None = None
    # A link that needs no token, valid until link_expires_at (file_link_ttl from now).
    download_url: str
    link_expires_at: datetime


class FileJobEventOut(Model):
    at: datetime
    event: str
    detail: str | None


class DiagnosticsFileOut(Model):
    file_name: str
    size: int
    complete: bool
    protocol: str
    received_at: datetime


class FileJobOut(Model):
    id: int
    charge_point_id: str
    kind: str
    location: str
    # "Requested", "Accepted", then the status the charge point last reported.
    status: str
    # None while in progress; Succeeded, Failed or TimedOut, with the reason.
    outcome: str | None
    reason: str | None
    retries: int | None
    retry_interval: int | None
    retrieve_date: datetime | None
    firmware_id: int | None
    start_time: datetime | None
    stop_time: datetime | None
    file_name: str | None
    requested_at: datetime
    updated_at: datetime
    deadline: datetime
    finished_at: datetime | None
    # None for UpdateFirmware / GetDiagnostics; "SignedUpdateFirmware", or the GetLog logType,
    # with the requestId the charge point's notifications carry (whitepaper 4, 3).
    variant: str | None = None
    request_id: int | None = None
    events: list[FileJobEventOut] | None = None
    files: list[DiagnosticsFileOut] | None = None

    @classmethod
    def of(
        cls,
        job: FileJob,
        events: list[FileJobEvent] | None = None,
        files: list[DiagnosticsFile] | None = None,
    ) -> FileJobOut:
        return cls(
            id=job.id,
            charge_point_id=job.charge_point_id,
            kind=job.kind,
            location=job.location,
            status=job.status,
            outcome=job.outcome,
            reason=job.reason,
            retries=job.retries,
            retry_interval=job.retry_interval,
            retrieve_date=job.retrieve_date,
            firmware_id=job.image_id,
            start_time=job.start_time,
            stop_time=job.stop_time,
            file_name=job.file_name,
            requested_at=job.requested_at,
            updated_at=job.updated_at,
            deadline=job.deadline,
            finished_at=job.finished_at,
            variant=job.variant,
            request_id=job.request_id,
            events=None
            if events is None
            else [FileJobEventOut(at=e.at, event=e.event, detail=e.detail) for e in events],
            files=None
            if files is None
            else [
                DiagnosticsFileOut(
                    file_name=f.file_name,
                    size=f.size,
                    complete=f.complete,
                    protocol=f.protocol,
                    received_at=f.received_at,
                )
                for f in files
            ],
        )


class UpdateFirmwareIn(Model):
    """Either a hosted image (`firmwareId`: the charge point gets a signed link of the job) or
    any `location` the charge point can reach."""

    firmware_id: int | None = None
    location: str | None = Field(default=None, min_length=1, max_length=2000)
    # Default: now.
    retrieve_date: AwareDatetime | None = None
    retries: int | None = Field(default=None, ge=0)
    retry_interval: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_source(self) -> UpdateFirmwareIn:
        if (self.firmware_id is None) == (self.location is None):
            raise ValueError("give either firmwareId or location")
        return self


def files_of(services: Services) -> FileHost:
    if services.files is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "file hosting is not running")
    return services.files


def job_answer(sent: Sent, job: FileJob) -> JSONResponse:
    """The job; a CALLERROR answer is a 502 with the error and the (failed) job."""
    body = FileJobOut.of(job).model_dump(mode="json", by_alias=True)
    if isinstance(sent.response, CallError):
        return JSONResponse(
            {
                "errorCode": str(sent.response.error_code),
                "errorDescription": sent.response.error_description,
                "errorDetails": sent.response.error_details,
                "job": body,
            },
            status_code=status.HTTP_502_BAD_GATEWAY,
        )
    return JSONResponse(body)


# How many jobs a list answers at most (`?limit=`).
JobsLimit = Annotated[int, Query(ge=1, le=1000)]


async def jobs_of(
    services: Services,
    charge_point_id: str,
    kind: JobKind,
    limit: int,
    variants: Collection[str | None] = (None,),
) -> list[FileJobOut]:
    """A known charge point's jobs of one kind and variants (None: the plain UpdateFirmware /
    GetDiagnostics ones; the security extension's are SignedUpdateFirmware and GetLog), newest
    first; 404 for an unknown charge point."""
    await known_charge_point(services, charge_point_id)
    jobs = await services.store.list_file_jobs(
        charge_point_id, kind, limit=limit, variants=variants
    )
    return [FileJobOut.of(job) for job in jobs]


async def job_detail(services: Services, job_id: int, kind: JobKind) -> FileJobOut:
    job = await services.store.get_file_job(job_id)
    if job is None or job.kind != kind:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown {kind} job {job_id}")
    files = None
    if kind == JobKind.DIAGNOSTICS:
        files = await services.store.diagnostics_files(job_id)
    return FileJobOut.of(job, await services.store.file_job_events(job_id), files)


# -- images ---------------------------------------------------------------------------------------


def _image_out(services: Services, image: FirmwareImage) -> FirmwareImageOut:
    host = files_of(services)
    until = services.clock.now() + timedelta(seconds=services.settings.file_link_ttl)
    expires = expiry(until)
    return FirmwareImageOut(
        id=image.id,
        file_name=image.file_name,
        size=image.size,
        sha256=image.sha256,
        description=image.description,
        uploaded_at=image.uploaded_at,
        signing_certificate=image.signing_certificate,
        signature=image.signature,
        download_url=host.firmware_link(image.id, image.file_name, expires, None),
        link_expires_at=datetime.fromtimestamp(expires, until.tzinfo),
    )


@router.post("/firmware", status_code=status.HTTP_201_CREATED, response_model=FirmwareImageOut)
async def upload_firmware_image(
    request: Request,
    file: Annotated[UploadFile, File(description="The firmware image")],
    description: Annotated[str | None, Form()] = None,
    signing_certificate: Annotated[
        str | None,
        Form(
            alias="signingCertificate",
            max_length=MAX_CERTIFICATE_LENGTH,
            description="PEM X.509 certificate of the key that signed the image (whitepaper 4)",
        ),
    ] = None,
    signature: Annotated[
        str | None,
        Form(
            max_length=MAX_SIGNATURE_LENGTH,
            description="Base64 signature of the whole image (SHA-256; RSA or ECDSA)",
        ),
    ] = None,
) -> FirmwareImageOut:
    """Host a firmware image; charge points download it through signed links. With a
    signingCertificate and signature it is a signed image for SignedUpdateFirmware, checked
    now: a malformed certificate or a signature that does not verify is a 422 naming it."""
    services = services_of(request)
    file_name = safe_file_name(file.filename or "")
    if file_name is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the file needs a usable name")
    verify = signed_image_check(services, signing_certificate, signature)

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(64 * 1024):
            yield chunk

    try:
        image = await save_image(
            services.store,
            files_of(services),
            file_name=file_name,
            chunks=chunks(),
            description=description,
            at=services.clock.now(),
            signing_certificate=signing_certificate,
            signature=signature,
            verify=verify,
        )
    except SignatureRefused as exc:
        raise refused(exc) from None
    return _image_out(services, image)


@router.get("/firmware", response_model=list[FirmwareImageOut])
async def list_firmware_images(request: Request) -> list[FirmwareImageOut]:
    services = services_of(request)
    return [_image_out(services, image) for image in await services.store.list_firmware_images()]


@router.get("/firmware/{image_id}", response_model=FirmwareImageOut)
async def get_firmware_image(request: Request, image_id: int) -> FirmwareImageOut:
    services = services_of(request)
    image = await services.store.get_firmware_image(image_id)
    if image is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown firmware image {image_id}")
    return _image_out(services, image)


@router.delete("/firmware/{image_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_firmware_image(request: Request, image_id: int) -> Response:
    """Jobs that used it keep their history; their links stop working."""
    services = services_of(request)
    image = await services.store.get_firmware_image(image_id)
    if image is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown firmware image {image_id}")
    await delete_image(services.store, files_of(services), image)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- UpdateFirmware jobs --------------------------------------------------------------------------


@router.post("/charge-points/{charge_point_id}/update-firmware", response_model=FileJobOut)
async def update_firmware_of(
    request: Request,
    charge_point_id: str,
    body: UpdateFirmwareIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """UpdateFirmware (spec 5.19). Answers the job that follows it (status Accepted); its
    progress: GET /firmware-jobs/{id}."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    try:
        sent, job = await update_firmware(
            services,
            charge_point_id,
            location=body.location,
            image_id=body.firmware_id,
            retrieve_date=body.retrieve_date,
            retries=body.retries,
            retry_interval=body.retry_interval,
            connect_timeout=connect_timeout,
        )
    except UnknownFirmwareImage as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return job_answer(sent, job)


@router.get("/charge-points/{charge_point_id}/firmware-jobs", response_model=list[FileJobOut])
async def firmware_jobs_of(
    request: Request, charge_point_id: str, limit: JobsLimit = 100
) -> list[FileJobOut]:
    return await jobs_of(services_of(request), charge_point_id, JobKind.FIRMWARE, limit)


@router.get("/firmware-jobs/{job_id}", response_model=FileJobOut)
async def firmware_job(request: Request, job_id: int) -> FileJobOut:
    return await job_detail(services_of(request), job_id, JobKind.FIRMWARE)
