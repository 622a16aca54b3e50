"""The operator REST API (FastAPI; OpenAPI at /api/v1/openapi.json).

In front of every route: api/limits.py (token before body, body size limits, values no column
can hold refused with 422 naming the field)."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from csms import __version__
from csms.api import (
    charge_points,
    charging_profiles,
    commands,
    diagnostics,
    errors,
    events,
    firmware,
    id_tags,
    load_groups,
    local_list,
    messages,
    operations,
    reservations,
    transactions,
    trigger,
)
from csms.api.auth import require_token
from csms.api.limits import RequestGuard, SafeJSONResponse, check_values
from csms.features.context import Services
from csms.files import http as files_http


def create_api(services: Services, token: str) -> FastAPI:
    api = FastAPI(
        title="CSMS operator API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        default_response_class=SafeJSONResponse,
        dependencies=[Depends(check_values)],
    )
    settings = services.settings
    api.add_middleware(
        RequestGuard,
        token=token,
        public=frozenset({"/api/v1/openapi.json", "/api/v1/docs"}),
        max_body=settings.api_max_body_bytes,
        max_file_body=settings.file_max_body_bytes,
    )
    api.state.services = services
    secured = [Depends(require_token(token))]
    errors.install(api)
    for module in (
        charge_points,
        charging_profiles,
        commands,
        operations,
        transactions,
        id_tags,
        local_list,
        load_groups,
        reservations,
        trigger,
        firmware,
        diagnostics,
        messages,
        events,
    ):
        api.include_router(module.router, prefix="/api/v1", dependencies=secured)
    # For charge points: no operator token, each link is signed (files/http.py).
    api.include_router(files_http.router)
    return api
