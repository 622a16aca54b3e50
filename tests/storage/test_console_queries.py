"""The console's paged queries (docs/console.md) on SQLite and PostgreSQL: charge points
searched, sorted and paged by the database, connector status counts, transactions filtered and
paged, the energy of the day."""

from __future__ import annotations

from datetime import timedelta

from csms.storage import BootInfo, ConnectorStatus, TransactionStart, TransactionStop
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW


async def test_charge_points_are_searched_sorted_and_paged(store: SqlStore) -> None:
    for n in range(30):
        await store.save_charge_point(
            f"CP-{n:02d}",
            registration_status="Accepted",
            password_hash=None,
            description="north_1" if n % 3 == 0 else None,
        )
    await store.record_boot(
        "CP-07", BootInfo(charge_point_vendor="V", charge_point_model="Zeta"), NOW
    )
    page, total = await store.charge_point_page(offset=10, limit=10)
    assert total == 30 and [cp.id for cp in page] == [f"CP-{n:02d}" for n in range(10, 20)]
    page, total = await store.charge_point_page(sort="id", descending=True, limit=3)
    assert [cp.id for cp in page] == ["CP-29", "CP-28", "CP-27"]
    page, total = await store.charge_point_page(search="NORTH_", limit=100)
    assert total == 10 and all(int(cp.id[3:]) % 3 == 0 for cp in page)
    # Wildcards are text: "_" and "%" match only themselves.
    assert (await store.charge_point_page(search="h%1"))[1] == 0
    assert (await store.charge_point_page(search="zeta"))[0][0].id == "CP-07"
    page, _ = await store.charge_point_page(sort="model", descending=True, limit=1)
    assert page[0].id == "CP-07"
    assert (await store.charge_point_page(sort="nonsense", limit=1))[0][0].id == "CP-00"


async def test_connector_status_counts_charge_points_per_status(
    store: SqlStore, charge_point: str
) -> None:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    for cp, connector, status in (
        ("CP1", 0, "Available"),
        ("CP1", 1, "Charging"),
        ("CP1", 2, "Charging"),
        ("CP2", 1, "Faulted"),
        ("CP2", 2, "Charging"),
    ):
        await store.record_status(
            ConnectorStatus(
                charge_point_id=cp,
                connector_id=connector,
                status=status,
                error_code="NoError",
                timestamp=NOW,
                received_at=NOW,
            )
        )
    assert await store.connector_status_counts() == {"Charging": 2, "Faulted": 1}


async def test_transactions_are_filtered_and_paged_newest_first(
    store: SqlStore, charge_point: str
) -> None:
    ids = []
    for n in range(5):
        started = await store.start_transaction(
            TransactionStart(
                charge_point_id="CP1",
                connector_id=n + 1,  # (a new start on a connector ends the one before)
                id_tag="TagA" if n % 2 == 0 else "TagB",
                meter_start=1000,
                timestamp=NOW + timedelta(hours=n),
                reservation_id=None,
                id_tag_status="Accepted",
            )
        )
        ids.append(started.id)
    for transaction_id in ids[:3]:
        await store.stop_transaction(
            TransactionStop(
                charge_point_id="CP1",
                transaction_id=transaction_id,
                meter_stop=1500,
                timestamp=NOW + timedelta(hours=10),
                reason="Local",
                id_tag=None,
            )
        )
    page, total = await store.transaction_page(limit=2)
    assert total == 5 and [t.id for t in page] == [ids[4], ids[3]]
    page, total = await store.transaction_page(id_tag="taga")
    assert total == 3 and {t.id_tag for t in page} == {"TagA"}
    page, total = await store.transaction_page(active=True)
    assert [t.id for t in page] == [ids[4], ids[3]]
    page, total = await store.transaction_page(
        since=NOW + timedelta(hours=1), until=NOW + timedelta(hours=3)
    )
    assert [t.id for t in page] == [ids[2], ids[1]]
    assert (await store.transaction_page(charge_point_id="OTHER"))[1] == 0
    assert await store.energy_stopped_since(NOW + timedelta(hours=9)) == 1500
    assert await store.energy_stopped_since(NOW + timedelta(hours=11)) == 0
