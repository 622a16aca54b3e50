"""SqlStore, charger profiles part: the profiles operators added and the configuration values
a ChangeConfiguration set (docs/charger-compatibility.md). A mixin of SqlStore over its shared
plumbing (sql_base.py)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.records import ChargerProfileRecord
from csms.storage.schema import charger_profiles, configuration_set
from csms.storage.sql_base import SqlBase, aware, upsert

_PROFILE_COLUMNS = (
    "description",
    "vendor",
    "model",
    "firmware_version",
    "charge_point_ids",
    "rules",
    "updated_at",
)


class ChargerProfilesStore(SqlBase):
    async def list_charger_profiles(self) -> list[ChargerProfileRecord]:
        rows = await self._read(select(charger_profiles).order_by(charger_profiles.c.name))
        return [
            ChargerProfileRecord(
                name=row.name,
                description=row.description,
                vendor=row.vendor,
                model=row.model,
                firmware_version=row.firmware_version,
                charge_point_ids=tuple(json.loads(row.charge_point_ids)),
                rules=json.loads(row.rules),
                updated_at=row.updated_at,
            )
            for row in rows
        ]

    async def save_charger_profile(self, profile: ChargerProfileRecord) -> bool:
        aware(profile.updated_at)
        row: dict[str, Any] = {
            "name": profile.name,
            "description": profile.description,
            "vendor": profile.vendor,
            "model": profile.model,
            "firmware_version": profile.firmware_version,
            "charge_point_ids": json.dumps(list(profile.charge_point_ids)),
            "rules": json.dumps(dict(profile.rules), sort_keys=True),
            "updated_at": profile.updated_at,
        }
        statement = upsert(self._dialect, charger_profiles, ("name",), _PROFILE_COLUMNS)
        existing = select(charger_profiles.c.name).where(charger_profiles.c.name == profile.name)

        async def work(connection: AsyncConnection) -> bool:
            created = (await connection.execute(existing)).first() is None
            await connection.execute(statement, row)
            return created

        return await self._writer.run(work)

    async def delete_charger_profile(self, name: str) -> bool:
        statement = delete(charger_profiles).where(charger_profiles.c.name == name)

        async def work(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        return await self._writer.run(work)

    async def configured_values(self, charge_point_id: str) -> dict[str, str]:
        """Answered from at every BootNotification: cached (read_cache.py)."""

        async def read() -> dict[str, str]:
            rows = await self._read(
                select(configuration_set.c.key, configuration_set.c.value).where(
                    configuration_set.c.charge_point_id == charge_point_id
                )
            )
            return {row.key: row.value for row in rows}

        return dict(await self._configured_cache.get(charge_point_id, read))
