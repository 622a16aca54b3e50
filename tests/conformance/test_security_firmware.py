"""Security, firmware and logs: OCTT TC_079 (Get Security Log, test-case document 3.21.2),
TC_080 (Secure Firmware Update) and TC_081 (Secure Firmware Update - Invalid Signature,
3.21.3); security whitepaper 4 (L01), N01, messages 5.9-5.14, 5.19-5.22.

The charge point transfers for real: it downloads the signed image the CSMS hosts through the
job's link and checks its signature with the signing certificate's key, and uploads its security
log to the CSMS's FTP server with the job's credentials (simulator/signed_firmware.py). Each
case checks the frames in order, what the CSMS recorded of the job, and what arrived."""

from __future__ import annotations

import re
from typing import Any

import pytest

from csms.ocppj import Call
from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import CHARGE_POINT_ID, CONNECTORS, Wire, no_unsolicited_calls
from tests.conformance.test_firmware import job_of, transfers
from tests.firmware_signing import FirmwareSigner, make_signer
from tests.harness import Harness

FIRMWARE = b"\x7fSIGNED FIRMWARE 3.0\n" + bytes(range(256)) * 48
EVERY_CONNECTOR = ["CP→ StatusNotification"] * (CONNECTORS + 1)
# The FirmwareUpdated security event (step 15, whitepaper L01.FR.02 for the invalid signature).
SECURITY_EVENT = ["CP→ SecurityEventNotification"]


@pytest.fixture
def cp_options() -> dict[str, Any]:
    """The test charge point transfers files for real."""
    return {"transfers": True}


@pytest.fixture(scope="module")
def signer() -> FirmwareSigner:
    """<Configured signingCertificate> and the manufacturer's key that signs the image."""
    return make_signer("ec")


def sent_calls(cp: SimulatedChargePoint, wire: Wire, action: str) -> list[dict[str, Any]]:
    """The payload of every `action` the charge point sent since the mark, in order."""
    return [
        frame.payload
        for entry in cp.log[wire.start :]
        if entry.direction == "sent"
        and isinstance(frame := entry.frame, Call)
        and frame.action == action
    ]


async def upload_signed_image(
    harness: Harness, signer: FirmwareSigner, *, signature: str | None = None
) -> dict[str, Any]:
    response = await harness.api.post(
        "/firmware",
        files={"file": ("fw-3.0-signed.bin", FIRMWARE, "application/octet-stream")},
        data={
            "description": "3.0 signed",
            "signingCertificate": signer.certificate_pem,
            "signature": signature or signer.sign(FIRMWARE),
        },
    )
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()
    return image


async def signed_update_firmware(
    harness: Harness, cp: SimulatedChargePoint, body: dict[str, Any]
) -> tuple[dict[str, Any], Call]:
    """[Manual action] the operator has the CSMS send SignedUpdateFirmware."""
    response = await harness.api.post(
        f"/charge-points/{CHARGE_POINT_ID}/signed-update-firmware",
        json={"retries": 1, "retryInterval": 0, **body},
    )
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    call = await cp.expect_call("SignedUpdateFirmware")
    assert set(call.payload) == {"requestId", "firmware", "retries", "retryInterval"}
    assert call.payload["requestId"] == job["requestId"]
    assert call.payload["firmware"]["location"] == job["location"]
    assert job["variant"] == "SignedUpdateFirmware" and job["status"] != "Requested"
    return job, call


async def test_tc_079_get_security_log(harness: Harness, cp: SimulatedChargePoint) -> None:
    """TC_079_CSMS (3.21.2): GetLog(SecurityLog) with the CSMS's FTP location (the configured
    log location); Uploading then Uploaded, both answered and carrying the requestId; the
    security log is there, whole, downloadable."""
    wire = Wire(cp)
    response = await harness.api.post(
        f"/charge-points/{CHARGE_POINT_ID}/get-log",
        json={"logType": "SecurityLog", "protocol": "ftp", "retries": 0},
    )
    assert response.status_code == 200, response.text
    job = response.json()
    call = await cp.expect_call("GetLog")
    # Step 1: logType SecurityLog, log.remoteLocation the configured (the job's FTP) location.
    assert call.payload == {
        "logType": "SecurityLog",
        "requestId": job["requestId"],
        "log": {"remoteLocation": job["location"]},
        "retries": 0,
    }
    assert re.fullmatch(
        rf"ftp://diag{job['id']}:[\w-]{{24}}@127\.0\.0\.1:{harness.app.ftp_port}/", job["location"]
    )
    name = f"log-{CHARGE_POINT_ID}.zip"
    assert (job["variant"], job["fileName"]) == ("SecurityLog", name)
    assert await transfers(cp).finished() == "Uploaded"

    assert wire.calls() == [
        "CS→ GetLog",
        "CP→ LogStatusNotification",
        "CP→ LogStatusNotification",
    ]
    assert sent_calls(cp, wire, "LogStatusNotification") == [
        {"status": "Uploading", "requestId": job["requestId"]},
        {"status": "Uploaded", "requestId": job["requestId"]},
    ]
    stored = await job_of(harness, "diagnostics", job["id"])
    assert (stored["status"], stored["outcome"], stored["reason"]) == (
        "Uploaded",
        "Succeeded",
        None,
    )
    [file] = stored["files"]
    assert (file["fileName"], file["size"], file["complete"]) == (
        name,
        len(transfers(cp).security_log),
        True,
    )
    download = await harness.api.get(f"/diagnostics-jobs/{job['id']}/files/{name}")
    assert download.status_code == 200 and download.content == transfers(cp).security_log
    listed = await harness.api.get(f"/charge-points/{CHARGE_POINT_ID}/log-jobs")
    assert listed.json()[0]["id"] == job["id"]
    await no_unsolicited_calls(cp)


