"""Firmware jobs (features/firmware/firmware.py, jobs.py): the typed and the generic UpdateFirmware,
the job followed through every FirmwareStatusNotification and across reboots, Idle, failures,
and the timeout sweeper."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.clock import Clock
from tests.harness import Harness, csms

from csms.features.firmware.jobs import sweep
from csms.ocppj import CallError
from csms.simulator import SimulatedChargePoint

CP = "FW-CP"
LOCATION = "ftp://firmware.example.com/fw-3.1.bin"


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    async with harness.charge_point(CP) as charge_point:
        await charge_point.boot()
        yield charge_point


async def update_firmware(
    harness: Harness, cp: SimulatedChargePoint, **body: Any
) -> dict[str, Any]:
    response = await harness.api.post(
        f"/charge-points/{CP}/update-firmware", json={"location": LOCATION, **body}
    )
    assert response.status_code == 200, response.text
    call = await cp.expect_call("UpdateFirmware")
    assert call.payload["location"] == LOCATION
    job: dict[str, Any] = response.json()
    return job


async def job_of(harness: Harness, job_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/firmware-jobs/{job_id}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


async def test_a_job_follows_its_notifications_across_reboots(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    job = await update_firmware(harness, cp, retries=2, retryInterval=30)
    assert (job["status"], job["outcome"], job["location"]) == ("Accepted", None, LOCATION)
    assert (job["retries"], job["retryInterval"], job["firmwareId"]) == (2, 30, None)
    retrieve = datetime.fromisoformat(job["retrieveDate"])
    # Deadline: the last attempt allowed (retries x retryInterval) plus the grace period.
    assert datetime.fromisoformat(job["deadline"]) == retrieve + timedelta(seconds=60 + 3600)

    await cp.firmware_status("Downloading")
    await cp.reconnect()  # the charge point reboots in the middle ...
    await cp.boot()
    await cp.firmware_status("Downloaded")
    await cp.firmware_status("Installing")
    assert (await job_of(harness, job["id"]))["status"] == "Installing"
    await cp.reconnect()  # ... and to install
    await cp.boot()
    await cp.firmware_status("Installed")

    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"], stored["reason"]) == (
        "Installed",
        "Succeeded",
        None,
    )
    assert [e["event"] for e in stored["events"]] == [
        "Requested",
        "Accepted",
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    # A charge point's jobs, newest first; a notification after success changes nothing.
    newer = await update_firmware(harness, cp)
    listed = (await harness.api.get(f"/charge-points/{CP}/firmware-jobs")).json()
    assert [j["id"] for j in listed] == [newer["id"], job["id"]]
    assert "events" not in listed[0] or listed[0]["events"] is None
    await cp.firmware_status("Installed")
    await cp.firmware_status("Downloading")
    assert (await job_of(harness, newer["id"]))["outcome"] == "Succeeded"
    assert (await job_of(harness, job["id"]))["status"] == "Installed"


async def test_idle_is_answered_and_changes_no_job(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_054: a triggered FirmwareStatusNotification Idle, with no job and with one."""
    assert await cp.firmware_status("Idle") == {}
    assert await cp.diagnostics_status("Idle") == {}
    job = await update_firmware(harness, cp)
    assert await cp.firmware_status("Idle") == {}
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"]) == ("Accepted", None)
    assert stored["events"][-1]["event"] == "Idle"
    notes = await harness.store.list_notifications(CP)
    assert [(n.kind, n.status) for n in notes] == [
        ("firmware", "Idle"),
        ("diagnostics", "Idle"),
        ("firmware", "Idle"),
    ]


@pytest.mark.parametrize(
    ("statuses", "reason"),
    [
        (["Downloading", "DownloadFailed"], "the charge point reported DownloadFailed"),
        (
            ["Downloading", "Downloaded", "Installing", "InstallationFailed"],
            "the charge point reported InstallationFailed",
        ),
    ],
)
async def test_failures_end_the_job_with_the_reason(
    harness: Harness, cp: SimulatedChargePoint, statuses: list[str], reason: str
) -> None:
    job = await update_firmware(harness, cp)
    for status in statuses:
        await cp.firmware_status(status)
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"], stored["reason"]) == (
        statuses[-1],
        "Failed",
        reason,
    )
    assert stored["finishedAt"] is not None


