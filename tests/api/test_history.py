"""What a charge point reported, as the operator reads it: status history and meter values."""

from __future__ import annotations

from tests.harness import Harness


async def test_status_history_and_meter_values(harness: Harness) -> None:
    async with harness.charge_point(connectors=2) as cp:
        await cp.boot_and_report()
        await cp.status_notification(1, "Preparing")
        await cp.meter_values(0, sampled_values=[{"value": "123", "unit": "kWh"}])
        await cp.meter_values(1, sampled_values=[{"value": "7"}])

    history = (await harness.api.get("/charge-points/CP1/status-history")).json()
    assert [(h["connectorId"], h["status"]) for h in history] == [
        (1, "Preparing"),
        (2, "Available"),
        (1, "Available"),
        (0, "Available"),
    ]
    one = (await harness.api.get("/charge-points/CP1/status-history?connectorId=1")).json()
    assert [h["status"] for h in one] == ["Preparing", "Available"]

    samples = (await harness.api.get("/charge-points/CP1/meter-values")).json()
    assert [(s["connectorId"], s["value"], s["unit"]) for s in samples] == [
        (0, "123", "kWh"),
        (1, "7", None),
    ]
    main = (await harness.api.get("/charge-points/CP1/meter-values?connectorId=0")).json()
    assert [s["value"] for s in main] == ["123"]

    for path in ("status-history", "meter-values"):
        assert (await harness.api.get(f"/charge-points/NOPE/{path}")).status_code == 404
