"""/api/v1/charge-points: what the CSMS knows of each charge point."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status

from csms.api.bulk import rows_of
from csms.api.deps import known_charge_point, services_of
from csms.api.models import (
    ChargePointImport,
    ChargePointIn,
    ChargePointOut,
    ConfigurationOut,
    Connector,
    ImportResult,
    SampledValueOut,
)
from csms.features import outbox
from csms.features.security.profiles import profile_of, set_profile
from csms.storage import ChargePoint, ChargePointProvision
from csms.transport.basic_auth import hash_authorization_key

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


@router.post("/import")
async def import_charge_points(request: Request) -> ImportResult:
    """Many charge points in one transaction: a JSON array of rows (`chargePointId` and the
    fields of PUT /charge-points/{id}) or a CSV file with a header line (api/bulk.py). As with
    PUT, fields left out keep their value (a new charge point is Accepted, without password)."""
    rows = await rows_of(
        request, ChargePointImport, lambda row: row.charge_point_id, "chargePointId"
    )
    services = services_of(request)
    store, now = services.store, services.clock.now()
    existing = {cp.id: cp for cp in await store.list_charge_points()}
    provisions = [
        _provision(row.charge_point_id, row, existing.get(row.charge_point_id)) for row in rows
    ]
    events = [
        event
        for row in provisions
        for event in outbox.approved(
            existing.get(row.charge_point_id), row.registration_status, now, row.charge_point_id
        )
    ]
    created, updated = await store.save_charge_points(provisions, events=events)
    for row in rows:  # docs/security.md: one at a time, each checked as PUT checks it
        if row.security_profile is not None:
            await set_profile(services, row.charge_point_id, row.security_profile)
    return ImportResult(created=created, updated=updated)


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
    provision = _provision(charge_point_id, body, existing)
    charge_point = await store.save_charge_point(
        charge_point_id,
        registration_status=provision.registration_status,
        password_hash=provision.password_hash,
        description=provision.description,
        events=outbox.approved(
            existing, provision.registration_status, services.clock.now(), charge_point_id
        ),
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


def _provision(
    charge_point_id: str, body: ChargePointIn, existing: ChargePoint | None
) -> ChargePointProvision:
    """What PUT or an import row sets: the fields given, the others as they were."""
    fields = body.model_fields_set
    password_hash = existing.password_hash if existing else None
    if "password" in fields:
        password_hash = None if body.password is None else hash_authorization_key(body.password)
    return ChargePointProvision(
        charge_point_id=charge_point_id,
        registration_status=body.registration_status
        or (existing.registration_status if existing else "Accepted"),
        password_hash=password_hash,
        description=body.description
        if "description" in fields
        else (existing.description if existing else None),
    )
