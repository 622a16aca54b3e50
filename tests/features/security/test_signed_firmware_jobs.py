"""Signed firmware jobs in the field (features/security/signed_firmware.py, docs/signed-
firmware.md): a reboot mid-install, status notifications lost or replayed late, a second
SignedUpdateFirmware while one runs, refusals, the generic command, and the Pending charge point
answering an ExtendedTriggerMessage. The charge point downloads and verifies for real."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.firmware_signing import FirmwareSigner, make_signer
from tests.harness import Harness

from csms.features.firmware.jobs import sweep
from csms.ocppj import Call
from csms.simulator import CallErrorReceived, SimulatedChargePoint

CP = "SFW-CP"
FIRMWARE = b"signed firmware 4.2\n" * 400


@dataclass
class Clock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


@pytest.fixture(scope="module")
def signer() -> FirmwareSigner:
    return make_signer("ec")


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    async with harness.charge_point(CP, connectors=1, transfers=True) as charge_point:
        await charge_point.boot()
        yield charge_point


def transfers(cp: SimulatedChargePoint) -> Any:
    assert cp.transfers is not None
    return cp.transfers


async def signed_image(harness: Harness, signer: FirmwareSigner) -> dict[str, Any]:
    response = await harness.api.post(
        "/firmware",
        files={"file": ("fw-4.2.bin", FIRMWARE)},
        data={"signingCertificate": signer.certificate_pem, "signature": signer.sign(FIRMWARE)},
    )
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()
    return image


async def send(harness: Harness, cp: SimulatedChargePoint, **body: Any) -> dict[str, Any]:
    response = await harness.api.post(f"/charge-points/{CP}/signed-update-firmware", json=body)
    assert response.status_code == 200, response.text
    await cp.expect_call("SignedUpdateFirmware")
    job: dict[str, Any] = response.json()
    return job


async def job_of(harness: Harness, job_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/firmware-jobs/{job_id}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def reported(cp: SimulatedChargePoint, start: int = 0) -> list[str]:
    return [
        entry.frame.payload["status"]
        for entry in cp.log[start:]
        if entry.direction == "sent"
        and isinstance(entry.frame, Call)
        and entry.frame.action == "SignedFirmwareStatusNotification"
    ]


async def test_a_reboot_mid_install_ends_installed(
    harness: Harness, cp: SimulatedChargePoint, signer: FirmwareSigner
) -> None:
    """The power goes while installing: no InstallRebooting, the connection drops without a
    close; the charge point boots and reports Installed. The job, in the store, follows it."""
    transfers(cp).reboot_mid_install = True
    image = await signed_image(harness, signer)
    job = await send(harness, cp, firmwareId=image["id"])
    assert await transfers(cp).finished() == "Installed"
    assert reported(cp) == [
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "Installed",
    ]
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"]) == ("Installed", "Succeeded")


async def test_lost_notifications_leave_the_job_to_what_arrived(
    harness: Harness, cp: SimulatedChargePoint, signer: FirmwareSigner
) -> None:
    """Downloaded, SignatureVerified and InstallRebooting never arrive: the job moves on what
    does, and Installed ends it."""
    transfers(cp).lose_statuses = {"Downloaded", "SignatureVerified", "InstallRebooting"}
    image = await signed_image(harness, signer)
    job = await send(harness, cp, firmwareId=image["id"])
    assert await transfers(cp).finished() == "Installed"
    assert reported(cp) == ["Downloading", "Installing", "Installed"]
    stored = await job_of(harness, job["id"])
    assert (stored["status"], stored["outcome"]) == ("Installed", "Succeeded")
    events = [e["event"] for e in stored["events"] if e["event"] not in ("Accepted", "Download")]
    assert events == ["Requested", "Downloading", "Installing", "Installed"]


async def test_a_late_replay_goes_to_its_own_job_and_changes_no_success(
    harness: Harness, cp: SimulatedChargePoint, signer: FirmwareSigner
) -> None:
    """A notification of the first update replayed late, while a second runs: it names its
    requestId, so it lands on the first job (which it cannot undo) and not on the second."""
    image = await signed_image(harness, signer)
    first = await send(harness, cp, firmwareId=image["id"])
    assert await transfers(cp).finished() == "Installed"
    second = await send(
        harness,
        cp,
        firmwareId=image["id"],
        retrieveDateTime=(datetime.now(UTC) + timedelta(seconds=30)).isoformat(),
    )
    # The second waits for its retrieve time; the first's Downloading comes again, late.
    await cp.call(
        "SignedFirmwareStatusNotification",
        {"status": "DownloadFailed", "requestId": first["requestId"]},
    )
    assert (await job_of(harness, first["id"]))["outcome"] == "Succeeded"
    later = await job_of(harness, second["id"])
    assert (later["status"], later["outcome"]) == ("Accepted", None)


async def test_a_second_update_cancels_the_first(
    harness: Harness, cp: SimulatedChargePoint, signer: FirmwareSigner
) -> None:
    """L01.FR.26: a SignedUpdateFirmware while one is scheduled: the charge point answers
    AcceptedCanceled, the CSMS ends the first job as canceled and follows the second."""
    image = await signed_image(harness, signer)
    install_later = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()
    first = await send(harness, cp, firmwareId=image["id"], installDateTime=install_later)
    for _ in range(100):
        if transfers(cp).signed_status == "InstallScheduled":
            break
        await asyncio.sleep(0.05)
    assert transfers(cp).signed_status == "InstallScheduled"
    second = await send(harness, cp, firmwareId=image["id"])
    assert second["status"] != "Requested"
    assert await transfers(cp).finished() == "Installed"

    canceled = await job_of(harness, first["id"])
    assert (canceled["status"], canceled["outcome"]) == ("InstallScheduled", "Failed")
    assert canceled["reason"] == (
        f"canceled by the charge point for the SignedUpdateFirmware of job {second['id']}"
    )
    done = await job_of(harness, second["id"])
    assert (done["status"], done["outcome"]) == ("Installed", "Succeeded")
    assert "SignedUpdateFirmware.conf AcceptedCanceled" in [e["detail"] for e in done["events"]]
    listed = await harness.api.get(f"/charge-points/{CP}/signed-firmware-jobs")
    assert [job["id"] for job in listed.json()] == [second["id"], first["id"]]
    plain = await harness.api.get(f"/charge-points/{CP}/firmware-jobs")
    assert plain.json() == []


@pytest.mark.parametrize("status", ["Rejected", "InvalidCertificate", "RevokedCertificate"])
async def test_a_refused_request_fails_the_job(
    harness: Harness, cp: SimulatedChargePoint, signer: FirmwareSigner, status: str
) -> None:
    cp.answers["SignedUpdateFirmware"] = {"status": status}
    image = await signed_image(harness, signer)
    job = await send(harness, cp, firmwareId=image["id"])
    assert (job["outcome"], job["reason"]) == ("Failed", f"the charge point answered {status}")


async def test_the_generic_command_gets_a_job_with_its_own_request_id(
    harness: Harness, cp: SimulatedChargePoint, signer: FirmwareSigner
) -> None:
    payload = {
        "requestId": 777,
        "firmware": {
            "location": "https://firmware.example.com/fw.bin",
            "retrieveDateTime": "2020-01-01T00:00:00Z",
            "signingCertificate": signer.certificate_pem,
            "signature": signer.sign(b"x"),
        },
    }
    cp.answers["SignedUpdateFirmware"] = {"status": "Accepted"}
    response = await harness.api.post(
        f"/charge-points/{CP}/commands/SignedUpdateFirmware", json=payload
    )
    assert response.status_code == 200, response.text
    await cp.call("SignedFirmwareStatusNotification", {"status": "Downloading", "requestId": 777})
    [job] = (await harness.api.get(f"/charge-points/{CP}/signed-firmware-jobs")).json()
    assert (job["requestId"], job["status"], job["location"]) == (
        777,
        "Downloading",
        "https://firmware.example.com/fw.bin",
    )


async def test_a_notification_without_a_job_is_answered(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    assert (
        await cp.call(
            "SignedFirmwareStatusNotification", {"status": "Installed", "requestId": 4242}
        )
        == {}
    )
    assert await cp.call("SignedFirmwareStatusNotification", {"status": "Idle"}) == {}


async def test_a_pending_charge_point_may_send_what_an_extended_trigger_asked_for(
    harness: Harness,
) -> None:
    """Spec 4.2 with whitepaper 6.16: while Pending, the SignedFirmwareStatusNotification an
    ExtendedTriggerMessage(FirmwareStatusNotification) asked for is taken; unasked, refused."""
    response = await harness.api.put(
        "/charge-points/PENDING-CP", json={"registrationStatus": "Pending"}
    )
    assert response.status_code == 200, response.text
    async with harness.charge_point("PENDING-CP", transfers=True) as cp:
        assert (await cp.boot())["status"] == "Pending"
        response = await harness.api.post(
            "/charge-points/PENDING-CP/extended-trigger",
            json={"requestedMessage": "FirmwareStatusNotification"},
            params={"wait": 5},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["complete"]) == ("Accepted", True)
        [arrival] = body["messages"]
        assert (arrival["action"], arrival["payload"]) == (
            "SignedFirmwareStatusNotification",
            {"status": "Idle"},
        )
        # Asked for once: the next one, and anything not asked for, is refused while Pending.
        for action, payload in (
            ("SignedFirmwareStatusNotification", {"status": "Idle"}),
            ("LogStatusNotification", {"status": "Idle"}),
        ):
            with pytest.raises(CallErrorReceived) as refused:
                await cp.call(action, payload)
            assert refused.value.error.error_code == "SecurityError"


async def test_a_silent_signed_job_times_out_and_its_late_news_revives_it(
    harness: Harness, cp: SimulatedChargePoint, signer: FirmwareSigner
) -> None:
    """Every status lost: the sweeper times the job out at its deadline (the window of its
    retries plus file_job_grace); the InstallRebooting that comes late, by its requestId,
    revives it, moves the deadline, and Installed ends it."""
    services = harness.app.services
    start = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(start)
    services.clock = clock
    cp.answers["SignedUpdateFirmware"] = {"status": "Accepted"}  # and then nothing
    job = await send(
        harness,
        cp,
        location="https://firmware.example.com/fw.bin",
        signingCertificate=signer.certificate_pem,
        signature=signer.sign(FIRMWARE),
        retries=1,
        retryInterval=60,
    )
    deadline = start + timedelta(seconds=60 + services.settings.file_job_grace)
    assert datetime.fromisoformat(job["deadline"]) == deadline
    clock.moment = deadline + timedelta(seconds=1)
    [timed_out] = await sweep(services)
    assert (timed_out.id, timed_out.outcome) == (job["id"], "TimedOut")

    request_id = job["requestId"]
    await cp.call(
        "SignedFirmwareStatusNotification", {"status": "InstallRebooting", "requestId": request_id}
    )
    revived = await job_of(harness, job["id"])
    assert (revived["status"], revived["outcome"]) == ("InstallRebooting", None)
    assert datetime.fromisoformat(revived["deadline"]) == clock.moment + timedelta(
        seconds=services.settings.file_job_grace
    )
    await cp.call(
        "SignedFirmwareStatusNotification", {"status": "Installed", "requestId": request_id}
    )
    assert (await job_of(harness, job["id"]))["outcome"] == "Succeeded"
