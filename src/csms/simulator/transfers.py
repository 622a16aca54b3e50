"""What a simulated charge point does after answering UpdateFirmware or GetDiagnostics, for
real: it downloads the firmware (HTTP(S) or FTP), uploads a diagnostics file (FTP or HTTP), and
reports each step with a status notification, in the order the spec and the OCTT cases show
(spec 4.4, 4.5, 5.9, 5.19, errata 3.47/3.49; TC_044_1..3, TC_045_1..2).

The security whitepaper's SignedUpdateFirmware, GetLog and ExtendedTriggerMessage: see
signed_firmware.py.

Opt-in: `SimulatedChargePoint(..., transfers=True)`; `cp.transfers` then holds the knobs
(`install_succeeds`, `upload_break_after`, ...), what was transferred, and `finished()` to wait
for the end of a job. The tasks belong to the charge point and end with its `async with`.

UpdateFirmware: wait for retrieveDate; Downloading; the download (retries + 1 attempts,
retryInterval apart); Downloaded, or DownloadFailed and stop; StatusNotification Unavailable for
every connector (errata 3.49); Installing; reboot (new connection, BootNotification, Available
for every connector); Installed or InstallationFailed.

GetDiagnostics (with a fileName in the answer): Uploading; the upload (retries + 1 attempts);
Uploaded or UploadFailed. `upload_break_after` makes every attempt break off after that many
bytes (FTP: ABOR in the middle of the transfer; HTTP: a body shorter than announced).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import aioftp
import httpx

from csms.ocppj import Call, CallError, CallResult
from csms.simulator import signed_firmware

if TYPE_CHECKING:
    from csms.simulator.charge_point import SimulatedChargePoint

log = logging.getLogger(__name__)

Payload = dict[str, Any]


class TransferFailed(Exception):
    pass


@dataclass
class Transfers:
    cp: SimulatedChargePoint
    # Knobs.
    install_succeeds: bool = True
    upload_break_after: int | None = None
    diagnostics: bytes = b"".join(b"%06d simulated diagnostics line\n" % n for n in range(2000))
    # Signed firmware and logs (signed_firmware.py): the final status after installing, the
    # statuses never sent, a power loss mid-install, the security log uploaded.
    install_status: str = "Installed"
    lose_statuses: set[str] = field(default_factory=set)
    reboot_mid_install: bool = False
    security_log: bytes = b"".join(b"%06d simulated security event\n" % n for n in range(500))
    signed_status: str = "Idle"
    signed_request_id: int | None = None
    log_status: str = "Idle"
    log_request_id: int | None = None
    # What happened.
    firmware: bytes | None = None
    errors: list[str] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _finished: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    _signed: asyncio.Task[None] | None = None

    def answered(self, call: Call, response: CallResult | CallError) -> None:
        """The charge point answered `call`: start what follows (never blocks the answerer)."""
        if not isinstance(response, CallResult):
            return
        if call.action == "UpdateFirmware":
            self._start(self.update_firmware(call.payload))
        elif call.action == "GetDiagnostics" and response.payload.get("fileName"):
            self._start(self.upload_diagnostics(call.payload, response.payload["fileName"]))
        else:
            self._answered_security(call, response.payload)

    def _answered_security(self, call: Call, answer: Payload) -> None:
        """The whitepaper's SignedUpdateFirmware, GetLog, ExtendedTriggerMessage."""
        started = answer.get("status") in ("Accepted", "AcceptedCanceled")
        if call.action == "SignedUpdateFirmware" and started:
            if self._signed is not None:  # L01.FR.26: the running update is canceled
                self._signed.cancel()
            self._signed = self._start(signed_firmware.signed_update_firmware(self, call.payload))
        elif call.action == "GetLog" and started and answer.get("filename"):
            self._start(signed_firmware.upload_log(self, call.payload, answer["filename"]))
        elif call.action == "ExtendedTriggerMessage" and answer.get("status") == "Accepted":
            self._start(signed_firmware.answer_trigger(self, call.payload), report=False)

    async def finished(self, timeout: float = 10.0) -> str:
        """The final status of the next job to end (Installed, DownloadFailed, Uploaded, ...)."""
        async with asyncio.timeout(timeout):
            return await self._finished.get()

    async def close(self) -> None:
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, job: Any, *, report: bool = True) -> asyncio.Task[None]:
        task = asyncio.create_task(
            self._run(job, report), name=f"{self.cp.charge_point_id} transfer"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, job: Any, report: bool) -> None:
        try:
            result = await job
            if report:
                self._finished.put_nowait(result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # task boundary: the test sees it through finished()
            log.exception("%s: transfer failed", self.cp.charge_point_id)
            self._finished.put_nowait(f"error: {exc!r}")

    # -- UpdateFirmware (spec 5.19) -------------------------------------------------------------

    async def update_firmware(self, request: Payload) -> str:
        cp = self.cp
        retrieve = datetime.fromisoformat(request["retrieveDate"].replace("Z", "+00:00"))
        wait = (retrieve - datetime.now(UTC)).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
        await cp.firmware_status("Downloading")
        try:
            self.firmware = await self._attempts(request, lambda: _download(request["location"]))
        except TransferFailed:
            await cp.firmware_status("DownloadFailed")
            return "DownloadFailed"
        await cp.firmware_status("Downloaded")
        for connector_id in range(cp.connectors + 1):
            await cp.status_notification(connector_id, "Unavailable")
        await cp.firmware_status("Installing")
        # Errata 3.47: good practice is to boot the new firmware before reporting Installed.
        await cp.reconnect()
        await cp.boot_and_report("Available")
        final = "Installed" if self.install_succeeds else "InstallationFailed"
        await cp.firmware_status(final)
        return final

    # -- GetDiagnostics (spec 5.9) --------------------------------------------------------------

    async def upload_diagnostics(self, request: Payload, file_name: str) -> str:
        cp = self.cp
        await cp.diagnostics_status("Uploading")
        try:
            await self.upload(request, request["location"], file_name, self.diagnostics)
        except TransferFailed:
            await cp.diagnostics_status("UploadFailed")
            return "UploadFailed"
        await cp.diagnostics_status("Uploaded")
        return "Uploaded"

    async def download(self, request: Payload, location: str) -> bytes:
        """The file at `location`, in the attempts the request allows; TransferFailed."""
        data: bytes = await self._attempts(request, lambda: _download(location))
        return data

    async def upload(self, request: Payload, location: str, file_name: str, data: bytes) -> None:
        """Upload `data` as `file_name`, in the attempts the request allows; TransferFailed."""
        await self._attempts(request, lambda: self._upload(location, file_name, data))

    async def _attempts(self, request: Payload, attempt: Any) -> Any:
        retries = request.get("retries") or 0
        for number in range(retries + 1):
            try:
                return await attempt()
            except (TransferFailed, OSError, httpx.HTTPError, aioftp.StatusCodeError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                if number == retries:
                    raise TransferFailed(str(exc)) from exc
                await asyncio.sleep(request.get("retryInterval") or 0)
        raise AssertionError("unreachable")

    async def _upload(self, location: str, file_name: str, data: bytes) -> None:
        cut = self.upload_break_after
        url = urlsplit(location)
        if url.scheme == "ftp":
            await _ftp_upload(url, file_name, data, cut)
        elif url.scheme in ("http", "https"):
            target = location if location.endswith("/") else location + "/"
            await _http_upload(target + file_name, data, cut)
        else:
            raise TransferFailed(f"unsupported upload location {location!r}")


async def _download(location: str) -> bytes:
    url = urlsplit(location)
    if url.scheme in ("http", "https"):
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(location)
        if response.status_code != 200:
            raise TransferFailed(f"HTTP {response.status_code}: {response.text}")
        return response.content
    if url.scheme == "ftp":
        async with _ftp(url) as client, client.download_stream(unquote(url.path)) as stream:
            return b"".join([block async for block in stream.iter_by_block()])
    raise TransferFailed(f"unsupported firmware location {location!r}")


@contextlib.asynccontextmanager
async def _ftp(url: Any) -> Any:
    async with aioftp.Client.context(
        url.hostname or "",
        url.port or 21,
        user=unquote(url.username or "anonymous"),
        password=unquote(url.password or "anon@"),
        socket_timeout=10,
    ) as client:
        yield client


async def _ftp_upload(url: Any, file_name: str, data: bytes, cut: int | None) -> None:
    directory = unquote(url.path) or "/"
    path = directory.rstrip("/") + "/" + file_name
    async with _ftp(url) as client:
        if cut is None:
            async with client.upload_stream(path) as stream:
                await stream.write(data)
            return
        stream = await client.upload_stream(path)
        await stream.write(data[:cut])
        # The transfer breaks off: ABOR while the data connection is still open (RFC 959).
        await client.abort()
        stream.close()
        raise TransferFailed(f"FTP upload of {file_name} broke off after {cut} bytes")


async def _http_upload(url: str, data: bytes, cut: int | None) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        if cut is None:
            response = await client.put(url, content=data)
        else:
            # Announce the whole file, send part of it: what a connection lost mid-way does.
            async def partial() -> Any:
                yield data[:cut]

            headers = {"Content-Length": str(len(data))}
            try:
                response = await client.put(url, content=partial(), headers=headers)
            except Exception as exc:  # httpx, or h11 itself: too little data for its length
                raise TransferFailed(f"HTTP upload broke off after {cut} bytes: {exc!r}") from exc
    if response.status_code not in (200, 201, 204):
        raise TransferFailed(f"HTTP {response.status_code}: {response.text}")