async def test_the_sweeper_times_out_a_silent_job_and_news_revives_it(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    services = harness.app.services
    start = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(start)
    services.clock = clock
    job = await update_firmware(
        harness, cp, retrieveDate="2000-01-01T00:00:00Z", retries=2, retryInterval=60
    )
    # A retrieveDate in the past: the window starts when it is sent.
    deadline = start + timedelta(seconds=120 + services.settings.file_job_grace)
    assert datetime.fromisoformat(job["deadline"]) == deadline

    clock.moment = deadline - timedelta(seconds=1)
    assert await sweep(services) == []
    clock.moment = deadline + timedelta(seconds=1)
    [timed_out] = await sweep(services)
    assert (timed_out.id, timed_out.outcome) == (job["id"], "TimedOut")
    assert timed_out.reason.startswith("timed out: no news from the charge point since ")
    assert "(status Accepted;" in timed_out.reason
    assert await sweep(services) == []  # once

    # Late news: the charge point is at it after all; every notification moves the deadline.
    await cp.firmware_status("Downloading")
    revived = await job_of(harness, job["id"])
    assert (revived["status"], revived["outcome"], revived["reason"]) == ("Downloading", None, None)
    assert datetime.fromisoformat(revived["deadline"]) == clock.moment + timedelta(
        seconds=services.settings.file_job_grace
    )
    await cp.firmware_status("Downloaded")
    await cp.firmware_status("Installing")
    await cp.firmware_status("Installed")
    assert (await job_of(harness, job["id"]))["outcome"] == "Succeeded"
    events = [e["event"] for e in (await job_of(harness, job["id"]))["events"]]
    assert events.count("TimedOut") == 1


@pytest.fixture
async def eager_sweeper(tmp_path: Path) -> AsyncIterator[Harness]:
    async with csms(tmp_path / "sweep.db", file_job_grace=0, file_job_sweep_interval=0.05) as h:
        yield h


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until `check()` holds, up to `timeout` s: for what the CSMS does on its own (its
    periodic tasks), which nothing on the wire announces."""
    for _ in range(int(timeout / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout} s")


async def test_the_app_runs_the_sweeper(eager_sweeper: Harness) -> None:
    harness = eager_sweeper
    async with harness.charge_point(CP) as cp:
        await cp.boot()
        job = await update_firmware(harness, cp)

        async def timed_out() -> bool:
            return (await job_of(harness, job["id"]))["outcome"] == "TimedOut"

        await eventually(timed_out)


async def test_the_generic_command_endpoint_makes_a_job_too(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    payload = {"location": LOCATION, "retrieveDate": "2030-01-01T00:00:00Z", "retries": 1}
    response = await harness.api.post(f"/charge-points/{CP}/commands/UpdateFirmware", json=payload)
    assert response.status_code == 200 and response.json() == {}
    await cp.expect_call("UpdateFirmware")
    [job] = (await harness.api.get(f"/charge-points/{CP}/firmware-jobs")).json()
    assert (job["status"], job["location"], job["retries"]) == ("Accepted", LOCATION, 1)
    assert job["retrieveDate"].startswith("2030-01-01T00:00:00")
    assert datetime.fromisoformat(job["deadline"]) == datetime(2030, 1, 1, 1, tzinfo=UTC)
    await cp.firmware_status("Downloading")
    assert (await job_of(harness, job["id"]))["status"] == "Downloading"


async def test_requests_the_api_refuses(harness: Harness, cp: SimulatedChargePoint) -> None:
    url = f"/charge-points/{CP}/update-firmware"
    for body in (
        {},
        {"location": LOCATION, "firmwareId": 1},
        {"location": LOCATION, "retrieveDate": "2030-01-01T00:00:00"},  # no time zone
        {"location": LOCATION, "retries": -1},
    ):
        assert (await harness.api.post(url, json=body)).status_code == 422, body
    missing = await harness.api.post(url, json={"firmwareId": 999})
    assert (missing.status_code, missing.json()["detail"]) == (404, "no firmware image 999")
    unknown = await harness.api.post("/charge-points/NOPE/update-firmware", json={"location": "x"})
    assert unknown.status_code == 404
    assert (await harness.api.get("/charge-points/NOPE/firmware-jobs")).status_code == 404
    assert (await harness.api.get("/firmware-jobs/999")).status_code == 404
    assert (await harness.api.get(f"/charge-points/{CP}/firmware-jobs")).json() == []
    cp.no_unexpected_calls()


async def test_a_request_that_starts_nothing_fails_its_job(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    cp.answers["UpdateFirmware"] = CallError(
        unique_id="", error_code="InternalError", error_description="busy"
    )
    response = await harness.api.post(
        f"/charge-points/{CP}/update-firmware", json={"location": LOCATION}
    )
    assert response.status_code == 502
    body = response.json()
    assert (body["errorCode"], body["job"]["outcome"]) == ("InternalError", "Failed")
    assert body["job"]["reason"] == (
        "the charge point answered with a CALLERROR: InternalError 'busy'"
    )
    await cp.expect_call("UpdateFirmware")

    await harness.api.put("/charge-points/OFFLINE", json={"registrationStatus": "Accepted"})
    offline = await harness.api.post(
        "/charge-points/OFFLINE/update-firmware", json={"location": LOCATION}
    )
    assert offline.status_code == 409
    [job] = (await harness.api.get("/charge-points/OFFLINE/firmware-jobs")).json()
    assert job["outcome"] == "Failed"
    assert job["reason"].startswith("UpdateFirmware not sent: charge point 'OFFLINE' is not")
