from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

from csms.storage import IdTag
from csms.storage.sql import SqlStore


async def test_put_get_case_insensitive(store: SqlStore) -> None:
    assert await store.get_id_tag("ABC") is None

    expiry = datetime(2030, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    put = await store.put_id_tag(
        IdTag(id_tag="AbC123", status="Accepted", expiry_date=expiry, parent_id_tag="PARENT")
    )

    assert put == IdTag(
        id_tag="AbC123", status="Accepted", expiry_date=expiry, parent_id_tag="PARENT"
    )
    assert put.expiry_date is not None and put.expiry_date.tzinfo == UTC
    for spelling in ("AbC123", "abc123", "ABC123"):
        assert await store.get_id_tag(spelling) == put
    assert await store.get_id_tag("ABC12") is None


async def test_put_replaces_and_keeps_spelling(store: SqlStore) -> None:
    await store.put_id_tag(IdTag(id_tag="AbC", status="Accepted", parent_id_tag="P"))

    replaced = await store.put_id_tag(IdTag(id_tag="abc", status="Blocked"))

    assert replaced == IdTag(id_tag="AbC", status="Blocked")
    assert await store.get_id_tag("ABC") == replaced
    assert await store.list_id_tags() == [replaced]


async def test_list_and_delete(store: SqlStore) -> None:
    for tag in ("b", "A", "c"):
        await store.put_id_tag(IdTag(id_tag=tag, status="Accepted"))

    assert [t.id_tag for t in await store.list_id_tags()] == ["A", "b", "c"]

    assert await store.delete_id_tag("B") is True
    assert await store.delete_id_tag("b") is False
    assert [t.id_tag for t in await store.list_id_tags()] == ["A", "c"]
    assert await store.get_id_tag("b") is None
    assert await store.delete_id_tag("a") is True


async def test_concurrent_puts_of_one_tag_in_one_batch(store: SqlStore) -> None:
    await asyncio.gather(
        *(store.put_id_tag(IdTag(id_tag=s, status="Accepted")) for s in ("Tag", "TAG", "tag"))
    )
    assert [t.id_tag for t in await store.list_id_tags()] == ["Tag"]
