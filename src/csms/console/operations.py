"""The operations of the console's charge point page (docs/console.md, "Operations"): each form
posted to /charge-points/{id}/operations/{operation} becomes its OCPP request (spec 5.x) and
goes through the feature function the API uses for it; the page comes back with the charge
point's answer, or why there is none (409 not connected, 504 no answer, 422 naming the field
that is no request). Operators and admins only, with the session's CSRF token (console/auth.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response

from csms.api.deps import services_of
from csms.console.auth import OperatorPost
from csms.console.pages import OPERATIONS, _charge_point_context, _events_from, _page, moment
from csms.features import commands
from csms.features import reservation as reservation_feature
from csms.features.context import Services
from csms.features.core import remote_start
from csms.features.firmware import UnknownFirmwareImage, get_diagnostics, update_firmware
from csms.ocpp16 import Action
from csms.ocppj import CallResult

router = APIRouter(include_in_schema=False, dependencies=[Depends(_events_from)])

# A remote start waits this long for the StartTransaction it leads to.
REMOTE_START_WAIT = 10.0


@router.post("/charge-points/{charge_point_id}/operations/{operation}")
async def operate(
    request: Request, principal: OperatorPost, charge_point_id: str, operation: str
) -> Response:
    """One operation from the charge point page; the page again, with the charge point's
    answer (or why there is none)."""
    services = services_of(request)
    if operation not in OPERATIONS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no operation {operation!r}")
    if await services.store.get_charge_point(charge_point_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown charge point {charge_point_id!r}")
    form = await request.form()
    fields = _Form({k: str(v).strip() for k, v in form.items() if k != "csrf_token"})
    code = status.HTTP_200_OK
    action: Action | None = None
    try:
        action, payload = _request_of(operation, fields)
        answer = await _perform(services, charge_point_id, action, payload)
    except _FAILURES as exc:
        code, answer = _failure(exc)
    from csms.console import audit

    await audit(request, principal, f"console.{operation}", charge_point_id, code)
    context = await _charge_point_context(services, charge_point_id)
    return _page(
        request,
        "charge_point.html",
        principal,
        code,
        result={
            "operation": operation,
            "action": str(action) if action else operation,
            "answer": json.dumps(answer, indent=2),
            "ok": code == status.HTTP_200_OK and "errorCode" not in answer,
        },
        **context,
    )


async def _perform(
    services: Services, charge_point_id: str, action: Action, payload: dict[str, Any]
) -> dict[str, Any]:
    """Send one operation through the feature the API uses for it; the answer to show."""
    if action is Action.RESERVE_NOW:
        expiry = services.clock.now() + timedelta(minutes=payload["minutes"])
        reserved = await reservation_feature.reserve_now(
            services,
            charge_point_id,
            connector_id=payload["connectorId"],
            id_tag=payload["idTag"],
            expiry_date=expiry,
        )
        return {**_answer(reserved.sent), "reservation": reserved.reservation.id}
    if action is Action.CANCEL_RESERVATION:
        cancelled = await reservation_feature.cancel_reservation(services, payload["reservationId"])
        return {**_answer(cancelled.sent), "reservation": cancelled.reservation.id}
    if action is Action.GET_DIAGNOSTICS:
        sent, job = await get_diagnostics(
            services, charge_point_id, location=payload.get("location")
        )
        return {**_answer(sent), "job": job.id}
    if action is Action.UPDATE_FIRMWARE:
        sent, job = await update_firmware(
            services,
            charge_point_id,
            location=payload.get("location"),
            image_id=payload.get("imageId"),
            retrieve_date=moment("retrieveDate", payload.get("retrieveDate", "")),
        )
        return {**_answer(sent), "job": job.id}
    if action is Action.REMOTE_START_TRANSACTION:
        started = await remote_start(services, charge_point_id, payload, wait=REMOTE_START_WAIT)
        answer = _answer(started.sent)
        if started.transaction_id is not None:
            answer["transactionId"] = started.transaction_id
        return answer
    return _answer(await commands.send(services, charge_point_id, action, payload))


_FAILURES = (
    reservation_feature.UnknownReservation,
    reservation_feature.ReservationRefused,
    UnknownFirmwareImage,
    ValueError,
    KeyError,
    commands.CommandFailed,
)
# The HTTP status of a failed operation, by exception type (the first that matches).
_FAILURE_CODES: tuple[tuple[type[Exception], int], ...] = (
    (reservation_feature.UnknownReservation, status.HTTP_404_NOT_FOUND),
    (UnknownFirmwareImage, status.HTTP_404_NOT_FOUND),
    (reservation_feature.ReservationRefused, status.HTTP_409_CONFLICT),
    (commands.InvalidCommand, status.HTTP_422_UNPROCESSABLE_CONTENT),  # nothing was sent
    (commands.UnknownCommand, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (commands.CommandTimeout, status.HTTP_504_GATEWAY_TIMEOUT),
    (commands.InvalidAnswer, status.HTTP_502_BAD_GATEWAY),
    (commands.CommandFailed, status.HTTP_409_CONFLICT),  # not connected, not allowed now
    (ValueError, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (KeyError, status.HTTP_422_UNPROCESSABLE_CONTENT),
)


def _failure(exc: Exception) -> tuple[int, dict[str, Any]]:
    code = next(code for kind, code in _FAILURE_CODES if isinstance(exc, kind))
    bad_input = isinstance(exc, ValueError | KeyError) and not isinstance(
        exc, commands.CommandFailed
    )
    return code, {"error": f"bad input, {exc}" if bad_input else str(exc)}


def _answer(sent: commands.Sent) -> dict[str, Any]:
    if isinstance(sent.response, CallResult):
        return dict(sent.response.payload)
    error = sent.response
    return {
        "errorCode": str(error.error_code),
        "errorDescription": error.error_description,
        "errorDetails": error.error_details,
    }


class _Form(dict[str, str]):
    """A console form's fields; reading one that is empty or absent is an error naming it."""

    def __getitem__(self, name: str) -> str:
        value = self.get(name, "")
        if not value:
            raise ValueError(f"{name}: needed")
        return value


