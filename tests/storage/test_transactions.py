from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from csms.storage import MeterSample, Transaction, TransactionStart, TransactionStop
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW

START = TransactionStart(
    charge_point_id="CP1",
    connector_id=1,
    id_tag="Tag1",
    meter_start=1000,
    timestamp=NOW,
    reservation_id=None,
    id_tag_status="Accepted",
)


def stop(transaction_id: int, **fields: object) -> TransactionStop:
    values: dict[str, object] = {
        "charge_point_id": "CP1",
        "transaction_id": transaction_id,
        "meter_stop": 2500,
        "timestamp": NOW + timedelta(hours=1),
        "reason": "Local",
        "id_tag": "Tag1",
    }
    values.update(fields)
    return TransactionStop(**values)


async def test_start(store: SqlStore, charge_point: str) -> None:
    transaction = await store.start_transaction(dataclasses.replace(START, reservation_id=7))

    assert transaction == Transaction(
        id=transaction.id,
        charge_point_id=charge_point,
        connector_id=1,
        id_tag="Tag1",
        id_tag_status="Accepted",
        meter_start=1000,
        start_time=NOW,
        reservation_id=7,
    )
    assert transaction.id > 0
    assert transaction.active
    assert await store.get_transaction(transaction.id) == transaction


async def test_ids_are_unique_and_positive(store: SqlStore, charge_point: str) -> None:
    starts = [dataclasses.replace(START, meter_start=i) for i in range(20)]
    transactions = [await store.start_transaction(s) for s in starts[:10]]
    transactions += await asyncio.gather(*(store.start_transaction(s) for s in starts[10:]))

    ids = [t.id for t in transactions]
    assert len(set(ids)) == 20
    assert all(i > 0 for i in ids)
    assert [t.meter_start for t in transactions] == list(range(20))


async def test_a_batch_of_many_starts_and_their_replays(store: SqlStore, charge_point: str) -> None:
    """The replay check looks the batch's starts up in chunks (storage/sql.py `_started`):
    150 starts at other instants in one batch, then all of them again (replays after lost
    answers) in another, each replay finding its own transaction."""
    starts = [dataclasses.replace(START, timestamp=NOW + timedelta(seconds=i)) for i in range(150)]
    before = store.commits
    first = await asyncio.gather(*(store.start_transaction(s) for s in starts))
    assert store.commits == before + 1
    assert len({t.id for t in first}) == 150
    again = await asyncio.gather(*(store.start_transaction(s) for s in reversed(starts)))
    assert [t.id for t in reversed(again)] == [t.id for t in first]
    assert len(await store.list_transactions()) == 150


async def test_ids_are_not_reused_after_delete(store: SqlStore, charge_point: str) -> None:
    first = await store.start_transaction(START)
    await store.delete_charge_point(charge_point)
    await store.save_charge_point(
        charge_point, registration_status="Accepted", password_hash=None, description=None
    )
    second = await store.start_transaction(START)
    assert second.id > first.id


async def test_identical_start_is_idempotent(store: SqlStore, charge_point: str) -> None:
    first = await store.start_transaction(START)
    # Replayed after a lost answer, even with another answered status: the same transaction.
    replay = await store.start_transaction(dataclasses.replace(START, id_tag_status="Blocked"))
    assert replay == first

    # Any difference makes another transaction.
    for change in (
        {"connector_id": 2},
        {"id_tag": "TAG1"},
        {"meter_start": 1001},
        {"timestamp": NOW + timedelta(microseconds=1)},
    ):
        other = await store.start_transaction(dataclasses.replace(START, **change))
        assert other.id != first.id
    assert len(await store.list_transactions()) == 5


async def test_identical_starts_in_one_batch(store: SqlStore, charge_point: str) -> None:
    before = store.commits
    transactions = await asyncio.gather(*(store.start_transaction(START) for _ in range(10)))
    assert store.commits == before + 1  # they did share one batch
    assert {t.id for t in transactions} == {transactions[0].id}
    assert await store.list_transactions() == [transactions[0]]


