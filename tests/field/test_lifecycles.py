"""Charge point lifecycles as they happen in the field, through the simulator's misbehaviours
(docs/simulator-misbehaviours.md) against a real CSMS on SQLite and PostgreSQL: a reconnect
without a boot, a lost answer and its resend, an offline queue replayed late and out of order, a
hard reboot that loses a StopTransaction, and a wrong clock.

What the CSMS must make of them: a CALL sent again with the same message id and payload gets the
identical answer without the work done twice; the current connector status is the newest by the
charge point's timestamp; a transaction the CSMS ended itself because a new StartTransaction
arrived on the same connector is kept, marked ended, and a late StopTransaction fills in the
charge point's values; timestamps are stored as the charge point sent them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.ocppj import CallResult
from csms.simulator import SimulatedChargePoint
from csms.simulator.clocks import EPOCH, since, skewed
from tests.harness import Harness

TAG = "FIELD-TAG"
CONNECTOR = 1

# A TxProfile given with a RemoteStartTransaction (spec 5.11, errata 3.41: no transactionId).
REMOTE_START_PROFILE = {
    "chargingProfileId": 7,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
    },
}


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    """A charge point that booted and reported every connector Available; TAG is Accepted."""
    response = await harness.api.put(f"/id-tags/{TAG}", json={"status": "Accepted"})
    assert response.status_code == 200, response.text
    async with harness.charge_point("FIELD-CP", response_timeout=5.0) as charge_point:
        await charge_point.boot_and_report()
        yield charge_point


async def get(harness: Harness, path: str, **params: Any) -> Any:
    response = await harness.api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def transaction(harness: Harness, transaction_id: int) -> dict[str, Any]:
    body: dict[str, Any] = await get(harness, f"/transactions/{transaction_id}")
    return body


async def transactions(harness: Harness) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = await get(harness, "/transactions", charge_point_id="FIELD-CP")
    return body


async def connector(harness: Harness, connector_id: int = CONNECTOR) -> dict[str, Any]:
    charge_point = await get(harness, "/charge-points/FIELD-CP")
    return next(c for c in charge_point["connectors"] if c["connectorId"] == connector_id)


async def profiles_on_connector(harness: Harness) -> list[tuple[int, int | None]]:
    """(chargingProfileId, transactionId) of the profiles the CSMS believes installed."""
    installed = await get(harness, "/charge-points/FIELD-CP/charging-profiles")
    return [
        (profile["chargingProfileId"], profile["transactionId"])
        for connector in installed["connectors"]
        if connector["connectorId"] == CONNECTOR
        for profile in connector["chargingProfiles"]
    ]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def ago(**delta: float) -> datetime:
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0)


# -- a reconnect without a boot -----------------------------------------------------------------


async def test_reconnect_without_boot_then_a_whole_session(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """J 5.4: the connection drops (no closing handshake) and comes back without a boot; the
    charge point is served at once and its session stored whole."""
    booted_at = (await get(harness, "/charge-points/FIELD-CP"))["lastBootAt"]
    await cp.drop_and_reconnect()

    assert (await cp.authorize(TAG))["idTagInfo"]["status"] == "Accepted"
    await cp.status_notification(CONNECTOR, "Preparing")
    start = await cp.start_transaction(CONNECTOR, TAG, meter_start=100)
    assert start["idTagInfo"]["status"] == "Accepted"
    await cp.status_notification(CONNECTOR, "Charging")
    await cp.meter_values(CONNECTOR, transaction_id=start["transactionId"], energy_wh=600)
    await cp.stop_transaction(start["transactionId"], 1100, reason="Local", id_tag=TAG)
    await cp.status_notification(CONNECTOR, "Available")

    stored = await transaction(harness, start["transactionId"])
    assert (stored["active"], stored["meterStart"], stored["meterStop"]) == (False, 100, 1100)
    assert (await connector(harness))["status"] == "Available"
    assert (await get(harness, "/charge-points/FIELD-CP"))["lastBootAt"] == booted_at


# -- a lost answer, and the CALL sent again ---------------------------------------------------


@pytest.mark.parametrize("new_connection", [False, True], ids=["same", "new-connection"])
async def test_lost_start_transaction_answer_and_resend_make_one_transaction(
    harness: Harness, cp: SimulatedChargePoint, new_connection: bool
) -> None:
    cp.lose_next_answer(new_connection=new_connection)

    answer = await cp.start_transaction(CONNECTOR, TAG, meter_start=50)

    (lost,) = cp.lost_answers
    assert isinstance(lost, CallResult) and lost.payload == answer  # the identical answer
    assert answer["idTagInfo"]["status"] == "Accepted"
    assert [t["id"] for t in await transactions(harness)] == [answer["transactionId"]]
    assert (await transaction(harness, answer["transactionId"]))["active"] is True


async def test_lost_stop_transaction_answer_and_resend_stop_it_once(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    start = await cp.start_transaction(CONNECTOR, TAG, meter_start=0)
    stopped_at = ago(seconds=10)
    cp.lose_next_answer(new_connection=True)

    answer = await cp.stop_transaction(
        start["transactionId"], 800, reason="Local", id_tag=TAG, timestamp=stopped_at
    )

    (lost,) = cp.lost_answers
    assert isinstance(lost, CallResult) and lost.payload == answer
    stored = await transaction(harness, start["transactionId"])
    assert (stored["active"], stored["meterStop"], stored["stopReason"]) == (False, 800, "Local")
    assert moment(stored["stopTime"]) == stopped_at


async def test_lost_meter_values_answer_and_resend_store_the_samples_once(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    start = await cp.start_transaction(CONNECTOR, TAG)
    sample = {"value": "1234", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    cp.lose_next_answer(new_connection=True)

    await cp.meter_values(CONNECTOR, transaction_id=start["transactionId"], sampled_values=[sample])

    samples = await get(harness, "/charge-points/FIELD-CP/meter-values", connectorId=CONNECTOR)
    assert [s["value"] for s in samples] == ["1234"]


# -- an offline queue, replayed late and out of order -----------------------------------------


async def test_offline_stop_replayed_after_the_next_start(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """Offline, the session ends and the next one begins on the same connector with the same
    tag; the charge point delivers the new StartTransaction first, then the old Stop. Both are
    stored: the late stop fills in the first transaction, the second one runs."""
    first = await cp.start_transaction(CONNECTOR, TAG, meter_start=0, timestamp=ago(minutes=30))
    first_id = first["transactionId"]
    await cp.drop()
    stopped_at, started_at = ago(minutes=10), ago(minutes=5)
    stop = cp.offline.stop_transaction(
        first_id, 1500, reason="Local", id_tag=TAG, timestamp=stopped_at
    )
    start = cp.offline.start_transaction(CONNECTOR, TAG, meter_start=1500, timestamp=started_at)

    await cp.offline.replay([start, stop])

    assert start.answer is not None and start.answer["idTagInfo"]["status"] == "Accepted"
    second_id = start.transaction_id
    assert second_id is not None and second_id != first_id
    ended = await transaction(harness, first_id)
    assert (ended["active"], ended["meterStop"], ended["stopReason"]) == (False, 1500, "Local")
    assert moment(ended["stopTime"]) == stopped_at
    running = await transaction(harness, second_id)
    assert (running["active"], running["meterStart"]) == (True, 1500)
    assert moment(running["startTime"]) == started_at
    assert {
        t["id"]
        for t in await transactions(
            harness,
        )
    } == {first_id, second_id}


async def test_late_status_notifications_do_not_hide_the_newest(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """The queued statuses arrive newest first: the connector's current status is the newest by
    the charge point's clock, not the last one received."""
    await cp.drop()
    older = cp.offline.status_notification(CONNECTOR, "Finishing", timestamp=ago(minutes=3))
    newer = cp.offline.status_notification(CONNECTOR, "Available", timestamp=ago(minutes=1))

    await cp.offline.replay([newer, older])

    assert (await connector(harness))["status"] == "Available"


