"""POST /charge-points/{id}/trigger: TriggerMessage (spec 5.17), answered with the charge point's
status and, when Accepted, the message(s) it sent in reply, waited for up to `wait` seconds.

409: not sent (a BootNotification of a charge point whose boot was Accepted, errata 3.40; or not
connected). 502: a CALLERROR. 504: no answer in time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import Field

from csms.api.commands import answer
from csms.api.deps import known_charge_point, services_of
from csms.api.models import Model
from csms.features.remote_trigger.trigger import Triggered, TriggerRefused, trigger_message
from csms.ocpp16 import MessageTrigger
from csms.ocppj import CallError

router = APIRouter(prefix="/charge-points/{charge_point_id}", tags=["operations"])


class TriggerIn(Model):
    requested_message: MessageTrigger
    # Any connector, also one the charge point does not have (it answers Rejected, TC_055).
    connector_id: int | None = Field(default=None, ge=0)


class ArrivalOut(Model):
    action: str
    connector_id: int | None
    payload: dict[str, Any]
    received_at: datetime


class TriggerOut(Model):
    status: str
    # What the charge point sent as asked (also before its answer), in the order received.
    messages: list[ArrivalOut]
    # Whether every message asked for came: one, or one per connector for a request without
    # connectorId (StatusNotification: connector 0 too).
    complete: bool


@router.post("/trigger", response_model=TriggerOut)
async def trigger(
    request: Request,
    charge_point_id: str,
    body: TriggerIn,
    wait: Annotated[
        float, Query(ge=0, le=600, description="Seconds to wait for the triggered message")
    ] = 10.0,
    connect_timeout: Annotated[
        float, Query(ge=0, le=600, description="Wait up to this many seconds for it to connect")
    ] = 0.0,
) -> JSONResponse:
    """TriggerMessage (spec 5.17)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    try:
        triggered = await trigger_message(
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


def triggered_answer(triggered: Triggered) -> JSONResponse:
    """The status and the messages that came; a CALLERROR as a 502 (commands.answer). Shared
    with ExtendedTriggerMessage (api/security_firmware.py)."""
    if isinstance(triggered.sent.response, CallError) or triggered.status is None:
        return answer(triggered.sent)
    out = TriggerOut(
        status=triggered.status,
        messages=[
            ArrivalOut(
                action=arrival.action,
                connector_id=arrival.connector_id,
                payload=arrival.payload,
                received_at=arrival.received_at,
            )
            for arrival in triggered.messages
        ],
        complete=triggered.complete,
    )
    return JSONResponse(out.model_dump(mode="json", by_alias=True))
