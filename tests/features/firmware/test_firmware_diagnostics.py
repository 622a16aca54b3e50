"""Diagnostics jobs (firmware/diagnostics.py): GetDiagnostics through the typed and the generic
endpoint, what Uploaded and UploadFailed mean given what arrived, and real uploads over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness import Harness, csms

from csms.simulator import SimulatedChargePoint

CP = "DIAG-CP"


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    async with harness.charge_point(CP, transfers=True) as charge_point:
        await charge_point.boot()
        yield charge_point


def transfers(cp: SimulatedChargePoint) -> Any:
    assert cp.transfers is not None
    return cp.transfers


async def get_diagnostics(
    harness: Harness, cp: SimulatedChargePoint, **body: Any
) -> dict[str, Any]:
    response = await harness.api.post(f"/charge-points/{CP}/get-diagnostics", json=body)
    assert response.status_code == 200, response.text
    await cp.expect_call("GetDiagnostics")
    job: dict[str, Any] = response.json()
    return job


async def job_of(harness: Harness, job_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/diagnostics-jobs/{job_id}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


async def test_uploaded_to_the_csms_means_a_whole_file_arrived(harness: Harness) -> None:
    async with harness.charge_point(CP) as cp:  # reports without uploading anything
        await cp.boot()
        job = await get_diagnostics(harness, cp)
        await cp.diagnostics_status("Uploading")
        await cp.diagnostics_status("Uploaded")
        stored = await job_of(harness, job["id"])
        assert (stored["status"], stored["outcome"], stored["reason"], stored["files"]) == (
            "Uploaded",
            "Failed",
            "the charge point reported Uploaded but no whole file arrived",
            [],
        )
        other = await get_diagnostics(harness, cp)
        await cp.diagnostics_status("UploadFailed")
        assert (await job_of(harness, other["id"]))["reason"] == (
            "the charge point reported UploadFailed; nothing arrived"
        )


async def test_an_upload_elsewhere_is_taken_at_the_charge_point_s_word(
    harness: Harness,
) -> None:
    async with harness.charge_point(CP) as cp:
        await cp.boot()
        job = await get_diagnostics(
            harness,
            cp,
            location="ftp://user:pw@logs.example.com/incoming/",
            startTime="2025-01-01T00:00:00Z",
            stopTime="2025-01-02T00:00:00+01:00",
        )
        assert job["location"] == "ftp://user:pw@logs.example.com/incoming/"
        assert (job["startTime"], job["stopTime"]) == (
            "2025-01-01T00:00:00Z",
            "2025-01-01T23:00:00Z",
        )
        await cp.diagnostics_status("Uploading")
        await cp.diagnostics_status("Uploaded")
        stored = await job_of(harness, job["id"])
        assert (stored["status"], stored["outcome"]) == ("Uploaded", "Succeeded")
        failed = await get_diagnostics(harness, cp, location="ftp://logs.example.com/")
        await cp.diagnostics_status("UploadFailed")
        assert (await job_of(harness, failed["id"]))["reason"] == (
            "the charge point reported UploadFailed"
        )


async def test_no_file_name_no_upload(harness: Harness, cp: SimulatedChargePoint) -> None:
    """Spec 6.26: no fileName, no diagnostics available; the job waits (some charge points
    upload all the same) and times out if nothing comes."""
    cp.answers["GetDiagnostics"] = {}
    job = await get_diagnostics(harness, cp)
    assert (job["status"], job["fileName"], job["outcome"]) == ("Accepted", None, None)
    assert "currentTime" in await cp.heartbeat()
    cp.no_unexpected_calls()
    assert [e["event"] for e in (await job_of(harness, job["id"]))["events"]] == [
        "Requested",
        "Accepted",
    ]


async def test_a_real_upload_over_http(harness: Harness, cp: SimulatedChargePoint) -> None:
    job = await get_diagnostics(harness, cp, protocol="http")
    assert await transfers(cp).finished() == "Uploaded"
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"]) == ("Uploaded", "Succeeded")
    [file] = stored["files"]
    assert (file["fileName"], file["protocol"], file["complete"]) == (
        f"diagnostics-{CP}.zip",
        "http",
        True,
    )
    download = await harness.api.get(f"/diagnostics-jobs/{job['id']}/files/{file['fileName']}")
    assert download.content == transfers(cp).diagnostics


async def test_an_http_upload_that_breaks_off_fails_the_job(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    transfers(cp).upload_break_after = 100
    job = await get_diagnostics(harness, cp, protocol="http", retries=1, retryInterval=0)
    assert await transfers(cp).finished() == "UploadFailed"
    assert len(transfers(cp).errors) == 2  # retries + 1 attempts

    # The CSMS learns of the broken transfer when the connection drops, which may be after
    # the UploadFailed: wait for it.
    for _ in range(250):
        stored = await job_of(harness, job["id"])
        if stored["reason"] and stored["reason"].startswith("upload incomplete"):
            break
        await asyncio.sleep(0.02)
    assert (stored["status"], stored["outcome"]) == ("UploadFailed", "Failed")
    assert stored["reason"].startswith("upload incomplete")
    assert [f["complete"] for f in stored["files"]] == [False]


@pytest.fixture
async def without_ftp(tmp_path: Path) -> AsyncIterator[Harness]:
    async with csms(tmp_path / "noftp.db", ftp_port=None) as running:
        yield running


async def test_without_ftp_only_http_locations(without_ftp: Harness) -> None:
    harness = without_ftp
    assert harness.app.ftp_port is None
    async with harness.charge_point(CP) as cp:
        await cp.boot()
        refused = await harness.api.post(f"/charge-points/{CP}/get-diagnostics", json={})
        assert refused.status_code == 409
        assert refused.json()["detail"] == (
            "no FTP upload location: the CSMS does not receive files"
        )
        job = await get_diagnostics(harness, cp, protocol="http")
        assert job["location"].startswith("http://")
        cp.no_unexpected_calls()


async def test_the_generic_command_endpoint_makes_a_job_too(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    payload = {"location": "ftp://127.0.0.1:1/", "stopTime": "2025-01-01T00:00:00Z"}
    response = await harness.api.post(f"/charge-points/{CP}/commands/GetDiagnostics", json=payload)
    assert response.json() == {"fileName": f"diagnostics-{CP}.zip"}
    await cp.expect_call("GetDiagnostics")
    assert await transfers(cp).finished() == "UploadFailed"  # nothing listens there
    [job] = (await harness.api.get(f"/charge-points/{CP}/diagnostics-jobs")).json()
    assert (job["fileName"], job["location"], job["stopTime"]) == (
        f"diagnostics-{CP}.zip",
        "ftp://127.0.0.1:1/",
        "2025-01-01T00:00:00Z",
    )
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"]) == ("UploadFailed", "Failed")
    # Accepted by the answer to the generic command, before the charge point's notifications
    # (which may come first on the wire: the upload fails at once here).
    assert stored["events"][0]["event"] == "Accepted", stored["events"]
    assert "generic command" in stored["events"][0]["detail"], stored["events"]
