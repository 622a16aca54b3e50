"""Reservations in the store (spec 5.13): allocation and replacement of reservationIds, the
state transitions, expiry, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from csms.storage import Reservation, ReservationConflictError, ReservationRequest
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW


def request(
    reservation_id: int | None = None,
    *,
    charge_point_id: str = "CP1",
    connector_id: int = 1,
    id_tag: str = "TAG1",
    parent_id_tag: str | None = None,
    expires_in: float = 600,
) -> ReservationRequest:
    return ReservationRequest(
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        id_tag=id_tag,
        parent_id_tag=parent_id_tag,
        expiry_date=NOW + timedelta(seconds=expires_in),
        reservation_id=reservation_id,
        at=NOW,
    )


@pytest.fixture
async def two_charge_points(store: SqlStore, charge_point: str) -> tuple[str, str]:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    return charge_point, "CP2"


async def test_allocated_ids_are_positive_and_unique(store: SqlStore, charge_point: str) -> None:
    assert await store.list_reservations() == []
    assert await store.next_reservation_expiry() is None

    # Concurrent requests share a batch: each still gets an id of its own.
    made = await asyncio.gather(*(store.request_reservation(request()) for _ in range(20)))

    assert sorted(r.id for r in made) == list(range(1, 21))
    first = made[0]
    assert first == Reservation(
        id=first.id,
        charge_point_id="CP1",
        connector_id=1,
        id_tag="TAG1",
        parent_id_tag=None,
        expiry_date=NOW + timedelta(seconds=600),
        state="Requested",
        reason=None,
        transaction_id=None,
        created_at=NOW,
        updated_at=NOW,
    )
    assert await store.get_reservation(first.id) == first
    assert [r.id for r in await store.list_reservations()] == list(range(1, 21))


async def test_given_id_then_allocation_goes_past_it(store: SqlStore, charge_point: str) -> None:
    given = await store.request_reservation(request(1000, parent_id_tag="PARENT"))
    assert (given.id, given.parent_id_tag, given.state) == (1000, "PARENT", "Requested")

    allocated = await store.request_reservation(request())

    assert allocated.id == 1001


async def test_same_id_replaces_an_active_reservation(store: SqlStore, charge_point: str) -> None:
    first = await store.request_reservation(request(7))
    accepted = await store.update_reservation(7, state="Accepted", at=NOW)
    assert accepted is not None and accepted.state == "Accepted"

    later = NOW + timedelta(seconds=5)
    replacement = await store.request_reservation(
        replace(request(7, connector_id=2, id_tag="TAG2", expires_in=900), at=later)
    )

    assert replacement == replace(
        first,
        connector_id=2,
        id_tag="TAG2",
        expiry_date=NOW + timedelta(seconds=900),
        updated_at=later,
    )
    assert len(await store.list_reservations()) == 1


async def test_ids_of_others_and_of_ended_reservations_conflict(
    store: SqlStore, two_charge_points: tuple[str, str]
) -> None:
    await store.request_reservation(request(5))
    with pytest.raises(ReservationConflictError, match="charge point 'CP1'"):
        await store.request_reservation(request(5, charge_point_id="CP2"))

    await store.update_reservation(5, state="Cancelled", at=NOW)
    with pytest.raises(ReservationConflictError, match="state Cancelled"):
        await store.request_reservation(request(5))
    with pytest.raises(ValueError, match="positive int32"):
        await store.request_reservation(request(0))
    # The failed requests changed nothing, and the store still writes.
    assert [(r.id, r.state) for r in await store.list_reservations()] == [(5, "Cancelled")]
    assert (await store.request_reservation(request())).id == 6


async def test_conditional_transitions(store: SqlStore, two_charge_points: tuple[str, str]) -> None:
    made = await store.request_reservation(request())
    later = NOW + timedelta(seconds=1)

    # Only from the given states, and only for the given charge point.
    assert (
        await store.update_reservation(made.id, state="Used", at=later, from_states={"Accepted"})
        is None
    )
    assert (
        await store.update_reservation(made.id, state="Accepted", at=later, charge_point_id="CP2")
        is None
    )
    accepted = await store.update_reservation(
        made.id, state="Accepted", at=later, from_states={"Requested"}, charge_point_id="CP1"
    )
    assert accepted == replace(made, state="Accepted", updated_at=later)

    used = await store.update_reservation(
        made.id,
        state="Used",
        at=later,
        reason="used by TAG1",
        transaction_id=42,
        from_states={"Accepted"},
    )
    assert used == replace(accepted, state="Used", reason="used by TAG1", transaction_id=42)
    assert await store.update_reservation(10**12, state="Used", at=later) is None
    assert await store.get_reservation(-1) is None


async def test_record_an_answer_creates_or_overwrites(
    store: SqlStore, two_charge_points: tuple[str, str]
) -> None:
    sent = Reservation(
        id=31,
        charge_point_id="CP1",
        connector_id=0,
        id_tag="TAG1",
        parent_id_tag=None,
        expiry_date=NOW + timedelta(minutes=10),
        state="Accepted",
        reason=None,
        transaction_id=None,
        created_at=NOW,
        updated_at=NOW,
    )
    assert await store.record_reservation(sent) == sent

    overwritten = replace(sent, state="Occupied", created_at=NOW + timedelta(1))
    # created_at stays the first one's.
    assert await store.record_reservation(overwritten) == replace(sent, state="Occupied")
    # Another charge point's id is not taken over.
    assert await store.record_reservation(replace(sent, charge_point_id="CP2")) is None
    assert [r.charge_point_id for r in await store.list_reservations()] == ["CP1"]


async def test_filters(store: SqlStore, two_charge_points: tuple[str, str]) -> None:
    one = await store.request_reservation(request())
    two = await store.request_reservation(request(charge_point_id="CP2"))
    await store.update_reservation(two.id, state="Accepted", at=NOW)

    assert [r.id for r in await store.list_reservations(charge_point_id="CP2")] == [two.id]
    assert [r.id for r in await store.list_reservations(state="Requested")] == [one.id]
    assert await store.list_reservations(charge_point_id="CP1", state="Accepted") == []


async def test_expiry(store: SqlStore, charge_point: str) -> None:
    soon = await store.request_reservation(request(expires_in=10))
    later = await store.request_reservation(request(expires_in=20))
    over = await store.request_reservation(request(expires_in=5))
    await store.update_reservation(soon.id, state="Accepted", at=NOW)
    await store.update_reservation(over.id, state="Rejected", at=NOW)

    # Only Requested and Accepted reservations expire.
    assert await store.next_reservation_expiry() == NOW + timedelta(seconds=10)
    assert await store.expire_reservations(NOW + timedelta(seconds=9)) == []

    at = NOW + timedelta(seconds=10)
    expired = await store.expire_reservations(at)

    assert [(r.id, r.state, r.updated_at) for r in expired] == [(soon.id, "Expired", at)]
    assert await store.next_reservation_expiry() == NOW + timedelta(seconds=20)
    expired = await store.expire_reservations(NOW + timedelta(hours=1))
    assert [r.id for r in expired] == [later.id]
    assert await store.next_reservation_expiry() is None
    assert (await store.get_reservation(over.id)).state == "Rejected"  # type: ignore[union-attr]


async def test_deleted_with_the_charge_point(store: SqlStore, charge_point: str) -> None:
    await store.request_reservation(request())
    assert await store.delete_charge_point(charge_point)
    assert await store.list_reservations() == []
