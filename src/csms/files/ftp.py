"""The FTP server charge points upload diagnostics to (spec 8.2), on aioftp.

Each GetDiagnostics job has a user of its own, `diag<job id>`, whose password is derived from
the link secret (nothing stored): its location is ftp://diag<id>:<password>@host:port/. That
user sees only the job's directory as `/`, and may only store files there: no reading, listing,
deleting, renaming or directories. A login is refused once the job succeeded or its upload
window (deadline + file_link_ttl) is over.

A transfer that breaks off (ABOR, a reset or closed connection while the data is flowing) is
recorded as an incomplete upload, which fails the job ("upload incomplete"). In stream mode a
data connection closed normally is the end of the file (RFC 959 3.4.1): that upload is whole.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from pathlib import Path, PurePosixPath
from typing import Any

import aioftp
from aioftp.common import Connection
from aioftp.server import worker

from csms.features.context import Services
from csms.features.firmware.diagnostics import upload_finished, upload_target
from csms.files.host import FileHost, ftp_login, job_of_ftp_login, safe_file_name

log = logging.getLogger("csms.files.ftp")

# Commands an upload-only user has no use for (aioftp answers 502 "not implemented").
_REMOVED = ("retr", "list", "mlsd", "mlst", "dele", "rmd", "mkd", "rnfr", "rnto")
_Response = aioftp.AbstractUserManager.GetUserResponse


class _JobUsers(aioftp.AbstractUserManager):
    """One user per diagnostics job that may receive an upload now."""

    def __init__(self, services: Services, host: FileHost) -> None:
        super().__init__(timeout=None)
        self._services = services
        self._host = host

    async def get_user(self, login: str) -> tuple[Any, aioftp.User | None, str]:
        job_id = job_of_ftp_login(login)
        job = None if job_id is None else await upload_target(self._services, job_id)
        if job is None:
            return _Response.ERROR, None, "login refused"
        user = aioftp.User(
            ftp_login(job.id),
            self._host.ftp_password(job.id),
            base_path=self._host.diagnostics_dir(job.id),
            home_path="/",
            permissions=[aioftp.Permission("/", readable=False, writable=True)],
        )
        return _Response.PASSWORD_REQUIRED, user, "password required"

    async def authenticate(self, user: aioftp.User, password: str) -> bool:
        if not hmac.compare_digest(str(user.password).encode(), password.encode()):
            return False
        os.makedirs(user.base_path, exist_ok=True)  # the job's directory, once logged in
        return True

    async def notify_logout(self, user: aioftp.User) -> None:
        return None


class DiagnosticsFtpServer(aioftp.Server):
    """aioftp with upload-only users and a STOR that reports how each transfer ended."""

    def __init__(self, services: Services, host: FileHost) -> None:
        super().__init__(
            _JobUsers(services, host),
            # Nothing hangs: a silent client or a stalled transfer is dropped.
            socket_timeout=60,
            idle_timeout=300,
            maximum_connections=256,
            welcome_message="CSMS diagnostics upload",
        )
        self._services = services
        for command in _REMOVED:
            self.commands_mapping.pop(command, None)

    @property
    def port(self) -> int:
        return int(self.address[1])

    @aioftp.ConnectionConditions(
        aioftp.ConnectionConditions.login_required,
        aioftp.ConnectionConditions.passive_server_started,
    )
    # (typed for aioftp.Server's own methods: `self` of a subclass does not match)
    @aioftp.PathPermissions(aioftp.PathPermissions.writable)  # type: ignore[arg-type]
    async def stor(
        self, connection: Connection, rest: str | PurePosixPath, mode: str = "wb"
    ) -> bool:
        """STOR (and APPE, REST + STOR to resume) of one file into the job's directory."""
        real_path, virtual_path = self.get_paths(connection, rest)
        name = safe_file_name(virtual_path.name)
        job_id = job_of_ftp_login(str(connection.user.login))
        if (
            name is None
            or job_id is None
            or virtual_path != PurePosixPath("/", name)
            or real_path.parent != Path(connection.user.base_path)
        ):
            connection.response("553", "only a file in the upload directory can be stored")
            return True
        offset = int(connection.restart_offset)
        sink = _Transfer(self._services, job_id, name, real_path)

        @aioftp.ConnectionConditions(
            aioftp.ConnectionConditions.data_connection_made,
            wait=True,
            fail_code="425",
            fail_info="Can't open data connection",
        )
        @worker
        async def store_file(
            server: aioftp.Server, connection: Connection, rest: str | PurePosixPath
        ) -> bool:
            stream = connection.data_connection
            del connection.data_connection
            try:
                file = connection.path_io.open(real_path, mode="r+b" if offset else mode)
                async with file, stream:
                    if offset:
                        await file.seek(offset)
                    async for data in stream.iter_by_block(connection.block_size):
                        await file.write(data)
            except OSError as exc:  # reset by the peer, or the disk
                await sink.ended(complete=False, detail=f" ({type(exc).__name__}: {exc})")
                connection.response("426", "connection closed; transfer aborted")
                return True
            except asyncio.CancelledError:  # ABOR, or the control connection closed
                await sink.ended(complete=False, detail=" (aborted)")
                raise
            await sink.ended(complete=True)
            connection.response("226", "data transfer done")
            return True

        task: asyncio.Task[Any] = asyncio.create_task(store_file(self, connection, rest))  # type: ignore[arg-type]
        connection.extra_workers.add(task)
        connection.response("150", "data transfer started")
        return True


class _Transfer:
    def __init__(self, services: Services, job_id: int, name: str, path: Path) -> None:
        self._services = services
        self._job_id = job_id
        self._name = name
        self._path = path

    async def ended(self, *, complete: bool, detail: str = "") -> None:
        # A task boundary (the FTP worker): recording must not take the connection down.
        try:
            size = self._path.stat().st_size if self._path.exists() else 0
            await upload_finished(
                self._services,
                self._job_id,
                self._name,
                size=size,
                complete=complete,
                protocol="ftp",
                detail=detail,
            )
        except Exception:
            log.exception("diagnostics job %d: recording the FTP upload failed", self._job_id)


async def start_ftp(
    services: Services, host: FileHost, address: str, port: int
) -> DiagnosticsFtpServer:
    server = DiagnosticsFtpServer(services, host)
    await server.start(address or None, port)
    log.info("diagnostics FTP on %s:%d", address, server.port)
    return server
