"""SqlStore, local authorization list part (spec 3.5.2, 5.10, 5.15): the policies that choose a
charge point's tags, and per charge point what the CSMS knows of the list it holds. A mixin of
SqlStore over its shared plumbing (sql_base.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Row, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.records import IdTag, LocalList, LocalListPolicy, LocalListUpdate
from csms.storage.schema import (
    local_list_entries,
    local_list_policies,
    local_list_policy_tags,
    local_lists,
)
from csms.storage.sql_base import SqlBase, aware, upsert

_UNKNOWN = "Unknown"  # the status of a list the CSMS has learned nothing about


def _key(id_tag: str) -> str:
    """IdToken is case-insensitive (spec 7.28)."""
    return id_tag.lower()


class LocalListStore(SqlBase):
    # -- policies ------------------------------------------------------------------------------

    async def put_local_list_policy(self, policy: LocalListPolicy) -> LocalListPolicy:
        upsert_policy = upsert(
            self._dialect, local_list_policies, ("name",), ("kind", "description")
        )
        row = {"name": policy.name, "kind": policy.kind, "description": policy.description}
        tags = [
            {"policy": policy.name, "position": position, "id_tag": id_tag}
            for position, id_tag in enumerate(policy.id_tags)
        ]

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(upsert_policy, row)
            await connection.execute(
                delete(local_list_policy_tags).where(local_list_policy_tags.c.policy == policy.name)
            )
            if tags:
                await connection.execute(local_list_policy_tags.insert(), tags)

        await self._writer.run(work)
        return policy

    async def get_local_list_policy(self, name: str) -> LocalListPolicy | None:
        policies = await self._policies(local_list_policies.c.name == name)
        return policies[0] if policies else None

    async def list_local_list_policies(self) -> list[LocalListPolicy]:
        return await self._policies(None)

    async def _policies(self, where: Any) -> list[LocalListPolicy]:
        statement = select(local_list_policies).order_by(local_list_policies.c.name)
        tags = select(local_list_policy_tags).order_by(
            local_list_policy_tags.c.policy, local_list_policy_tags.c.position
        )
        if where is not None:
            statement = statement.where(where)
            tags = tags.join(
                local_list_policies,
                local_list_policies.c.name == local_list_policy_tags.c.policy,
            ).where(where)
        rows = await self._read(statement)
        named: dict[str, list[str]] = defaultdict(list)
        for tag in await self._read(tags):
            named[tag.policy].append(tag.id_tag)
        return [
            LocalListPolicy(
                name=row.name,
                kind=row.kind,
                id_tags=tuple(named[row.name]),
                description=row.description,
            )
            for row in rows
        ]

    async def delete_local_list_policy(self, name: str) -> bool:
        """The charge points of the policy are left without one."""
        statement = delete(local_list_policies).where(local_list_policies.c.name == name)

        async def work(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        return await self._writer.run(work)

    async def assign_local_list_policy(self, charge_point_id: str, policy: str | None) -> None:
        statement = upsert(self._dialect, local_lists, ("charge_point_id",), ("policy",))
        row = {"charge_point_id": charge_point_id, "policy": policy, "status": _UNKNOWN}

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(statement, row)

        await self._writer.run(work)

    # -- what the CSMS knows of each charge point's list ---------------------------------------

    async def local_list_of(self, charge_point_id: str) -> LocalList:
        rows = await self._read(
            select(local_lists).where(local_lists.c.charge_point_id == charge_point_id)
        )
        return _local_list(rows[0]) if rows else LocalList(charge_point_id=charge_point_id)

    async def list_local_lists(self, policy: str | None = None) -> list[LocalList]:
        statement = select(local_lists).order_by(local_lists.c.charge_point_id)
        if policy is not None:
            statement = statement.where(local_lists.c.policy == policy)
        return [_local_list(row) for row in await self._read(statement)]

    async def local_list_entries(self, charge_point_id: str) -> list[IdTag]:
        rows = await self._read(
            select(local_list_entries)
            .where(local_list_entries.c.charge_point_id == charge_point_id)
            .order_by(local_list_entries.c.key)
        )
        return [
            IdTag(
                id_tag=row.id_tag,
                status=row.status,
                expiry_date=row.expiry_date,
                parent_id_tag=row.parent_id_tag,
            )
            for row in rows
        ]

    async def local_list_holders_of_any(self) -> list[str]:
        rows = await self._read(
            select(local_list_entries.c.charge_point_id)
            .distinct()
            .order_by(local_list_entries.c.charge_point_id)
        )
        return [row.charge_point_id for row in rows]

    async def local_list_holders(self, id_tag: str) -> list[str]:
        rows = await self._read(
            select(local_list_entries.c.charge_point_id)
            .where(local_list_entries.c.key == _key(id_tag))
            .order_by(local_list_entries.c.charge_point_id)
        )
        return [row.charge_point_id for row in rows]

    async def record_local_list_update(self, update_: LocalListUpdate) -> None:
        aware(update_.at)
        charge_point_id = update_.charge_point_id
        column = local_lists.c.sent_version
        values: dict[str, Any] = {
            "status": update_.status,
            "sent_version": case(
                (
                    column.is_(None) | (column < update_.list_version),
                    update_.list_version,
                ),
                else_=column,
            ),
            "last_update_type": update_.update_type,
            "last_update_version": update_.list_version,
            "last_update_status": update_.answer,
            "last_update_at": update_.at,
        }
        if update_.applied:
            values["version"] = update_.list_version
            values["error"] = None
        # A tag twice in one update: the last one counts.
        entries = {
            _key(tag.id_tag): {
                "charge_point_id": charge_point_id,
                "key": _key(tag.id_tag),
                "id_tag": tag.id_tag,
                "status": tag.status,
                "expiry_date": tag.expiry_date,
                "parent_id_tag": tag.parent_id_tag,
            }
            for tag in update_.entries
        }
        for tag in update_.entries:
            if tag.expiry_date is not None:
                aware(tag.expiry_date)
        full = update_.update_type == "Full"
        touched = set(entries) | {_key(id_tag) for id_tag in update_.removals}
        ensure = self._ensure_local_list(charge_point_id)

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(ensure)
            await connection.execute(
                update(local_lists)
                .where(local_lists.c.charge_point_id == charge_point_id)
                .values(values)
            )
            if not update_.applied:
                return
            remove = delete(local_list_entries).where(
                local_list_entries.c.charge_point_id == charge_point_id
            )
            if not full:
                remove = remove.where(local_list_entries.c.key.in_(touched))
            if full or touched:
                await connection.execute(remove)
            if entries:
                await connection.execute(local_list_entries.insert(), list(entries.values()))

        await self._writer.run(work)

    async def record_local_list_version(
        self,
        charge_point_id: str,
        reported_version: int,
        *,
        status: str,
        at: datetime,
        empty: bool = False,
    ) -> None:
        """A GetLocalListVersion answer and the status it leads to. `empty`: the list is now
        known to be empty (version 0, spec 5.10): no believed entries, version 0."""
        aware(at)
        values: dict[str, Any] = {
            "reported_version": reported_version,
            "reconciled_at": at,
            "status": status,
        }
        if empty:
            values["version"] = 0
        ensure = self._ensure_local_list(charge_point_id)

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(ensure)
            await connection.execute(
                update(local_lists)
                .where(local_lists.c.charge_point_id == charge_point_id)
                .values(values)
            )
            if empty:
                await connection.execute(
                    delete(local_list_entries).where(
                        local_list_entries.c.charge_point_id == charge_point_id
                    )
                )

        await self._writer.run(work)

    async def record_local_list_error(
        self, charge_point_id: str, error: str | None, *, status: str | None = None
    ) -> None:
        """Why the CSMS could not bring the list up to date (None: clear it); with `status`,
        the list's status too."""
        ensure = self._ensure_local_list(charge_point_id)
        values: dict[str, Any] = {"error": error}
        if status is not None:
            values["status"] = status
        statement = (
            update(local_lists)
            .where(local_lists.c.charge_point_id == charge_point_id)
            .values(values)
        )

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(ensure)
            await connection.execute(statement)

        await self._writer.run(work)

    def _ensure_local_list(self, charge_point_id: str) -> Insert:
        """INSERT the charge point's row (status Unknown, no policy) unless it exists."""
        row = {"charge_point_id": charge_point_id, "status": _UNKNOWN}
        if self._dialect == "postgresql":
            return postgresql.insert(local_lists).values(row).on_conflict_do_nothing()
        return sqlite.insert(local_lists).values(row).on_conflict_do_nothing()


def _local_list(row: Row[Any]) -> LocalList:
    values = row._mapping
    return LocalList(
        charge_point_id=values["charge_point_id"],
        policy=values["policy"],
        status=values["status"],
        version=values["version"],
        sent_version=values["sent_version"],
        reported_version=values["reported_version"],
        reconciled_at=values["reconciled_at"],
        last_update_type=values["last_update_type"],
        last_update_version=values["last_update_version"],
        last_update_status=values["last_update_status"],
        last_update_at=values["last_update_at"],
        error=values["error"],
    )
