"""The durable outbox on SQLite and PostgreSQL: events committed with the changes they report
(and only then), replays reported once, fan-out to subscriptions, delivery order per charge
point, dead letters, redelivery, pruning; alerts raised and cleared with their events."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from csms.features.firmware.jobs import failed, reported
from csms.storage import (
    BootInfo,
    ConnectorStatus,
    NewFileJob,
    OutboxEvent,
    TransactionStart,
    TransactionStop,
    UnknownChargePointError,
    WebhookChange,
)
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW

BOOT = BootInfo(
    charge_point_vendor="V",
    charge_point_model="M",
    charge_point_serial_number=None,
    charge_box_serial_number=None,
    firmware_version=None,
    iccid=None,
    imsi=None,
    meter_type=None,
    meter_serial_number=None,
)


def _event(kind: str, charge_point_id: str | None = "CP1", **data: object) -> OutboxEvent:
    return OutboxEvent(kind, charge_point_id, NOW, data)


def _status(connector_id: int, status: str) -> ConnectorStatus:
    return ConnectorStatus(
        charge_point_id="CP1",
        connector_id=connector_id,
        status=status,
        error_code="NoError",
        info=None,
        vendor_id=None,
        vendor_error_code=None,
        timestamp=NOW,
        received_at=NOW,
        clock_suspect=False,
    )


async def _kinds(store: SqlStore) -> list[tuple[str, str | None]]:
    return [(e.kind, e.charge_point_id) for e in await store.events_after(0)]


async def test_events_commit_with_their_change_and_only_with_it(
    store: SqlStore, charge_point: str
) -> None:
    await store.record_status(_status(1, "Available"), [_event("status", n=1)])
    await store.record_boot("CP1", BOOT, NOW, [_event("booted")])
    with pytest.raises(UnknownChargePointError):  # nothing stored: nothing reported
        await store.record_boot("CP9", BOOT, NOW, [_event("booted", "CP9")])
    events = await store.events_after(0)
    assert [(e.kind, e.charge_point_id, e.data) for e in events] == [
        ("status", "CP1", {"n": 1}),
        ("booted", "CP1", {}),
    ]
    assert events[0].id < events[1].id
    assert await store.last_event_id() == events[1].id
    assert await store.events_after(events[0].id) == [events[1]]


async def test_a_failed_write_reports_nothing(store: SqlStore, charge_point: str) -> None:
    """The batch fails (a status of an unknown charge point breaks its foreign key); each write
    is then tried alone: the good one commits with its event, the bad one's event is gone."""
    good = store.record_status(_status(1, "Available"), [_event("status", n="good")])
    bad = store.record_status(
        dataclasses.replace(_status(1, "Available"), charge_point_id="nobody"),
        [_event("status", "nobody", n="bad")],
    )
    results = await asyncio.gather(good, bad, return_exceptions=True)
    assert results[0] is None and isinstance(results[1], Exception)
    assert [e.data for e in await store.events_after(0)] == [{"n": "good"}]


async def test_transaction_events_are_made_from_the_stored_transaction_once(
    store: SqlStore, charge_point: str
) -> None:
    start = TransactionStart(
        charge_point_id="CP1",
        connector_id=1,
        id_tag="TAG",
        meter_start=100,
        timestamp=NOW,
        reservation_id=None,
        id_tag_status="Accepted",
        received_at=NOW,
    )

    def started(transaction: object) -> list[OutboxEvent]:
        assert transaction is not None
        return [_event("transaction.started", id=transaction.id)]  # type: ignore[attr-defined]

    first = await store.start_transaction(start, started)
    replay = dataclasses.replace(start, received_at=NOW + timedelta(seconds=5))
    again = await store.start_transaction(
        replay, lambda t: [] if t.start_received_at != replay.received_at else started(t)
    )
    assert again.id == first.id
    stop = TransactionStop(
        charge_point_id="CP1",
        transaction_id=first.id,
        meter_stop=250,
        timestamp=NOW + timedelta(minutes=3),
        reason=None,
        id_tag=None,
        received_at=NOW + timedelta(minutes=3),
    )
    stopped = await store.stop_transaction(
        stop,
        lambda t: [_event("transaction.stopped", energy=t.meter_stop - t.meter_start)] if t else [],
    )
    assert stopped is not None
    events = await store.events_after(0)
    assert [(e.kind, e.data) for e in events] == [
        ("transaction.started", {"id": first.id}),
        ("transaction.stopped", {"energy": 150}),
    ]


