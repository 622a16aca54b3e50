"""Site load management (features/load_management/): groups of charge points on one supply,
their members, transactions' own priorities, and the allocation with its history.

    /load-groups                              GET list, POST create
    /load-groups/{id}                         GET, PATCH (fields given), DELETE
    /load-groups/{id}/members                 GET, PUT (several join at once)
    /load-groups/{id}/members/{chargePointId} PUT (join, or change its settings), DELETE
    /load-groups/{id}/allocation              GET what each transaction may draw and why
    /load-groups/{id}/allocation/history      GET the limits sent, newest first
    /transactions/{id}/load-priority          PUT {"priority": n or null}

409: a name taken, a parent that would make a cycle, a charge point in another group, a group
with subgroups deleted. Each change is allocated at once (outside certification mode).

Over 400 lines: the models of groups, members and the allocation view live with their routes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import Field

from csms.api.deps import services_of
from csms.api.models import Model
from csms.features.context import Services
from csms.features.load_management import state as load_state
from csms.features.load_management.model import group_limit_amps
from csms.features.load_management.view import allocation_view
from csms.storage import (
    LoadAllocation,
    LoadGroup,
    LoadGroupConflictError,
    LoadGroupMember,
    LoadGroupSpec,
    UnknownChargePointError,
)

router = APIRouter(tags=["load management"])

Unit = Literal["A", "W"]
StrategyName = Literal["EqualShare", "Priority"]


class LoadGroupIn(Model):
    name: str = Field(min_length=1, max_length=100)
    parent_id: int | None = None
    limit: Decimal = Field(gt=0, description="A per phase, or W (unit)")
    unit: Unit = "A"
    voltage: Decimal = Field(default=Decimal(230), gt=0, description="V, phase to neutral")
    phases: int = Field(default=3, ge=1, le=3, description="of the supply, for a W limit")
    strategy: StrategyName = "EqualShare"
    min_current: Decimal = Field(default=Decimal(6), ge=0, le=1000, decimal_places=1)
    draw_margin: Decimal = Field(default=Decimal(2), ge=0, le=1000)


class LoadGroupPatch(Model):
    """The fields to change (parentId null: it becomes a site of its own)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    parent_id: int | None = None
    limit: Decimal | None = Field(default=None, gt=0)
    unit: Unit | None = None
    voltage: Decimal | None = Field(default=None, gt=0)
    phases: int | None = Field(default=None, ge=1, le=3)
    strategy: StrategyName | None = None
    min_current: Decimal | None = Field(default=None, ge=0, le=1000, decimal_places=1)
    draw_margin: Decimal | None = Field(default=None, ge=0, le=1000)


class LoadGroupOut(Model):
    id: int
    name: str
    parent_id: int | None
    limit: float
    unit: str
    voltage: float
    phases: int
    strategy: str
    min_current: float
    draw_margin: float
    # The limit the allocation works with, A per phase.
    limit_amps: float
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, group: LoadGroup) -> LoadGroupOut:
        return cls(
            id=group.id,
            name=group.name,
            parent_id=group.parent_id,
            limit=float(group.limit),
            unit=group.unit,
            voltage=float(group.voltage),
            phases=group.phases,
            strategy=group.strategy,
            min_current=float(group.min_current),
            draw_margin=float(group.draw_margin),
            limit_amps=float(group_limit_amps(group)),
            created_at=group.created_at,
            updated_at=group.updated_at,
        )


class MemberIn(Model):
    priority: int = Field(default=0, ge=-1000, le=1000)
    phases: int = Field(default=3, ge=1, le=3)
    max_current: Decimal = Field(default=Decimal(32), gt=0, le=1000, decimal_places=1)
    connectors: int | None = Field(default=None, ge=1, le=100)


class MemberOut(Model):
    charge_point_id: str
    group_id: int
    priority: int
    phases: int
    max_current: float
    connectors: int | None

    @classmethod
    def of(cls, member: LoadGroupMember) -> MemberOut:
        return cls(
            charge_point_id=member.charge_point_id,
            group_id=member.group_id,
            priority=member.priority,
            phases=member.phases,
            max_current=float(member.max_current),
            connectors=member.connectors,
        )


class PriorityIn(Model):
    priority: int | None = Field(ge=-1000, le=1000)


async def _changed(services: Services) -> None:
    if services.load.enabled:
        await load_state.reload(services)


async def _group(services: Services, group_id: int) -> LoadGroup:
    group = await services.store.get_load_group(group_id)
    if group is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown load group {group_id}")
    return group


