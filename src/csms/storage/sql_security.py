"""SqlStore, the security whitepaper's tables (security_store.py): profiles, security events,
issued and installed certificates. A mixin of SqlStore over its shared plumbing (sql_base.py);
every write goes through the group-commit writer."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.errors import UnknownChargePointError
from csms.storage.schema import (
    charge_point_security,
    charge_points,
    installed_certificates,
    issued_certificates,
    security_events,
)
from csms.storage.security_records import (
    ChargePointSecurity,
    InstalledCertificate,
    IssuedCertificate,
    SecurityEvent,
)
from csms.storage.sql_base import SqlBase, as_row, aware, upsert


class SecuritySqlStore(SqlBase):
    # -- security profiles ---------------------------------------------------------------------

    async def security_of(self, charge_point_id: str) -> ChargePointSecurity | None:
        statement = select(charge_point_security).where(
            charge_point_security.c.charge_point_id == charge_point_id
        )
        rows = await self._read(statement)
        return ChargePointSecurity(**rows[0]._mapping) if rows else None

    async def save_security(
        self,
        charge_point_id: str,
        *,
        security_profile: int,
        fallback_profile: int | None,
        pending_password_hash: str | None,
        at: datetime,
    ) -> ChargePointSecurity:
        values = {
            "charge_point_id": charge_point_id,
            "security_profile": security_profile,
            "fallback_profile": fallback_profile,
            "pending_password_hash": pending_password_hash,
            "updated_at": aware(at),
        }
        statement = upsert(
            self._dialect,
            charge_point_security,
            ("charge_point_id",),
            tuple(name for name in values if name != "charge_point_id"),
        ).returning(*charge_point_security.c)

        async def work(connection: AsyncConnection) -> ChargePointSecurity:
            known = select(charge_points.c.id).where(charge_points.c.id == charge_point_id)
            if (await connection.execute(known)).first() is None:
                raise UnknownChargePointError(f"unknown charge point {charge_point_id!r}")
            row = (await connection.execute(statement, values)).one()
            return ChargePointSecurity(**row._mapping)

        return await self._writer.run(work)

    async def promote_password(self, charge_point_id: str, password_hash: str) -> None:
        async def work(connection: AsyncConnection) -> None:
            await connection.execute(
                update(charge_points)
                .where(charge_points.c.id == charge_point_id)
                .values(password_hash=password_hash)
            )
            await connection.execute(
                update(charge_point_security)
                .where(charge_point_security.c.charge_point_id == charge_point_id)
                .values(pending_password_hash=None)
            )

        try:
            await self._writer.run(work)
        finally:
            # The charge point cache of sql.py: a read racing with this write is not kept.
            self._charge_point_generation += 1
            self._charge_point_cache.pop(charge_point_id, None)

    # -- security events -----------------------------------------------------------------------

    async def add_security_event(self, event: SecurityEvent) -> SecurityEvent:
        aware(event.timestamp, event.received_at)
        values = as_row(event)
        values.pop("id")

        async def work(connection: AsyncConnection) -> SecurityEvent:
            statement = security_events.insert().values(**values).returning(security_events.c.id)
            new_id = (await connection.execute(statement)).scalar_one()
            return dataclasses.replace(event, id=new_id)

        return await self._writer.run(work)

    async def security_events(
        self, charge_point_id: str, *, limit: int = 100, before_id: int | None = None
    ) -> list[SecurityEvent]:
        statement = (
            select(security_events)
            .where(security_events.c.charge_point_id == charge_point_id)
            .order_by(security_events.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            statement = statement.where(security_events.c.id < before_id)
        return [SecurityEvent(**row._mapping) for row in await self._read(statement)]

    # -- certificates the CA issued ------------------------------------------------------------

    async def add_issued_certificate(self, certificate: IssuedCertificate) -> IssuedCertificate:
        aware(certificate.not_before, certificate.not_after, certificate.issued_at)
        values = as_row(certificate)
        values.pop("id")

        async def work(connection: AsyncConnection) -> IssuedCertificate:
            statement = (
                issued_certificates.insert().values(**values).returning(issued_certificates.c.id)
            )
            new_id = (await connection.execute(statement)).scalar_one()
            return dataclasses.replace(certificate, id=new_id)

        return await self._writer.run(work)

    async def issued_certificates(self, charge_point_id: str) -> list[IssuedCertificate]:
        statement = (
            select(issued_certificates)
            .where(issued_certificates.c.charge_point_id == charge_point_id)
            .order_by(issued_certificates.c.id.desc())
        )
        return [_issued(row) for row in await self._read(statement)]

    async def issued_certificate(self, serial_number: str) -> IssuedCertificate | None:
        statement = select(issued_certificates).where(
            issued_certificates.c.serial_number == serial_number
        )
        rows = await self._read(statement)
        return _issued(rows[0]) if rows else None

    async def set_certificate_delivery(self, serial_number: str, delivery: str) -> None:
        statement = (
            update(issued_certificates)
            .where(issued_certificates.c.serial_number == serial_number)
            .values(delivery=delivery)
        )

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(statement)

        await self._writer.run(work)

    async def revoke_certificate(
        self, serial_number: str, *, at: datetime, reason: str | None
    ) -> IssuedCertificate | None:
        aware(at)
        by_serial = issued_certificates.c.serial_number == serial_number

        async def work(connection: AsyncConnection) -> IssuedCertificate | None:
            await connection.execute(
                update(issued_certificates)
                .where(by_serial, issued_certificates.c.revoked_at.is_(None))
                .values(revoked_at=at, revocation_reason=reason)
            )
            row = (await connection.execute(select(issued_certificates).where(by_serial))).first()
            return None if row is None else _issued(row)

        return await self._writer.run(work)

    # -- certificates installed on charge points -----------------------------------------------

    async def installed_certificates(
        self, charge_point_id: str, certificate_type: str | None = None
    ) -> list[InstalledCertificate]:
        statement = (
            select(installed_certificates)
            .where(installed_certificates.c.charge_point_id == charge_point_id)
            .order_by(installed_certificates.c.id)
        )
        if certificate_type is not None:
            statement = statement.where(
                installed_certificates.c.certificate_type == certificate_type
            )
        return [InstalledCertificate(**row._mapping) for row in await self._read(statement)]

    async def replace_installed_certificates(
        self,
        charge_point_id: str,
        certificate_type: str,
        certificates: Sequence[InstalledCertificate],
    ) -> None:
        of_type = and_(
            installed_certificates.c.charge_point_id == charge_point_id,
            installed_certificates.c.certificate_type == certificate_type,
        )

        async def work(connection: AsyncConnection) -> None:
            known = (await connection.execute(select(installed_certificates).where(of_type))).all()
            pems = {_identity(row._mapping): (row.pem, row.subject) for row in known}
            await connection.execute(delete(installed_certificates).where(of_type))
            for certificate in certificates:
                values = as_row(certificate)
                values.pop("id")
                pem, subject = pems.get(_identity(values), (None, None))
                values["pem"] = values["pem"] or pem
                values["subject"] = values["subject"] or subject
                await connection.execute(installed_certificates.insert().values(**values))

        await self._writer.run(work)

    async def add_installed_certificate(self, certificate: InstalledCertificate) -> None:
        values = as_row(certificate)
        values.pop("id")
        same = and_(
            installed_certificates.c.charge_point_id == certificate.charge_point_id,
            installed_certificates.c.serial_number == certificate.serial_number,
            installed_certificates.c.issuer_name_hash == certificate.issuer_name_hash,
        )

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(delete(installed_certificates).where(same))
            await connection.execute(installed_certificates.insert().values(**values))

        await self._writer.run(work)

    async def remove_installed_certificate(
        self, charge_point_id: str, issuer_name_hash: str, issuer_key_hash: str, serial: str
    ) -> int:
        statement = delete(installed_certificates).where(
            installed_certificates.c.charge_point_id == charge_point_id,
            installed_certificates.c.issuer_name_hash == issuer_name_hash,
            installed_certificates.c.issuer_key_hash == issuer_key_hash,
            installed_certificates.c.serial_number == serial,
        )

        async def work(connection: AsyncConnection) -> int:
            return (await connection.execute(statement)).rowcount

        return await self._writer.run(work)


def _issued(row: Row[Any]) -> IssuedCertificate:
    return IssuedCertificate(**row._mapping)


def _identity(values: Any) -> tuple[str, str, str]:
    return (values["issuer_name_hash"], values["issuer_key_hash"], values["serial_number"])
