"""SqlStore, smart charging part: the charging profiles the CSMS believes installed on each
charge point (spec 3.13, 5.5, 5.16). A mixin of SqlStore over its shared plumbing (sql_base.py).

The rules of what replaces and what clears what are the charge point's (spec 3.13.2, 5.5 with
errata 3.25/3.26, 5.16.3); the feature module calls these only after an Accepted answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, delete, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.records import TX_PROFILE, InstalledChargingProfile
from csms.storage.schema import charging_profiles
from csms.storage.sql_base import SqlBase, aware

_table = charging_profiles.c


class ChargingProfilesStore(SqlBase):
    async def _may_hold_tx_profiles(self, charge_point_id: str) -> bool:
        if charge_point_id in self._tx_profile_installs:
            return True
        if self._tx_profile_charge_points is None:
            rows = await self._read(
                select(_table.charge_point_id).where(_table.purpose == TX_PROFILE).distinct()
            )
            self._tx_profile_charge_points = {row.charge_point_id for row in rows}
        # Installs noted while that read ran are in _tx_profile_installs.
        return (
            charge_point_id in self._tx_profile_charge_points
            or charge_point_id in self._tx_profile_installs
        )

    async def install_charging_profile(self, profile: InstalledChargingProfile) -> list[int]:
        aware(profile.installed_at)
        self._note_profile(profile)
        row = {
            "charge_point_id": profile.charge_point_id,
            "charging_profile_id": profile.charging_profile_id,
            "connector_id": profile.connector_id,
            "stack_level": profile.stack_level,
            "purpose": profile.purpose,
            "transaction_id": profile.transaction_id,
            "remote_start_id_tag": profile.remote_start_id_tag,
            "profile": _dumps(profile.profile),
            "installed_at": profile.installed_at,
        }
        # Spec 5.16.3/5.16.4: the same chargingProfileId, or the same stackLevel and purpose
        # (3.13.2) on the same connector (a connector's TxDefaultProfile replaces connector 0's
        # only for that connector, 3.13.1: both stay installed).
        replaced = and_(
            _table.charge_point_id == profile.charge_point_id,
            or_(
                _table.charging_profile_id == profile.charging_profile_id,
                and_(
                    _table.connector_id == profile.connector_id,
                    _table.stack_level == profile.stack_level,
                    _table.purpose == profile.purpose,
                ),
            ),
        )

        async def work(connection: AsyncConnection) -> list[int]:
            ids = await _delete(connection, replaced)
            await connection.execute(charging_profiles.insert(), row)
            return [i for i in ids if i != profile.charging_profile_id]

        return await self._writer.run(work)

    async def clear_charging_profiles(
        self,
        charge_point_id: str,
        *,
        charging_profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> list[int]:
        # Errata 3.25/3.26: an id clears that profile whatever the other fields; otherwise the
        # given fields must all match (logical AND); none at all clears every profile.
        conditions: list[ColumnElement[bool]] = [_table.charge_point_id == charge_point_id]
        if charging_profile_id is not None:
            conditions.append(_table.charging_profile_id == charging_profile_id)
        else:
            if connector_id is not None:
                conditions.append(_table.connector_id == connector_id)
            if purpose is not None:
                conditions.append(_table.purpose == purpose)
            if stack_level is not None:
                conditions.append(_table.stack_level == stack_level)
        cleared = and_(*conditions)

        async def work(connection: AsyncConnection) -> list[int]:
            return await _delete(connection, cleared)

        return await self._writer.run(work)

    async def charging_profiles_of(
        self, charge_point_id: str, connector_id: int | None = None
    ) -> list[InstalledChargingProfile]:
        statement = select(charging_profiles).where(_table.charge_point_id == charge_point_id)
        if connector_id is not None:
            statement = statement.where(_table.connector_id == connector_id)
        rows = await self._read(
            statement.order_by(_table.connector_id, _table.stack_level, _table.charging_profile_id)
        )
        return [_installed(row) for row in rows]

    async def bind_transaction_profiles(
        self, charge_point_id: str, connector_id: int, transaction_id: int, id_tag: str
    ) -> list[int]:
        if not await self._may_hold_tx_profiles(charge_point_id):
            return []
        wanted = id_tag.casefold()
        on_connector = and_(
            _table.charge_point_id == charge_point_id,
            _table.connector_id == connector_id,
            _table.purpose == TX_PROFILE,
        )

        async def work(connection: AsyncConnection) -> list[int]:
            rows = (
                await connection.execute(
                    select(
                        _table.charging_profile_id,
                        _table.transaction_id,
                        _table.remote_start_id_tag,
                    ).where(on_connector)
                )
            ).all()
            bound = [
                row.charging_profile_id
                for row in rows
                if row.transaction_id is None
                and row.remote_start_id_tag is not None
                and row.remote_start_id_tag.casefold() == wanted
            ]
            # A new transaction on the connector: no other TxProfile can still be valid there
            # (7.10: they cease with their transaction; a remote start of another idTag was
            # evidently given up).
            stale = [
                row.charging_profile_id
                for row in rows
                if row.charging_profile_id not in bound and row.transaction_id != transaction_id
            ]
            if bound:
                await connection.execute(
                    update(charging_profiles)
                    .where(on_connector, _table.charging_profile_id.in_(bound))
                    .values(transaction_id=transaction_id, remote_start_id_tag=None)
                )
            if stale:
                await connection.execute(
                    delete(charging_profiles).where(
                        on_connector, _table.charging_profile_id.in_(stale)
                    )
                )
            return bound

        return await self._writer.run(work)

    async def drop_transaction_profiles(
        self, charge_point_id: str, connector_id: int, transaction_id: int
    ) -> list[int]:
        if not await self._may_hold_tx_profiles(charge_point_id):
            return []
        # Spec 7.10: a TxProfile ceases to be valid when its transaction ends; with one
        # transaction per connector, none of the connector's TxProfiles is left valid but those
        # of a RemoteStartTransaction waiting for the next transaction.
        waiting = and_(_table.transaction_id.is_(None), _table.remote_start_id_tag.is_not(None))
        dropped = and_(
            _table.charge_point_id == charge_point_id,
            _table.purpose == TX_PROFILE,
            or_(_table.connector_id == connector_id, _table.transaction_id == transaction_id),
            not_(waiting),
        )

        async def work(connection: AsyncConnection) -> list[int]:
            return await _delete(connection, dropped)

        return await self._writer.run(work)


async def _delete(connection: AsyncConnection, where: ColumnElement[bool]) -> list[int]:
    """Delete the matching rows (one statement); their chargingProfileIds, ascending."""
    deleted = await connection.execute(
        delete(charging_profiles).where(where).returning(_table.charging_profile_id)
    )
    return sorted(deleted.scalars())


def _dumps(profile: Mapping[str, Any]) -> str:
    return json.dumps(profile, separators=(",", ":"), default=_number)


def _number(value: object) -> object:
    # A limit built by the CSMS may be a Decimal (at most one decimal on the wire): keep it a
    # JSON number.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _installed(row: Row[Any]) -> InstalledChargingProfile:
    values = row._mapping
    installed_at: datetime = values["installed_at"]
    return InstalledChargingProfile(
        charge_point_id=values["charge_point_id"],
        connector_id=values["connector_id"],
        charging_profile_id=values["charging_profile_id"],
        stack_level=values["stack_level"],
        purpose=values["purpose"],
        transaction_id=values["transaction_id"],
        remote_start_id_tag=values["remote_start_id_tag"],
        profile=json.loads(values["profile"]),
        installed_at=installed_at,
    )
