"""The simulator's misbehaviours of real chargers, against a real CSMS: a dropped connection and
a reconnect without a boot, a lost answer and its resend, an offline queue replayed late and out
of order, a hard reboot that loses the queue and the transactions, and a wrong clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from csms.ocppj import Call, CallResult
from csms.simulator import QueuedCall, SimulatedChargePoint
from csms.simulator.clocks import EPOCH, since, skewed
from tests.harness import Harness

TAG_A, TAG_B = "TAG-A", "TAG-B"


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    for tag in (TAG_A, TAG_B):
        response = await harness.api.put(f"/id-tags/{tag}", json={"status": "Accepted"})
        assert response.status_code == 200, response.text
    async with harness.charge_point("CP1", response_timeout=5.0) as charge_point:
        await charge_point.boot_and_report()
        yield charge_point


def sent_calls(cp: SimulatedChargePoint, start: int = 0) -> list[Call]:
    return [
        frame
        for entry in cp.log[start:]
        if entry.direction == "sent" and isinstance(frame := entry.frame, Call)
    ]


def sent_texts(cp: SimulatedChargePoint, action: str, start: int = 0) -> list[str]:
    return [
        entry.text
        for entry in cp.log[start:]
        if entry.direction == "sent"
        and isinstance(frame := entry.frame, Call)
        and frame.action == action
    ]


async def connected_on_csms(harness: Harness, expected: bool, timeout: float = 5.0) -> None:
    """Until the CSMS shows the charge point (dis)connected: nothing on the wire marks it."""
    async with asyncio.timeout(timeout):
        while (await harness.api.get("/charge-points/CP1")).json()["connected"] is not expected:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- (a) drop the connection, reconnect without a boot ----------------------------------------


async def test_drop_ends_the_connection_without_a_closing_handshake(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    await cp.drop()

    assert not cp.connected
    assert cp.close_code == 1006  # no close frame: the TCP connection just ended
    await connected_on_csms(harness, False)
    with pytest.raises(ConnectionError):
        await cp.heartbeat()


async def test_drop_and_reconnect_sends_no_boot_and_is_served(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    boot_at = (await harness.api.get("/charge-points/CP1")).json()["lastBootAt"]
    mark = len(cp.log)

    await cp.drop_and_reconnect()
    answer = await cp.authorize(TAG_A)

    assert cp.connections == 2
    assert answer["idTagInfo"]["status"] == "Accepted"
    assert [call.action for call in sent_calls(cp, mark)] == ["Authorize"]
    stored = (await harness.api.get("/charge-points/CP1")).json()
    assert (stored["connected"], stored["lastBootAt"]) == (True, boot_at)


# -- (b) a lost answer, and the CALL sent again -------------------------------------------------


@pytest.mark.parametrize("new_connection", [False, True])
async def test_a_lost_answer_is_resent_with_the_same_message_id_and_payload(
    cp: SimulatedChargePoint, new_connection: bool
) -> None:
    mark = len(cp.log)
    cp.lose_next_answer(new_connection=new_connection)

    answer = await cp.authorize(TAG_A)

    first, second = sent_texts(cp, "Authorize", mark)
    assert first == second  # the same frame: message id and payload
    assert len(cp.lost_answers) == 1
    lost = cp.lost_answers[0]
    assert isinstance(lost, CallResult) and lost.payload == answer
    assert lost.unique_id == sent_calls(cp, mark)[0].unique_id
    assert cp.connections == (2 if new_connection else 1)
    # Only the next CALL loses its answer.
    await cp.heartbeat()
    assert len(sent_calls(cp, mark)) == 3 and len(cp.lost_answers) == 1


async def test_a_lost_start_transaction_answer_updates_the_charge_point_once(
    cp: SimulatedChargePoint,
) -> None:
    cp.lose_next_answer(new_connection=True)

    answer = await cp.start_transaction(1, TAG_A, meter_start=10)

    assert list(cp.transactions) == [answer["transactionId"]]
    first, second = sent_texts(cp, "StartTransaction")
    assert first == second


# -- (c) the offline queue, replayed late and out of order ------------------------------------


async def test_queued_messages_keep_their_time_and_id_and_replay_in_the_order_given(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    started = await cp.start_transaction(1, TAG_A, meter_start=100)
    first_id = started["transactionId"]
    await cp.drop()
    made_at = datetime.now(UTC)
    stop = cp.offline.stop_transaction(first_id, 900, reason="Local", id_tag=TAG_A)
    start = cp.offline.start_transaction(1, TAG_B, meter_start=900)
    status = cp.offline.status_notification(1, "Charging")
    assert len(cp.offline) == 3 and not cp.connected

    replayed = await cp.offline.replay([start, status, stop])

    assert replayed == [start, status, stop]
    assert len(cp.offline) == 0 and cp.connected and cp.connections == 2
    calls = sent_calls(cp)[-3:]
    assert [call.action for call in calls] == [
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    ]
    assert [call.unique_id for call in calls] == [m.unique_id for m in (start, status, stop)]
    for call in calls:  # the time it happened, not the time it was sent
        assert abs(parse(call.payload["timestamp"]) - made_at) < timedelta(seconds=5)
    assert "BootNotification" not in [call.action for call in sent_calls(cp)[1:]]
    assert stop.answer is not None and start.answer is not None
    second_id = start.transaction_id
    assert second_id is not None and second_id != first_id
    # The charge point's own state followed the answers: the second transaction runs.
    assert list(cp.transactions) == [second_id]
    assert (await harness.api.get(f"/transactions/{first_id}")).json()["meterStop"] == 900


async def test_a_transaction_started_offline_gets_its_id_from_the_replayed_start(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    await cp.drop()
    start = cp.offline.start_transaction(2, TAG_A, meter_start=0)
    meter = cp.offline.meter_values(2, transaction=start, energy_wh=300)
    stop = cp.offline.stop_transaction(start, 400, reason="Local")

    with pytest.raises(RuntimeError, match="StartTransaction"):
        await cp.offline.replay([stop])
    await cp.offline.replay()

    transaction_id = start.transaction_id
    assert transaction_id is not None
    assert meter.payload["transactionId"] == stop.payload["transactionId"] == transaction_id
    stored = (await harness.api.get(f"/transactions/{transaction_id}")).json()
    assert (stored["active"], stored["meterStop"]) == (False, 400)
    assert cp.transactions == {}


async def test_replay_refuses_a_message_not_queued_or_twice(cp: SimulatedChargePoint) -> None:
    stray = QueuedCall(action="Heartbeat", payload={})
    with pytest.raises(ValueError, match="not in the queue"):
        await cp.offline.replay([stray])
    queued = cp.offline.status_notification(1, "Available")
    with pytest.raises(ValueError, match="twice"):
        await cp.offline.replay([queued, queued])
    assert len(cp.offline) == 1


# -- (d) a hard reboot loses the queue and the transactions -----------------------------------


async def test_hard_reboot_loses_the_queue_and_the_running_transactions(
    cp: SimulatedChargePoint,
) -> None:
    await cp.start_transaction(1, TAG_A)
    await cp.drop()
    cp.offline.stop_transaction(next(iter(cp.transactions)), 500, reason="Local")
    mark = len(cp.log)

    answer = await cp.hard_reboot()

    assert answer is not None and answer["status"] == "Accepted"
    assert len(cp.offline) == 0 and cp.transactions == {}
    actions = [call.action for call in sent_calls(cp, mark)]
    assert actions == ["BootNotification"] + ["StatusNotification"] * (cp.connectors + 1)
    assert cp.connections == 2


async def test_hard_reboot_without_boot_only_reconnects(cp: SimulatedChargePoint) -> None:
    mark = len(cp.log)
    assert await cp.hard_reboot(boot=False) is None
    assert cp.connected and sent_calls(cp, mark) == []


# -- (e) a wrong clock ----------------------------------------------------------------------


async def test_a_skewed_clock_stamps_every_message(cp: SimulatedChargePoint) -> None:
    cp.set_clock(skewed(-3600))
    mark = len(cp.log)

    assert await cp.status_notification(1, "Preparing") == {}
    answer = await cp.start_transaction(1, TAG_A)
    await cp.meter_values(1, transaction_id=answer["transactionId"], energy_wh=10)
    await cp.stop_transaction(answer["transactionId"], 20)

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for call in sent_calls(cp, mark):
        stamp = call.payload.get("timestamp") or call.payload["meterValue"][0]["timestamp"]
        assert abs(parse(stamp) - an_hour_ago) < timedelta(seconds=30), call


async def test_a_clock_back_at_1970(harness: Harness) -> None:
    async with harness.charge_point("CP2", clock=since(EPOCH)) as cp:
        await cp.boot_and_report()
        call = sent_calls(cp)[-1]
        moment = parse(call.payload["timestamp"])
        assert EPOCH <= moment < EPOCH + timedelta(minutes=5)
        assert cp.state.clock() < EPOCH + timedelta(minutes=5)
