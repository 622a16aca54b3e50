"""Replays are idempotent and ordered by the charge point's clock (docs/field-behaviour.md,
"Replays and clocks"): a queued report flushed late does not overwrite a newer one, a sample
sent twice is stored once, a CALL sent again after a lost answer gets the same answer without
its work being done twice, and clearly wrong clocks are kept as sent, flagged, and not trusted.
Exact frames through a bare WebSocket, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from csms.ocppj import Call, CallResult
from csms.storage import ConnectorStatus, MeterSample
from csms.storage.engine import create_engine
from csms.storage.schema import data_transfers, transactions
from csms.transport.replay import ReplayMemory
from tests.harness import Harness, RawClient

CP = "CP1"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def call(raw: RawClient, unique_id: str, action: str, payload: dict[str, Any]) -> Any:
    answer = await raw.exchange([2, unique_id, action, payload])
    assert answer[:2] == [3, unique_id], answer
    return answer


@asynccontextmanager
async def connected(harness: Harness, *, boot: bool = True) -> AsyncIterator[RawClient]:
    async with harness.raw(CP) as raw:
        if boot:
            answer = await call(
                raw,
                "boot",
                "BootNotification",
                {"chargePointVendor": "ACME", "chargePointModel": "M"},
            )
            assert answer[2]["status"] == "Accepted"
        yield raw


def status(connector_id: int, value: str, timestamp: datetime | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "connectorId": connector_id,
        "errorCode": "NoError",
        "status": value,
    }
    if timestamp is not None:
        payload["timestamp"] = iso(timestamp)
    return payload


async def current(harness: Harness, connector_id: int) -> dict[str, Any]:
    detail = (await harness.api.get(f"/charge-points/{CP}")).json()
    (connector,) = [c for c in detail["connectors"] if c["connectorId"] == connector_id]
    return dict(connector)


async def history(harness: Harness, connector_id: int) -> list[dict[str, Any]]:
    path = f"/charge-points/{CP}/status-history?connectorId={connector_id}"
    return list((await harness.api.get(path)).json())


async def count(harness: Harness, table: Any) -> int:
    engine = create_engine(harness.app.services.settings.database, role="read")
    try:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            )
    finally:
        await engine.dispose()


# -- status: the newest by the charge point's clock is current -----------------------------------


async def test_late_replay_of_an_old_status_does_not_override_a_newer_one(
    harness: Harness,
) -> None:
    now = datetime.now(UTC)
    async with connected(harness) as raw:
        await call(raw, "1", "StatusNotification", status(2, "Charging", now))
        # A queued report from two hours ago, flushed after the reconnect.
        await call(raw, "2", "StatusNotification", status(2, "Available", now - timedelta(hours=2)))

    assert (await current(harness, 2))["status"] == "Charging"
    reports = await history(harness, 2)
    assert [r["status"] for r in reports] == ["Available", "Charging"]  # as received
    late, charging = reports
    assert parse(late["timestamp"]) == parse(iso(now - timedelta(hours=2)))
    assert parse(late["receivedAt"]) > parse(charging["receivedAt"])
    assert not late["clockSuspect"] and not charging["clockSuspect"]


async def test_without_timestamps_the_later_received_is_current(harness: Harness) -> None:
    async with connected(harness) as raw:
        await call(raw, "1", "StatusNotification", status(1, "Preparing", None))
        await call(raw, "2", "StatusNotification", status(1, "Charging", None))
        # An older report with a timestamp loses against the untimed later ones (receipt time).
        old = datetime.now(UTC) - timedelta(minutes=5)
        await call(raw, "3", "StatusNotification", status(1, "Available", old))

    assert (await current(harness, 1))["status"] == "Charging"
    assert [r["status"] for r in await history(harness, 1)] == [
        "Available",
        "Charging",
        "Preparing",
    ]


async def test_newest_by_clock_wins_within_one_batch(harness: Harness) -> None:
    # Reports sharing one group commit: the order they were queued in does not decide.
    store = harness.store
    await store.save_charge_point(
        CP, registration_status="Accepted", password_hash=None, description=None
    )
    received = datetime.now(UTC)
    base = received - timedelta(hours=3)

    def report(connector_id: int, value: str, minutes: int, **fields: Any) -> ConnectorStatus:
        return ConnectorStatus(
            charge_point_id=CP,
            connector_id=connector_id,
            status=value,
            error_code="NoError",
            timestamp=base + timedelta(minutes=minutes),
            received_at=received,
            **fields,
        )

    await asyncio.gather(
        store.record_status(report(1, "Charging", 60)),
        store.record_status(report(1, "Available", 0)),
        store.record_status(report(1, "Preparing", 30)),
        store.record_status(report(2, "Faulted", 10)),
        # 1970 is not trusted: ordered by its receipt time, after all the others.
        store.record_status(
            ConnectorStatus(
                charge_point_id=CP,
                connector_id=2,
                status="Unavailable",
                error_code="NoError",
                timestamp=datetime(1970, 1, 1, tzinfo=UTC),
                received_at=received,
                clock_suspect=True,
            )
        ),
        store.record_status(report(2, "Available", 20)),
    )
    assert [(c.connector_id, c.status) for c in await store.list_connectors(CP)] == [
        (1, "Charging"),
        (2, "Unavailable"),
    ]
    # And against what is stored already.
    await store.record_status(report(1, "Finishing", 45))
    await store.record_status(report(2, "Charging", 170))  # before its receipt time
    assert [(c.connector_id, c.status) for c in await store.list_connectors(CP)] == [
        (1, "Charging"),
        (2, "Unavailable"),
    ]
    assert len(await store.status_history(CP)) == 8


# -- meter values: a sample sent twice is stored once --------------------------------------------


def meter_values(timestamp: datetime, *values: str) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": 7,
        "meterValue": [
            {
                "timestamp": iso(timestamp),
                "sampledValue": [
                    {
                        "value": value,
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                        "context": "Sample.Periodic",
                    }
                    for value in values
                ],
            }
        ],
    }


async def test_identical_meter_values_are_stored_once(harness: Harness) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with connected(harness) as raw:
        await call(raw, "10", "MeterValues", meter_values(now, "100", "101"))
        # The same samples again under another unique id (the charge point's queue replayed
        # them), and with one new sample among them.
        await call(raw, "11", "MeterValues", meter_values(now, "100", "101"))
        await call(raw, "12", "MeterValues", meter_values(now, "101", "102"))
        # The same value at another time, or without transaction, is another sample.
        await call(raw, "13", "MeterValues", meter_values(now + timedelta(seconds=1), "100"))
        without = meter_values(now, "100")
        del without["transactionId"]
        await call(raw, "14", "MeterValues", without)

    samples = (await harness.api.get(f"/charge-points/{CP}/meter-values")).json()
    assert [(s["value"], parse(s["timestamp"])) for s in samples] == [
        ("100", now),
        ("101", now),
        ("102", now),
        ("100", now + timedelta(seconds=1)),
        ("100", now),
    ]
    assert all(s["receivedAt"] is not None and not s["clockSuspect"] for s in samples)
    assert len(await harness.store.meter_values(7)) == 4


async def test_transaction_data_of_a_stop_sent_twice_is_stored_once(harness: Harness) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with connected(harness) as raw:
        started = await call(
            raw,
            "20",
            "StartTransaction",
            {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": iso(now)},
        )
        transaction_id = started[2]["transactionId"]
        stop = {
            "transactionId": transaction_id,
            "meterStop": 500,
            "timestamp": iso(now + timedelta(minutes=5)),
            "transactionData": meter_values(now + timedelta(minutes=5), "500")["meterValue"],
        }
        await call(raw, "21", "StopTransaction", stop)
        await call(raw, "22", "StopTransaction", stop)  # a new id: not a resend of "21"

    (sample,) = await harness.store.meter_values(transaction_id)
    assert sample.value == "500"
    assert sample.received_at is not None and not sample.clock_suspect


# -- a CALL sent again gets the same answer, its work done once ----------------------------------


async def test_call_sent_again_gets_the_same_answer_and_is_done_once(harness: Harness) -> None:
    handled: list[str] = []

    async def vendor(data: str, message_id: str | None) -> tuple[str, str | None]:
        handled.append(data)
        return "Accepted", f"answer {len(handled)}"

    harness.app.services.data_transfer["ACME"] = {None: vendor}
    now = datetime.now(UTC)
    start = {"connectorId": 1, "idTag": "TAG", "meterStart": 10, "timestamp": iso(now)}
    transfer = {"vendorId": "ACME", "messageId": "m", "data": "hello"}
    report = status(1, "Preparing", None)

    async with connected(harness) as raw:
        started = await call(raw, "41", "StartTransaction", start)
        transferred = await call(raw, "42", "DataTransfer", transfer)
        first = await call(raw, "43", "StatusNotification", report)
        # Sent again on the same connection (the answer timed out at the charge point).
        assert await call(raw, "42", "DataTransfer", transfer) == transferred
        assert await call(raw, "43", "StatusNotification", report) == first

    # And after a reconnect without reboot, from the charge point's queue.
    async with connected(harness, boot=False) as raw:
        assert await call(raw, "41", "StartTransaction", start) == started
        assert await call(raw, "42", "DataTransfer", transfer) == transferred

    assert transferred[2] == {"status": "Accepted", "data": "answer 1"}
    assert handled == ["hello"]
    assert await count(harness, data_transfers) == 1
    assert await count(harness, transactions) == 1
    assert [r["status"] for r in await history(harness, 1)] == ["Preparing"]


async def test_an_old_id_with_another_message_is_a_new_call(harness: Harness) -> None:
    handled: list[str] = []

    async def vendor(data: str, message_id: str | None) -> tuple[str, str | None]:
        handled.append(data)
        return "Accepted", None

    harness.app.services.data_transfer["ACME"] = {None: vendor}
    async with connected(harness) as raw:
        await call(raw, "1", "DataTransfer", {"vendorId": "ACME", "data": "a"})
        await call(raw, "1", "DataTransfer", {"vendorId": "ACME", "data": "b"})
        await call(raw, "2", "StatusNotification", status(1, "Preparing", None))
        # Same id, other action.
        await call(raw, "2", "DataTransfer", {"vendorId": "ACME", "data": "a"})
    # The charge point rebooted: it counts from 1 again, and sends what it sent before.
    async with connected(harness) as raw:
        await call(raw, "1", "DataTransfer", {"vendorId": "ACME", "data": "b"})
        await call(raw, "2", "StatusNotification", status(1, "Preparing", None))

    assert handled == ["a", "b", "a", "b"]
    assert await count(harness, data_transfers) == 4
    assert [r["status"] for r in await history(harness, 1)] == ["Preparing", "Preparing"]


async def test_only_a_boot_ends_what_was_answered(harness: Harness) -> None:
    """The replay memory ends with a BootNotification (the charge point counts from 1 again),
    not with the other messages answered afresh (Heartbeat, Authorize)."""
    handled: list[str] = []

    async def vendor(data: str, message_id: str | None) -> tuple[str, str | None]:
        handled.append(data)
        return "Accepted", None

    harness.app.services.data_transfer["ACME"] = {None: vendor}
    transfer = {"vendorId": "ACME", "data": "once"}
    async with connected(harness) as raw:
        first = await call(raw, "7", "DataTransfer", transfer)
        await call(raw, "8", "Heartbeat", {})
        await call(raw, "9", "Authorize", {"idTag": "TAG"})
        assert await call(raw, "7", "DataTransfer", transfer) == first

    assert handled == ["once"]


async def test_a_call_refused_before_acceptance_is_handled_when_sent_again(
    harness: Harness,
) -> None:
    report = status(1, "Preparing", None)
    async with connected(harness, boot=False) as raw:
        refused = await raw.exchange([2, "1", "StatusNotification", report])
        assert refused[:3] == [4, "1", "SecurityError"]
        await call(
            raw, "boot", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "M"}
        )
        await call(raw, "1", "StatusNotification", report)
    assert [r["status"] for r in await history(harness, 1)] == ["Preparing"]


async def test_heartbeat_sent_again_gets_the_time_now(harness: Harness) -> None:
    async with connected(harness) as raw:
        first = await call(raw, "5", "Heartbeat", {})
        await asyncio.sleep(0.01)  # only so that the clock moves on; nothing to wait for
        again = await call(raw, "5", "Heartbeat", {})
    assert parse(again[2]["currentTime"]) > parse(first[2]["currentTime"])


# -- clocks that are clearly wrong ---------------------------------------------------------------


async def test_clearly_wrong_clocks_are_kept_flagged_and_not_trusted(harness: Harness) -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    future = datetime(2099, 6, 1, tzinfo=UTC)
    async with connected(harness) as raw:
        # Connector 1: an unset clock. Ordered by its receipt time, so a report queued an hour
        # before that and flushed after it does not override it.
        await call(raw, "1", "StatusNotification", status(1, "Charging", epoch))
        received = parse((await history(harness, 1))[0]["receivedAt"])
        await call(
            raw, "2", "StatusNotification", status(1, "Available", received - timedelta(hours=1))
        )
        # Connector 2: a clock far ahead does not keep a later report from being current.
        await call(raw, "3", "StatusNotification", status(2, "Faulted", future))
        await call(
            raw,
            "4",
            "StatusNotification",
            status(2, "Available", datetime.now(UTC) + timedelta(minutes=1)),
        )
        await call(raw, "5", "MeterValues", meter_values(epoch, "1"))
        await call(raw, "6", "MeterValues", meter_values(future, "2"))

    assert (await current(harness, 1))["status"] == "Charging"
    assert (await current(harness, 1))["clockSuspect"] is True
    assert (await current(harness, 2))["status"] == "Available"
    one = await history(harness, 1)
    two = await history(harness, 2)
    assert [(r["status"], r["clockSuspect"]) for r in one + two] == [
        ("Available", False),
        ("Charging", True),
        ("Available", False),
        ("Faulted", True),
    ]
    assert parse(one[1]["timestamp"]) == epoch  # kept as sent
    assert parse(two[1]["timestamp"]) == future
    samples = (await harness.api.get(f"/charge-points/{CP}/meter-values")).json()
    assert [(parse(s["timestamp"]), s["clockSuspect"]) for s in samples] == [
        (epoch, True),
        (future, True),
    ]
    assert all(s["receivedAt"] is not None for s in samples)


async def test_clock_judged_against_receipt(harness: Harness) -> None:
    # Within a day ahead is drift, not a wrong clock; 2010 and later is a set clock.
    store = harness.store
    async with connected(harness) as raw:
        ahead = datetime.now(UTC) + timedelta(hours=23)
        await call(raw, "1", "StatusNotification", status(1, "Preparing", ahead))
        await call(
            raw, "2", "StatusNotification", status(2, "Preparing", datetime(2010, 1, 1, tzinfo=UTC))
        )
        await call(
            raw, "3", "MeterValues", meter_values(datetime(2009, 12, 31, 23, 59, tzinfo=UTC), "1")
        )
    assert [s.clock_suspect for s in await store.list_connectors(CP)] == [False, False]
    (sample,) = await store.meter_values(7)
    assert sample.clock_suspect is True


# -- the replay memory stays bounded -------------------------------------------------------------


async def test_remembered_answers_are_bounded_per_charge_point(harness: Harness) -> None:
    memory = harness.app.services.replays
    async with connected(harness) as raw:
        for index in range(memory.per_charge_point + 20):
            await call(raw, f"s{index}", "StatusNotification", status(1, "Available", None))
        assert memory.answers_of(CP) == memory.per_charge_point
        # The oldest were forgotten: sent again, they are handled anew; the newest are not.
        await call(raw, "s0", "StatusNotification", status(1, "Available", None))
        last = f"s{memory.per_charge_point + 19}"
        await call(raw, last, "StatusNotification", status(1, "Available", None))
    assert len(await history(harness, 1)) == memory.per_charge_point + 21
    assert memory.answers_of(CP) <= memory.per_charge_point <= len(memory) <= memory.total


def test_remembered_answers_are_bounded_in_total_and_forget_the_long_gone() -> None:
    now = [0.0]
    memory = ReplayMemory(per_charge_point=4, total=10, forget_after=60.0, clock=lambda: now[0])

    def remember(charge_point_id: str, unique_id: str) -> Call:
        sent = Call(unique_id=unique_id, action="MeterValues", payload={"connectorId": 1})
        memory.remember(charge_point_id, sent, CallResult(unique_id=unique_id, payload={}))
        return sent

    for charge_point in range(1000):
        for unique_id in range(6):
            remember(f"CP{charge_point}", str(unique_id))
            assert len(memory) <= 10
    assert memory.answers_of("CP999") == 4
    assert memory.answers_of("CP0") == 0  # the least recently heard went first

    sent = remember("CP999", "9")
    assert memory.answer("CP999", sent) == CallResult(unique_id="9", payload={})
    now[0] = 61.0
    remember("CP1", "1")
    assert memory.answer("CP999", sent) is None  # gone for longer than forget_after
    assert len(memory) == 1

    memory.forget("CP1")
    assert len(memory) == 0


async def test_samples_stored_directly_are_deduplicated_in_one_batch(harness: Harness) -> None:
    store = harness.store
    await store.save_charge_point(
        CP, registration_status="Accepted", password_hash=None, description=None
    )
    at = datetime.now(UTC)
    sample = MeterSample(
        charge_point_id=CP, connector_id=1, transaction_id=None, timestamp=at, value="5"
    )
    await asyncio.gather(*(store.add_meter_values([sample, sample]) for _ in range(5)))
    await store.add_meter_values([sample])
    assert await store.meter_values_of(CP) == [sample]