async def _subscribe(store: SqlStore, **fields: object) -> int:
    values: dict[str, object] = {
        "url": "http://127.0.0.1:1/hook",
        "types": None,
        "secret": "s" * 16,
        "description": None,
        "enabled": True,
        **fields,
    }
    return (await store.create_webhook(**values)).id  # type: ignore[arg-type]


async def test_fan_out_filters_and_orders_per_charge_point(
    store: SqlStore, charge_point: str
) -> None:
    await store.record_events([_event("status", n=0)])  # before any subscription: not given
    everything = await _subscribe(store)
    meters = await _subscribe(store, types=("meter", "transaction"))
    await store.record_events(
        [
            _event("status", n=1),
            _event("meter", n=2),
            _event("status", "CP2", n=3),
            _event("transaction.started", n=4),
        ]
    )
    assert await store.events_not_fanned_out() == 4
    assert await store.fan_out(NOW) == 3 + 2  # meter only when named
    assert await store.fan_out(NOW) == 0
    assert await store.events_not_fanned_out() == 0
    due = await store.due_deliveries(NOW)
    heads = sorted((d.subscription_id, d.event.charge_point_id, d.event.data["n"]) for d in due)
    # One delivery per (subscription, charge point): the oldest.
    assert heads == [(everything, "CP1", 1), (everything, "CP2", 3), (meters, "CP1", 2)]
    head = next(d for d in due if d.subscription_id == everything and d.event.data["n"] == 1)
    await store.delivery_done(everything, head.event.id)
    nxt = [d for d in await store.due_deliveries(NOW) if d.subscription_id == everything]
    assert sorted(d.event.data["n"] for d in nxt) == [3, 4]
    assert await store.webhook_backlog() == {everything: (2, 0), meters: (2, 0)}


async def test_failures_back_off_then_die_with_the_expired_ones_behind(
    store: SqlStore, charge_point: str
) -> None:
    hook = await _subscribe(store)
    await store.record_events([_event("status", n=1), _event("status", n=2)])
    await store.fan_out(NOW)
    (head,) = await store.due_deliveries(NOW)
    later = NOW + timedelta(seconds=30)
    dead = await store.delivery_failed(
        head, at=NOW, error="HTTP 500", next_attempt_at=later, window_started_before=NOW
    )
    assert not dead
    assert await store.due_deliveries(NOW) == []  # the head waits; nothing overtakes it
    (retry,) = await store.due_deliveries(later)
    assert (retry.event.id, retry.attempts, retry.last_error) == (head.event.id, 1, "HTTP 500")
    end = NOW + timedelta(hours=25)
    assert await store.delivery_failed(
        retry,
        at=end,
        error="HTTP 503",
        next_attempt_at=end,
        window_started_before=end - timedelta(hours=24),
    )
    letters = await store.dead_letters(hook)
    assert [(d.event.data["n"], d.attempts) for d in letters] == [(1, 2), (2, 0)]
    assert "HTTP 503" in (letters[1].last_error or "")
    assert await store.due_deliveries(end) == []
    assert await store.webhook_backlog() == {hook: (0, 2)}
    assert await store.redeliver(hook, [letters[1].event.id], end) == 1
    (again,) = await store.due_deliveries(end)
    assert (again.event.data["n"], again.attempts, again.created_at) == (2, 0, end)
    assert await store.redeliver(hook, None, end) == 1


async def test_a_stale_attempt_of_a_dead_letter_is_not_dead_again(
    store: SqlStore, charge_point: str
) -> None:
    """Two attempts of one delivery from due lists read before either was noted (the
    deliverer's next round read the list before the first attempt's write committed): the
    second finds it dead-lettered already, notes nothing and does not count it dead again."""
    hook = await _subscribe(store)
    await store.record_events([_event("status", n=1)])
    await store.fan_out(NOW)
    (head,) = await store.due_deliveries(NOW)
    end = NOW + timedelta(hours=25)
    window = end - timedelta(hours=24)
    kwargs = {"at": end, "error": "HTTP 503", "next_attempt_at": end}
    assert await store.delivery_failed(head, window_started_before=window, **kwargs)
    assert not await store.delivery_failed(head, window_started_before=window, **kwargs)
    (letter,) = await store.dead_letters(hook)
    assert letter.attempts == 1


