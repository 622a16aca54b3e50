"""The live event bus (events.py): numbering, resume, falling behind, throttling, closing."""

from __future__ import annotations

import asyncio

from csms.events import MESSAGE, RESET, EventBus


async def test_ids_increase_and_resume_within_the_buffer() -> None:
    bus = EventBus(capacity=4, first_id=100)
    with bus.subscribe() as live:
        bus.publish("status", "CP1", {"n": 1})
        bus.publish("status", "CP2", {"n": 2})
        got = live.ready()
    assert [(e.id, e.charge_point_id, e.data) for e in got] == [
        (100, "CP1", {"n": 1}),
        (101, "CP2", {"n": 2}),
    ]
    with bus.subscribe(last_event_id=100) as resumed:
        assert [e.id for e in resumed.ready()] == [101]
    with bus.subscribe(last_event_id=99) as from_start:  # just before the first: all kept
        assert [e.id for e in from_start.ready()] == [100, 101]


async def test_an_id_the_buffer_no_longer_holds_gets_a_reset() -> None:
    bus = EventBus(capacity=3, first_id=1)
    for n in range(5):
        bus.publish("status", "CP1", {"n": n})  # ids 1..5; 3..5 kept
    for last_event_id in (1, 99, -1):
        with bus.subscribe(last_event_id=last_event_id) as late:
            (reset,) = late.ready()
            assert (reset.kind, reset.id, reset.data["lastEventId"]) == (RESET, 5, last_event_id)
            assert late.ready() == []
    with bus.subscribe(last_event_id=2) as just_in_time:
        assert [e.id for e in just_in_time.ready()] == [3, 4, 5]


async def test_a_subscriber_that_falls_behind_gets_a_reset_then_goes_on() -> None:
    bus = EventBus(capacity=3, first_id=1)
    with bus.subscribe() as slow:
        for n in range(4):
            bus.publish("status", "CP1", {"n": n})
        (reset,) = slow.ready()
        assert reset.kind == RESET and reset.data["lastEventId"] == 0
        bus.publish("status", "CP1", {"n": 4})
        assert [e.data["n"] for e in slow.ready()] == [4]


async def test_filters_and_messages_only_on_request() -> None:
    bus = EventBus(first_id=1)
    assert not bus.wants(MESSAGE)
    bus.publish(MESSAGE, "CP1", {})  # nobody asked: not published
    assert bus.last_id == 0
    with (
        bus.subscribe() as everything,
        bus.subscribe(types=["transaction", MESSAGE], charge_point_id="CP1") as some,
    ):
        assert bus.wants(MESSAGE)
        bus.publish("transaction.started", "CP1", {})
        bus.publish("transaction.started", "CP2", {})
        bus.publish("status", "CP1", {})
        bus.publish(MESSAGE, "CP1", {})
        assert [e.kind for e in everything.ready()] == ["transaction.started"] * 2 + ["status"]
        assert [(e.kind, e.charge_point_id) for e in some.ready()] == [
            ("transaction.started", "CP1"),
            (MESSAGE, "CP1"),
        ]
    assert not bus.wants(MESSAGE)


async def test_throttled_events_publish_the_first_and_then_the_latest() -> None:
    bus = EventBus(first_id=1)
    with bus.subscribe() as live:
        for n in range(3):
            bus.publish_throttled("key", 0.05, "meter", "CP1", {"n": n})
        bus.publish_throttled("other", 0.05, "meter", "CP1", {"n": 10})
        assert [e.data["n"] for e in live.ready()] == [0, 10]
        later = await live.next(timeout=5)
    assert later is not None and [e.data["n"] for e in later] == [2]


async def test_closing_ends_waiting_subscribers() -> None:
    bus = EventBus()
    with bus.subscribe() as live:
        waiting = asyncio.create_task(live.next(timeout=60))
        await asyncio.sleep(0)  # let it start waiting
        bus.close()
        assert await asyncio.wait_for(waiting, 5) is None
        bus.publish("status", "CP1", {})
        assert live.ready() == []
    assert bus.subscribers == 0
