"""SqlStore, site load management: groups of charge points on one supply (a tree), their
members, transactions' own priorities, and the history of the limits sent. A mixin of SqlStore
over its shared plumbing (sql_base.py); every change is one transaction of the group-commit
writer, where the tree's rules are checked (one writer: nothing changes between check and
write).

Over 400 lines: groups, members, their profiles in force and the allocation history, which load
management reads and writes together.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.errors import LoadGroupConflictError, UnknownChargePointError
from csms.storage.records import (
    InstalledChargingProfile,
    LoadAllocation,
    LoadGroup,
    LoadGroupMember,
    LoadGroupSpec,
)
from csms.storage.schema import (
    charge_points,
    charging_profiles,
    load_allocations,
    load_group_members,
    load_groups,
    load_transaction_priorities,
    transactions,
)
from csms.storage.sql_base import SqlBase, aware

_groups = load_groups.c
_members = load_group_members.c
_history = load_allocations.c


class LoadGroupsStore(SqlBase):
    # -- groups --------------------------------------------------------------------------------

    async def create_load_group(self, spec: LoadGroupSpec, at: datetime) -> LoadGroup:
        aware(at)

        async def work(connection: AsyncConnection) -> LoadGroup:
            await _check_name(connection, spec.name, None)
            if spec.parent_id is not None:
                await _require_group(connection, spec.parent_id)
            row = (
                await connection.execute(
                    load_groups.insert()
                    .values(**_spec_row(spec), created_at=at, updated_at=at)
                    .returning(*load_groups.c)
                )
            ).one()
            return _group(row)

        return await self._writer.run(work)

    async def update_load_group(
        self, group_id: int, spec: LoadGroupSpec, at: datetime
    ) -> LoadGroup | None:
        aware(at)

        async def work(connection: AsyncConnection) -> LoadGroup | None:
            if await _get_group(connection, group_id) is None:
                return None
            await _check_name(connection, spec.name, group_id)
            if spec.parent_id is not None:
                await _check_parent(connection, group_id, spec.parent_id)
            row = (
                await connection.execute(
                    update(load_groups)
                    .where(_groups.id == group_id)
                    .values(**_spec_row(spec), updated_at=at)
                    .returning(*load_groups.c)
                )
            ).one()
            return _group(row)

        return await self._writer.run(work)

    async def get_load_group(self, group_id: int) -> LoadGroup | None:
        rows = await self._read(select(load_groups).where(_groups.id == group_id))
        return _group(rows[0]) if rows else None

    async def list_load_groups(self) -> list[LoadGroup]:
        return [_group(row) for row in await self._read(select(load_groups).order_by(_groups.id))]

    async def delete_load_group(self, group_id: int) -> bool:
        async def work(connection: AsyncConnection) -> bool:
            children = (
                await connection.execute(
                    select(func.count())
                    .select_from(load_groups)
                    .where(_groups.parent_id == group_id)
                )
            ).scalar_one()
            if children:
                raise LoadGroupConflictError(
                    f"load group {group_id} has {children} subgroups: delete or move them first"
                )
            result = await connection.execute(delete(load_groups).where(_groups.id == group_id))
            return result.rowcount > 0

        return await self._writer.run(work)

    # -- members -------------------------------------------------------------------------------

    async def put_load_group_member(self, member: LoadGroupMember) -> LoadGroupMember:
        await self.put_load_group_members([member])
        return member

    async def put_load_group_members(self, members: Sequence[LoadGroupMember]) -> None:
        async def work(connection: AsyncConnection) -> None:
            for member in members:
                await _put_member(connection, member)

        await self._writer.run(work)

    async def remove_load_group_member(self, charge_point_id: str) -> LoadGroupMember | None:
        async def work(connection: AsyncConnection) -> LoadGroupMember | None:
            row = (
                await connection.execute(
                    select(load_group_members).where(_members.charge_point_id == charge_point_id)
                )
            ).first()
            if row is None:
                return None
            await connection.execute(
                delete(load_group_members).where(_members.charge_point_id == charge_point_id)
            )
            return _member(row)

        return await self._writer.run(work)

    async def list_load_group_members(self, group_id: int | None = None) -> list[LoadGroupMember]:
        statement = select(load_group_members)
        if group_id is not None:
            statement = statement.where(_members.group_id == group_id)
        rows = await self._read(statement.order_by(_members.group_id, _members.charge_point_id))
        return [_member(row) for row in rows]

    # -- transaction priorities ----------------------------------------------------------------

    async def set_transaction_load_priority(
        self, transaction_id: int, priority: int | None
    ) -> bool:
        async def work(connection: AsyncConnection) -> bool:
            table = load_transaction_priorities
            exists = (
                await connection.execute(
                    select(transactions.c.id).where(transactions.c.id == transaction_id)
                )
            ).first()
            if exists is None:
                return False
            await connection.execute(delete(table).where(table.c.transaction_id == transaction_id))
            if priority is not None:
                await connection.execute(
                    table.insert(), {"transaction_id": transaction_id, "priority": priority}
                )
            return True

        return await self._writer.run(work)

    async def transaction_load_priorities(
        self, transaction_ids: Collection[int] | None = None
    ) -> dict[int, int]:
        table = load_transaction_priorities
        statement = select(table.c.transaction_id, table.c.priority)
        if transaction_ids is not None:
            if not transaction_ids:
                return {}
            statement = statement.where(table.c.transaction_id.in_(list(transaction_ids)))
        return {row.transaction_id: row.priority for row in await self._read(statement)}

    # -- load management's profiles ------------------------------------------------------------

    async def record_load_profile(self, profile: InstalledChargingProfile) -> list[int]:
        aware(profile.installed_at)
        self._note_profile(profile)
        return await self._writer.run_batched(_install_profiles, profile)

    # -- history -------------------------------------------------------------------------------

    async def record_load_allocations(self, allocations: Collection[LoadAllocation]) -> None:
        if not allocations:
            self._check_open()
            return
        rows = []
        for item in allocations:
            aware(item.sent_at)
            if item.answered_at is not None:
                aware(item.answered_at)
            rows.append(
                {
                    "group_id": item.group_id,
                    "charge_point_id": item.charge_point_id,
                    "connector_id": item.connector_id,
                    "transaction_id": item.transaction_id,
                    "purpose": item.purpose,
                    "limit": str(item.limit),
                    "number_phases": item.number_phases,
                    "paused": item.paused,
                    "demand": _text(item.demand),
                    "measured_draw": _text(item.measured_draw),
                    "strategy": item.strategy,
                    "reason": item.reason,
                    "status": item.status,
                    "sent_at": item.sent_at,
                    "answered_at": item.answered_at,
                }
            )

        async def work(connection: AsyncConnection) -> None:
            # The group may have been deleted meanwhile: its history goes with it.
            groups = {row["group_id"] for row in rows}
            existing = set(
                (
                    await connection.execute(select(_groups.id).where(_groups.id.in_(groups)))
                ).scalars()
            )
            kept = [row for row in rows if row["group_id"] in existing]
            if kept:
                await connection.execute(load_allocations.insert(), kept)

        await self._writer.run(work)

    async def load_allocation_history(
        self,
        group_ids: Collection[int],
        *,
        limit: int = 100,
        before_id: int | None = None,
        transaction_id: int | None = None,
    ) -> list[LoadAllocation]:
        if not group_ids:
            return []
        statement = select(load_allocations).where(_history.group_id.in_(list(group_ids)))
        if before_id is not None:
            statement = statement.where(_history.id < before_id)
        if transaction_id is not None:
            statement = statement.where(_history.transaction_id == transaction_id)
        rows = await self._read(statement.order_by(_history.id.desc()).limit(limit))
        return [_allocation(row) for row in rows]

    async def prune_load_allocations(self, before: datetime) -> int:
        aware(before)

        async def work(connection: AsyncConnection) -> int:
            result = await connection.execute(
                delete(load_allocations).where(_history.sent_at < before)
            )
            return int(result.rowcount)

        return await self._writer.run(work)


# -- load management's profiles, many at once ----------------------------------------------------


async def _install_profiles(
    connection: AsyncConnection, profiles: list[InstalledChargingProfile]
) -> list[list[int]]:
    """install_charging_profile (sql_charging_profiles.py) for many profiles in one SELECT,
    DELETE and INSERT, in order: the same replacement rules (spec 3.13.2, 5.16.3: the same
    chargingProfileId, or the same connector, stackLevel and purpose) and the same answers."""
    table = charging_profiles.c
    charge_point_ids = sorted({profile.charge_point_id for profile in profiles})
    rows = await connection.execute(
        select(
            table.charge_point_id,
            table.charging_profile_id,
            table.connector_id,
            table.stack_level,
            table.purpose,
        ).where(table.charge_point_id.in_(charge_point_ids))
    )
    # charge point -> chargingProfileId -> (connector, stack level, purpose), as it goes.
    present: dict[str, dict[int, tuple[int, int, str]]] = {}
    for row in rows:
        present.setdefault(row.charge_point_id, {})[row.charging_profile_id] = (
            row.connector_id,
            row.stack_level,
            row.purpose,
        )
    stored = {(cp, pid) for cp, ids in present.items() for pid in ids}
    deleted: set[tuple[str, int]] = set()
    inserted: dict[tuple[str, int], dict[str, Any]] = {}
    answers: list[list[int]] = []
    for profile in profiles:
        mine = present.setdefault(profile.charge_point_id, {})
        slot = (profile.connector_id, profile.stack_level, profile.purpose)
        replaced = sorted(
            pid
            for pid, where in mine.items()
            if pid == profile.charging_profile_id or where == slot
        )
        for pid in replaced:
            key = (profile.charge_point_id, pid)
            del mine[pid]
            inserted.pop(key, None)
            if key in stored:
                deleted.add(key)
        mine[profile.charging_profile_id] = slot
        inserted[(profile.charge_point_id, profile.charging_profile_id)] = _profile_row(profile)
        answers.append([pid for pid in replaced if pid != profile.charging_profile_id])
    if deleted:
        await connection.execute(
            delete(charging_profiles).where(
                tuple_(table.charge_point_id, table.charging_profile_id).in_(sorted(deleted))
            )
        )
    if inserted:
        await connection.execute(charging_profiles.insert(), list(inserted.values()))
    return answers


def _profile_row(profile: InstalledChargingProfile) -> dict[str, Any]:
    return {
        "charge_point_id": profile.charge_point_id,
        "charging_profile_id": profile.charging_profile_id,
        "connector_id": profile.connector_id,
        "stack_level": profile.stack_level,
        "purpose": profile.purpose,
        "transaction_id": profile.transaction_id,
        "remote_start_id_tag": profile.remote_start_id_tag,
        "profile": json.dumps(profile.profile, separators=(",", ":"), default=_json_number),
        "installed_at": profile.installed_at,
    }


def _json_number(value: object) -> object:
    # Limits built by the CSMS are Decimals (at most one decimal on the wire): JSON numbers.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# -- the tree's rules -----------------------------------------------------------------------------


async def _put_member(connection: AsyncConnection, member: LoadGroupMember) -> None:
    row = {
        "charge_point_id": member.charge_point_id,
        "group_id": member.group_id,
        "priority": member.priority,
        "phases": member.phases,
        "max_current": str(member.max_current),
        "connectors": member.connectors,
    }
    await _require_group(connection, member.group_id)
    known = (
        await connection.execute(
            select(charge_points.c.id).where(charge_points.c.id == member.charge_point_id)
        )
    ).first()
    if known is None:
        raise UnknownChargePointError(member.charge_point_id)
    current = (
        await connection.execute(
            select(_members.group_id).where(_members.charge_point_id == member.charge_point_id)
        )
    ).scalar()
    if current is not None and current != member.group_id:
        raise LoadGroupConflictError(
            f"charge point {member.charge_point_id!r} is a member of load group {current}: "
            "remove it there first"
        )
    if current is None:
        await connection.execute(load_group_members.insert(), row)
    else:
        await connection.execute(
            update(load_group_members)
            .where(_members.charge_point_id == member.charge_point_id)
            .values(**row)
        )


async def _get_group(connection: AsyncConnection, group_id: int) -> Row[Any] | None:
    return (await connection.execute(select(load_groups).where(_groups.id == group_id))).first()


async def _require_group(connection: AsyncConnection, group_id: int) -> None:
    if await _get_group(connection, group_id) is None:
        raise LoadGroupConflictError(f"there is no load group {group_id}")


async def _check_name(connection: AsyncConnection, name: str, group_id: int | None) -> None:
    statement = select(_groups.id).where(_groups.name == name)
    if group_id is not None:
        statement = statement.where(_groups.id != group_id)
    if (await connection.execute(statement)).first() is not None:
        raise LoadGroupConflictError(f"a load group is named {name!r} already")


async def _check_parent(connection: AsyncConnection, group_id: int, parent_id: int) -> None:
    """The new parent exists and is not the group itself nor below it (no cycle)."""
    parents = dict(
        (row.id, row.parent_id)
        for row in await connection.execute(select(_groups.id, _groups.parent_id))
    )
    if parent_id not in parents:
        raise LoadGroupConflictError(f"there is no load group {parent_id}")
    seen: set[int] = set()
    current: int | None = parent_id
    while current is not None and current not in seen:
        if current == group_id:
            raise LoadGroupConflictError(
                f"load group {parent_id} is {group_id} itself or below it: that would be a cycle"
            )
        seen.add(current)
        current = parents.get(current)


def _spec_row(spec: LoadGroupSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "parent_id": spec.parent_id,
        "limit": str(spec.limit),
        "unit": spec.unit,
        "voltage": str(spec.voltage),
        "phases": spec.phases,
        "strategy": spec.strategy,
        "min_current": str(spec.min_current),
        "draw_margin": str(spec.draw_margin),
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _group(row: Row[Any]) -> LoadGroup:
    values = row._mapping
    return LoadGroup(
        id=values["id"],
        name=values["name"],
        parent_id=values["parent_id"],
        limit=Decimal(values["limit"]),
        unit=values["unit"],
        voltage=Decimal(values["voltage"]),
        phases=values["phases"],
        strategy=values["strategy"],
        min_current=Decimal(values["min_current"]),
        draw_margin=Decimal(values["draw_margin"]),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
    )


def _member(row: Row[Any]) -> LoadGroupMember:
    values = row._mapping
    return LoadGroupMember(
        charge_point_id=values["charge_point_id"],
        group_id=values["group_id"],
        priority=values["priority"],
        phases=values["phases"],
        max_current=Decimal(values["max_current"]),
        connectors=values["connectors"],
    )


def _allocation(row: Row[Any]) -> LoadAllocation:
    values = row._mapping
    return LoadAllocation(
        id=values["id"],
        group_id=values["group_id"],
        charge_point_id=values["charge_point_id"],
        connector_id=values["connector_id"],
        transaction_id=values["transaction_id"],
        purpose=values["purpose"],
        limit=Decimal(values["limit"]),
        number_phases=values["number_phases"],
        paused=bool(values["paused"]),
        demand=_decimal(values["demand"]),
        measured_draw=_decimal(values["measured_draw"]),
        strategy=values["strategy"],
        reason=values["reason"],
        status=values["status"],
        sent_at=values["sent_at"],
        answered_at=values["answered_at"],
    )