def _int(fields: dict[str, str], name: str) -> int:
    value = fields[name]
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}: a whole number, not {value!r}") from None


def _remote_start(f: dict[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {"idTag": f["idTag"]}
    if f.get("connectorId"):
        payload["connectorId"] = _int(f, "connectorId")
    return payload


def _get_configuration(f: dict[str, str]) -> dict[str, Any]:
    keys = [k.strip() for k in f.get("key", "").split(",") if k.strip()]
    return {"key": keys} if keys else {}


def _trigger(f: dict[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {"requestedMessage": f["requestedMessage"]}
    if f.get("connectorId"):
        payload["connectorId"] = _int(f, "connectorId")
    return payload


def _update_firmware(f: dict[str, str]) -> dict[str, Any]:
    # A hosted image (its id) or any location; retrieveDate empty: now.
    image = f.get("imageId") or None
    return {
        "location": f.get("location") or None,
        "imageId": int(image) if image else None,
        "retrieveDate": f.get("retrieveDate", ""),
    }


def _reserve(f: dict[str, str]) -> dict[str, Any]:
    minutes = _int(f, "minutes") if f.get("minutes") else 30
    if not 1 <= minutes <= 7 * 24 * 60:
        raise ValueError("a reservation lasts 1 minute to 7 days")
    return {"connectorId": _int(f, "connectorId"), "idTag": f["idTag"], "minutes": minutes}


def _data_transfer(f: dict[str, str]) -> dict[str, Any]:
    payload = {"vendorId": f["vendorId"]}
    for name in ("messageId", "data"):
        if f.get(name):
            payload[name] = f[name]
    return payload


# Each console form: the OCPP request it becomes (spec 5.x); the features validate it further.
_REQUESTS: dict[str, tuple[Action, Callable[[dict[str, str]], dict[str, Any]]]] = {
    "remote-start": (Action.REMOTE_START_TRANSACTION, _remote_start),
    "remote-stop": (
        Action.REMOTE_STOP_TRANSACTION,
        lambda f: {"transactionId": _int(f, "transactionId")},
    ),
    "reset": (Action.RESET, lambda f: {"type": f["type"]}),
    "unlock": (Action.UNLOCK_CONNECTOR, lambda f: {"connectorId": _int(f, "connectorId")}),
    "change-availability": (
        Action.CHANGE_AVAILABILITY,
        lambda f: {"connectorId": _int(f, "connectorId"), "type": f["type"]},
    ),
    "change-configuration": (
        Action.CHANGE_CONFIGURATION,
        lambda f: {"key": f["key"], "value": f.get("value", "")},
    ),
    "get-configuration": (Action.GET_CONFIGURATION, _get_configuration),
    "trigger": (Action.TRIGGER_MESSAGE, _trigger),
    # Empty location: the CSMS's own upload location (features/firmware/diagnostics.py).
    "get-diagnostics": (Action.GET_DIAGNOSTICS, lambda f: {"location": f.get("location") or None}),
    "update-firmware": (Action.UPDATE_FIRMWARE, _update_firmware),
    "reserve": (Action.RESERVE_NOW, _reserve),
    "cancel-reservation": (
        Action.CANCEL_RESERVATION,
        lambda f: {"reservationId": _int(f, "reservationId")},
    ),
    "clear-cache": (Action.CLEAR_CACHE, lambda f: {}),
    "data-transfer": (Action.DATA_TRANSFER, _data_transfer),
}


def _request_of(operation: str, f: dict[str, str]) -> tuple[Action, dict[str, Any]]:
    """The OCPP request of a console form."""
    action, build = _REQUESTS[operation]
    return action, build(f)
