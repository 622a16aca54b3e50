"""GetLog jobs in the field (features/security/logs.py): uploads over HTTP and FTP to the
CSMS, an upload that breaks off, the failure statuses, lost and late notifications, a second
GetLog cancelling the first, the generic command, and ExtendedTriggerMessage
LogStatusNotification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.harness import Harness

from csms.ocppj import Call
from csms.simulator import SimulatedChargePoint

CP = "LOG-CP"


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    async with harness.charge_point(CP, connectors=1, transfers=True) as charge_point:
        await charge_point.boot()
        yield charge_point


def transfers(cp: SimulatedChargePoint) -> Any:
    assert cp.transfers is not None
    return cp.transfers


async def get_log(harness: Harness, cp: SimulatedChargePoint, **body: Any) -> dict[str, Any]:
    response = await harness.api.post(
        f"/charge-points/{CP}/get-log", json={"logType": "SecurityLog", "retries": 0, **body}
    )
    assert response.status_code == 200, response.text
    await cp.expect_call("GetLog")
    job: dict[str, Any] = response.json()
    return job


async def job_of(harness: Harness, job_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/diagnostics-jobs/{job_id}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


async def test_a_diagnostics_log_over_http(harness: Harness, cp: SimulatedChargePoint) -> None:
    job = await get_log(
        harness,
        cp,
        logType="DiagnosticsLog",
        protocol="http",
        oldestTimestamp="2026-01-01T00:00:00Z",
    )
    assert "/files/diagnostics/" in job["location"] and job["variant"] == "DiagnosticsLog"
    assert job["startTime"] == "2026-01-01T00:00:00Z"
    assert await transfers(cp).finished() == "Uploaded"
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"]) == ("Uploaded", "Succeeded")
    [file] = stored["files"]
    assert (file["protocol"], file["size"]) == ("http", len(transfers(cp).diagnostics))
    # A log job is no GetDiagnostics job.
    assert (await harness.api.get(f"/charge-points/{CP}/diagnostics-jobs")).json() == []


async def test_an_upload_that_breaks_off_fails_as_incomplete(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    transfers(cp).upload_break_after = 1000
    job = await get_log(harness, cp)
    assert await transfers(cp).finished() == "UploadFailure"
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"]) == ("UploadFailure", "Failed")
    assert stored["reason"].startswith("upload incomplete")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("BadMessage", "the charge point reported BadMessage"),
        ("NotSupportedOperation", "the charge point reported NotSupportedOperation"),
        ("PermissionDenied", "the charge point reported PermissionDenied"),
        ("UploadFailure", "the charge point reported UploadFailure; nothing arrived"),
        ("Uploaded", "the charge point reported Uploaded but no whole file arrived"),
    ],
)
async def test_each_failure_status_fails_the_job(
    harness: Harness, cp: SimulatedChargePoint, status: str, reason: str
) -> None:
    cp.answers["GetLog"] = {"status": "Accepted"}  # no filename: the simulator uploads nothing
    job = await get_log(harness, cp)
    await cp.call("LogStatusNotification", {"status": status, "requestId": job["requestId"]})
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"]) == (status, "Failed")
    assert stored["reason"].startswith(reason)


async def test_lost_uploading_and_a_late_replay(harness: Harness, cp: SimulatedChargePoint) -> None:
    """Uploading never arrives; Uploaded ends the job; Uploading replayed late changes nothing."""
    transfers(cp).lose_statuses = {"Uploading"}
    job = await get_log(harness, cp)
    assert await transfers(cp).finished() == "Uploaded"
    await cp.call("LogStatusNotification", {"status": "Uploading", "requestId": job["requestId"]})
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"]) == ("Uploaded", "Succeeded")


async def test_a_second_get_log_cancels_the_first(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    cp.answers["GetLog"] = {"status": "Accepted"}
    first = await get_log(harness, cp)
    cp.answers["GetLog"] = {"status": "AcceptedCanceled", "filename": "second.log"}
    second = await get_log(harness, cp)
    canceled = await job_of(harness, first["id"])
    assert canceled["outcome"] == "Failed"
    assert (
        canceled["reason"] == f"canceled by the charge point for the GetLog of job {second['id']}"
    )
    assert (second["outcome"], second["fileName"]) == (None, "second.log")


async def test_rejected(harness: Harness, cp: SimulatedChargePoint) -> None:
    cp.answers["GetLog"] = {"status": "Rejected"}
    job = await get_log(harness, cp)
    assert (job["outcome"], job["reason"]) == ("Failed", "the charge point answered Rejected")


async def test_the_generic_command_gets_a_job(harness: Harness, cp: SimulatedChargePoint) -> None:
    cp.answers["GetLog"] = {"status": "Accepted", "filename": "x.log"}
    payload = {
        "logType": "DiagnosticsLog",
        "requestId": 31,
        "log": {"remoteLocation": "ftp://logs.example.com/"},
    }
    response = await harness.api.post(f"/charge-points/{CP}/commands/GetLog", json=payload)
    assert response.status_code == 200, response.text
    await cp.call("LogStatusNotification", {"status": "Uploaded", "requestId": 31})
    [job] = (await harness.api.get(f"/charge-points/{CP}/log-jobs")).json()
    assert (job["requestId"], job["variant"], job["outcome"]) == (31, "DiagnosticsLog", "Succeeded")


async def test_extended_trigger_log_status_notification(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """The last status again while uploading; Idle once uploaded (whitepaper N01)."""
    job = await get_log(harness, cp)
    assert await transfers(cp).finished() == "Uploaded"
    response = await harness.api.post(
        f"/charge-points/{CP}/extended-trigger",
        json={"requestedMessage": "LogStatusNotification"},
    )
    assert response.status_code == 200, response.text
    [arrival] = response.json()["messages"]
    assert arrival["payload"] == {"status": "Idle"}
    stored = await job_of(harness, job["id"])
    assert stored["outcome"] == "Succeeded" and stored["events"][-1]["event"] == "Uploaded"
    calls = [e.frame for e in cp.log if isinstance(e.frame, Call)]
    assert calls[-1].action == "LogStatusNotification"
