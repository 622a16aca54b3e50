"""/api/v1/charge-points: what the CSMS knows of each charge point."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from csms.api.deps import services_of
from csms.api.models import ChargePointOut

router = APIRouter(prefix="/charge-points", tags=["charge points"])


@router.get("")
async def list_charge_points(request: Request) -> list[ChargePointOut]:
    services = services_of(request)
    return [
        ChargePointOut.of(cp, connected=services.registry.get(cp.id) is not None)
        for cp in await services.store.list_charge_points()
    ]


@router.get("/{charge_point_id}")
async def get_charge_point(request: Request, charge_point_id: str) -> ChargePointOut:
    services = services_of(request)
    charge_point = await services.store.get_charge_point(charge_point_id)
    if charge_point is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown charge point {charge_point_id!r}")
    return ChargePointOut.of(
        charge_point,
        connected=services.registry.get(charge_point_id) is not None,
        connectors=await services.store.list_connectors(charge_point_id),
    )
