"""Alerts (features/alerts.py) on a running CSMS: offline, a Faulted connector, a boot loop, a
failed firmware job; each raised and cleared as outbox events and listed in the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness import Harness, csms
from tests.webhooks.conftest import SteppedClock

from csms.features import alerts


@pytest.fixture
async def alerting(tmp_path: Path) -> AsyncIterator[tuple[Harness, SteppedClock]]:
    """A CSMS whose clock the test moves; the checker task left idle (the test calls check)."""
    settings: dict[str, Any] = {
        "alert_check_interval": 3600.0,
        "alert_offline_minutes": 10.0,
        "alert_boot_loop_boots": 2,
    }
    async with csms(tmp_path / "csms.db", **settings) as harness:
        clock = SteppedClock()
        harness.app.services.clock = clock
        yield harness, clock


async def active(harness: Harness, **query: str) -> list[dict[str, Any]]:
    response = await harness.api.get("/alerts", params={"active": "true", **query})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def alert_events(harness: Harness) -> list[tuple[str, str, str | None]]:
    return [
        (e.kind, e.data["kind"], e.charge_point_id)
        for e in await harness.store.events_after(0)
        if e.kind.startswith("alert.")
    ]


async def test_a_faulted_connector_until_it_reports_otherwise(
    alerting: tuple[Harness, SteppedClock],
) -> None:
    harness, _ = alerting
    async with harness.charge_point("CP1") as cp:
        await cp.boot_and_report()
        await cp.status_notification(2, "Faulted", "GroundFailure")
        await cp.status_notification(2, "Faulted", "GroundFailure")  # still the same alert
        (alert,) = await active(harness)
        assert (alert["kind"], alert["subject"], alert["data"]) == (
            "connector.faulted",
            "connector 2",
            {"connectorId": 2, "errorCode": "GroundFailure"},
        )
        await cp.status_notification(1, "Available")  # another connector: no change
        assert len(await active(harness)) == 1
        await cp.status_notification(2, "Available")
        assert await active(harness) == []
    listed = (await harness.api.get("/alerts")).json()
    assert [(a["kind"], a["active"], a["clearReason"]) for a in listed] == [
        ("connector.faulted", False, "status Available")
    ]
    assert await alert_events(harness) == [
        ("alert.raised", "connector.faulted", "CP1"),
        ("alert.cleared", "connector.faulted", "CP1"),
    ]


async def test_offline_longer_than_the_limit_until_it_connects(
    alerting: tuple[Harness, SteppedClock],
) -> None:
    harness, clock = alerting
    services = harness.app.services
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
    clock.advance(minutes=9)
    await alerts.check(services)
    assert await active(harness) == []  # not long enough yet
    clock.advance(minutes=2)
    await alerts.check(services)
    await alerts.check(services)  # raised once
    (alert,) = await active(harness, chargePointId="CP1")
    assert alert["kind"] == "offline" and "more than 10 minutes" in alert["message"]
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        assert await active(harness) == []
    assert await alert_events(harness) == [
        ("alert.raised", "offline", "CP1"),
        ("alert.cleared", "offline", "CP1"),
    ]


async def test_a_boot_loop_until_the_hour_is_quiet(
    alerting: tuple[Harness, SteppedClock],
) -> None:
    harness, clock = alerting
    async with harness.charge_point("CP1") as cp:
        for _ in range(2):
            await cp.boot()
        assert await active(harness) == []  # two boots an hour: allowed
        await cp.boot()
        (alert,) = await active(harness)
        assert (alert["kind"], alert["data"]) == ("boot_loop", {"boots": 3})
        clock.advance(minutes=30)
        await alerts.check(harness.app.services)
        assert len(await active(harness)) == 1
        clock.advance(minutes=31)
        await alerts.check(harness.app.services)
        assert await active(harness) == []


async def test_a_failed_firmware_job_and_clearing_by_hand(
    alerting: tuple[Harness, SteppedClock],
) -> None:
    harness, _ = alerting
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        response = await harness.api.post(
            "/charge-points/CP1/update-firmware", json={"location": "ftp://example.com/fw.bin"}
        )
        assert response.status_code == 200, response.text
        await cp.expect_call("UpdateFirmware")
        await cp.firmware_status("Downloading")
        await cp.firmware_status("DownloadFailed")
    (alert,) = await active(harness)
    assert (alert["kind"], alert["subject"]) == ("job.failed", "firmware")
    assert "DownloadFailed" in alert["message"]
    finished = [e for e in await harness.store.events_after(0) if e.kind == "firmware.finished"]
    assert [(e.data["outcome"], e.data["status"]) for e in finished] == [
        ("Failed", "DownloadFailed")
    ]
    cleared = await harness.api.post(f"/alerts/{alert['id']}/clear", json={"reason": "replaced"})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["active"], cleared.json()["clearReason"]) == (False, "replaced")
    again = await harness.api.post(f"/alerts/{alert['id']}/clear")
    assert again.status_code == 409
    assert (await harness.api.post("/alerts/999999/clear")).status_code == 404
    assert (await harness.api.get("/alerts/999999")).status_code == 404


async def test_other_features_raise_and_clear_their_own(
    alerting: tuple[Harness, SteppedClock],
) -> None:
    harness, _ = alerting
    services = harness.app.services
    raised = await alerts.raise_alert(
        services, "security.critical", "CP7", "InvalidFirmwareSignature", subject="firmware"
    )
    assert raised is not None
    assert (
        await alerts.raise_alert(services, "security.critical", "CP7", "again", subject="firmware")
        is None
    )
    assert (await active(harness, kind="security.critical"))[0][
        "message"
    ] == "InvalidFirmwareSignature"
    assert (
        await alerts.clear_alert(
            services, "security.critical", "CP7", "resolved", subject="firmware"
        )
        is not None
    )
    assert await active(harness) == []


async def test_a_downtime_of_the_csms_does_not_count_as_offline(
    alerting: tuple[Harness, SteppedClock],
) -> None:
    """After a restart, a charge point seen long ago is offline only once the CSMS has been up
    for the limit: it could not reconnect while the CSMS was down."""
    harness, clock = alerting
    services = harness.app.services
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
    clock.advance(minutes=20)  # the CSMS was down these 20 minutes, then started
    started_at = clock.now()
    clock.advance(minutes=5)
    await alerts.check(services, started_at)
    assert await active(harness) == []
    clock.advance(minutes=6)
    await alerts.check(services, started_at)
    assert [a["kind"] for a in await active(harness)] == ["offline"]
