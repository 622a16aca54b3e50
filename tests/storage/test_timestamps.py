"""Timestamps go in as any aware datetime and come back as the same instant in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import exc

from csms.storage import BootInfo, ConnectorStatus, IdTag
from csms.storage.sql import SqlStore


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


async def test_naive_datetime_is_refused(store: SqlStore, charge_point: str) -> None:
    with pytest.raises(exc.StatementError) as raised:
        await store.put_id_tag(
            IdTag(id_tag="T", status="Accepted", expiry_date=datetime(2025, 1, 1))
        )
    assert isinstance(raised.value.orig, ValueError)
    assert await store.get_id_tag("T") is None
