"""Energy you can bill (docs/field-behaviour.md; issue 15 point 3): a charger whose register
resets mid-transaction, late and out-of-order meter values, a late StopTransaction, kWh
readings. Each scenario drives a real CSMS on SQLite and on PostgreSQL with the simulator and
checks the API's energyWh/energyFlags and what the CSMS stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from csms.simulator import SimulatedChargePoint
from csms.simulator.cli import Options, run_charge_point
from tests.harness import Harness

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


async def billed(harness: Harness, transaction_id: int) -> tuple[int, list[str]]:
    """The energy the API reports, checked against the one stored."""
    response = await harness.api.get(f"/transactions/{transaction_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    kept = await harness.store.get_transaction(transaction_id)
    assert (kept.energy_wh, list(kept.energy_flags)) == (body["energyWh"], body["energyFlags"])
    return body["energyWh"], body["energyFlags"]


async def started(cp: SimulatedChargePoint, meter_start: int, minutes: int = 0) -> int:
    answer = await cp.start_transaction(1, "TAG", meter_start=meter_start, timestamp=at(minutes))
    transaction_id: int = answer["transactionId"]
    return transaction_id


async def test_a_meter_reset_mid_transaction_bills_both_segments(harness: Harness) -> None:
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        transaction_id = await started(cp, 232)
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=300, timestamp=at(10))
        cp.reset_meter(1)  # a crash: the register restarts at 0 Wh
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=20, timestamp=at(20))
        assert await cp.stop_transaction(transaction_id, 48, timestamp=at(30)) == {}
    energy, flags = await billed(harness, transaction_id)
    # Before the crash 232 -> 300, after it 20 -> 48: what came between the crash and the first
    # reading after it is not known, and not billed.
    assert energy == (300 - 232) + (48 - 20)
    assert flags == ["from_samples", "meter_stop_below_start", "register_reset"]
    # The metrics and the transaction.stopped event, written in the stop's own commit, report
    # the same (not meterStop - meterStart, which is negative here).
    metrics = await harness.api.get(str(harness.api.base_url.join("/metrics")))
    assert "csms_energy_delivered_wh_total 96.0" in metrics.text.splitlines()
    events = await harness.store.events_after(0, limit=1000)
    (stopped,) = [e for e in events if e.kind == "transaction.stopped"]
    assert (stopped.data["energyWh"], stopped.data["energyFlags"]) == (energy, flags)


async def test_late_meter_values_after_the_stop_are_billed(harness: Harness) -> None:
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        transaction_id = await started(cp, 232)
        await cp.stop_transaction(transaction_id, 48, timestamp=at(30))
        assert await billed(harness, transaction_id) == (
            0,
            ["meter_stop_below_start", "register_reset"],
        )
        # Its queue flushed after the stop, newest first: 0 Wh at the reset, 300 before it.
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=0, timestamp=at(20))
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=300, timestamp=at(10))
    energy, flags = await billed(harness, transaction_id)
    assert energy == (300 - 232) + 48
    assert flags == ["from_samples", "meter_stop_below_start", "register_reset"]


async def test_late_meter_values_of_a_transaction_are_billed_while_the_next_one_runs(
    harness: Harness,
) -> None:
    """Late samples of a transaction over already are billed also when a newer transaction
    (a higher id) runs on the same connector: only the one they belong to being open spares
    the read."""
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        first = await started(cp, 1000)
        await cp.stop_transaction(first, 1100, timestamp=at(30))
        second = await started(cp, 2000, minutes=40)
        assert second > first
        assert await billed(harness, first) == (100, [])
        # The first one's queue flushed late: a reading of 1400 at minute 10, which makes the
        # stop's 1100 a rollback of the register: 400 billed, not 100 (nor 400 + 1100).
        await cp.meter_values(1, transaction_id=first, energy_wh=1400, timestamp=at(10))
    assert await billed(harness, first) == (400, ["from_samples", "register_rollback"])


async def test_a_late_stop_transaction_replaces_the_energy_up_to_the_last_sample(
    harness: Harness,
) -> None:
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        first = await started(cp, 1000)
        await cp.meter_values(1, transaction_id=first, energy_wh=1400, timestamp=at(10))
        # Its StopTransaction is late: the next start on the connector supersedes it.
        second = await started(cp, 1500, minutes=40)
        assert (await harness.store.get_transaction(first)).ended_by == "csms"
        assert await billed(harness, first) == (400, ["from_samples", "no_meter_stop"])
        await cp.stop_transaction(first, 1500, timestamp=at(30))
        assert await billed(harness, first) == (500, ["from_samples"])
        # The operator ends the second (its StopTransaction lost): billed up to its last sample.
        await cp.meter_values(1, transaction_id=second, energy_wh=1750, timestamp=at(50))
        ended = await harness.api.post(f"/transactions/{second}/end")
        assert ended.status_code == 200, ended.text
        assert (ended.json()["energyWh"], ended.json()["energyFlags"]) == (
            250,
            ["from_samples", "no_meter_stop"],
        )
        assert await billed(harness, second) == (250, ["from_samples", "no_meter_stop"])


async def test_kwh_readings_are_billed_in_wh(harness: Harness) -> None:
    async with harness.charge_point("CP1", energy_unit="kWh") as cp:
        await cp.boot()
        transaction_id = await started(cp, 1000)
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=1500, timestamp=at(10))
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=2250, timestamp=at(20))
        # Running: the energy so far, computed, not stored.
        running = (await harness.api.get(f"/transactions/{transaction_id}")).json()
        assert (running["energyWh"], running["energyFlags"]) == (
            1250,
            ["from_samples", "no_meter_stop"],
        )
        assert (await harness.store.get_transaction(transaction_id)).energy_wh is None
        register = [
            s for s in running["meterValues"] if s["measurand"] == "Energy.Active.Import.Register"
        ]
        assert [(s["value"], s["unit"]) for s in register] == [
            ("1.500", "kWh"),
            ("2.250", "kWh"),
        ]
        data = [
            {
                "timestamp": at(30),
                "sampledValue": [
                    {"value": "2.600", "unit": "kWh", "context": "Transaction.End"},
                ],
            }
        ]
        await cp.stop_transaction(transaction_id, 2600, timestamp=at(30), transaction_data=data)
    assert await billed(harness, transaction_id) == (1600, ["from_samples"])


async def test_the_simulator_with_its_meter_reset_and_kwh_is_never_billed_negative(
    harness: Harness,
) -> None:
    options = Options(
        url=harness.url,
        count=1,
        id_prefix="SIM",
        sessions=2,
        password=None,
        id_tag="TAG{n}",
        connectors=1,
        meter_values=4,
        response_timeout=10.0,
        validate=True,
        meter_reset=True,
        energy_unit="kWh",
    )
    tag = await harness.api.put("/id-tags/TAG1", json={"status": "Accepted"})
    assert tag.status_code == 200, tag.text
    outcome = await run_charge_point(1, "SIM0001", options)
    assert outcome.ok, outcome.error
    listed = (await harness.api.get("/transactions", params={"chargePointId": "SIM0001"})).json()
    # Each session: 250, 500, then the register restarts: 250, 500; meterStop 500.
    assert [(t["meterStart"], t["meterStop"]) for t in listed] == [(0, 500), (500, 500)]
    assert [t["energyWh"] for t in listed] == [500 + 250, 500 + 250]
    assert all("register_reset" in t["energyFlags"] for t in listed)
