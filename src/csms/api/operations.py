"""Typed endpoints for the Core operations (spec 5.x), on the same path as the generic command
endpoint: each builds the wire payload, sends it, and answers with the charge point's answer
plus what the CSMS concluded (the transactionId of a remote start)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from csms.api.commands import answer
from csms.api.deps import known_charge_point, services_of
from csms.api.models import Model
from csms.features import commands
from csms.features.core.commands import remote_start
from csms.features.smart_charging.commands import check_remote_start
from csms.ocpp16 import Action
from csms.ocppj import CallResult

router = APIRouter(prefix="/charge-points/{charge_point_id}", tags=["operations"])

ConnectTimeout = Annotated[
    float, Query(ge=0, le=600, description="Wait up to this many seconds for it to connect")
]


class RemoteStartIn(Model):
    id_tag: str = Field(min_length=1, max_length=20)
    connector_id: int | None = Field(default=None, gt=0)
    charging_profile: dict[str, Any] | None = None


class RemoteStartOut(Model):
    status: str
    transaction_id: int | None


class RemoteStopIn(Model):
    transaction_id: int


class ResetIn(Model):
    type: Literal["Hard", "Soft"]


class UnlockConnectorIn(Model):
    connector_id: int = Field(gt=0)


class ChangeAvailabilityIn(Model):
    connector_id: int = Field(ge=0)
    type: Literal["Inoperative", "Operative"]


class ChangeConfigurationIn(Model):
    key: str = Field(min_length=1, max_length=50)
    value: str = Field(max_length=500)


class GetConfigurationIn(Model):
    key: list[str] | None = None


class DataTransferIn(Model):
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: str | None = None


async def _send(
    request: Request,
    charge_point_id: str,
    action: Action,
    body: Model | None,
    connect_timeout: float,
) -> JSONResponse:
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    payload = {} if body is None else body.model_dump(by_alias=True, exclude_none=True)
    sent = await commands.send(
        services, charge_point_id, action, payload, connect_timeout=connect_timeout
    )
    return answer(sent)


@router.post("/remote-start", response_model=RemoteStartOut)
async def remote_start_transaction(
    request: Request,
    charge_point_id: str,
    body: RemoteStartIn,
    connect_timeout: ConnectTimeout = 0.0,
    wait: Annotated[
        float, Query(ge=0, le=600, description="Seconds to wait for the StartTransaction")
    ] = 30.0,
) -> JSONResponse:
    """RemoteStartTransaction (spec 5.11). When Accepted, waits up to `wait` s for the
    transaction it starts and returns its transactionId (null if none came in time)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    payload = body.model_dump(by_alias=True, exclude_none=True)
    # Spec 5.16.2: a chargingProfile is checked like a SetChargingProfile (422, nothing sent).
    await check_remote_start(services, charge_point_id, payload)
    started = await remote_start(
        services,
        charge_point_id,
        payload,
        wait=wait,
        connect_timeout=connect_timeout,
    )
    if not isinstance(started.sent.response, CallResult):
        return answer(started.sent)
    return JSONResponse(
        RemoteStartOut(
            status=started.sent.response.payload["status"], transaction_id=started.transaction_id
        ).model_dump(by_alias=True)
    )


@router.post("/remote-stop")
async def remote_stop_transaction(
    request: Request,
    charge_point_id: str,
    body: RemoteStopIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """RemoteStopTransaction (spec 5.12)."""
    return await _send(
        request, charge_point_id, Action.REMOTE_STOP_TRANSACTION, body, connect_timeout
    )


@router.post("/reset")
async def reset(
    request: Request, charge_point_id: str, body: ResetIn, connect_timeout: ConnectTimeout = 0.0
) -> JSONResponse:
    """Reset (spec 5.14)."""
    return await _send(request, charge_point_id, Action.RESET, body, connect_timeout)


@router.post("/unlock-connector")
async def unlock_connector(
    request: Request,
    charge_point_id: str,
    body: UnlockConnectorIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """UnlockConnector (spec 5.18)."""
    return await _send(request, charge_point_id, Action.UNLOCK_CONNECTOR, body, connect_timeout)


@router.post("/change-availability")
async def change_availability(
    request: Request,
    charge_point_id: str,
    body: ChangeAvailabilityIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """ChangeAvailability (spec 5.2); Accepted or Scheduled is remembered per connector."""
    return await _send(request, charge_point_id, Action.CHANGE_AVAILABILITY, body, connect_timeout)


@router.post("/change-configuration")
async def change_configuration(
    request: Request,
    charge_point_id: str,
    body: ChangeConfigurationIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """ChangeConfiguration (spec 5.3); an accepted change updates the stored configuration."""
    return await _send(request, charge_point_id, Action.CHANGE_CONFIGURATION, body, connect_timeout)


@router.post("/get-configuration")
async def get_configuration(
    request: Request,
    charge_point_id: str,
    body: GetConfigurationIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """GetConfiguration (spec 5.8); the answer is stored (GET .../configuration shows it)."""
    return await _send(request, charge_point_id, Action.GET_CONFIGURATION, body, connect_timeout)


@router.post("/clear-cache")
async def clear_cache(
    request: Request, charge_point_id: str, connect_timeout: ConnectTimeout = 0.0
) -> JSONResponse:
    """ClearCache (spec 5.4)."""
    return await _send(request, charge_point_id, Action.CLEAR_CACHE, None, connect_timeout)


@router.post("/data-transfer")
async def data_transfer(
    request: Request,
    charge_point_id: str,
    body: DataTransferIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """DataTransfer from the Central System (spec 5.6)."""
    return await _send(request, charge_point_id, Action.DATA_TRANSFER, body, connect_timeout)
