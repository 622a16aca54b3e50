from __future__ import annotations

import asyncio
from datetime import timedelta

from csms.storage import ConnectorStatus
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW


def status(connector_id: int, value: str, seconds: int = 0, **fields: str) -> ConnectorStatus:
    return ConnectorStatus(
        charge_point_id=fields.pop("charge_point_id", "CP1"),
        connector_id=connector_id,
        status=value,
        error_code=fields.pop("error_code", "NoError"),
        timestamp=NOW + timedelta(seconds=seconds),
        received_at=NOW + timedelta(seconds=seconds, milliseconds=5),
        **fields,
    )


async def test_current_status_per_connector(store: SqlStore, charge_point: str) -> None:
    assert await store.list_connectors(charge_point) == []

    await store.record_status(status(2, "Available"))
    await store.record_status(status(0, "Available"))
    await store.record_status(status(1, "Preparing", 1))
    await store.record_status(
        status(
            1,
            "Faulted",
            2,
            error_code="GroundFailure",
            info="info",
            vendor_id="vendor",
            vendor_error_code="E42",
        )
    )

    assert await store.list_connectors(charge_point) == [
        status(0, "Available"),
        status(
            1,
            "Faulted",
            2,
            error_code="GroundFailure",
            info="info",
            vendor_id="vendor",
            vendor_error_code="E42",
        ),
        status(2, "Available"),
    ]


async def test_latest_received_is_current_even_in_one_batch(
    store: SqlStore, charge_point: str
) -> None:
    # Concurrent reports of one connector share a batch: the last queued is the current one.
    values = [f"S{i}" for i in range(50)]
    await asyncio.gather(*(store.record_status(status(1, value)) for value in values))

    (current,) = await store.list_connectors(charge_point)
    history = await store.status_history(charge_point)
    assert current.status == history[0].status
    assert [entry.status for entry in reversed(history)] == values


async def test_history_most_recent_first(store: SqlStore, charge_point: str) -> None:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    for second, (connector_id, value) in enumerate(
        [(1, "Available"), (2, "Available"), (1, "Preparing"), (1, "Charging"), (2, "Faulted")]
    ):
        await store.record_status(status(connector_id, value, second))
    await store.record_status(status(1, "Unavailable", charge_point_id="CP2"))

    history = await store.status_history(charge_point)
    assert [(s.connector_id, s.status) for s in history] == [
        (2, "Faulted"),
        (1, "Charging"),
        (1, "Preparing"),
        (2, "Available"),
        (1, "Available"),
    ]
    assert history[0] == status(2, "Faulted", 4)

    connector_1 = await store.status_history(charge_point, connector_id=1)
    assert [s.status for s in connector_1] == ["Charging", "Preparing", "Available"]
    assert [s.status for s in await store.status_history(charge_point, limit=2)] == [
        "Faulted",
        "Charging",
    ]
    assert [s.status for s in await store.status_history(charge_point, 1, limit=1)] == ["Charging"]
    assert await store.status_history(charge_point, connector_id=3) == []
    assert [s.status for s in await store.status_history("CP2")] == ["Unavailable"]
