"""Starts what serves files (the FTP server) and the timeout sweeper of firmware and
diagnostics jobs, and stops them: owned by the composition root (app.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from csms.features.context import Services
from csms.features.firmware.jobs import sweep
from csms.files.ftp import DiagnosticsFtpServer, start_ftp
from csms.files.host import FileHost

log = logging.getLogger("csms.files")


class FileService:
    """The running file service: `host` is also `services.files`."""

    def __init__(
        self, host: FileHost, ftp: DiagnosticsFtpServer | None, sweeper: asyncio.Task[None]
    ) -> None:
        self.host = host
        self.ftp = ftp
        self._sweeper = sweeper

    @property
    def ftp_port(self) -> int | None:
        return None if self.ftp is None else self.ftp.port

    async def stop(self) -> None:
        self._sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sweeper
        if self.ftp is not None:
            await self.ftp.close()


async def start_file_service(services: Services, *, http_port: int) -> FileService:
    """`http_port`: the port the HTTP file endpoints listen on (the default of public_url)."""
    settings = services.settings
    host = FileHost(settings, http_port=http_port)
    ftp = None
    if settings.ftp_port is not None:
        ftp = await start_ftp(services, host, settings.host, settings.ftp_port)
        host.ftp_port = ftp.port
    services.files = host
    sweeper = asyncio.create_task(run_sweeper(services), name="csms.file_jobs")
    return FileService(host, ftp, sweeper)


async def run_sweeper(services: Services) -> None:
    """Every file_job_sweep_interval seconds, time out the jobs past their deadline."""
    interval = max(services.settings.file_job_sweep_interval, 0.01)
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep(services)
        except Exception:  # task boundary: the next round tries again
            log.exception("sweeping firmware/diagnostics jobs failed")
