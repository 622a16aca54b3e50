"""The HTTP file endpoints charge points use (host.py has the URL layout): firmware downloads
and diagnostics uploads. No operator token: each URL carries its expiry and a signature over
its path and that expiry. An expired or tampered link is refused with 403 and the reason; the
refusal is recorded in the job's history (and an expired one fails the job)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from csms.features.context import Services
from csms.features.firmware.diagnostics import upload_broke_off, upload_finished, upload_target
from csms.features.firmware.firmware import download_refused, download_started
from csms.files.host import FileHost, safe_file_name
from csms.files.links import LinkExpired, LinkRefused

log = logging.getLogger("csms.files.http")

router = APIRouter(prefix="/files", tags=["files (charge points)"])

_CHUNK = 64 * 1024
_DISPOSITION_NAME = re.compile(r'filename="?([^";]+)"?')


def _services(request: Request) -> tuple[Services, FileHost]:
    services: Services = request.app.state.services
    if services.files is None:
        raise RuntimeError("file hosting is not running")
    return services, services.files


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown client"


def _verify(
    services: Services,
    host: FileHost,
    scope: str,
    identifier: int,
    file_name: str,
    expires: str,
    signature: str,
) -> None:
    resource = host.resource(scope, identifier, file_name)
    host.signer.verify(resource, expires, signature, services.clock.now())


def _refused(request: Request, exc: LinkRefused) -> JSONResponse:
    log.warning("%s %s refused for %s: %s", request.method, request.url.path, _client(request), exc)
    return JSONResponse({"detail": exc.reason}, status_code=status.HTTP_403_FORBIDDEN)


def _not_found(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status.HTTP_404_NOT_FOUND)


# -- firmware downloads (spec 8.1) ---------------------------------------------------------------


_IMAGE = "/firmware/{image_id}/{expires}/{signature}/{file_name}"
_JOB_IMAGE = "/firmware-jobs/{job_id}/{expires}/{signature}/{file_name}"
_DIRECTORY = "/diagnostics/{job_id}/{expires}/{signature}/"
_FILE = "/diagnostics/{job_id}/{expires}/{signature}/{file_name}"


# One route per method, each with its own OpenAPI operation (HEAD left out of the schema).
@router.get(_IMAGE, operation_id="download_firmware_image")
@router.head(_IMAGE, include_in_schema=False)
async def firmware_image(
    request: Request, image_id: int, expires: str, signature: str, file_name: str
) -> Response:
    """A hosted image through a link of its own (given by the operator API)."""
    services, host = _services(request)
    try:
        _verify(services, host, "firmware", image_id, file_name, expires, signature)
    except LinkRefused as exc:
        return _refused(request, exc)
    return await _image_file(services, host, image_id, file_name)


@router.get(_JOB_IMAGE, operation_id="download_firmware_of_job")
@router.head(_JOB_IMAGE, include_in_schema=False)
async def firmware_of_job(
    request: Request, job_id: int, expires: str, signature: str, file_name: str
) -> Response:
    """The image of an UpdateFirmware job, through the link the charge point was sent."""
    services, host = _services(request)
    try:
        _verify(services, host, "firmware-jobs", job_id, file_name, expires, signature)
    except LinkRefused as exc:
        await download_refused(services, job_id, exc.reason, expired=isinstance(exc, LinkExpired))
        return _refused(request, exc)
    job = await services.store.get_file_job(job_id)
    if job is None or job.image_id is None:
        return _not_found("the firmware image of this job is no longer hosted")
    if request.method == "GET":
        await download_started(services, job_id, _client(request))
    return await _image_file(services, host, job.image_id, file_name)


async def _image_file(
    services: Services, host: FileHost, image_id: int, file_name: str
) -> Response:
    image = await services.store.get_firmware_image(image_id)
    path = host.firmware_path(image_id, file_name)
    if image is None or image.file_name != file_name or not path.is_file():
        return _not_found("no such firmware image")
    # Range requests are served: a charge point can resume an interrupted download.
    return FileResponse(path, media_type="application/octet-stream", filename=file_name)


# -- diagnostics uploads (spec 8.2) --------------------------------------------------------------


@router.put(_DIRECTORY, operation_id="put_diagnostics_to_directory")
@router.post(_DIRECTORY, operation_id="post_diagnostics_to_directory")
async def diagnostics_to_directory(
    request: Request, job_id: int, expires: str, signature: str
) -> Response:
    """An upload to the location itself: multipart/form-data (the file part's name is the
    file name), or the file as the body (named by Content-Disposition, else the name the
    charge point announced in GetDiagnostics.conf)."""
    return await _upload(request, job_id, expires, signature, None)


@router.put(_FILE, operation_id="put_diagnostics_file")
@router.post(_FILE, operation_id="post_diagnostics_file")
async def diagnostics_file(
    request: Request, job_id: int, expires: str, signature: str, file_name: str
) -> Response:
    """An upload to <location><file name>: the body is the file (or multipart/form-data)."""
    return await _upload(request, job_id, expires, signature, file_name)


async def _upload(
    request: Request, job_id: int, expires: str, signature: str, file_name: str | None
) -> Response:
    services, host = _services(request)
    try:
        _verify(services, host, "diagnostics", job_id, "", expires, signature)
    except LinkRefused as exc:
        await _upload_refused(services, job_id, exc)
        return _refused(request, exc)
    job = await upload_target(services, job_id)
    if job is None:
        return _not_found("this job expects no upload (any more)")
    directory = host.diagnostics_dir(job_id)
    directory.mkdir(parents=True, exist_ok=True)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            form = await request.form()
        except Exception as exc:  # the peer's body: broken off or malformed
            await upload_broke_off(services, job_id, f"the HTTP upload broke off ({exc!r})")
            return JSONResponse({"detail": "upload incomplete"}, status_code=400)
        try:
            parts = [value for value in form.values() if isinstance(value, UploadFile)]
            if not parts:
                return JSONResponse({"detail": "no file in the form"}, status_code=400)
            name = safe_file_name(file_name or parts[0].filename or "") or _default_name(job)
            return await _receive(services, directory, job_id, name, _read(parts[0]), None)
        finally:
            await form.close()
    name = safe_file_name(file_name or _disposition_name(request) or "") or _default_name(job)
    length = request.headers.get("content-length")
    expected = int(length) if length and length.isdigit() else None
    return await _receive(services, directory, job_id, name, request.stream(), expected)


async def _receive(
    services: Services,
    directory: Path,
    job_id: int,
    name: str,
    chunks: AsyncIterator[bytes],
    expected: int | None,
) -> Response:
    size = 0
    problem: str | None = None
    try:
        with (directory / name).open("wb") as file:
            async for chunk in chunks:
                file.write(chunk)
                size += len(chunk)
    except Exception as exc:  # ClientDisconnect and the like: the peer went away
        problem = f" ({type(exc).__name__})"
    if problem is None and expected is not None and size != expected:
        problem = f" ({size} of the {expected} bytes announced)"
    await upload_finished(
        services,
        job_id,
        name,
        size=size,
        complete=problem is None,
        protocol="http",
        detail=problem or "",
    )
    if problem is not None:
        return JSONResponse({"detail": f"upload incomplete{problem}"}, status_code=400)
    body: dict[str, Any] = {"fileName": name, "size": size}
    return JSONResponse(body, status_code=status.HTTP_201_CREATED)


async def _read(part: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await part.read(_CHUNK):
        yield chunk


async def _upload_refused(services: Services, job_id: int, exc: LinkRefused) -> None:
    if isinstance(exc, LinkExpired):
        await upload_broke_off(services, job_id, f"upload refused: {exc.reason}", "UploadRefused")
    else:
        await upload_broke_off(services, job_id, exc.reason, "UploadRefused", note_only=True)


def _disposition_name(request: Request) -> str | None:
    match = _DISPOSITION_NAME.search(request.headers.get("content-disposition", ""))
    return match[1] if match else None


def _default_name(job: Any) -> str:
    return safe_file_name(job.file_name or "") or f"diagnostics-{job.id}"
