"""Firmware Management: OCTT TC_044_1, TC_044_2, TC_044_3 (test-case document 3.15) and
TC_045_1, TC_045_2 (3.16); spec 4.4, 4.5, 5.9, 5.19, 8, errata 3.12/3.31/3.47/3.49.

The charge point transfers for real: it downloads the image the CSMS hosts over HTTP through
the signed link of the job, and uploads its diagnostics to the CSMS's FTP server with the job's
credentials (simulator/transfers.py). Each case then checks the frames in order, what the CSMS
recorded of the job, and what arrived."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from csms.ocppj import Call
from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CHARGE_POINT_ID,
    CONNECTORS,
    HEARTBEAT_INTERVAL,
    MODEL,
    VENDOR,
    Wire,
    booted,
    no_unsolicited_calls,
    provision_id_tags,
    register,
)
from tests.harness import Harness, csms

FIRMWARE = b"\x7fFIRMWARE 2.0\n" + bytes(range(256)) * 64
EVERY_CONNECTOR = ["CP→ StatusNotification"] * (CONNECTORS + 1)


@pytest.fixture
def cp_options() -> dict[str, Any]:
    """The test charge point transfers files for real."""
    return {"transfers": True}


def transfers(cp: SimulatedChargePoint) -> Any:
    assert cp.transfers is not None
    return cp.transfers


def statuses(cp: SimulatedChargePoint, wire: Wire, action: str) -> list[str]:
    """The status of every `action` the charge point sent since the mark, in order."""
    return [
        frame.payload["status"]
        for entry in cp.log[wire.start :]
        if entry.direction == "sent"
        and isinstance(frame := entry.frame, Call)
        and frame.action == action
    ]


async def upload_image(harness: Harness, content: bytes = FIRMWARE) -> dict[str, Any]:
    response = await harness.api.post(
        "/firmware",
        files={"file": ("fw-2.0.bin", content, "application/octet-stream")},
        data={"description": "2.0"},
    )
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()
    return image


async def update_firmware(
    harness: Harness, cp: SimulatedChargePoint, image: dict[str, Any]
) -> tuple[dict[str, Any], Call]:
    """[Manual action] the operator has the CSMS send UpdateFirmware for the hosted image."""
    response = await harness.api.post(
        f"/charge-points/{CHARGE_POINT_ID}/update-firmware",
        json={"firmwareId": image["id"], "retries": 1, "retryInterval": 0},
    )
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    call = await cp.expect_call("UpdateFirmware")
    # Step 1: the location is the firmware URL of the job, retrieveDate present.
    assert call.payload["location"] == job["location"]
    assert call.payload["location"].startswith(f"http://127.0.0.1:{harness.app.http_port}/files/")
    assert call.payload["location"].endswith("/fw-2.0.bin")
    assert set(call.payload) == {"location", "retrieveDate", "retries", "retryInterval"}
    # Answered: Accepted, or already further (the charge point started at once).
    assert job["status"] != "Requested" and job["firmwareId"] == image["id"]
    return job, call


async def job_of(harness: Harness, kind: str, job_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/{kind}-jobs/{job_id}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


async def test_tc_044_1_firmware_update_download_and_install(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_044_1_CSMS (3.15.1): UpdateFirmware, then Downloading, Downloaded, every connector
    Unavailable, Installing, a reboot (BootNotification Accepted, every connector Available)
    and Installed, each answered. The job survives the reboot and ends Succeeded."""
    notes_before = len(await harness.store.list_notifications(CHARGE_POINT_ID))
    image = await upload_image(harness)
    wire = Wire(cp)

    job, _ = await update_firmware(harness, cp, image)
    assert await transfers(cp).finished() == "Installed"

    assert transfers(cp).firmware == FIRMWARE  # really downloaded, whole
    assert wire.calls() == [
        "CS→ UpdateFirmware",
        "CP→ FirmwareStatusNotification",
        "CP→ FirmwareStatusNotification",
        *EVERY_CONNECTOR,
        "CP→ FirmwareStatusNotification",
        "CP→ BootNotification",
        *EVERY_CONNECTOR,
        "CP→ FirmwareStatusNotification",
    ]
    assert statuses(cp, wire, "FirmwareStatusNotification") == [
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    assert statuses(cp, wire, "StatusNotification") == ["Unavailable"] * (CONNECTORS + 1) + [
        "Available"
    ] * (CONNECTORS + 1)
    assert cp.boot_response is not None and cp.boot_response["status"] == "Accepted"
    assert cp.boot_response["interval"] == HEARTBEAT_INTERVAL

    stored = await job_of(harness, "firmware", job["id"])
    assert (stored["status"], stored["outcome"], stored["reason"]) == (
        "Installed",
        "Succeeded",
        None,
    )
    assert stored["finishedAt"] is not None
    events = [event["event"] for event in stored["events"]]
    # (The answer's processing and the first notification may be recorded in either order.)
    assert events[0] == "Requested" and "Accepted" in events
    assert [e for e in events if e not in ("Requested", "Accepted")] == [
        "Downloading",
        "Download",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    notes = (await harness.store.list_notifications(CHARGE_POINT_ID))[notes_before:]
    assert [(n.kind, n.status) for n in notes] == [
        ("firmware", status) for status in ("Downloading", "Downloaded", "Installing", "Installed")
    ]
    await no_unsolicited_calls(cp)


@pytest.fixture
async def expired_links(tmp_path: Path) -> AsyncIterator[Harness]:
    """A CSMS whose firmware links have expired by the time the charge point uses them."""
    async with csms(
        tmp_path / "csms.db",
        certification_mode=True,
        heartbeat_interval=HEARTBEAT_INTERVAL,
        file_link_ttl=-60,
    ) as running:
        yield running


async def test_tc_044_2_firmware_update_download_failed(expired_links: Harness) -> None:
    """TC_044_2_CSMS (3.15.2): the download fails (here: the link the charge point got has
    expired, so the CSMS refuses it with 403); Downloading then DownloadFailed, both answered.
    The job fails with the refusal as its reason."""
    harness = expired_links
    await provision_id_tags(harness)
    await register(harness, CHARGE_POINT_ID)
    async with harness.charge_point(
        CHARGE_POINT_ID, connectors=CONNECTORS, vendor=VENDOR, model=MODEL, transfers=True
    ) as cp:
        await booted(cp)
        image = await upload_image(harness)
        wire = Wire(cp)

        job, _ = await update_firmware(harness, cp, image)
        assert await transfers(cp).finished() == "DownloadFailed"

        assert wire.calls() == [
            "CS→ UpdateFirmware",
            "CP→ FirmwareStatusNotification",
            "CP→ FirmwareStatusNotification",
        ]
        assert statuses(cp, wire, "FirmwareStatusNotification") == [
            "Downloading",
            "DownloadFailed",
        ]
        # Both attempts (retries 1) were refused with the reason.
        assert len(transfers(cp).errors) == 2
        assert all("403" in error and "link expired at" in error for error in transfers(cp).errors)
        assert transfers(cp).firmware is None

        stored = await job_of(harness, "firmware", job["id"])
        assert (stored["status"], stored["outcome"]) == ("DownloadFailed", "Failed")
        assert stored["reason"].startswith("download refused: link expired at ")
        events = [event["event"] for event in stored["events"]]
        assert events.count("DownloadRefused") >= 1 and events[-1] == "DownloadFailed"
        await no_unsolicited_calls(cp)


async def test_tc_044_3_firmware_update_installation_failed(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_044_3_CSMS (3.15.3): downloaded, installing, rebooted, then InstallationFailed; every
    message answered, the job (kept across the reboot) fails with that reason."""
    transfers(cp).install_succeeds = False
    image = await upload_image(harness)
    wire = Wire(cp)

    job, _ = await update_firmware(harness, cp, image)
    assert await transfers(cp).finished() == "InstallationFailed"

    assert wire.calls() == [
        "CS→ UpdateFirmware",
        "CP→ FirmwareStatusNotification",
        "CP→ FirmwareStatusNotification",
        *EVERY_CONNECTOR,
        "CP→ FirmwareStatusNotification",
        "CP→ BootNotification",
        *EVERY_CONNECTOR,
        "CP→ FirmwareStatusNotification",
    ]
    assert statuses(cp, wire, "FirmwareStatusNotification") == [
        "Downloading",
        "Downloaded",
        "Installing",
        "InstallationFailed",
    ]
    assert statuses(cp, wire, "StatusNotification")[-(CONNECTORS + 1) :] == ["Available"] * (
        CONNECTORS + 1
    )
    stored = await job_of(harness, "firmware", job["id"])
    assert (stored["status"], stored["outcome"], stored["reason"]) == (
        "InstallationFailed",
        "Failed",
        "the charge point reported InstallationFailed",
    )
    await no_unsolicited_calls(cp)


async def get_diagnostics(harness: Harness, cp: SimulatedChargePoint) -> dict[str, Any]:
    """[Manual action] the operator has the CSMS send GetDiagnostics, to upload to its FTP."""
    response = await harness.api.post(
        f"/charge-points/{CHARGE_POINT_ID}/get-diagnostics",
        json={"protocol": "ftp", "retries": 0, "startTime": "2025-01-01T00:00:00Z"},
    )
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    call = await cp.expect_call("GetDiagnostics")
    assert call.payload == {
        "location": job["location"],
        "retries": 0,
        "startTime": "2025-01-01T00:00:00.000Z",
    }
    # Spec 8.2: ftp://user:password@host:port/, the user and password of this job.
    assert re.fullmatch(
        rf"ftp://diag{job['id']}:[\w-]{{24}}@127\.0\.0\.1:{harness.app.ftp_port}/", job["location"]
    )
    assert job["status"] != "Requested"
    assert job["fileName"] == f"diagnostics-{CHARGE_POINT_ID}.zip"
    return job


async def test_tc_045_1_get_diagnostics(harness: Harness, cp: SimulatedChargePoint) -> None:
    """TC_045_1_CSMS (3.16.1): GetDiagnostics with the CSMS's FTP location; Uploading then
    Uploaded, answered; the file the charge point uploaded is there, whole, downloadable."""
    wire = Wire(cp)
    job = await get_diagnostics(harness, cp)
    assert await transfers(cp).finished() == "Uploaded"

    assert wire.calls() == [
        "CS→ GetDiagnostics",
        "CP→ DiagnosticsStatusNotification",
        "CP→ DiagnosticsStatusNotification",
    ]
    assert statuses(cp, wire, "DiagnosticsStatusNotification") == ["Uploading", "Uploaded"]

    stored = await job_of(harness, "diagnostics", job["id"])
    assert (stored["status"], stored["outcome"], stored["reason"]) == (
        "Uploaded",
        "Succeeded",
        None,
    )
    name = f"diagnostics-{CHARGE_POINT_ID}.zip"
    [file] = stored["files"]
    assert (file["fileName"], file["size"], file["complete"], file["protocol"]) == (
        name,
        len(transfers(cp).diagnostics),
        True,
        "ftp",
    )
    download = await harness.api.get(f"/diagnostics-jobs/{job['id']}/files/{name}")
    assert download.status_code == 200
    assert download.content == transfers(cp).diagnostics
    await no_unsolicited_calls(cp)


async def test_tc_045_2_get_diagnostics_upload_failed(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_045_2_CSMS (3.16.2): the upload breaks off (ABOR in the middle of the FTP transfer);
    Uploading then UploadFailed, answered. The job fails as "upload incomplete", the partial
    file kept and marked incomplete."""
    transfers(cp).upload_break_after = 5000
    wire = Wire(cp)
    job = await get_diagnostics(harness, cp)
    assert await transfers(cp).finished() == "UploadFailed"

    assert wire.calls() == [
        "CS→ GetDiagnostics",
        "CP→ DiagnosticsStatusNotification",
        "CP→ DiagnosticsStatusNotification",
    ]
    assert statuses(cp, wire, "DiagnosticsStatusNotification") == ["Uploading", "UploadFailed"]

    stored = await job_of(harness, "diagnostics", job["id"])
    assert (stored["status"], stored["outcome"]) == ("UploadFailed", "Failed")
    assert stored["reason"].startswith("upload incomplete")
    [file] = stored["files"]
    assert file["complete"] is False and file["size"] <= 5000
    assert "UploadIncomplete" in [event["event"] for event in stored["events"]]
    # The charge point carries on as normal (expected behaviour of the case).
    assert "currentTime" in await cp.heartbeat()
    await no_unsolicited_calls(cp)