async def test_pruning_keeps_what_is_still_owed(store: SqlStore, charge_point: str) -> None:
    await store.record_events([_event("status", n=1)])
    hook = await _subscribe(store)
    await store.record_events([_event("status", n=2), _event("status", n=3)])
    await store.fan_out(NOW)
    (owed,) = await store.due_deliveries(NOW)
    await store.delivery_done(hook, owed.event.id)  # n=2 delivered, n=3 still owed
    assert await store.prune_outbox(NOW + timedelta(seconds=1)) == 2
    assert [e.data["n"] for e in await store.events_after(0)] == [3]
    await store.record_events([_event("status", n=4)])  # not given to the subscription yet
    assert await store.prune_outbox(NOW + timedelta(days=30)) == 0
    await store.update_webhook(hook, WebhookChange(enabled=False))  # holds nothing back
    assert await store.prune_outbox(NOW + timedelta(days=30)) == 1
    assert [e.data["n"] for e in await store.events_after(0)] == [3]  # still owed
    assert await store.delete_webhook(hook)
    assert await store.prune_outbox(NOW + timedelta(days=30)) == 1


async def test_subscriptions_round_trip(store: SqlStore) -> None:
    hook = await store.create_webhook(
        url="https://example.com/h",
        types=("status", "alert"),
        secret="x" * 20,
        description="billing",
        enabled=True,
    )
    assert (hook.types, hook.secret, hook.cursor) == (("alert", "status"), "x" * 20, 0)
    changed = await store.update_webhook(
        hook.id, WebhookChange(all_types=True, description="", secret="y" * 16)
    )
    assert changed is not None
    assert (changed.types, changed.description, changed.secret) == (None, None, "y" * 16)
    assert await store.list_webhooks() == [changed]
    assert await store.update_webhook(hook.id + 1, WebhookChange(enabled=False)) is None


async def test_alerts_raise_once_and_clear_with_events(store: SqlStore) -> None:
    raised = await store.raise_alert("offline", "CP1", "", "offline since", at=NOW)
    assert raised is not None and raised.active
    assert await store.raise_alert("offline", "CP1", "", "again", at=NOW) is None
    other = await store.raise_alert("connector.faulted", "CP1", "connector 1", "F", at=NOW)
    assert other is not None
    assert await store.clear_alert("offline", "CP2", "", at=NOW, reason="x") is None
    cleared = await store.clear_alert("offline", "CP1", "", at=NOW, reason="connected")
    assert cleared is not None and cleared.clear_reason == "connected"
    assert [a.id for a in await store.list_alerts(active=True)] == [other.id]
    assert await store.clear_alert_by_id(other.id, at=NOW, reason="by hand") is not None
    assert await store.clear_alert_by_id(other.id, at=NOW, reason="by hand") is None
    kinds = [(e.kind, e.data["kind"], e.data["active"]) for e in await store.events_after(0)]
    assert kinds == [
        ("alert.raised", "offline", True),
        ("alert.raised", "connector.faulted", True),
        ("alert.cleared", "offline", False),
        ("alert.cleared", "connector.faulted", False),
    ]
    again = await store.raise_alert("offline", "CP1", "", "offline again", at=NOW)
    assert again is not None and again.id != raised.id


async def test_a_failed_job_raises_an_alert_a_succeeded_one_clears_it(
    store: SqlStore, charge_point: str
) -> None:
    def new() -> NewFileJob:
        return NewFileJob(
            kind="firmware",
            charge_point_id="CP1",
            location="http://example.com/fw.bin",
            status="Requested",
            requested_at=NOW,
            deadline=NOW + timedelta(hours=1),
        )

    first = await store.create_file_job(new())
    await store.change_file_job(first.id, failed(NOW, "refused", "Refused"))
    await store.change_file_job(first.id, failed(NOW, "refused", "Refused"))  # no news: no event
    (alert,) = await store.list_alerts(active=True)
    assert (alert.kind, alert.subject, alert.data) == (
        "job.failed",
        "firmware",
        {"jobId": first.id},
    )
    second = await store.create_file_job(new())
    await store.change_file_job(second.id, reported("Installed", NOW, grace=60, success=True))
    assert await store.list_alerts(active=True) == []
    events = await store.events_after(0)
    assert [(e.kind, e.data.get("outcome") or e.data.get("kind")) for e in events] == [
        ("firmware.finished", "Failed"),
        ("alert.raised", "job.failed"),
        ("firmware.finished", "Succeeded"),
        ("alert.cleared", "job.failed"),
    ]
