"""Where the CSMS keeps files and how charge points reach them (spec 8).

Layout of the data directory:

    link-secret                         the HMAC key of signed links (links.py)
    firmware/<image id>/<file name>     hosted firmware images
    diagnostics/<job id>/<file name>    uploaded diagnostics files, one directory per job
    incoming/                           uploads in progress (firmware images)

URLs given to charge points (no operator token; the signature is the credential):

    GET  <public url>/files/firmware/<image id>/<expires>/<signature>/<file name>
    GET  <public url>/files/firmware-jobs/<job id>/<expires>/<signature>/<file name>
    PUT  <public url>/files/diagnostics/<job id>/<expires>/<signature>/<file name>
    POST <public url>/files/diagnostics/<job id>/<expires>/<signature>/   (multipart)
    ftp://diag<job id>:<password>@<ftp host>:<ftp port>/

The upload location of a diagnostics job is a directory (spec 6.25): a charge point appends
its file name, which is why the expiry and the signature are path segments, not a query.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote

from csms.files.links import Signer, load_secret
from csms.settings import Settings

_WILDCARDS = frozenset({"", "0.0.0.0", "::"})
_FTP_LOGIN = re.compile(r"diag([1-9][0-9]{0,17})")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class FileHost:
    """The data directory, the link signer and the addresses charge points are given."""

    def __init__(self, settings: Settings, *, http_port: int, ftp_port: int | None = None) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir
        self.http_port = http_port
        # The FTP server's actual port once it listens (None: no FTP).
        self.ftp_port = ftp_port
        self._signer: Signer | None = None

    @property
    def signer(self) -> Signer:
        # Made on first use, so that a CSMS nobody asks for files creates no data directory.
        if self._signer is None:
            self._signer = Signer(load_secret(self.data_dir / "link-secret"))
        return self._signer

    # -- the data directory --------------------------------------------------------------------

    def firmware_path(self, image_id: int, file_name: str) -> Path:
        return self.data_dir / "firmware" / str(image_id) / file_name

    def diagnostics_dir(self, job_id: int) -> Path:
        return self.data_dir / "diagnostics" / str(job_id)

    def incoming_dir(self) -> Path:
        return self.data_dir / "incoming"

    # -- what charge points are given ----------------------------------------------------------

    def public_url(self, address: str | None = None) -> str:
        """The base of HTTP links; `address` is the CSMS address the charge point connected
        to, used when neither public_url nor a specific listening host is set."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return f"http://{_url_host(self._address(address))}:{self.http_port}"

    def firmware_link(
        self, image_id: int, file_name: str, expires: int, address: str | None
    ) -> str:
        return self._link("firmware", image_id, file_name, expires, address)

    def firmware_job_link(
        self, job_id: int, file_name: str, expires: int, address: str | None
    ) -> str:
        return self._link("firmware-jobs", job_id, file_name, expires, address)

    def diagnostics_upload_link(self, job_id: int, expires: int, address: str | None) -> str:
        return self._link("diagnostics", job_id, "", expires, address)

    def diagnostics_ftp_location(self, job_id: int, address: str | None) -> str | None:
        """ftp://user:password@host:port/ (spec 8.2) for one job; None if FTP is off."""
        if self.ftp_port is None:
            return None
        host = self.settings.ftp_host or self._address(address)
        password = self.ftp_password(job_id)
        return f"ftp://{ftp_login(job_id)}:{password}@{_url_host(host)}:{self.ftp_port}/"

    def ftp_password(self, job_id: int) -> str:
        return self.signer.derive(f"ftp/{job_id}")

    @staticmethod
    def resource(scope: str, identifier: int, file_name: str = "") -> str:
        """What a link's signature covers: its path below /files, expiry and signature left
        out (a diagnostics directory has no file name)."""
        return f"{scope}/{identifier}/{file_name}"

    def _link(
        self, scope: str, identifier: int, file_name: str, expires: int, address: str | None
    ) -> str:
        signature = self.signer.sign(self.resource(scope, identifier, file_name), expires)
        path = f"{scope}/{identifier}/{expires}/{signature}/{quote(file_name, safe='')}"
        return f"{self.public_url(address)}/files/{path}"

    def _address(self, address: str | None) -> str:
        host = self.settings.host
        if host not in _WILDCARDS:
            return host
        return address or "127.0.0.1"


def ftp_login(job_id: int) -> str:
    return f"diag{job_id}"


def job_of_ftp_login(login: str) -> int | None:
    match = _FTP_LOGIN.fullmatch(login)
    return int(match[1]) if match else None


def expiry(moment: datetime) -> int:
    """A link expiry: Unix seconds, rounded up."""
    return int(-(-moment.timestamp() // 1))


def safe_file_name(name: str) -> str | None:
    """The last component of a file name a peer gave, if it is usable as one here (no
    directories, no control characters, not . or ..); None otherwise."""
    if name.endswith(("/", "\\")):  # a directory
        return None
    base = PureWindowsPath(PurePosixPath(name).name).name.strip()
    if base in ("", ".", "..") or len(base) > 255 or _UNSAFE.search(base):
        return None
    return base


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
