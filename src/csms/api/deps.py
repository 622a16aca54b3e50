"""What the API routers get from the application."""

from __future__ import annotations

from fastapi import HTTPException, Request, status

from csms.features.context import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def known_charge_point(services: Services, charge_point_id: str) -> None:
    """404 unless the charge point is registered."""
    if await services.store.get_charge_point(charge_point_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown charge point {charge_point_id!r}")
