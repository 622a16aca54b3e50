"""Signed links: a charge point gets a URL that works without the operator token until it
expires. The signature is an HMAC-SHA256, under a secret of the server, of the resource path
and the expiry (Unix seconds); both are in the URL, so nothing is stored per link."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SECRET_BYTES = 32


class LinkRefused(Exception):
    """A link that does not grant access; `reason` says why (given to the caller, recorded)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LinkExpired(LinkRefused):
    pass


class BadSignature(LinkRefused):
    pass


@dataclass(frozen=True, slots=True)
class Signer:
    secret: bytes

    def sign(self, resource: str, expires: int) -> str:
        digest = hmac.digest(self.secret, f"{resource}\n{expires}".encode(), hashlib.sha256)
        return _text(digest)

    def verify(self, resource: str, expires: str, signature: str, now: datetime) -> int:
        """The expiry of a link that grants access to `resource` at `now`; else LinkRefused.
        The signature is checked first: an expiry nobody signed says nothing."""
        # ASCII digits only ("²".isdigit() is true); the signature compared as bytes, since
        # compare_digest refuses non-ASCII str (a hostile URL must get 403, not an error).
        if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
            raise BadSignature("invalid link: malformed expiry")
        expiry = int(expires)
        given = signature.encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(self.sign(resource, expiry).encode(), given):
            raise BadSignature("invalid link: the signature does not match")
        if now.timestamp() >= expiry:
            at = datetime.fromtimestamp(expiry, UTC).isoformat().replace("+00:00", "Z")
            raise LinkExpired(f"link expired at {at}")
        return expiry

    def derive(self, purpose: str, length: int = 24) -> str:
        """A URL-safe secret for `purpose` (an FTP password, say) that need not be stored."""
        return _text(hmac.digest(self.secret, purpose.encode(), hashlib.sha256))[:length]


def _text(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def load_secret(path: Path) -> bytes:
    """The server's link secret, made on first use (readable by the owner only) and kept, so
    that links given out stay valid across restarts."""
    with contextlib.suppress(FileNotFoundError):
        return _check(path.read_bytes(), path)
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(SECRET_BYTES)
    # Written whole under a temporary name, then linked into place: never seen half-written,
    # and a concurrent start that got there first wins.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(secret)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _check(path.read_bytes(), path)
    finally:
        temporary.unlink()
    return secret


def _check(secret: bytes, path: Path) -> bytes:
    if len(secret) < SECRET_BYTES:
        raise ValueError(f"{path}: the link secret is too short ({len(secret)} bytes)")
    return secret
