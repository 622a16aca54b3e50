"""/api/v1/alerts (docs/events-and-webhooks.md, "Alerts"): offline charge points, Faulted
connectors, boot loops, failed firmware and diagnostics jobs, and what other features raise.
Each is raised and cleared as an outbox event too (alert.raised, alert.cleared)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, status
from pydantic import Field

from csms.api.deps import services_of
from csms.api.models import Model
from csms.storage.sql_alerts import alert_json

router = APIRouter(prefix="/alerts", tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=2**62)]


class ClearIn(Model):
    reason: str = Field(default="cleared by an operator", min_length=1, max_length=500)


@router.get("")
async def list_alerts(
    request: Request,
    active: bool | None = None,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId")] = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[dict[str, Any]]:
    """Newest first; `active=true` only those not cleared."""
    store = services_of(request).store
    found = await store.list_alerts(
        active=active, charge_point_id=charge_point_id, kind=kind, limit=limit
    )
    return [alert_json(alert) for alert in found]


@router.get("/{alert_id}")
async def get_alert(request: Request, alert_id: AlertId) -> dict[str, Any]:
    alert = await services_of(request).store.get_alert(alert_id)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown alert {alert_id}")
    return alert_json(alert)


@router.post("/{alert_id}/clear")
async def clear_alert(
    request: Request, alert_id: AlertId, body: Annotated[ClearIn | None, Body()] = None
) -> dict[str, Any]:
    """Clear an active alert by hand (404 if unknown, 409 if cleared already). A condition
    that still holds raises it again at its next check."""
    services = services_of(request)
    reason = (body or ClearIn()).reason
    cleared = await services.store.clear_alert_by_id(
        alert_id, at=services.clock.now(), reason=reason
    )
    if cleared is not None:
        return alert_json(cleared)
    if await services.store.get_alert(alert_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown alert {alert_id}")
    raise HTTPException(status.HTTP_409_CONFLICT, f"alert {alert_id} is cleared already")