def _conflict(exc: LoadGroupConflictError) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


@router.get("/load-groups")
async def list_load_groups(request: Request) -> list[LoadGroupOut]:
    return [LoadGroupOut.of(g) for g in await services_of(request).store.list_load_groups()]


@router.post("/load-groups", status_code=status.HTTP_201_CREATED)
async def create_load_group(request: Request, body: LoadGroupIn) -> LoadGroupOut:
    services = services_of(request)
    spec = LoadGroupSpec(**body.model_dump())
    try:
        group = await services.store.create_load_group(spec, services.clock.now())
    except LoadGroupConflictError as exc:
        raise _conflict(exc) from None
    await _changed(services)
    return LoadGroupOut.of(group)


@router.get("/load-groups/{group_id}")
async def get_load_group(request: Request, group_id: int) -> LoadGroupOut:
    return LoadGroupOut.of(await _group(services_of(request), group_id))


@router.patch("/load-groups/{group_id}")
async def update_load_group(request: Request, group_id: int, body: LoadGroupPatch) -> LoadGroupOut:
    services = services_of(request)
    group = await _group(services, group_id)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if "parent_id" not in changes:
        changes = {name: value for name, value in changes.items() if value is not None}
    else:
        parent = changes.pop("parent_id")
        changes = {name: value for name, value in changes.items() if value is not None}
        changes["parent_id"] = parent
    current = {name: getattr(group, name) for name in LoadGroupSpec.__dataclass_fields__}
    spec = LoadGroupSpec(**(current | changes))
    try:
        updated = await services.store.update_load_group(group_id, spec, services.clock.now())
    except LoadGroupConflictError as exc:
        raise _conflict(exc) from None
    if updated is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown load group {group_id}")
    await _changed(services)
    return LoadGroupOut.of(updated)


@router.delete("/load-groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_load_group(request: Request, group_id: int) -> Response:
    """Its members leave it (load management's profiles are cleared from them)."""
    services = services_of(request)
    try:
        deleted = await services.store.delete_load_group(group_id)
    except LoadGroupConflictError as exc:
        raise _conflict(exc) from None
    if not deleted:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown load group {group_id}")
    await _changed(services)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/load-groups/{group_id}/members")
async def list_members(request: Request, group_id: int) -> list[MemberOut]:
    services = services_of(request)
    await _group(services, group_id)
    return [MemberOut.of(m) for m in await services.store.list_load_group_members(group_id)]


class MemberEntry(MemberIn):
    charge_point_id: str = Field(min_length=1)


@router.put("/load-groups/{group_id}/members")
async def put_members(
    request: Request, group_id: int, body: Annotated[list[MemberEntry], Field(max_length=10000)]
) -> list[MemberOut]:
    """Several charge points join the group (or change their settings there) at once, all or
    none; the others stay. One allocation for all of them."""
    services = services_of(request)
    await _group(services, group_id)
    members = [
        LoadGroupMember(
            charge_point_id=entry.charge_point_id,
            group_id=group_id,
            priority=entry.priority,
            phases=entry.phases,
            max_current=entry.max_current,
            connectors=entry.connectors,
        )
        for entry in body
    ]
    try:
        await services.store.put_load_group_members(members)
    except UnknownChargePointError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown charge point {exc}") from None
    except LoadGroupConflictError as exc:
        raise _conflict(exc) from None
    await _changed(services)
    return [MemberOut.of(member) for member in members]


@router.put("/load-groups/{group_id}/members/{charge_point_id}")
async def put_member(
    request: Request, group_id: int, charge_point_id: str, body: MemberIn
) -> MemberOut:
    """The charge point joins the group (or its settings there change); it gets the fallback
    TxDefaultProfile and its transactions their TxProfiles."""
    services = services_of(request)
    await _group(services, group_id)
    member = LoadGroupMember(
        charge_point_id=charge_point_id,
        group_id=group_id,
        priority=body.priority,
        phases=body.phases,
        max_current=body.max_current,
        connectors=body.connectors,
    )
    try:
        stored = await services.store.put_load_group_member(member)
    except UnknownChargePointError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"Unknown charge point {charge_point_id!r}"
        ) from None
    except LoadGroupConflictError as exc:
        raise _conflict(exc) from None
    await _changed(services)
    return MemberOut.of(stored)