async def test_offline_session_replayed_in_order_keeps_its_times(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """A whole session offline, replayed in order later: the transaction runs from the start to
    the stop timestamps as sent, the meter values come with their transactionId."""
    await cp.drop()
    started_at, stopped_at = ago(hours=2), ago(hours=1)
    start = cp.offline.start_transaction(CONNECTOR, TAG, meter_start=10, timestamp=started_at)
    cp.offline.meter_values(CONNECTOR, transaction=start, energy_wh=500, timestamp=ago(minutes=90))
    cp.offline.stop_transaction(start, 900, reason="Local", timestamp=stopped_at)

    await cp.offline.replay()

    assert start.transaction_id is not None
    stored = await transaction(harness, start.transaction_id)
    assert (stored["active"], stored["meterStart"], stored["meterStop"]) == (False, 10, 900)
    assert (moment(stored["startTime"]), moment(stored["stopTime"])) == (started_at, stopped_at)


# -- a hard reboot that loses the StopTransaction ---------------------------------------------


async def test_hard_reboot_mid_transaction_then_a_new_start_with_the_same_tag(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """The charge point reboots while charging and forgets the transaction: its Stop never
    comes. The next start on the same connector with the same tag is Accepted, and the CSMS
    shows the old transaction ended."""
    old = await cp.start_transaction(CONNECTOR, TAG, meter_start=0)
    await cp.status_notification(CONNECTOR, "Charging")
    await cp.hard_reboot()

    assert (await cp.authorize(TAG))["idTagInfo"]["status"] == "Accepted"
    new = await cp.start_transaction(CONNECTOR, TAG, meter_start=2000)

    assert new["idTagInfo"]["status"] == "Accepted"
    ended = await transaction(harness, old["transactionId"])
    assert (ended["id"], ended["active"]) == (old["transactionId"], False)
    assert (await transaction(harness, new["transactionId"]))["active"] is True


# -- a wrong clock ----------------------------------------------------------------------------


@pytest.mark.parametrize("offset_hours", [-3, 5])
async def test_a_skewed_clock_is_stored_as_sent(
    harness: Harness, cp: SimulatedChargePoint, offset_hours: int
) -> None:
    cp.set_clock(skewed(offset_hours * 3600))
    mark = len(cp.log)

    await cp.status_notification(CONNECTOR, "Preparing")
    start = await cp.start_transaction(CONNECTOR, TAG)
    await cp.stop_transaction(start["transactionId"], 100, reason="Local")

    sent = [entry.frame for entry in cp.log[mark:] if entry.direction == "sent"]
    stamps = [frame.payload["timestamp"] for frame in sent if hasattr(frame, "payload")]
    status_at, start_at, stop_at = (moment(stamp) for stamp in stamps)
    assert abs(start_at - datetime.now(UTC) - timedelta(hours=offset_hours)) < timedelta(minutes=1)
    stored = await transaction(harness, start["transactionId"])
    assert (moment(stored["startTime"]), moment(stored["stopTime"])) == (start_at, stop_at)
    history = await get(harness, "/charge-points/FIELD-CP/status-history", connectorId=CONNECTOR)
    assert moment(history[0]["timestamp"]) == status_at


async def test_a_clock_at_1970_is_stored_as_sent(harness: Harness) -> None:
    response = await harness.api.put(f"/id-tags/{TAG}", json={"status": "Accepted"})
    assert response.status_code == 200, response.text
    async with harness.charge_point("FIELD-CP", clock=since(EPOCH)) as cp:
        await cp.boot_and_report()
        start = await cp.start_transaction(CONNECTOR, TAG)
        assert start["idTagInfo"]["status"] == "Accepted"
        await cp.stop_transaction(start["transactionId"], 10, reason="Local")

    stored = await transaction(harness, start["transactionId"])
    assert moment(stored["startTime"]) < EPOCH + timedelta(minutes=5)
    assert moment(stored["stopTime"]) >= moment(stored["startTime"])
    history = await get(harness, "/charge-points/FIELD-CP/status-history", connectorId=CONNECTOR)
    assert moment(history[0]["timestamp"]) < EPOCH + timedelta(minutes=5)


async def test_a_remote_start_profile_belongs_to_the_new_transaction_after_a_lost_stop(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """Spec 5.16.2: the TxProfile of a RemoteStartTransaction belongs to the transaction the
    remote start leads to, also when the connector still has a transaction of the same tag
    whose StopTransaction was lost (a hard reboot)."""
    await cp.start_transaction(CONNECTOR, TAG)
    await cp.hard_reboot()
    body = {"connectorId": CONNECTOR, "idTag": TAG, "chargingProfile": REMOTE_START_PROFILE}
    response = await harness.api.post(
        "/charge-points/FIELD-CP/commands/RemoteStartTransaction", json=body
    )
    assert (response.status_code, response.json()) == (200, {"status": "Accepted"})
    await cp.expect_call("RemoteStartTransaction")

    new = await cp.start_transaction(CONNECTOR, TAG)

    # (Whether the start is Accepted: test_hard_reboot_mid_transaction_then_a_new_start_...)
    assert await profiles_on_connector(harness) == [(7, new["transactionId"])]


async def test_a_remote_start_profile_binds_to_a_start_sent_before_the_answer(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """A charge point may send its StartTransaction before its answer to the
    RemoteStartTransaction (J 4.1.1: the CALLs cross): the profile still belongs to it."""
    started: dict[str, Any] = {}

    async def start_first(payload: dict[str, Any]) -> dict[str, Any]:
        started.update(await cp.start_transaction(payload["connectorId"], payload["idTag"]))
        return {"status": "Accepted"}

    cp.answers["RemoteStartTransaction"] = start_first
    body = {"connectorId": CONNECTOR, "idTag": TAG, "chargingProfile": REMOTE_START_PROFILE}
    response = await harness.api.post(
        "/charge-points/FIELD-CP/commands/RemoteStartTransaction", json=body
    )
    assert (response.status_code, response.json()) == (200, {"status": "Accepted"})

    assert await profiles_on_connector(harness) == [(7, started["transactionId"])]


async def test_a_firmware_status_sent_before_the_update_firmware_answer_follows_the_job(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """A charge point that starts downloading before its answer to UpdateFirmware is read
    (J 4.1.1: the CALLs cross): its FirmwareStatusNotification belongs to the operator's job,
    which the answer then does not duplicate."""

    async def download_first(payload: dict[str, Any]) -> dict[str, Any]:
        assert await cp.firmware_status("Downloading") == {}
        return {}

    cp.answers["UpdateFirmware"] = download_first
    response = await harness.api.post(
        "/firmware", files={"file": ("fw.bin", b"\x7fFW", "application/octet-stream")}
    )
    assert response.status_code == 201, response.text
    response = await harness.api.post(
        "/charge-points/FIELD-CP/update-firmware", json={"firmwareId": response.json()["id"]}
    )
    assert response.status_code == 200, response.text
    await cp.expect_call("UpdateFirmware")
    assert await cp.firmware_status("Downloaded") == {}

    jobs = await get(harness, "/charge-points/FIELD-CP/firmware-jobs")
    assert [(job["id"], job["status"]) for job in jobs] == [(response.json()["id"], "Downloaded")]
