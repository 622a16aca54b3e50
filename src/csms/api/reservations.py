"""Reservations (spec 5.13, 5.1): what the CSMS asked for and what became of each.

POST /charge-points/{id}/reservations sends ReserveNow; DELETE /reservations/{id} sends
CancelReservation; both answer with the charge point's status and the reservation as now
stored. 409: not sent (connector 0 without ReserveConnectorZeroSupported, an expiryDate in the
past, a reservationId taken, a connector that does not exist, nothing left to cancel). 502: the
charge point answered with a CALLERROR (the reservation is Failed). Offline (409) and no answer
(504) as for every command; the reservation is then Failed too. The generic command endpoint
still sends any schema-valid ReserveNow or CancelReservation, and its answers are recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field

from csms.api.deps import known_charge_point, services_of
from csms.api.models import Model
from csms.features.reservation import reservations as feature
from csms.ocppj import CallError
from csms.storage import Reservation, ReservationState

router = APIRouter(tags=["reservations"])

ConnectTimeout = Annotated[
    float, Query(ge=0, le=600, description="Wait up to this many seconds for it to connect")
]


class ReservationOut(Model):
    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry_date: datetime
    state: str  # a ReservationState
    reason: str | None
    transaction_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, reservation: Reservation) -> ReservationOut:
        return cls.model_validate(reservation, from_attributes=True)


class ReserveNowIn(Model):
    """ReserveNow (spec 6.37); expiryDate defaults to now + reservation_expiry_offset and the
    reservationId to a new one."""

    connector_id: int = Field(ge=0)
    id_tag: str = Field(min_length=1, max_length=20)
    parent_id_tag: str | None = Field(default=None, min_length=1, max_length=20)
    expiry_date: AwareDatetime | None = None
    reservation_id: int | None = Field(default=None, gt=0, le=2**31 - 1)


class ReservationAnswer(Model):
    """The charge point's answer and the reservation as stored after it."""

    status: str
    reservation: ReservationOut


@router.get("/reservations")
async def list_reservations(
    request: Request,
    charge_point_id: str | None = None,
    state: ReservationState | None = None,
) -> list[ReservationOut]:
    """By reservationId."""
    store = services_of(request).store
    found = await store.list_reservations(charge_point_id=charge_point_id, state=state)
    return [ReservationOut.of(r) for r in found]


@router.get("/reservations/{reservation_id}")
async def get_reservation(request: Request, reservation_id: int) -> ReservationOut:
    found = await services_of(request).store.get_reservation(reservation_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown reservation {reservation_id}")
    return ReservationOut.of(found)


@router.post(
    "/charge-points/{charge_point_id}/reservations",
    response_model=ReservationAnswer,
    responses={409: {"description": "Not sent; a Failed reservation if one was stored"}},
)
async def reserve_now(
    request: Request,
    charge_point_id: str,
    body: ReserveNowIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """ReserveNow (spec 5.13)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    try:
        outcome = await feature.reserve_now(
            services,
            charge_point_id,
            connector_id=body.connector_id,
            id_tag=body.id_tag,
            parent_id_tag=body.parent_id_tag,
            expiry_date=body.expiry_date,
            reservation_id=body.reservation_id,
            connect_timeout=connect_timeout,
        )
    except feature.ReservationRefused as exc:
        return _refused(exc)
    return _answer(outcome)


@router.delete("/reservations/{reservation_id}", response_model=ReservationAnswer)
async def cancel_reservation(
    request: Request, reservation_id: int, connect_timeout: ConnectTimeout = 0.0
) -> JSONResponse:
    """CancelReservation (spec 5.1) of a Requested or Accepted reservation. Accepted: it is
    Cancelled; Rejected (the charge point has no such reservation): unchanged."""
    try:
        outcome = await feature.cancel_reservation(
            services_of(request), reservation_id, connect_timeout=connect_timeout
        )
    except feature.UnknownReservation as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except feature.ReservationRefused as exc:
        return _refused(exc)
    return _answer(outcome)


def _answer(outcome: feature.Outcome) -> JSONResponse:
    reservation = ReservationOut.of(outcome.reservation).model_dump(mode="json", by_alias=True)
    response = outcome.sent.response
    if isinstance(response, CallError):
        return JSONResponse(
            {
                "errorCode": str(response.error_code),
                "errorDescription": response.error_description,
                "errorDetails": response.error_details,
                "reservation": reservation,
            },
            status_code=status.HTTP_502_BAD_GATEWAY,
        )
    return JSONResponse({"status": response.payload["status"], "reservation": reservation})


def _refused(exc: feature.ReservationRefused) -> JSONResponse:
    body: dict[str, Any] = {"detail": str(exc)}
    if exc.reservation is not None:
        body["reservation"] = ReservationOut.of(exc.reservation).model_dump(
            mode="json", by_alias=True
        )
    return JSONResponse(body, status_code=status.HTTP_409_CONFLICT)
