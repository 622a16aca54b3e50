from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from csms.storage import DataTransferRecord, Notification
from csms.storage.schema import data_transfers
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW


async def test_notifications_oldest_first(store: SqlStore, charge_point: str) -> None:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    notes = [
        Notification(
            charge_point_id=charge_point,
            kind=kind,
            status=status,
            received_at=NOW + timedelta(seconds=i),
        )
        for i, (kind, status) in enumerate(
            [("firmware", "Downloading"), ("diagnostics", "Uploading"), ("firmware", "Installed")]
        )
    ]
    for note in notes:
        await store.record_notification(note)
    await store.record_notification(
        Notification(charge_point_id="CP2", kind="firmware", status="Idle", received_at=NOW)
    )

    assert await store.list_notifications(charge_point) == notes
    assert await store.list_notifications("CP3") == []


async def test_data_transfers(store: SqlStore, charge_point: str) -> None:
    records = [
        DataTransferRecord(
            charge_point_id=charge_point,
            vendor_id="com.example",
            message_id="hello",
            data='{"a": 1}',
            status="Accepted",
            received_at=NOW,
        ),
        DataTransferRecord(
            charge_point_id=charge_point,
            vendor_id="org.other",
            message_id=None,
            data=None,
            status="UnknownVendorId",
            received_at=NOW + timedelta(seconds=1),
        ),
    ]
    for record in records:
        await store.record_data_transfer(record)

    # No read method in the Store protocol: look in the table.
    async with store._read_engine.connect() as connection:
        rows = (await connection.execute(select(data_transfers).order_by("id"))).all()
    assert [
        DataTransferRecord(
            charge_point_id=row.charge_point_id,
            vendor_id=row.vendor_id,
            message_id=row.message_id,
            data=row.data,
            status=row.status,
            received_at=row.received_at,
        )
        for row in rows
    ] == records
