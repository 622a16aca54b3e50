"""POST /api/v1/charge-points/{id}/commands/{Action}: send any OCPP 1.6 request, answered
synchronously with the charge point's answer.

200: the CALLRESULT payload as the charge point sent it. 502: its CALLERROR (errorCode,
errorDescription, errorDetails) or an answer that violates the schema. 504: no answer in time.
409: not connected (wait up to `connect_timeout` s for it first). 422: the payload violates the
action's schema (nothing was sent). 404: unknown charge point or action.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, status
from fastapi.responses import JSONResponse

from csms.api.deps import known_charge_point, services_of
from csms.features import commands
from csms.ocppj import CallError

router = APIRouter(prefix="/charge-points/{charge_point_id}/commands", tags=["commands"])


@router.post(
    "/{action}",
    responses={
        200: {"description": "The charge point's CALLRESULT payload"},
        404: {"description": "Unknown charge point or action"},
        409: {"description": "Charge point not connected"},
        422: {"description": "Payload violates the action's schema; nothing was sent"},
        502: {"description": "The charge point answered with a CALLERROR or an invalid payload"},
        504: {"description": "No answer within the OCPP response timeout"},
    },
)
async def send_command(
    request: Request,
    charge_point_id: str,
    action: str,
    payload: Annotated[dict[str, Any], Body(description="The request payload as on the wire")],
    connect_timeout: Annotated[float, Query(ge=0, le=600)] = 0.0,
) -> JSONResponse:
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    sent = await commands.send(
        services, charge_point_id, action, payload, connect_timeout=connect_timeout
    )
    return answer(sent)


def answer(sent: commands.Sent) -> JSONResponse:
    """The HTTP answer for a sent command: its payload, or its CALLERROR as a 502."""
    response = sent.response
    if isinstance(response, CallError):
        return JSONResponse(
            {
                "errorCode": str(response.error_code),
                "errorDescription": response.error_description,
                "errorDetails": response.error_details,
            },
            status_code=status.HTTP_502_BAD_GATEWAY,
        )
    return JSONResponse(response.payload)
