"""Health, readiness and metrics for operators and orchestrators (docs/operating.md).

- GET /health: the process serves HTTP (200, nothing else checked);
- GET /ready: the database answers a SELECT 1 within two seconds and is migrated to the newest
  revision, and the OCPP listener is up (200), else 503 naming the failing check;
- GET /metrics: Prometheus text (metrics.py). Public like the other two unless the setting
  `metrics_token` is given: then it needs `Authorization: Bearer <metrics_token>`.

None of them is under /api/v1, so RequestGuard (api/limits.py) asks no operator token.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from csms.features.context import Services
from csms.metrics import CONTENT_TYPE

HEALTH_PATH = "/health"
READY_PATH = "/ready"
METRICS_PATH = "/metrics"
PATHS = frozenset({HEALTH_PATH, READY_PATH, METRICS_PATH})

# Seconds the readiness check waits for the database.
DATABASE_TIMEOUT = 2.0

router = APIRouter(include_in_schema=False)


@router.get(HEALTH_PATH)
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get(READY_PATH)
async def ready(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    listening: Callable[[], bool] = getattr(request.app.state, "ocpp_listening", lambda: True)
    checks: dict[str, str] = {}
    problem = await services.store.readiness_problem(DATABASE_TIMEOUT)
    if problem is None:
        checks["database"] = checks["migrations"] = "ok"
    else:
        failed, why = problem
        checks[failed] = why
        checks.setdefault("database", "ok")
    checks["ocpp_listener"] = "ok" if listening() else "not listening"
    failing = sorted(name for name, value in checks.items() if value != "ok")
    if failing:
        return JSONResponse({"status": "unavailable", "failing": failing, "checks": checks}, 503)
    return JSONResponse({"status": "ready", "checks": checks})


@router.get(METRICS_PATH)
async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    token = services.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response(
                "metrics token needed\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
                media_type="text/plain",
            )
    return Response(await services.metrics.exposition(services.store), media_type=CONTENT_TYPE)
