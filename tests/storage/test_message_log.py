"""The message log's storage (docs/message-log.md): appended without waiting, read newest first
with filters and a cursor, pruned by age, a bounded queue."""

from __future__ import annotations

from datetime import timedelta

from csms.message_log import storable_text
from csms.storage import BootInfo, LoggedMessage
from csms.storage.sql import SqlStore, open_store
from tests.storage.conftest import NOW


def _message(n: int, **fields: object) -> LoggedMessage:
    values: dict[str, object] = {
        "charge_point_id": "CP1",
        "at": NOW + timedelta(seconds=n),
        "direction": "in" if n % 2 == 0 else "out",
        "message_type": "CALL" if n % 2 == 0 else "CALLRESULT",
        "action": "Heartbeat",
        "unique_id": f"id{n // 2}",
        "text": f"[{n}]",
    }
    values.update(fields)
    return LoggedMessage(**values)  # type: ignore[arg-type]


async def test_appended_rows_are_read_back_newest_first(store: SqlStore) -> None:
    for n in range(6):
        assert store.log_message(_message(n))
    store.log_message(_message(6, charge_point_id="CP2"))
    store.log_message(_message(7, action="BootNotification", note="why"))
    await store.flush_message_log()

    rows = await store.message_log("CP1")
    assert [r.text for r in rows] == ["[7]", "[5]", "[4]", "[3]", "[2]", "[1]", "[0]"]
    assert rows[0].note == "why" and rows[0].action == "BootNotification"
    assert rows[-1].at == NOW and rows[-1].direction == "in" and rows[-1].unique_id == "id0"
    ids = [r.id for r in rows]
    assert ids == sorted(ids, reverse=True)  # type: ignore[type-var]

    assert [r.text for r in await store.message_log("CP1", direction="out", limit=2)] == [
        "[7]",
        "[5]",
    ]
    assert [r.text for r in await store.message_log("CP1", action="BootNotification")] == ["[7]"]
    window = await store.message_log(
        "CP1", since=NOW + timedelta(seconds=2), until=NOW + timedelta(seconds=4)
    )
    assert [r.text for r in window] == ["[3]", "[2]"]
    older = await store.message_log("CP1", before_id=rows[2].id, limit=2)
    assert [r.text for r in older] == ["[3]", "[2]"]
    assert [r.text for r in await store.message_log("CP2")] == ["[6]"]


async def test_text_no_column_could_hold_is_made_storable(store: SqlStore) -> None:
    text, truncated = storable_text(b"\x00\xff binary")
    assert (text, truncated) == ("\ufffd\ufffd binary", False)
    long_text, truncated = storable_text("€" * 30_000)  # 90,000 bytes
    assert truncated and len(long_text.encode()) <= 64 * 1024 and set(long_text) == {"€"}
    store.log_message(_message(0, text=text, message_type="MALFORMED"))
    store.log_message(_message(1, text=long_text, truncated=True))
    await store.flush_message_log()
    rows = await store.message_log("CP1")
    assert [(r.text, r.truncated) for r in rows] == [(long_text, True), (text, False)]


async def test_pruned_by_age(store: SqlStore) -> None:
    for n in range(5):
        store.log_message(_message(n, at=NOW - timedelta(days=10 - n)))
    store.log_message(_message(5, at=NOW))
    await store.flush_message_log()

    assert await store.prune_message_log(NOW - timedelta(days=7)) == 3
    assert [r.text for r in await store.message_log("CP1")] == ["[5]", "[4]", "[3]"]
    assert await store.prune_message_log(NOW - timedelta(days=7)) == 0


async def test_a_full_queue_drops_and_counts(store: SqlStore) -> None:
    store.set_message_log_limit(3)
    # Queued without waiting: the writer has not run in between.
    accepted = [store.log_message(_message(n)) for n in range(5)]
    assert accepted == [True, True, True, False, False]
    counts = store.message_log_counts()
    assert (counts.queued, counts.dropped, counts.failed) == (3, 2, 0)

    await store.flush_message_log()
    assert store.message_log_counts().queued == 0
    assert [r.text for r in await store.message_log("CP1")] == ["[2]", "[1]", "[0]"]
    assert store.log_message(_message(5))  # room again


async def test_log_rows_ride_along_with_a_write(store: SqlStore, charge_point: str) -> None:
    commits = store.commits
    store.log_message(_message(0))
    await store.record_boot(
        charge_point, BootInfo(charge_point_vendor="V", charge_point_model="M"), NOW
    )
    assert store.commits == commits + 1  # one transaction for both
    assert store.message_log_counts().queued == 0
    assert [r.text for r in await store.message_log("CP1")] == ["[0]"]


async def test_closing_writes_what_is_queued(database_url: str) -> None:
    store = await open_store(database_url)
    store.log_message(_message(0))
    await store.close()
    async with await open_store(database_url) as again:
        assert [r.text for r in await again.message_log("CP1")] == ["[0]"]
