"""Domain errors to HTTP, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from csms.api.limits import SafeJSONResponse
from csms.features.commands import (
    ChargePointOffline,
    CommandFailed,
    CommandTimeout,
    InvalidAnswer,
    InvalidCommand,
    NotAllowedNow,
    UnknownCommand,
)
from csms.features.smart_charging.profiles import ProfileRefused

_STATUS: dict[type[CommandFailed], int] = {
    UnknownCommand: status.HTTP_404_NOT_FOUND,
    InvalidCommand: status.HTTP_422_UNPROCESSABLE_CONTENT,
    ProfileRefused: status.HTTP_422_UNPROCESSABLE_CONTENT,
    ChargePointOffline: status.HTTP_409_CONFLICT,
    NotAllowedNow: status.HTTP_409_CONFLICT,
    CommandTimeout: status.HTTP_504_GATEWAY_TIMEOUT,
    InvalidAnswer: status.HTTP_502_BAD_GATEWAY,
}


async def _command_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CommandFailed)
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, InvalidAnswer):
        body["payload"] = exc.payload
    return SafeJSONResponse(body, status_code=_STATUS.get(type(exc), status.HTTP_502_BAD_GATEWAY))


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's own handler, rendered so that echoed text with lone surrogates cannot fail.
    assert isinstance(exc, RequestValidationError)
    return SafeJSONResponse(
        {"detail": jsonable_encoder(exc.errors())},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def install(api: FastAPI) -> None:
    api.add_exception_handler(CommandFailed, _command_failed)
    api.add_exception_handler(RequestValidationError, _invalid_request)
