"""Timestamps go in as any aware datetime and come back as the same instant in UTC."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import exc

from csms.storage import (
    BootInfo,
    ConnectorStatus,
    DataTransferRecord,
    IdTag,
    MeterSample,
    Notification,
    TransactionStart,
    TransactionStop,
)
from csms.storage.groupcommit import Rows
from csms.storage.schema import notifications
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW


@pytest.mark.parametrize(
    "at",
    [
        datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2025, 7, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))),
        datetime(2024, 2, 29, 7, 0, 0, 1, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
        datetime(1970, 1, 1, tzinfo=UTC),
    ],
)
async def test_aware_utc_round_trip(store: SqlStore, charge_point: str, at: datetime) -> None:
    await store.record_boot(
        charge_point, BootInfo(charge_point_vendor="V", charge_point_model="M"), at
    )
    await store.record_status(
        ConnectorStatus(
            charge_point_id=charge_point,
            connector_id=1,
            status="Available",
            error_code="NoError",
            timestamp=at,
            received_at=at,
        )
    )
    await store.put_id_tag(IdTag(id_tag="T", status="Accepted", expiry_date=at))

    stored = await store.get_charge_point(charge_point)
    (status,) = await store.list_connectors(charge_point)
    tag = await store.get_id_tag("T")
    assert stored is not None and tag is not None
    for value in (stored.last_boot_at, stored.created_at, status.timestamp, tag.expiry_date):
        assert value is not None
        assert value.tzinfo == UTC
    assert stored.last_boot_at == at
    assert status.timestamp == at
    assert tag.expiry_date == at


@pytest.mark.parametrize(
    "call",
    [
        "record_boot",
        "record_status",
        "put_id_tag",
        "start_transaction",
        "stop_transaction",
        "add_meter_values",
        "record_notification",
        "record_data_transfer",
        "touch",
    ],
)
async def test_naive_datetime_is_refused_at_the_call(
    store: SqlStore, charge_point: str, call: str
) -> None:
    naive = datetime(2025, 1, 1)
    calls: dict[str, Callable[[], Any]] = {
        "record_boot": lambda: store.record_boot(
            charge_point, BootInfo(charge_point_vendor="V", charge_point_model="M"), naive
        ),
        "record_status": lambda: store.record_status(
            ConnectorStatus(
                charge_point_id=charge_point,
                connector_id=1,
                status="Available",
                error_code="NoError",
                timestamp=NOW,
                received_at=naive,
            )
        ),
        "put_id_tag": lambda: store.put_id_tag(
            IdTag(id_tag="T", status="Accepted", expiry_date=naive)
        ),
        "start_transaction": lambda: store.start_transaction(
            TransactionStart(
                charge_point_id=charge_point,
                connector_id=1,
                id_tag="T",
                meter_start=0,
                timestamp=naive,
                reservation_id=None,
                id_tag_status="Accepted",
            )
        ),
        "stop_transaction": lambda: store.stop_transaction(
            TransactionStop(
                charge_point_id=charge_point,
                transaction_id=1,
                meter_stop=0,
                timestamp=naive,
                reason=None,
                id_tag=None,
            )
        ),
        "add_meter_values": lambda: store.add_meter_values(
            [
                MeterSample(
                    charge_point_id=charge_point,
                    connector_id=1,
                    transaction_id=None,
                    timestamp=timestamp,
                    value="1",
                )
                for timestamp in (NOW, naive)
            ]
        ),
        "record_notification": lambda: store.record_notification(
            Notification(
                charge_point_id=charge_point, kind="firmware", status="Idle", received_at=naive
            )
        ),
        "record_data_transfer": lambda: store.record_data_transfer(
            DataTransferRecord(
                charge_point_id=charge_point,
                vendor_id="v",
                message_id=None,
                data=None,
                status="Accepted",
                received_at=naive,
            )
        ),
        "touch": lambda: store.touch(charge_point, naive),
    }
    before = store.commits
    with pytest.raises(ValueError, match="naive"):
        result = calls[call]()
        if inspect.isawaitable(result):
            await result
    assert store.commits == before  # never queued


async def test_naive_datetime_is_refused_by_the_column_type(
    store: SqlStore, charge_point: str
) -> None:
    with pytest.raises(exc.StatementError) as raised:
        await store._writer.write(
            Rows(
                notifications.insert(),
                [
                    {
                        "charge_point_id": charge_point,
                        "kind": "firmware",
                        "status": "Idle",
                        "received_at": datetime(2025, 1, 1),
                    }
                ],
            )
        )
    assert isinstance(raised.value.orig, ValueError)
    assert await store.list_notifications(charge_point) == []
