"""SqlStore, reservations (spec 5.13): a mixin of SqlStore over its shared plumbing
(sql_base.py). Every change is one transaction through the group-commit writer."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.errors import ReservationConflictError
from csms.storage.groupcommit import Work
from csms.storage.records import (
    ACTIVE_RESERVATION_STATES,
    Reservation,
    ReservationRequest,
    ReservationState,
)
from csms.storage.schema import reservations
from csms.storage.sql_base import SqlBase, aware

T = TypeVar("T")

# reservationId is an `integer` that charge points keep in an int32.
MAX_RESERVATION_ID = 2**31 - 1


class ReservationsStore(SqlBase):
    async def request_reservation(self, request: ReservationRequest) -> Reservation:
        aware(request.expiry_date, request.at)
        wanted = request.reservation_id
        if wanted is not None and not 0 < wanted <= MAX_RESERVATION_ID:
            raise ValueError(f"reservationId {wanted} is not a positive int32")
        fields = {
            "charge_point_id": request.charge_point_id,
            "connector_id": request.connector_id,
            "id_tag": request.id_tag,
            "parent_id_tag": request.parent_id_tag,
            "expiry_date": request.expiry_date,
            "state": ReservationState.REQUESTED,
            "reason": None,
            "transaction_id": None,
            "updated_at": request.at,
        }

        async def work(connection: AsyncConnection) -> Reservation:
            if wanted is None:
                # One writer: no other allocation runs between this read and the insert.
                highest = (await connection.execute(select(func.max(reservations.c.id)))).scalar()
                reservation_id = (highest or 0) + 1
                if reservation_id > MAX_RESERVATION_ID:
                    raise ReservationConflictError("no reservationId left above the highest used")
            else:
                reservation_id = wanted
                existing = await _get(connection, reservation_id)
                if existing is not None:
                    _check_replaceable(existing, request.charge_point_id)
                    # Spec 5.13: the same reservationId replaces the reservation.
                    row = (
                        await connection.execute(
                            update(reservations)
                            .where(reservations.c.id == reservation_id)
                            .values(**fields)
                            .returning(*reservations.c)
                        )
                    ).one()
                    return _reservation(row)
            row = (
                await connection.execute(
                    reservations.insert()
                    .values(id=reservation_id, created_at=request.at, **fields)
                    .returning(*reservations.c)
                )
            ).one()
            return _reservation(row)

        return await self._write(work)

    async def record_reservation(self, reservation: Reservation) -> Reservation | None:
        aware(reservation.expiry_date, reservation.created_at, reservation.updated_at)
        fields = {
            "connector_id": reservation.connector_id,
            "id_tag": reservation.id_tag,
            "parent_id_tag": reservation.parent_id_tag,
            "expiry_date": reservation.expiry_date,
            "state": reservation.state,
            "reason": reservation.reason,
            "transaction_id": reservation.transaction_id,
            "updated_at": reservation.updated_at,
        }

        async def work(connection: AsyncConnection) -> Reservation | None:
            existing = await _get(connection, reservation.id)
            if existing is None:
                statement: Any = reservations.insert().values(
                    id=reservation.id,
                    charge_point_id=reservation.charge_point_id,
                    created_at=reservation.created_at,
                    **fields,
                )
            elif existing.charge_point_id != reservation.charge_point_id:
                return None
            else:
                statement = (
                    update(reservations).where(reservations.c.id == reservation.id).values(**fields)
                )
            row = (await connection.execute(statement.returning(*reservations.c))).one()
            return _reservation(row)

        return await self._write(work)

    async def update_reservation(
        self,
        reservation_id: int,
        *,
        state: str,
        at: datetime,
        reason: str | None = None,
        transaction_id: int | None = None,
        from_states: Collection[str] | None = None,
        charge_point_id: str | None = None,
    ) -> Reservation | None:
        aware(at)
        if not 0 < reservation_id <= MAX_RESERVATION_ID:
            self._check_open()
            return None
        statement = update(reservations).where(reservations.c.id == reservation_id)
        if from_states is not None:
            statement = statement.where(reservations.c.state.in_(list(from_states)))
        if charge_point_id is not None:
            statement = statement.where(reservations.c.charge_point_id == charge_point_id)
        statement = statement.values(
            state=state, reason=reason, transaction_id=transaction_id, updated_at=at
        ).returning(*reservations.c)

        async def work(connection: AsyncConnection) -> Reservation | None:
            row = (await connection.execute(statement)).one_or_none()
            return None if row is None else _reservation(row)

        return await self._write(work)

    async def get_reservation(self, reservation_id: int) -> Reservation | None:
        self._check_open()
        if not 0 < reservation_id <= MAX_RESERVATION_ID:
            return None
        rows = await self._read(select(reservations).where(reservations.c.id == reservation_id))
        return _reservation(rows[0]) if rows else None

    async def _write(self, work: Work[T]) -> T:
        try:
            return await self._writer.run(work)
        finally:
            self._reservation_cache.forget()

    async def list_reservations(
        self, *, charge_point_id: str | None = None, state: str | None = None
    ) -> list[Reservation]:
        if charge_point_id is not None and state == ReservationState.ACCEPTED:
            # What every StartTransaction may end (features/reservation): cached (read_cache.py).
            cp = charge_point_id

            async def read() -> tuple[Reservation, ...]:
                return tuple(await self._list_reservations(cp, ReservationState.ACCEPTED))

            return list(await self._reservation_cache.get(cp, read))
        return await self._list_reservations(charge_point_id, state)

    async def _list_reservations(
        self, charge_point_id: str | None, state: str | None
    ) -> list[Reservation]:
        statement = select(reservations)
        if charge_point_id is not None:
            statement = statement.where(reservations.c.charge_point_id == charge_point_id)
        if state is not None:
            statement = statement.where(reservations.c.state == state)
        rows = await self._read(statement.order_by(reservations.c.id))
        return [_reservation(row) for row in rows]

    async def expire_reservations(self, now: datetime) -> list[Reservation]:
        aware(now)
        statement = (
            update(reservations)
            .where(
                reservations.c.state.in_(list(ACTIVE_RESERVATION_STATES)),
                reservations.c.expiry_date <= now,
            )
            .values(state=ReservationState.EXPIRED, updated_at=now)
            .returning(*reservations.c)
        )

        async def work(connection: AsyncConnection) -> list[Reservation]:
            rows = (await connection.execute(statement)).all()
            return sorted((_reservation(row) for row in rows), key=lambda r: r.id)

        return await self._write(work)

    async def next_reservation_expiry(self) -> datetime | None:
        expiry_date = reservations.c.expiry_date
        rows = await self._read(
            select(expiry_date)
            .where(reservations.c.state.in_(list(ACTIVE_RESERVATION_STATES)))
            .order_by(expiry_date)
            .limit(1)
        )
        return rows[0].expiry_date if rows else None


def _check_replaceable(existing: Reservation, charge_point_id: str) -> None:
    if existing.charge_point_id != charge_point_id:
        raise ReservationConflictError(
            f"reservationId {existing.id} is a reservation of charge point "
            f"{existing.charge_point_id!r}"
        )
    if existing.state not in ACTIVE_RESERVATION_STATES:
        raise ReservationConflictError(
            f"reservationId {existing.id} was used before (state {existing.state}); "
            "reservation ids are not reused"
        )


async def _get(connection: AsyncConnection, reservation_id: int) -> Reservation | None:
    row = (
        await connection.execute(select(reservations).where(reservations.c.id == reservation_id))
    ).one_or_none()
    return None if row is None else _reservation(row)


def _reservation(row: Row[Any]) -> Reservation:
    values = row._mapping
    return Reservation(
        id=values["id"],
        charge_point_id=values["charge_point_id"],
        connector_id=values["connector_id"],
        id_tag=values["id_tag"],
        parent_id_tag=values["parent_id_tag"],
        expiry_date=values["expiry_date"],
        state=values["state"],
        reason=values["reason"],
        transaction_id=values["transaction_id"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
    )
