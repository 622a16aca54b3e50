"""GET /api/v1/overview: the fleet's figures as the console's Overview shows them (docs/console.md),
which re-reads them here when the event stream says something changed."""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter, Request

from csms.api.deps import services_of
from csms.api.models import Model
from csms.features.context import Services

router = APIRouter(tags=["overview"])


class OverviewOut(Model):
    registered: int
    connected: int
    offline: int  # registered and not connected
    charging: int  # connectors whose last status is Charging
    faulted: int  # connectors whose last status is Faulted
    active_transactions: int
    # Unknown charge points refused at the handshake, waiting for an operator's decision.
    unknown_waiting: int
    # Energy of the transactions stopped since midnight UTC (kWh).
    energy_today_kwh: float


async def overview_figures(services: Services) -> OverviewOut:
    store = services.store
    _, registered = await store.charge_point_page(limit=1)
    connected = len(services.registry)
    counts = await store.connector_status_counts()
    _, active = await store.transaction_page(active=True, limit=1)
    midnight = (
        services.clock.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    return OverviewOut(
        registered=registered,
        connected=connected,
        offline=max(registered - connected, 0),
        charging=counts.get("Charging", 0),
        faulted=counts.get("Faulted", 0),
        active_transactions=active,
        unknown_waiting=len(services.unknown_charge_points),
        energy_today_kwh=await store.energy_stopped_since(midnight) / 1000,
    )


@router.get("/overview")
async def overview(request: Request) -> OverviewOut:
    """The fleet at a glance: registered, connected and offline charge points, connectors
    charging and faulted, active transactions, unknown charge points waiting, energy today."""
    return await overview_figures(services_of(request))
