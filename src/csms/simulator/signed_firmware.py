"""What a simulated charge point does after answering the security whitepaper's
SignedUpdateFirmware, GetLog and ExtendedTriggerMessage, for real (transfers.py owns the tasks;
`SimulatedChargePoint(..., transfers=True)`):

SignedUpdateFirmware (whitepaper 4, L01; TC_080, TC_081): wait for retrieveDateTime;
Downloading; the download (retries + 1 attempts); Downloaded, or DownloadFailed and stop; the
signature checked over the whole file with the signing certificate's key (SHA-256; RSA PKCS #1
v1.5 or PSS, or ECDSA): InvalidSignature and stop, or SignatureVerified; InstallScheduled and a
wait when installDateTime is later; StatusNotification Unavailable for every connector;
Installing; InstallRebooting; a reboot (new connection, BootNotification, a
SecurityEventNotification FirmwareUpdated where the ocpp16 layer knows that message, Available
for every connector); then `install_status` (Installed by default). Each notification carries
the requestId (L01.FR.10). A new request while one runs cancels it (AcceptedCanceled, answers.py).

GetLog (whitepaper N01; TC_079): Uploading; the upload of `security_log` (or the diagnostics
text for a DiagnosticsLog) to log.remoteLocation under the announced file name; Uploaded or
UploadFailure.

ExtendedTriggerMessage FirmwareStatusNotification / LogStatusNotification: the last status sent
again (Idle after Installed / Uploaded, or when there was none: L01.FR.28/29).

Misbehaviours (docs/simulator-misbehaviours.md): `lose_statuses` (those notifications are never
sent: a charge point that loses them), `reboot_mid_install` (the power goes mid-install: no
InstallRebooting, the connection drops, the charge point boots and reports `install_status`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from csms.ocpp16.firmware_signing import load_certificate, signature_matches

if TYPE_CHECKING:
    from csms.simulator.transfers import Transfers

Payload = dict[str, Any]

SECURITY_EVENT = "SecurityEventNotification"
_DONE = frozenset({"Installed", "Uploaded"})


def readable_certificate(pem: str) -> bool:
    """Whether the signing certificate is a PEM X.509 certificate (L01.FR.23/24)."""
    try:
        load_certificate(pem)
    except ValueError:
        return False
    return True


def signature_verifies(data: bytes, certificate_pem: str, signature_text: str) -> bool:
    """Whether the Base64 signature signs `data` with the certificate's key (L01.FR.04/12)."""
    try:
        key = load_certificate(certificate_pem).public_key()
        signature = base64.b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return signature_matches(key, signature, hashlib.sha256(data).digest())


async def firmware_status(transfers: Transfers, status: str) -> None:
    """SignedFirmwareStatusNotification with the running request's id, unless lost."""
    transfers.signed_status = status
    cp = transfers.cp
    cp.state.firmware_busy = status not in _FINAL_FIRMWARE
    if status in transfers.lose_statuses:
        return
    await cp.call(
        "SignedFirmwareStatusNotification",
        {"status": status, "requestId": transfers.signed_request_id},
    )


_FINAL_FIRMWARE = frozenset(
    {"Installed", "InstallationFailed", "InstallVerificationFailed", "DownloadFailed", "Idle"}
    | {"InvalidSignature"}
)


async def log_status(transfers: Transfers, status: str) -> None:
    """LogStatusNotification with the running request's id, unless lost."""
    transfers.log_status = status
    if status in transfers.lose_statuses:
        return
    await transfers.cp.call(
        "LogStatusNotification", {"status": status, "requestId": transfers.log_request_id}
    )


async def signed_update_firmware(transfers: Transfers, request: Payload) -> str:
    cp = transfers.cp
    transfers.signed_request_id = request["requestId"]
    firmware = request["firmware"]
    await _until(firmware["retrieveDateTime"])
    await firmware_status(transfers, "Downloading")
    try:
        data = await transfers.download(request, firmware["location"])
    except Exception:  # TransferFailed, after every attempt
        await firmware_status(transfers, "DownloadFailed")
        return "DownloadFailed"
    await firmware_status(transfers, "Downloaded")
    if not signature_verifies(data, firmware["signingCertificate"], firmware["signature"]):
        await firmware_status(transfers, "InvalidSignature")
        await _security_event(transfers, "InvalidFirmwareSignature")
        return "InvalidSignature"
    transfers.firmware = data
    await firmware_status(transfers, "SignatureVerified")
    if "installDateTime" in firmware and _later(firmware["installDateTime"]):
        await firmware_status(transfers, "InstallScheduled")
        await _until(firmware["installDateTime"])
    for connector_id in range(cp.connectors + 1):
        await cp.status_notification(connector_id, "Unavailable")
    await firmware_status(transfers, "Installing")
    if transfers.reboot_mid_install:
        await cp.drop()  # the power goes: no InstallRebooting, no closing handshake
        await cp.connect()
    else:
        await firmware_status(transfers, "InstallRebooting")
        await cp.reconnect()
    await cp.boot()
    await _security_event(transfers, "FirmwareUpdated")
    for connector_id in range(cp.connectors + 1):
        await cp.status_notification(connector_id, "Available")
    await firmware_status(transfers, transfers.install_status)
    return transfers.install_status


async def upload_log(transfers: Transfers, request: Payload, file_name: str) -> str:
    transfers.log_request_id = request["requestId"]
    content = transfers.security_log
    if request["logType"] == "DiagnosticsLog":
        content = transfers.diagnostics
    await log_status(transfers, "Uploading")
    try:
        await transfers.upload(request, request["log"]["remoteLocation"], file_name, content)
    except Exception:  # TransferFailed, after every attempt
        await log_status(transfers, "UploadFailure")
        return "UploadFailure"
    await log_status(transfers, "Uploaded")
    return "Uploaded"


async def answer_trigger(transfers: Transfers, request: Payload) -> None:
    """L01.FR.28/29 (and N01 for logs): the last status again, Idle once done or never."""
    requested = request["requestedMessage"]
    if requested == "FirmwareStatusNotification":
        last = transfers.signed_status
        status = "Idle" if last in ("Installed", "Idle") else last
        payload: Payload = {"status": status}
        if status != "Idle":
            payload["requestId"] = transfers.signed_request_id
        await transfers.cp.call("SignedFirmwareStatusNotification", payload)
    elif requested == "LogStatusNotification":
        last = transfers.log_status
        status = "Idle" if last in _DONE or last == "Idle" else last
        payload = {"status": status}
        if status != "Idle":
            payload["requestId"] = transfers.log_request_id
        await transfers.cp.call("LogStatusNotification", payload)


async def _security_event(transfers: Transfers, event: str) -> None:
    """SecurityEventNotification (whitepaper L01.FR.02/03, A04)."""
    timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    await transfers.cp.call(SECURITY_EVENT, {"type": event, "timestamp": timestamp})


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _later(text: str) -> bool:
    return _moment(text) > datetime.now(UTC)


async def _until(text: str) -> None:
    wait = (_moment(text) - datetime.now(UTC)).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait)
