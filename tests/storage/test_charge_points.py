from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from csms.storage import BootInfo, ConnectorStatus, MeterSample, TransactionStart
from csms.storage.engine import create_engine
from csms.storage.errors import StoreClosedError, UnknownChargePointError
from csms.storage.schema import charge_points
from csms.storage.sql import SqlStore, open_store
from tests.storage.conftest import NOW


async def test_save_get_list(store: SqlStore) -> None:
    assert await store.get_charge_point("CP1") is None
    assert await store.list_charge_points() == []

    saved = await store.save_charge_point(
        "CP2", registration_status="Pending", password_hash="hash", description="hall"
    )
    await store.save_charge_point(
        "CP1", registration_status="Accepted", password_hash=None, description=None
    )

    assert saved.id == "CP2"
    assert saved.registration_status == "Pending"
    assert saved.password_hash == "hash"
    assert saved.description == "hall"
    assert saved.boot is None
    assert saved.last_boot_at is None
    assert saved.last_seen_at is None
    assert saved.created_at == NOW
    assert await store.get_charge_point("CP2") == saved
    assert [cp.id for cp in await store.list_charge_points()] == ["CP1", "CP2"]


async def test_save_updates_provisioning_fields_only(store: SqlStore) -> None:
    await store.save_charge_point(
        "CP1", registration_status="Pending", password_hash="a", description="x"
    )
    boot = BootInfo(charge_point_vendor="V", charge_point_model="M")
    await store.record_boot("CP1", boot, NOW + timedelta(seconds=1))

    updated = await store.save_charge_point(
        "CP1", registration_status="Accepted", password_hash=None, description=None
    )

    assert updated.registration_status == "Accepted"
    assert updated.password_hash is None
    assert updated.description is None
    assert updated.boot == boot  # kept
    assert updated.last_boot_at == NOW + timedelta(seconds=1)
    assert updated.created_at == NOW
    assert await store.get_charge_point("CP1") == updated


async def test_record_boot(store: SqlStore, charge_point: str) -> None:
    boot = BootInfo(
        charge_point_vendor="Vendor",
        charge_point_model="Model",
        charge_point_serial_number="cp-sn",
        charge_box_serial_number="cb-sn",
        firmware_version="1.2.3",
        iccid="iccid",
        imsi="imsi",
        meter_type="meter",
        meter_serial_number="meter-sn",
    )
    at = datetime(2025, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    await store.record_boot(charge_point, boot, at)

    stored = await store.get_charge_point(charge_point)
    assert stored is not None
    assert stored.boot == boot
    assert stored.last_boot_at == at
    assert stored.last_boot_at is not None and stored.last_boot_at.tzinfo == UTC


async def test_record_boot_of_unknown_charge_point(store: SqlStore) -> None:
    boot = BootInfo(charge_point_vendor="V", charge_point_model="M")
    with pytest.raises(UnknownChargePointError):
        await store.record_boot("nope", boot, NOW)
    assert await store.list_charge_points() == []


async def test_delete_removes_what_it_reported(store: SqlStore, charge_point: str) -> None:
    await store.record_status(
        ConnectorStatus(
            charge_point_id=charge_point,
            connector_id=1,
            status="Available",
            error_code="NoError",
            timestamp=NOW,
            received_at=NOW,
        )
    )
    transaction = await store.start_transaction(
        TransactionStart(
            charge_point_id=charge_point,
            connector_id=1,
            id_tag="TAG",
            meter_start=0,
            timestamp=NOW,
            reservation_id=None,
            id_tag_status="Accepted",
        )
    )
    await store.add_meter_values(
        [
            MeterSample(
                charge_point_id=charge_point,
                connector_id=1,
                transaction_id=transaction.id,
                timestamp=NOW,
                value="1",
            )
        ]
    )

    assert await store.delete_charge_point(charge_point) is True
    assert await store.delete_charge_point(charge_point) is False

    assert await store.get_charge_point(charge_point) is None
    assert await store.list_connectors(charge_point) == []
    assert await store.status_history(charge_point) == []
    assert await store.get_transaction(transaction.id) is None
    assert await store.meter_values(transaction.id) == []


async def test_touch_is_flushed_by_close_latest_wins(
    store: SqlStore, charge_point: str, database_url: str
) -> None:
    later = NOW + timedelta(minutes=5)
    store.touch(charge_point, later)
    store.touch(charge_point, NOW)  # older: ignored
    await store.close()  # before the writer even ran

    async with await open_store(database_url) as reopened:
        stored = await reopened.get_charge_point(charge_point)
        assert stored is not None
        assert stored.last_seen_at == later

        # An older touch in a later batch does not move it back either.
        reopened.touch(charge_point, NOW)
        await _some_write(reopened)
        stored = await reopened.get_charge_point(charge_point)
        assert stored is not None
        assert stored.last_seen_at == later


async def test_touch_is_written_with_the_next_write(store: SqlStore, charge_point: str) -> None:
    store.touch(charge_point, NOW)
    await _some_write(store)
    stored = await store.get_charge_point(charge_point)
    assert stored is not None
    assert stored.last_seen_at == NOW


async def test_touches_are_written_at_most_once_a_minute_and_at_close(
    store: SqlStore, charge_point: str, database_url: str
) -> None:
    """A charge point that talks every second does not rewrite its row with every commit: the
    last-seen time is written when a minute has passed since the one written before, and at
    close; reads show the newest at once."""
    store.touch(charge_point, NOW)
    await _some_write(store)
    assert await _stored_last_seen(database_url, charge_point) == NOW

    store.touch(charge_point, NOW + timedelta(seconds=59))  # held back
    await _some_write(store)
    assert await _stored_last_seen(database_url, charge_point) == NOW
    shown = await store.get_charge_point(charge_point)
    assert shown is not None and shown.last_seen_at == NOW + timedelta(seconds=59)

    store.touch(charge_point, NOW + timedelta(seconds=60))  # a minute after the one written
    await _some_write(store)
    assert await _stored_last_seen(database_url, charge_point) == NOW + timedelta(seconds=60)

    store.touch(charge_point, NOW + timedelta(seconds=61))  # held back, written by close
    await store.close()
    assert await _stored_last_seen(database_url, charge_point) == NOW + timedelta(seconds=61)


async def _stored_last_seen(url: str, charge_point_id: str) -> datetime | None:
    engine = create_engine(url, role="read")
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(charge_points.c.last_seen_at).where(charge_points.c.id == charge_point_id)
            )
            value: datetime | None = rows.scalar_one()
            return value
    finally:
        await engine.dispose()


async def test_touch_of_unknown_charge_point_is_harmless(store: SqlStore) -> None:
    store.touch("nope", NOW)
    await _some_write(store)
    assert [cp.id for cp in await store.list_charge_points()] == ["CP2"]


async def test_touch_refuses_naive_datetime(store: SqlStore, charge_point: str) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.touch(charge_point, datetime(2025, 1, 1))


async def test_calls_after_close_raise(store: SqlStore, charge_point: str) -> None:
    await store.close()
    await store.close()  # idempotent

    with pytest.raises(StoreClosedError):
        store.touch(charge_point, NOW)
    with pytest.raises(StoreClosedError):
        await store.get_charge_point(charge_point)
    with pytest.raises(StoreClosedError):
        await store.save_charge_point(
            "CP2", registration_status="Accepted", password_hash=None, description=None
        )
    with pytest.raises(StoreClosedError):
        await store.add_meter_values([])
    with pytest.raises(StoreClosedError):
        await store.get_transaction(-1)


async def _some_write(store: SqlStore) -> None:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