async def test_stop(store: SqlStore, charge_point: str) -> None:
    started = await store.start_transaction(START)

    stopped = await store.stop_transaction(stop(started.id))

    assert stopped == dataclasses.replace(
        started,
        stop_time=NOW + timedelta(hours=1),
        meter_stop=2500,
        stop_reason="Local",
        stop_id_tag="Tag1",
    )
    assert stopped is not None and not stopped.active
    assert await store.get_transaction(started.id) == stopped


async def test_stop_without_reason_and_tag(store: SqlStore, charge_point: str) -> None:
    started = await store.start_transaction(START)
    stopped = await store.stop_transaction(stop(started.id, reason=None, id_tag=None))
    assert stopped is not None
    assert stopped.stop_reason is None
    assert stopped.stop_id_tag is None
    assert stopped.meter_stop == 2500


async def test_double_stop_returns_it_unchanged(store: SqlStore, charge_point: str) -> None:
    started = await store.start_transaction(START)
    stopped = await store.stop_transaction(stop(started.id))

    again = await store.stop_transaction(
        stop(started.id, meter_stop=9999, timestamp=NOW + timedelta(hours=2), reason="Other")
    )

    assert again == stopped
    assert await store.get_transaction(started.id) == stopped


@pytest.mark.parametrize("transaction_id", [-1, 0, 999_999, 2**31, 2**63, -(2**70)])
async def test_stop_of_unknown_transaction(
    store: SqlStore, charge_point: str, transaction_id: int
) -> None:
    await store.start_transaction(START)
    assert await store.stop_transaction(stop(transaction_id)) is None
    assert await store.get_transaction(transaction_id) is None
    assert await store.meter_values(transaction_id) == []


async def test_stop_of_another_charge_points_transaction(
    store: SqlStore, charge_point: str
) -> None:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    started = await store.start_transaction(START)

    assert await store.stop_transaction(stop(started.id, charge_point_id="CP2")) is None
    assert await store.get_transaction(started.id) == started


async def test_list_transactions(store: SqlStore, charge_point: str) -> None:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    a = await store.start_transaction(START)
    b = await store.start_transaction(dataclasses.replace(START, charge_point_id="CP2"))
    c = await store.start_transaction(dataclasses.replace(START, connector_id=2))
    a = await store.stop_transaction(stop(a.id)) or a

    assert await store.list_transactions() == [a, b, c]
    assert await store.list_transactions(active=True) == [b, c]
    assert await store.list_transactions(active=False) == [a]
    assert await store.list_transactions(charge_point_id="CP1") == [a, c]
    assert await store.list_transactions(charge_point_id="CP1", active=True) == [c]
    assert await store.list_transactions(charge_point_id="CP2", active=False) == []
    assert await store.list_transactions(charge_point_id="CP3") == []


async def test_active_transactions_for_tag(store: SqlStore, charge_point: str) -> None:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    a = await store.start_transaction(START)
    b = await store.start_transaction(dataclasses.replace(START, charge_point_id="CP2"))
    c = await store.start_transaction(dataclasses.replace(START, connector_id=2, id_tag="TAG1"))
    await store.start_transaction(dataclasses.replace(START, connector_id=3, id_tag="Other"))
    await store.stop_transaction(stop(b.id, charge_point_id="CP2"))

    assert await store.active_transactions_for_tag("tag1") == [a, c]
    assert await store.active_transactions_for_tag("TAG1") == [a, c]
    assert await store.active_transactions_for_tag("nobody") == []


async def test_meter_values_in_order_received(store: SqlStore, charge_point: str) -> None:
    transaction = await store.start_transaction(START)
    other = await store.start_transaction(dataclasses.replace(START, connector_id=2))

    def sample(value: str, transaction_id: int | None, **fields: str) -> MeterSample:
        return MeterSample(
            charge_point_id=charge_point,
            connector_id=1,
            transaction_id=transaction_id,
            timestamp=NOW + timedelta(seconds=int(value)),
            value=value,
            **fields,
        )

    full = sample(
        "3",
        transaction.id,
        measurand="Energy.Active.Import.Register",
        phase="L1",
        unit="Wh",
        context="Sample.Periodic",
        location="Outlet",
        format="Raw",
    )
    # Timestamps out of order on purpose: the order received is what counts.
    await store.add_meter_values([sample("5", transaction.id), sample("1", transaction.id)])
    await store.add_meter_values([sample("9", None), sample("2", other.id)])
    await store.add_meter_values([full])
    await store.add_meter_values([])
    # Lenient: a transaction id we never gave out is kept as sent.
    await store.add_meter_values([sample("4", 123_456)])

    assert await store.meter_values(transaction.id) == [
        sample("5", transaction.id),
        sample("1", transaction.id),
        full,
    ]
    assert await store.meter_values(other.id) == [sample("2", other.id)]
    assert await store.meter_values(123_456) == [sample("4", 123_456)]