async def test_tc_080_secure_firmware_update(
    harness: Harness, cp: SimulatedChargePoint, signer: FirmwareSigner
) -> None:
    """TC_080_CSMS (3.21.3): SignedUpdateFirmware with the configured location, signing
    certificate and signature; Downloading, Downloaded, SignatureVerified, every connector
    Unavailable, Installing, InstallRebooting, the reboot (BootNotification, every connector
    Available) and Installed, each answered. The job follows every status across the reboot
    and ends Succeeded."""
    image = await upload_signed_image(harness, signer)
    wire = Wire(cp)

    job, call = await signed_update_firmware(harness, cp, {"firmwareId": image["id"]})
    # Step 1: the configured firmware location, signature and signing certificate.
    firmware = call.payload["firmware"]
    assert firmware["location"].startswith(f"http://127.0.0.1:{harness.app.http_port}/files/")
    assert firmware["location"].endswith("/fw-3.0-signed.bin")
    assert firmware["signingCertificate"] == signer.certificate_pem == image["signingCertificate"]
    assert firmware["signature"] == image["signature"]
    assert await transfers(cp).finished() == "Installed"

    assert transfers(cp).firmware == FIRMWARE  # really downloaded and verified
    assert wire.calls() == [
        "CS→ SignedUpdateFirmware",
        "CP→ SignedFirmwareStatusNotification",
        "CP→ SignedFirmwareStatusNotification",
        "CP→ SignedFirmwareStatusNotification",
        *EVERY_CONNECTOR,
        "CP→ SignedFirmwareStatusNotification",
        "CP→ SignedFirmwareStatusNotification",
        "CP→ BootNotification",
        *SECURITY_EVENT,
        *EVERY_CONNECTOR,
        "CP→ SignedFirmwareStatusNotification",
    ]
    reported = [
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    assert sent_calls(cp, wire, "SignedFirmwareStatusNotification") == [
        {"status": status, "requestId": job["requestId"]} for status in reported
    ]
    assert [n["status"] for n in sent_calls(cp, wire, "StatusNotification")] == ["Unavailable"] * (
        CONNECTORS + 1
    ) + ["Available"] * (CONNECTORS + 1)

    stored = await job_of(harness, "firmware", job["id"])
    assert (stored["status"], stored["outcome"], stored["reason"]) == (
        "Installed",
        "Succeeded",
        None,
    )
    events = [event["event"] for event in stored["events"]]
    assert events[0] == "Requested" and "Accepted" in events
    assert [e for e in events if e not in ("Requested", "Accepted", "Download")] == reported
    await no_unsolicited_calls(cp)


async def test_tc_081_secure_firmware_update_invalid_signature(
    harness: Harness, cp: SimulatedChargePoint, signer: FirmwareSigner
) -> None:
    """TC_081_CSMS (3.21.3): SignedUpdateFirmware with an invalid signature (a well-formed
    one, of other data, given with the location: a hosted image's is checked on upload);
    Downloading, Downloaded, InvalidSignature, answered. The job fails with that reason and
    nothing is installed."""
    image = await upload_signed_image(harness, make_signer("ec"))
    invalid = signer.sign(b"not the firmware")
    wire = Wire(cp)

    job, call = await signed_update_firmware(
        harness,
        cp,
        {
            "location": image["downloadUrl"],
            "signingCertificate": signer.certificate_pem,
            "signature": invalid,
        },
    )
    assert call.payload["firmware"]["signature"] == invalid
    assert call.payload["firmware"]["location"] == image["downloadUrl"]
    assert await transfers(cp).finished() == "InvalidSignature"

    assert wire.calls() == [
        "CS→ SignedUpdateFirmware",
        "CP→ SignedFirmwareStatusNotification",
        "CP→ SignedFirmwareStatusNotification",
        "CP→ SignedFirmwareStatusNotification",
        *(["CP→ SecurityEventNotification"] if SECURITY_EVENT else []),
    ]
    assert [n["status"] for n in sent_calls(cp, wire, "SignedFirmwareStatusNotification")] == [
        "Downloading",
        "Downloaded",
        "InvalidSignature",
    ]
    assert transfers(cp).firmware is None
    stored = await job_of(harness, "firmware", job["id"])
    assert (stored["status"], stored["outcome"]) == ("InvalidSignature", "Failed")
    assert "InvalidSignature" in stored["reason"]
    await no_unsolicited_calls(cp)