@router.delete(
    "/load-groups/{group_id}/members/{charge_point_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def remove_member(request: Request, group_id: int, charge_point_id: str) -> Response:
    """The charge point leaves the group; load management's profiles are cleared from it."""
    services = services_of(request)
    members = await services.store.list_load_group_members(group_id)
    if not any(m.charge_point_id == charge_point_id for m in members):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"{charge_point_id!r} is not a member of load group {group_id}",
        )
    await services.store.remove_load_group_member(charge_point_id)
    await _changed(services)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/transactions/{transaction_id}/load-priority")
async def set_transaction_priority(
    request: Request, transaction_id: int, body: PriorityIn
) -> PriorityIn:
    """A transaction's own priority for the Priority strategy (null: its charge point's)."""
    if not await load_state.set_priority(services_of(request), transaction_id, body.priority):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown transaction {transaction_id}")
    return body


class TransactionAllocationOut(Model):
    transaction_id: int
    charge_point_id: str
    connector_id: int
    group_id: int
    connector_status: str | None
    priority: int
    max_current: float
    demand: float | None
    measured_draw: float | None
    limit: float | None
    in_force: float
    paused: bool
    reserved: bool
    number_phases: int
    reason: str
    sent_limit: float | None
    sent_at: datetime | None
    status: str | None
    answered_at: datetime | None


class GroupUseOut(Model):
    group_id: int
    name: str
    parent_id: int | None
    limit_amps: float
    strategy: str
    transactions: int
    allocated: float
    in_force: float


class FallbackOut(Model):
    charge_point_id: str
    group_id: int
    connectors: int
    online: bool
    limit: float | None
    accepted: float | None
    sent_at: datetime | None
    status: str | None


class RoundOut(Model):
    """One allocation that sent profiles: when, how long the arithmetic took, how long until
    every profile was answered, and what it sent."""

    started_at: datetime
    compute_seconds: float
    seconds: float
    lowerings: int
    raises: int
    failed: int


class AllocationOut(Model):
    """What each transaction below the group may draw and why. `enabled` false: load
    management is off (certification mode, or switched off) and nothing is sent."""

    enabled: bool
    groups: list[GroupUseOut]
    transactions: list[TransactionAllocationOut]
    fallbacks: list[FallbackOut]
    compute_seconds: float | None
    converge_seconds: float | None
    profiles_sent: int
    rounds: list[RoundOut]


class AllocationRecordOut(Model):
    id: int | None
    group_id: int
    charge_point_id: str
    connector_id: int
    transaction_id: int | None
    charging_profile_purpose: str
    limit: float
    number_phases: int
    paused: bool
    demand: float | None
    measured_draw: float | None
    strategy: str
    reason: str
    status: str
    sent_at: datetime
    answered_at: datetime | None

    @classmethod
    def of(cls, record: LoadAllocation) -> AllocationRecordOut:
        return cls(
            id=record.id,
            group_id=record.group_id,
            charge_point_id=record.charge_point_id,
            connector_id=record.connector_id,
            transaction_id=record.transaction_id,
            charging_profile_purpose=record.purpose,
            limit=float(record.limit),
            number_phases=record.number_phases,
            paused=record.paused,
            demand=_float(record.demand),
            measured_draw=_float(record.measured_draw),
            strategy=record.strategy,
            reason=record.reason,
            status=record.status,
            sent_at=record.sent_at,
            answered_at=record.answered_at,
        )


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@router.get("/load-groups/{group_id}/allocation")
async def allocation(request: Request, group_id: int) -> AllocationOut:
    services = services_of(request)
    await _group(services, group_id)
    view = allocation_view(services.load, services.registry, group_id)
    return AllocationOut.model_validate(view, from_attributes=True)


@router.get("/load-groups/{group_id}/allocation/history")
async def allocation_history(
    request: Request,
    group_id: int,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(description="Rows with a smaller id (paging)")] = None,
    transaction_id: Annotated[int | None, Query(alias="transactionId")] = None,
) -> list[AllocationRecordOut]:
    """The limits sent to the members of the group and of every group below it."""
    services = services_of(request)
    await _group(services, group_id)
    below = _subtree(await services.store.list_load_groups(), group_id)
    records = await services.store.load_allocation_history(
        below,
        limit=limit,
        before_id=before,
        transaction_id=transaction_id,
    )
    return [AllocationRecordOut.of(r) for r in records]


def _subtree(groups: list[LoadGroup], group_id: int) -> set[int]:
    found = [group_id]
    for candidate in found:
        found.extend(g.id for g in groups if g.parent_id == candidate and g.id not in found)
    return set(found)
