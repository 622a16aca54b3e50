"""/api/v1/charge-points: what the CSMS knows of each charge point."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status

from csms.api.deps import known_charge_point, services_of
from csms.api.models import (
    ChargePointIn,
    ChargePointOut,
    ConfigurationOut,
    Connector,
    SampledValueOut,
)
from csms.features.security.profiles import profile_of, set_profile
from csms.transport.basic_auth import hash_password

router = APIRouter(prefix="/charge-points", tags=["charge points"])

# The id is the last path segment of the OCPP URL (J 3.1.1); printable, at most 48 characters.
ChargePointIdPath = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[^/\s]+$")]


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
        availability=await services.store.availability_of(charge_point_id),
    ).model_copy(update={"security_profile": await profile_of(services, charge_point_id)})


@router.get("/{charge_point_id}/status-history")
async def get_status_history(
    request: Request,
    charge_point_id: str,
    connector_id: Annotated[int | None, Query(alias="connectorId", ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Connector]:
    """Every StatusNotification as received (spec 4.9), most recent first."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    store = services.store
    return [
        Connector.of(s) for s in await store.status_history(charge_point_id, connector_id, limit)
    ]


@router.get("/{charge_point_id}/meter-values")
async def get_meter_values(
    request: Request,
    charge_point_id: str,
    connector_id: Annotated[int | None, Query(alias="connectorId", ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> list[SampledValueOut]:
    """The last `limit` sampled values received, oldest first, also those outside any
    transaction (the main meter on connector 0, spec 3.16)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    store = services.store
    samples = await store.meter_values_of(charge_point_id, connector_id, limit)
    return [SampledValueOut.of(s) for s in samples]


@router.get("/{charge_point_id}/configuration")
async def get_configuration(request: Request, charge_point_id: str) -> ConfigurationOut:
    """The configuration as last reported (GetConfiguration) and changed (ChangeConfiguration
    accepted by the charge point). POST .../get-configuration reads it afresh."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    store = services.store
    return ConfigurationOut.of(await store.configuration_of(charge_point_id))


@router.put("/{charge_point_id}")
async def put_charge_point(
    request: Request, charge_point_id: ChargePointIdPath, body: ChargePointIn
) -> ChargePointOut:
    """Register a charge point or update it: the registration status its next BootNotification
    gets, its Basic-auth password (16-40 characters; `null` removes it), a description, its
    security profile (0-3, docs/security.md). Fields left out keep their value."""
    services = services_of(request)
    store = services.store
    existing = await store.get_charge_point(charge_point_id)
    fields = body.model_fields_set
    password_hash = existing.password_hash if existing else None
    if "password" in fields:
        password_hash = None if body.password is None else hash_password(body.password)
    charge_point = await store.save_charge_point(
        charge_point_id,
        registration_status=body.registration_status
        or (existing.registration_status if existing else "Accepted"),
        password_hash=password_hash,
        description=body.description
        if "description" in fields
        else (existing.description if existing else None),
    )
    if body.security_profile is not None:
        await set_profile(services, charge_point_id, body.security_profile)
    return ChargePointOut.of(
        charge_point, connected=services.registry.get(charge_point_id) is not None
    ).model_copy(update={"security_profile": await profile_of(services, charge_point_id)})


@router.delete("/{charge_point_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_charge_point(request: Request, charge_point_id: str) -> Response:
    services = services_of(request)
    if not await services.store.delete_charge_point(charge_point_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown charge point {charge_point_id!r}")
    connection = services.registry.get(charge_point_id)
    if connection is not None:
        await connection.close(1008, "charge point deleted")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
