"""The operator REST API (FastAPI; OpenAPI at /api/v1/openapi.json, Swagger UI at /api/v1/docs
and ReDoc at /api/v1/redoc from assets served here, no CDN) and the console (console/, at /).

In front of every route: api/limits.py (who is calling and whether their role may use the
route, before the body; body size limits; values no column can hold refused with 422 naming
the field; the audit log of every change)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import fastapi_offline
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from csms import __version__, console
from csms.accounts import Accounts
from csms.api import (
    alerts,
    charge_points,
    charger_profiles,
    charging_profiles,
    commands,
    diagnostics,
    errors,
    events,
    firmware,
    health,
    id_tags,
    load_groups,
    local_list,
    messages,
    operations,
    overview,
    reservations,
    security,
    security_firmware,
    transactions,
    trigger,
    users,
    webhooks,
)
from csms.api.auth import principal_of
from csms.api.limits import RequestGuard, SafeJSONResponse, check_values
from csms.features.context import Services
from csms.files import http as files_http

OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/v1/docs"
REDOC_URL = "/api/v1/redoc"
# Swagger UI and ReDoc, from the fastapi-offline package.
DOCS_ASSETS_URL = "/static/docs"
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def create_api(services: Services, token: str, accounts: Accounts | None = None) -> FastAPI:
    """The HTTP app. `token`: the static bearer token (an admin); `accounts`: the users, tokens
    and sessions (made here on the services' store when not given)."""
    api = FastAPI(
        title="CSMS operator API",
        version=__version__,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        default_response_class=SafeJSONResponse,
        dependencies=[Depends(check_values)],
    )
    settings = services.settings
    if accounts is None:
        accounts = Accounts(
            services.store,
            token,
            session_ttl=settings.session_ttl,
            now=lambda: datetime.now(UTC),
        )
    api.add_middleware(
        RequestGuard,
        accounts=accounts,
        public=frozenset({OPENAPI_URL, DOCS_URL, REDOC_URL, *health.PATHS}),
        max_body=settings.api_max_body_bytes,
        max_file_body=settings.file_max_body_bytes,
    )
    api.state.services = services
    api.state.accounts = accounts
    secured = [Depends(principal_of)]
    errors.install(api)
    for module in (
        charge_points,
        charger_profiles,
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
        security_firmware,
        users,
        messages,
        events,
        webhooks,
        alerts,
        overview,
        security,
    ):
        api.include_router(module.router, prefix="/api/v1", dependencies=secured)
    # For charge points: no operator token, each link is signed (files/http.py).
    api.include_router(files_http.router)
    # For operators' monitoring: /health, /ready, /metrics (metrics_token optional).
    api.include_router(health.router)
    _install_docs(api)
    console.install(api)
    return api


def _install_docs(api: FastAPI) -> None:
    # Mounted before the console's /static, which would otherwise take these paths.
    api.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @api.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{api.title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @api.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=OPENAPI_URL,
            title=f"{api.title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