async def test_starts_and_stops_batched_together(store: SqlStore, charge_point: str) -> None:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    old = await store.start_transaction(START)
    done = await store.start_transaction(dataclasses.replace(START, connector_id=9))
    done = await store.stop_transaction(stop(done.id)) or done
    open_ = [
        await store.start_transaction(dataclasses.replace(START, connector_id=10 + i))
        for i in range(3)
    ]

    before = store.commits
    results = await asyncio.gather(
        store.start_transaction(START),  # replay of one in the database
        store.start_transaction(dataclasses.replace(START, connector_id=2)),  # new
        store.start_transaction(dataclasses.replace(START, connector_id=2)),  # its replay
        store.start_transaction(dataclasses.replace(START, charge_point_id="CP2")),  # new
        store.stop_transaction(stop(open_[0].id)),
        store.stop_transaction(stop(open_[0].id, meter_stop=1)),  # replay, other values
        store.stop_transaction(stop(open_[1].id, charge_point_id="CP2")),  # not CP2's
        store.stop_transaction(stop(done.id, meter_stop=1)),  # stopped before
        store.stop_transaction(stop(999_999)),  # unknown
        store.stop_transaction(stop(open_[2].id, reason=None)),
    )
    assert store.commits == before + 1

    assert results[0] == old
    assert results[1] == results[2]
    assert isinstance(results[1], Transaction) and results[1].id not in {old.id, done.id}
    assert isinstance(results[3], Transaction) and results[3].charge_point_id == "CP2"
    assert len({results[0].id, results[1].id, results[3].id}) == 3
    stopped = await store.get_transaction(open_[0].id)
    assert stopped is not None and stopped.meter_stop == 2500
    assert results[4] == results[5] == stopped
    assert results[6] is None
    assert await store.get_transaction(open_[1].id) == open_[1]
    assert results[7] == done
    assert results[8] is None
    assert results[9] == await store.get_transaction(open_[2].id)
    assert isinstance(results[9], Transaction) and results[9].stop_reason is None


async def test_receipt_times_and_clock_flags_are_kept(store: SqlStore, charge_point: str) -> None:
    received = NOW + timedelta(days=3)
    start = dataclasses.replace(START, received_at=received, clock_suspect=True)
    transaction = await store.start_transaction(start)
    assert (transaction.start_received_at, transaction.start_clock_suspect) == (received, True)
    assert transaction.started_at == received  # the flagged start time orders nothing
    assert (transaction.stop_received_at, transaction.stop_clock_suspect) == (None, False)

    later = received + timedelta(hours=1)
    stopped = await store.stop_transaction(
        stop(transaction.id, received_at=later, clock_suspect=True)
    )
    assert stopped is not None
    assert (stopped.stop_received_at, stopped.stop_clock_suspect) == (later, True)
    # A replayed stop changes nothing, its receipt time included.
    replay = await store.stop_transaction(
        stop(transaction.id, received_at=later + timedelta(minutes=5), clock_suspect=False)
    )
    assert replay == stopped
    assert await store.get_transaction(transaction.id) == stopped


async def test_a_suspect_start_supersedes_by_the_order_received(
    store: SqlStore, charge_point: str
) -> None:
    lost = await store.start_transaction(START)
    unset_clock = NOW.replace(year=1970)
    new = await store.start_transaction(
        dataclasses.replace(START, timestamp=unset_clock, meter_start=2000, clock_suspect=True)
    )
    assert new.active
    ended = await store.get_transaction(lost.id)
    assert ended is not None
    assert (ended.ended_by, ended.end_reason) == ("csms", f"superseded by transaction {new.id}")
