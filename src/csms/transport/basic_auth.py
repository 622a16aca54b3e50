"""HTTP Basic authentication of charge points (security profiles 1 and 2, whitepaper 2.3/2.4).

The username is the charge point id and the password its AuthorizationKey. Stored passwords are
salted scrypt hashes; a verified (id, password) pair is remembered in memory so that reconnect
storms do not cost a key derivation each.

Credentials that are not UTF-8 arrive with surrogate escapes; they are encoded with
"surrogatepass", so they simply fail to verify (401) instead of raising.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(_bytes(password), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, password_hash: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = password_hash.split("$")
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(_bytes(password), salt=salt, **_SCRYPT)
    return hmac.compare_digest(digest, expected)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class VerifiedCache:
    """Remembers which (charge point, password hash, password) triples verified."""

    def __init__(self) -> None:
        self._verified: dict[str, bytes] = {}

    async def verify(self, charge_point_id: str, password: str, password_hash: str) -> bool:
        key = hashlib.sha256(_bytes(f"{password_hash}\x00{password}")).digest()
        if hmac.compare_digest(self._verified.get(charge_point_id, b""), key):
            return True
        # scrypt takes tens of milliseconds: keep it off the event loop.
        if not await asyncio.to_thread(verify_password, password, password_hash):
            return False
        self._verified[charge_point_id] = key
        return True
