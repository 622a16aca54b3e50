"""Transactions survive lost and late messages (docs/field-behaviour.md, "Transactions"; spec
3.5.4, 3.7, 4.8, 4.10; errata 3.17, 3.18): one transaction at a time per connector, ConcurrentTx
only for a tag plausibly charging elsewhere, refused starts never count against their tag, a late
StopTransaction always wins, and the operator can end a zombie.

Each scenario drives a real CSMS on SQLite and on PostgreSQL with simulated charge points, and
checks both the answers on the wire and what the CSMS stored (through the operator API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from csms.simulator import SimulatedChargePoint
from tests.harness import Harness, csms

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TAG = "TAG"


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


async def put_tag(harness: Harness, id_tag: str, **fields: Any) -> dict[str, Any]:
    response = await harness.api.put(f"/id-tags/{id_tag}", json={"status": "Accepted", **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def stored(harness: Harness, transaction_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/transactions/{transaction_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def booted(harness: Harness, charge_point_id: str) -> SimulatedChargePoint:
    cp = harness.charge_point(charge_point_id, connectors=2)
    await cp.__aenter__()
    await cp.boot()
    return cp


async def start(cp: SimulatedChargePoint, connector: int, minutes: int, **fields: Any) -> Any:
    answer = await cp.start_transaction(
        connector, fields.pop("id_tag", TAG), timestamp=at(minutes), **fields
    )
    return answer["transactionId"], answer["idTagInfo"]["status"]


async def test_minimal_sequence_a_refused_start_does_not_lock_the_tag(harness: Harness) -> None:
    await put_tag(harness, TAG)
    async with harness.charge_point("A") as a, harness.charge_point("B") as b:
        await a.boot()
        await b.boot()
        first, first_status = await start(a, 1, 0)
        refused, refused_status = await start(b, 1, 1)  # B never stops it
        assert await a.stop_transaction(first, 1000, timestamp=at(2)) == {}
        again, again_status = await start(a, 1, 3)
    assert (first_status, refused_status, again_status) == (
        "Accepted",
        "ConcurrentTx",
        "Accepted",
    )
    # Stored, as spec 4.8 gives it a transactionId, with the status it was answered.
    kept = await stored(harness, refused)
    assert (kept["idTagStatus"], kept["chargePointId"]) == ("ConcurrentTx", "B")
    assert (await stored(harness, again))["active"] is True


async def test_refused_starts_of_any_status_never_count(harness: Harness) -> None:
    await put_tag(harness, TAG)
    await put_tag(harness, "LATER", status="Blocked")
    cps = [await booted(harness, f"CP{i}") for i in range(5)]
    try:
        first, first_status = await start(cps[0], 1, 0)
        refusals = [await start(cp, 1, 1) for cp in cps[1:4]]
        assert first_status == "Accepted"
        assert [status for _, status in refusals] == ["ConcurrentTx"] * 3
        await cps[0].stop_transaction(first, 500, timestamp=at(2))
        _, status = await start(cps[4], 1, 3)
        assert status == "Accepted"

        # A start refused as Blocked does not hold the tag once it is unblocked.
        _, blocked = await start(cps[0], 2, 4, id_tag="LATER")
        await put_tag(harness, "LATER")
        _, unblocked = await start(cps[1], 2, 5, id_tag="LATER")
        assert (blocked, unblocked) == ("Blocked", "Accepted")
    finally:
        for cp in cps:
            await cp.__aexit__(None, None, None)


async def test_lost_stop_then_new_start_on_the_same_connector(harness: Harness) -> None:
    await put_tag(harness, TAG)
    async with harness.charge_point("X") as x, harness.charge_point("Y") as y:
        await x.boot()
        await y.boot()
        lost, _ = await start(x, 1, 0, meter_start=100)
        # Hard reboot: the StopTransaction of `lost` never comes.
        new, status = await start(x, 1, 30, meter_start=900)
        assert status == "Accepted"
        # The tag now charges on X: elsewhere it is ConcurrentTx.
        _, elsewhere = await start(y, 1, 31)
        assert elsewhere == "ConcurrentTx"

    old = await stored(harness, lost)
    assert old["active"] is False
    assert (old["endedBy"], old["endReason"]) == ("csms", f"superseded by transaction {new}")
    assert old["endedAt"] is not None
    assert (old["stopTime"], old["meterStop"], old["stopReason"]) == (None, None, None)
    assert (await stored(harness, new))["active"] is True
    active = (await harness.api.get("/transactions", params={"active": "true"})).json()
    assert [t["id"] for t in active if t["chargePointId"] == "X"] == [new]


async def test_late_stop_arrives_after_the_next_start(harness: Harness) -> None:
    await put_tag(harness, TAG)
    async with harness.charge_point("X") as x:
        await x.boot()
        first, _ = await start(x, 1, 0, meter_start=100)
        # The offline queue delivers the next start before the stop of the first.
        second, status = await start(x, 1, 20, meter_start=1500)
        assert status == "Accepted"
        answer = await x.stop_transaction(
            first, 1400, timestamp=at(10), reason="EVDisconnected", id_tag=TAG
        )
        assert answer == {"idTagInfo": {"status": "Accepted"}}

    late = await stored(harness, first)
    assert (late["stopTime"], late["meterStop"], late["stopReason"], late["stopIdTag"]) == (
        at(10),
        1400,
        "EVDisconnected",
        TAG,
    )
    assert late["active"] is False
    assert late["endedBy"] == "csms"  # what the CSMS did is kept alongside
    assert (await stored(harness, second))["active"] is True


async def test_a_tag_may_run_as_many_transactions_as_it_is_allowed(harness: Harness) -> None:
    tag = await put_tag(harness, "FLEET", maxActiveTransactions=2)
    assert tag["maxActiveTransactions"] == 2
    assert (await harness.api.get("/id-tags/FLEET")).json()["maxActiveTransactions"] == 2
    assert (await put_tag(harness, TAG))["maxActiveTransactions"] == 1  # the default
    cps = [await booted(harness, f"CP{i}") for i in range(3)]
    try:
        statuses = [(await start(cp, 1, i, id_tag="FLEET"))[1] for i, cp in enumerate(cps)]
    finally:
        for cp in cps:
            await cp.__aexit__(None, None, None)
    assert statuses == ["Accepted", "Accepted", "ConcurrentTx"]


async def test_a_tag_without_limit(harness: Harness) -> None:
    tag = await put_tag(harness, "SERVICE", maxActiveTransactions=None)
    assert tag["maxActiveTransactions"] is None
    assert (await harness.api.get("/id-tags/SERVICE")).json()["maxActiveTransactions"] is None
    cps = [await booted(harness, f"CP{i}") for i in range(4)]
    try:
        statuses = [
            (await start(cp, connector, i, id_tag="SERVICE"))[1]
            for i, cp in enumerate(cps)
            for connector in (1, 2)
        ]
    finally:
        for cp in cps:
            await cp.__aexit__(None, None, None)
    assert statuses == ["Accepted"] * 8
    refused = await harness.api.put(
        "/id-tags/SERVICE", json={"status": "Accepted", "maxActiveTransactions": 0}
    )
    assert refused.status_code == 422


async def test_operator_ends_a_zombie_and_a_late_stop_still_wins(harness: Harness) -> None:
    await put_tag(harness, TAG)
    async with harness.charge_point("X") as x, harness.charge_point("Y") as y:
        await x.boot()
        await y.boot()
        zombie, _ = await start(x, 1, 0, meter_start=100)

        ended = await harness.api.post(
            f"/transactions/{zombie}/end", json={"reason": "charge point replaced"}
        )
        assert ended.status_code == 200, ended.text
        body = ended.json()
        assert (body["active"], body["endedBy"], body["endReason"]) == (
            False,
            "operator",
            "charge point replaced",
        )
        again = await harness.api.post(f"/transactions/{zombie}/end", json={"reason": "again"})
        assert again.status_code == 409
        unknown = await harness.api.post("/transactions/99999/end", json={"reason": "x"})
        assert unknown.status_code == 404

        # The tag is free again at once.
        _, status = await start(y, 1, 5)
        assert status == "Accepted"

        assert await x.stop_transaction(zombie, 700, timestamp=at(3), reason="Reboot") == {}
    late = await stored(harness, zombie)
    assert (late["stopTime"], late["meterStop"], late["stopReason"]) == (
        at(3),
        700,
        "Reboot",
    )
    assert (late["endedBy"], late["endReason"]) == ("operator", "charge point replaced")
    stopped = await harness.api.post(f"/transactions/{zombie}/end")  # the reason is optional
    assert stopped.status_code == 409


async def test_authorize_and_start_agree_after_a_lost_stop(harness: Harness) -> None:
    await put_tag(harness, TAG)
    async with harness.charge_point("X") as x:
        await x.boot()
        await start(x, 1, 0)
        # The StopTransaction is lost; the driver comes back to the same connector.
        authorized = (await x.authorize(TAG))["idTagInfo"]["status"]
        _, status = await start(x, 1, 60)
    assert (authorized, status) == ("Accepted", "Accepted")


async def test_a_replayed_start_is_answered_as_the_first_time(harness: Harness) -> None:
    await put_tag(harness, TAG)
    async with harness.charge_point("X") as x, harness.charge_point("Y") as y:
        await x.boot()
        await y.boot()
        first = await start(x, 1, 0, meter_start=5)
        refused = await start(y, 1, 1)
        # Both answers were lost: the replays get the same transaction and status, and the
        # replay of `first` does not end `first`.
        assert await start(x, 1, 0, meter_start=5) == first
        assert await start(y, 1, 1) == refused
    assert refused[1] == "ConcurrentTx"
    assert (await stored(harness, first[0]))["active"] is True


async def test_a_zombie_from_before_a_csms_restart_is_superseded(database_url: str) -> None:
    async with csms(database_url) as harness:
        await put_tag(harness, TAG)
        async with harness.charge_point("X") as x:
            await x.boot()
            lost, _ = await start(x, 1, 0)
    async with csms(database_url) as harness:
        async with harness.charge_point("X") as x:
            await x.boot()
            new, status = await start(x, 1, 10)
        assert status == "Accepted"
        old = await stored(harness, lost)
        assert (old["active"], old["endReason"]) == (False, f"superseded by transaction {new}")


# -- clocks: a charge point's clock that is clearly wrong orders nothing ------------------------

UNSET = "1970-01-01T00:00:00Z"  # a clock lost in a reboot


def year_ahead() -> str:
    return (datetime.now(UTC) + timedelta(days=365)).isoformat().replace("+00:00", "Z")


async def superseded_by_receipt_order(harness: Harness, old_time: str, new_time: str) -> None:
    """A start on connector 1 whose stop is lost, then another start on connector 1: the new
    one is the one that runs, whatever the (wrong) clocks say."""
    await put_tag(harness, TAG)
    async with harness.charge_point("X") as x:
        await x.boot()
        old_answer = await x.start_transaction(1, TAG, meter_start=100, timestamp=old_time)
        # Rebooted: the StopTransaction of `old` is lost.
        new_answer = await x.start_transaction(1, TAG, meter_start=900, timestamp=new_time)
    old, new = old_answer["transactionId"], new_answer["transactionId"]
    assert new_answer["idTagInfo"]["status"] == "Accepted"
    assert (await stored(harness, new))["active"] is True
    ended = await stored(harness, old)
    assert ended["active"] is False
    assert (ended["endedBy"], ended["endReason"]) == ("csms", f"superseded by transaction {new}")
    active = (await harness.api.get("/transactions", params={"active": "true"})).json()
    assert [t["id"] for t in active] == [new]


async def test_a_start_stamped_1970_supersedes_the_lost_one(harness: Harness) -> None:
    await superseded_by_receipt_order(harness, at(0), UNSET)


async def test_a_start_stamped_a_year_ahead_supersedes_the_lost_one(harness: Harness) -> None:
    await superseded_by_receipt_order(harness, at(0), year_ahead())


async def test_a_start_after_one_stamped_a_year_ahead_supersedes_it(harness: Harness) -> None:
    # The clock was wrong for the lost transaction and is right again for the new one.
    await superseded_by_receipt_order(harness, year_ahead(), at(0))


async def test_a_start_with_a_wrong_clock_is_kept_as_sent_and_flagged(harness: Harness) -> None:
    await put_tag(harness, TAG)
    before = datetime.now(UTC)
    async with harness.charge_point("X") as x:
        await x.boot()
        good = (await x.start_transaction(1, TAG, timestamp=at(0)))["transactionId"]
        await x.stop_transaction(good, 500, timestamp=at(10))
        bad = (await x.start_transaction(2, TAG, timestamp=UNSET))["transactionId"]
        ahead = year_ahead()
        await x.stop_transaction(bad, 700, timestamp=ahead)
    after = datetime.now(UTC)

    def received(value: str | None) -> datetime:
        assert value is not None
        return datetime.fromisoformat(value)

    trusted = await stored(harness, good)
    assert (trusted["startClockSuspect"], trusted["stopClockSuspect"]) == (False, False)
    assert before <= received(trusted["startReceivedAt"]) <= after
    assert received(trusted["startReceivedAt"]) <= received(trusted["stopReceivedAt"]) <= after

    flagged = await stored(harness, bad)
    assert (flagged["startTime"], flagged["stopTime"]) == (UNSET, ahead)  # as sent
    assert (flagged["startClockSuspect"], flagged["stopClockSuspect"]) == (True, True)
    assert before <= received(flagged["startReceivedAt"]) <= after
    assert before <= received(flagged["stopReceivedAt"]) <= after


async def test_a_transaction_still_running_has_no_stop_receipt_time(harness: Harness) -> None:
    await put_tag(harness, TAG)
    async with harness.charge_point("X") as x:
        await x.boot()
        running, _ = await start(x, 1, 0)
    body = await stored(harness, running)
    assert (body["stopReceivedAt"], body["stopClockSuspect"]) == (None, False)
