"""The store answers the message path's reads from write-through caches (charge points, id
tags, open transactions by tag, last-seen times): what it answers must always be what the
database holds, across writes, case variants, deletes and a reopened store."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from csms.storage import BootInfo, IdTag, TransactionStart, TransactionStop
from csms.storage.sql import SqlStore, open_store
from tests.storage.conftest import NOW

START = TransactionStart(
    charge_point_id="CP1",
    connector_id=1,
    id_tag="Tag1",
    meter_start=0,
    timestamp=NOW,
    reservation_id=None,
    id_tag_status="Accepted",
)


async def test_id_tag_reads_follow_writes_in_any_case(store: SqlStore) -> None:
    assert await store.get_id_tag("ABC") is None  # cached as unknown ...
    await store.put_id_tag(IdTag(id_tag="abc", status="Accepted"))
    # ... and a write to any case variant is seen through every spelling.
    for spelling in ("ABC", "abc", "aBc"):
        tag = await store.get_id_tag(spelling)
        assert tag is not None and tag.status == "Accepted"
    await store.put_id_tag(IdTag(id_tag="ABC", status="Blocked"))
    tag = await store.get_id_tag("abc")
    assert tag is not None and (tag.id_tag, tag.status) == ("abc", "Blocked")
    await store.delete_id_tag("Abc")
    assert await store.get_id_tag("abc") is None


async def test_charge_point_reads_follow_writes(store: SqlStore) -> None:
    assert await store.get_charge_point("CP9") is None
    await store.save_charge_point(
        "CP9", registration_status="Pending", password_hash=None, description=None
    )
    stored = await store.get_charge_point("CP9")
    assert stored is not None and stored.registration_status == "Pending"
    await store.record_boot("CP9", BootInfo(charge_point_vendor="V", charge_point_model="M"), NOW)
    stored = await store.get_charge_point("CP9")
    assert stored is not None and stored.boot is not None and stored.last_boot_at == NOW
    # A touch shows at once, before it is written.
    store.touch("CP9", NOW + timedelta(seconds=5))
    stored = await store.get_charge_point("CP9")
    assert stored is not None and stored.last_seen_at == NOW + timedelta(seconds=5)
    (listed,) = await store.list_charge_points()
    assert listed.last_seen_at == NOW + timedelta(seconds=5)
    assert await store.delete_charge_point("CP9")
    assert await store.get_charge_point("CP9") is None


async def test_open_transactions_by_tag_follow_starts_stops_and_deletes(
    store: SqlStore, charge_point: str
) -> None:
    assert await store.active_transactions_for_tag("tag1") == []
    first = await store.start_transaction(START)
    second = await store.start_transaction(dataclasses.replace(START, connector_id=2))
    assert await store.active_transactions_for_tag("TAG1") == [first, second]
    await store.stop_transaction(
        TransactionStop(
            charge_point_id="CP1",
            transaction_id=first.id,
            meter_stop=1,
            timestamp=NOW,
            reason=None,
            id_tag=None,
        )
    )
    assert await store.active_transactions_for_tag("Tag1") == [second]
    await store.delete_charge_point(charge_point)
    assert await store.active_transactions_for_tag("Tag1") == []


async def test_a_reopened_store_reads_the_database(database_url: str) -> None:
    first = await open_store(database_url, now=lambda: NOW)
    try:
        await first.save_charge_point(
            "CP1", registration_status="Accepted", password_hash=None, description=None
        )
        transaction = await first.start_transaction(START)
        await first.put_id_tag(IdTag(id_tag="Tag1", status="Accepted"))
    finally:
        await first.close()
    second = await open_store(database_url, now=lambda: NOW)
    try:
        assert await second.active_transactions_for_tag("tag1") == [transaction]
        assert await second.get_id_tag("TAG1") is not None
        assert await second.get_charge_point("CP1") is not None
    finally:
        await second.close()
