"""Webhook delivery against a real HTTP receiver on 127.0.0.1 (tests/webhooks/receiver.py): a
receiver that fails (500), hangs past the timeout and recovers; a CSMS stopped with a backlog and
started again; the retry window driven by the clock, then dead letters and redelivery. Every
request's signature is checked, and the order of each charge point's events."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from csms.storage import IdTag, StoredEvent
from tests.db import postgres_unreachable_reason, temporary_postgres_database
from tests.harness import Harness, csms
from tests.test_metrics import scrape, value
from tests.webhooks.conftest import SteppedClock
from tests.webhooks.receiver import Receiver

SECRET = "a-secret-of-some-length"
FAST: dict[str, Any] = {
    "webhook_poll_interval": 0.05,
    "webhook_retry_min_interval": 0.05,
    "webhook_retry_max_interval": 0.2,
    "webhook_timeout": 0.5,
    "alert_check_interval": 3600.0,
}


async def subscribe(harness: Harness, url: str, **fields: Any) -> int:
    response = await harness.api.post("/webhooks", json={"url": url, "secret": SECRET, **fields})
    assert response.status_code == 201, response.text
    assert "secret" not in response.text
    subscription_id: int = response.json()["id"]
    return subscription_id


async def charge(harness: Harness, charge_point_id: str, meter_start: int = 1000) -> None:
    """Boot, statuses, a transaction of 4500 Wh, meter values."""
    async with harness.charge_point(charge_point_id) as cp:
        await cp.boot_and_report()
        started = await cp.start_transaction(1, "TAG", meter_start=meter_start)
        transaction_id = started["transactionId"]
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=meter_start + 2000)
        await cp.status_notification(1, "Charging")
        await cp.stop_transaction(transaction_id, meter_start + 4500)
        await cp.status_notification(1, "Available")


async def outbox(harness: Harness) -> list[StoredEvent]:
    events: list[StoredEvent] = await harness.store.events_after(0, limit=10_000)
    return events


async def dead_letters(harness: Harness, hook: int, at_least: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(10):
        while True:
            letters: list[dict[str, Any]] = (
                await harness.api.get(f"/webhooks/{hook}/dead-letters")
            ).json()
            if len(letters) >= at_least:
                return letters
            await asyncio.sleep(0.05)


async def settled(harness: Harness, timeout: float = 10) -> None:
    """Wait until every committed event has been given to each subscription and nothing is
    pending: what the receiver got by then is all it will get."""
    store = harness.store
    async with asyncio.timeout(timeout):
        while await store.events_not_fanned_out() or any(  # noqa: ASYNC110 (nothing marks it)
            pending for pending, _ in (await store.webhook_backlog()).values()
        ):
            await asyncio.sleep(0.02)


def assert_in_order_per_charge_point(receiver: Receiver) -> None:
    """Each charge point's events first arrive in id order: an event is sent again until it is
    delivered, never overtaken. A copy may come again later (the answer to it was lost, or a
    request that timed out was read by the receiver late): the same id, which the receiver
    recognises and skips."""
    first: dict[str | None, list[int]] = defaultdict(list)
    for request in receiver.received:
        ids = first[request.event["chargePointId"]]
        if request.event["id"] not in ids:
            ids.append(request.event["id"])
    for charge_point_id, ids in first.items():
        assert ids == sorted(ids), (charge_point_id, ids)


def assert_signed(receiver: Receiver) -> None:
    for request in receiver.received:
        assert request.verified(SECRET), request.headers
        assert request.headers["x-csms-event-id"] == str(request.event["id"])
        assert request.headers["x-csms-event-type"] == request.event["type"]
        assert not request.verified("another-secret-entirely")


async def test_a_failing_hanging_receiver_gets_every_event_once_it_recovers(
    tmp_path: Path,
) -> None:
    # Three 500s, then an answer slower than the timeout, then 200s.
    def behaviour(n: int) -> tuple[int, float]:
        return (500, 0.0) if n < 3 else (200, 2.0) if n == 3 else (200, 0.0)

    async with Receiver(behaviour) as receiver, csms(tmp_path / "csms.db", **FAST) as harness:
        await harness.store.put_id_tag(IdTag(id_tag="TAG", status="Accepted"))
        await subscribe(harness, receiver.url)
        await asyncio.gather(charge(harness, "CP1"), charge(harness, "CP2", meter_start=50))
        expected = [e for e in await outbox(harness) if e.kind != "meter"]
        await receiver.wait_for(
            lambda r: set(r.delivered_ids()) >= {e.id for e in expected}, timeout=30
        )
        samples = await scrape(harness)

    kinds = {e.kind for e in expected}
    assert {"connected", "booted", "status", "transaction.started", "transaction.stopped"} <= kinds
    assert "meter" not in {r.event["type"] for r in receiver.received}  # opt-in only
    assert_signed(receiver)
    assert_in_order_per_charge_point(receiver)
    statuses = [status for _, status in receiver.answered]
    assert statuses[:3] == [500, 500, 500]
    assert len(receiver.received) > len(set(receiver.delivered_ids()))  # retried
    stopped = [e for e in expected if e.kind == "transaction.stopped"]
    assert sorted((e.charge_point_id, e.data["energyWh"]) for e in stopped) == [
        ("CP1", 4500),
        ("CP2", 4500),
    ]
    assert all(e.data["durationS"] >= 0 for e in stopped)
    assert value(samples, "csms_webhook_deliveries_total", outcome="failed") >= 4
    assert value(samples, "csms_webhook_deliveries_total", outcome="delivered") >= len(expected)


async def test_meter_events_only_for_subscriptions_that_name_them(tmp_path: Path) -> None:
    async with Receiver() as receiver, csms(tmp_path / "csms.db", **FAST) as harness:
        await harness.store.put_id_tag(IdTag(id_tag="TAG", status="Accepted"))
        await subscribe(harness, receiver.url, types=["meter", "transaction.stopped"])
        # Wanted from the subscription's answer on, not from the deliverer's next round.
        assert harness.app.services.meter_events_wanted
        await charge(harness, "CP1")
        await receiver.wait_for(lambda r: len(r.delivered_ids()) >= 2)
        await settled(harness)
    assert [r.event["type"] for r in receiver.received] == ["meter", "transaction.stopped"]
    meter = receiver.received[0].event["data"]
    assert (meter["energyWh"], meter["connectorId"]) == (3000, 1)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_a_backlog_survives_a_restart(tmp_path: Path, backend: str) -> None:
    """The receiver is slow; the CSMS is stopped with part of the backlog delivered and started
    again on the same database: every event is delivered at least once, in order per charge
    point, signed; a duplicate (delivered, but its answer lost at the stop) has the same id."""
    async with contextlib.AsyncExitStack() as stack:
        database: str | Path = tmp_path / "csms.db"
        if backend == "postgresql":
            reason = await postgres_unreachable_reason()
            if reason is not None:
                pytest.skip(reason)
            database = await stack.enter_async_context(temporary_postgres_database())
        await restart_mid_backlog(database)


async def restart_mid_backlog(database: str | Path) -> None:
    async with Receiver(lambda n: (200, 0.1)) as receiver:
        async with csms(database, **FAST) as harness:
            await harness.store.put_id_tag(IdTag(id_tag="TAG", status="Accepted"))
            await subscribe(harness, receiver.url)
            await asyncio.gather(*(charge(harness, f"CP{n}") for n in range(1, 4)))
            await receiver.wait_for(lambda r: len(r.delivered_ids()) >= 5)
            before = len(receiver.delivered_ids())
        async with csms(database, **FAST) as harness:
            expected = {e.id for e in await outbox(harness)}
            assert before < len(expected)  # stopped mid-backlog
            await receiver.wait_for(lambda r: set(r.delivered_ids()) >= expected, timeout=60)
            await settled(harness)
            backlog = await harness.store.webhook_backlog()
    assert backlog == {} or all(pending == 0 for pending, _ in backlog.values())
    assert_signed(receiver)
    assert_in_order_per_charge_point(receiver)
    ids = [r.event["id"] for r in receiver.received]
    assert set(ids) == expected  # the events of the first run, and the disconnections at the stop
    bodies: dict[int, set[bytes]] = defaultdict(set)
    for request in receiver.received:
        bodies[request.event["id"]].add(request.body)
    assert all(len(sent) == 1 for sent in bodies.values())  # a duplicate is the same event


async def test_a_receiver_down_past_the_retry_window_gets_dead_letters_then_redelivery(
    tmp_path: Path,
) -> None:
    clock = SteppedClock()
    answer = {"status": 503}
    async with (
        Receiver(lambda n: (answer["status"], 0.0)) as receiver,
        csms(tmp_path / "csms.db", **FAST) as harness,
    ):
        harness.app.services.clock = clock
        hook = await subscribe(harness, receiver.url, types=["status"])
        async with harness.charge_point("CP1") as cp:
            await cp.boot()
            await cp.status_notification(1, "Available")
            await cp.status_notification(1, "Preparing")
        first, second = [e for e in await outbox(harness) if e.kind == "status"]
        await receiver.wait_for(lambda r: len(r.received) >= 3)  # retried within the window
        assert {r.event["id"] for r in receiver.received} == {first.id}  # the second waits
        clock.advance(hours=24, seconds=1)
        letters = await dead_letters(harness, hook, at_least=2)
        assert [d["event"]["id"] for d in letters] == [first.id, second.id]
        assert letters[0]["attempts"] >= 3 and letters[0]["lastError"] == "HTTP 503"
        assert letters[1]["attempts"] == 0  # died behind the first, never attempted
        listed = (await harness.api.get(f"/webhooks/{hook}")).json()
        assert (listed["pending"], listed["deadLetters"]) == (0, 2)
        answer["status"] = 204
        response = await harness.api.post(f"/webhooks/{hook}/dead-letters/redeliver", json={})
        assert response.json() == {"redelivered": 2}
        await receiver.wait_for(lambda r: set(r.delivered_ids()) == {first.id, second.id})
        assert (await harness.api.get(f"/webhooks/{hook}/dead-letters")).json() == []
        samples = await scrape(harness)
    assert receiver.delivered_ids() == [first.id, second.id]
    assert value(samples, "csms_webhook_deliveries_total", outcome="dead") == 1
    assert value(samples, "csms_webhook_dead_letters") == 0
