"""The security whitepaper's signed firmware, logs and extended trigger (docs/signed-firmware.md):

    POST /charge-points/{id}/signed-update-firmware   SignedUpdateFirmware; answers the job
    GET  /charge-points/{id}/signed-firmware-jobs     the charge point's signed jobs, newest first
    POST /charge-points/{id}/get-log                  GetLog; answers the job
    GET  /charge-points/{id}/log-jobs                 the charge point's log jobs, newest first
    POST /charge-points/{id}/extended-trigger         ExtendedTriggerMessage

A signed job's progress: GET /firmware-jobs/{id}; a log job's, with the files that arrived:
GET /diagnostics-jobs/{id} (and its files). Signed images: POST /firmware with a
signingCertificate and signature (api/firmware.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field, model_validator

from csms.api.deps import known_charge_point, services_of
from csms.api.firmware import ConnectTimeout, FileJobOut, JobsLimit, job_answer, jobs_of
from csms.api.models import Model
from csms.api.signatures import refused
from csms.api.trigger import TriggerOut, triggered_answer
from csms.features.firmware.firmware import UnknownFirmwareImage
from csms.features.firmware.jobs import JobKind
from csms.features.remote_trigger.trigger import TriggerRefused
from csms.features.security.extended_trigger import extended_trigger_message
from csms.features.security.firmware_signatures import (
    MAX_CERTIFICATE_LENGTH,
    MAX_SIGNATURE_LENGTH,
    SignatureRefused,
)
from csms.features.security.logs import LOG_VARIANTS, get_log
from csms.features.security.signed_firmware import (
    SIGNED,
    UnsignedFirmwareImage,
    signed_update_firmware,
)
from csms.ocpp16.security_firmware_messages import ExtendedMessageTrigger, LogType

router = APIRouter(prefix="/charge-points/{charge_point_id}", tags=["security"])


class SignedUpdateFirmwareIn(Model):
    """Either a hosted signed image (`firmwareId`: the charge point gets a link of the job and
    the image's certificate and signature), or a `location` with a `signingCertificate` and
    `signature` (checked for form: the CSMS does not have the file)."""

    firmware_id: int | None = None
    location: str | None = Field(default=None, min_length=1, max_length=512)
    signing_certificate: str | None = Field(default=None, max_length=MAX_CERTIFICATE_LENGTH)
    signature: str | None = Field(default=None, max_length=MAX_SIGNATURE_LENGTH)
    # Default: now.
    retrieve_date_time: AwareDatetime | None = None
    install_date_time: AwareDatetime | None = None
    retries: int | None = Field(default=None, ge=0, le=2**31 - 1)
    retry_interval: int | None = Field(default=None, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _one_source(self) -> SignedUpdateFirmwareIn:
        given = (self.location, self.signing_certificate, self.signature)
        if self.firmware_id is not None and any(value is not None for value in given):
            raise ValueError("give firmwareId, or location, signingCertificate and signature")
        if self.firmware_id is None and any(value is None for value in given):
            raise ValueError("give firmwareId, or location, signingCertificate and signature")
        return self


class GetLogIn(Model):
    """Without a `location`, the charge point uploads to the CSMS: over FTP (credentials of the
    job) or HTTP (a signed link of the job), as `protocol` says."""

    log_type: LogType
    location: str | None = Field(default=None, min_length=1, max_length=512)
    protocol: Literal["ftp", "http"] = "ftp"
    oldest_timestamp: AwareDatetime | None = None
    latest_timestamp: AwareDatetime | None = None
    retries: int | None = Field(default=None, ge=0, le=2**31 - 1)
    retry_interval: int | None = Field(default=None, ge=0, le=2**31 - 1)


class ExtendedTriggerIn(Model):
    requested_message: ExtendedMessageTrigger
    connector_id: int | None = Field(default=None, ge=0, le=2**31 - 1)


@router.post("/signed-update-firmware", response_model=FileJobOut)
async def signed_update_firmware_of(
    request: Request,
    charge_point_id: str,
    body: SignedUpdateFirmwareIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """SignedUpdateFirmware (whitepaper 4, 5.21). Answers the job that follows it; its
    progress: GET /firmware-jobs/{id}."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    try:
        sent, job = await signed_update_firmware(
            services,
            charge_point_id,
            image_id=body.firmware_id,
            location=body.location,
            signing_certificate=body.signing_certificate,
            signature=body.signature,
            retrieve_date=body.retrieve_date_time,
            install_date=body.install_date_time,
            retries=body.retries,
            retry_interval=body.retry_interval,
            connect_timeout=connect_timeout,
        )
    except UnknownFirmwareImage as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except UnsignedFirmwareImage as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except SignatureRefused as exc:
        raise refused(exc) from None
    return job_answer(sent, job)


@router.get("/signed-firmware-jobs", response_model=list[FileJobOut])
async def signed_firmware_jobs_of(
    request: Request, charge_point_id: str, limit: JobsLimit = 100
) -> list[FileJobOut]:
    return await jobs_of(services_of(request), charge_point_id, JobKind.FIRMWARE, limit, (SIGNED,))


@router.post("/get-log", response_model=FileJobOut)
async def get_log_of(
    request: Request,
    charge_point_id: str,
    body: GetLogIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """GetLog (whitepaper 5.9). Answers the job that follows it (with the file name the charge
    point announced); its progress and files: GET /diagnostics-jobs/{id}."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    try:
        sent, job = await get_log(
            services,
            charge_point_id,
            body.log_type,
            location=body.location,
            protocol=body.protocol,
            oldest=body.oldest_timestamp,
            latest=body.latest_timestamp,
            retries=body.retries,
            retry_interval=body.retry_interval,
            connect_timeout=connect_timeout,
        )
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return job_answer(sent, job)


@router.get("/log-jobs", response_model=list[FileJobOut])
async def log_jobs_of(
    request: Request, charge_point_id: str, limit: JobsLimit = 100
) -> list[FileJobOut]:
    return await jobs_of(
        services_of(request), charge_point_id, JobKind.DIAGNOSTICS, limit, LOG_VARIANTS
    )


@router.post("/extended-trigger", response_model=TriggerOut)
async def extended_trigger(
    request: Request,
    charge_point_id: str,
    body: ExtendedTriggerIn,
    wait: Annotated[
        float, Query(ge=0, le=600, description="Seconds to wait for the triggered message")
    ] = 10.0,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """ExtendedTriggerMessage (whitepaper 5.5): the status and, when Accepted, the message(s)
    the charge point sent as asked (FirmwareStatusNotification: a
    SignedFirmwareStatusNotification; SignChargePointCertificate: a SignCertificate)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    try:
        triggered = await extended_trigger_message(
            services,
            charge_point_id,
            body.requested_message,
            body.connector_id,
            wait=wait,
            connect_timeout=connect_timeout,
        )
    except TriggerRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return triggered_answer(triggered)
