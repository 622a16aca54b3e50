"""HTTP Basic authentication of charge points (security profiles 1 and 2, whitepaper 2.3/2.4).

The username is the charge point id and the password its AuthorizationKey. An AuthorizationKey
is at least 16 bytes (whitepaper A00.FR.205), meant to be random: for such a key a salted keyed
hash (HMAC-SHA256 under a salt of its own, "hmac-sha256$salt$digest") is as safe against a
stolen database as a slow key derivation, and verifies in microseconds, so a reconnect storm
after a restart (every charge point at once, each with its password) costs no key derivation
(docs/field-behaviour.md, "Reconnect storms"). Shorter secrets, and the console users' passwords
(accounts.py, chosen by people), are scrypt hashes. Stored scrypt hashes of charge point
passwords keep verifying and are replaced by the fast form at the next good login
(features/admission.py). A verified (id, password) pair is remembered in memory too.

Credentials that are not UTF-8 arrive with surrogate escapes; they are encoded with
"surrogatepass", so they simply fail to verify (401) instead of raising.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
SCRYPT = "scrypt"
KEYED = "hmac-sha256"
# Whitepaper A00.FR.205: an AuthorizationKey has at least 16 bytes.
MIN_KEY_BYTES = 16


def hash_password(password: str) -> str:
    """scrypt: for passwords people choose (console users), tens of milliseconds."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(_bytes(password), salt=salt, **_SCRYPT)
    return f"{SCRYPT}${salt.hex()}${digest.hex()}"


def hash_authorization_key(key: str) -> str:
    """A charge point's password: keyed and salted SHA-256 when it has the AuthorizationKey's
    16 bytes at least, scrypt when shorter."""
    if len(_bytes(key)) < MIN_KEY_BYTES:
        return hash_password(key)
    salt = secrets.token_bytes(16)
    return f"{KEYED}${salt.hex()}${_keyed(key, salt).hex()}"


def is_slow(password_hash: str) -> bool:
    return password_hash.startswith(SCRYPT + "$")


def upgraded(password: str, password_hash: str) -> str | None:
    """After `password` verified against `password_hash`: the fast hash that should replace it,
    or None when it stays (already fast, or a key too short for the fast form)."""
    if not is_slow(password_hash) or len(_bytes(password)) < MIN_KEY_BYTES:
        return None
    return hash_authorization_key(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = password_hash.split("$")
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if scheme == KEYED:
        digest = _keyed(password, salt)
    elif scheme == SCRYPT:
        digest = hashlib.scrypt(_bytes(password), salt=salt, **_SCRYPT)
    else:
        return False
    return hmac.compare_digest(digest, expected)


def _keyed(key: str, salt: bytes) -> bytes:
    return hmac.new(salt, _bytes(key), hashlib.sha256).digest()


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
        if not is_slow(password_hash):
            verified = verify_password(password, password_hash)
        else:  # scrypt takes tens of milliseconds: keep it off the event loop.
            verified = await asyncio.to_thread(verify_password, password, password_hash)
        if not verified:
            return False
        self._verified[charge_point_id] = key
        return True
