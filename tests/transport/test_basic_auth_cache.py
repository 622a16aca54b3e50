"""HTTP Basic auth of charge points (whitepaper 2.3) after a good login: the verified-password
cache (transport/basic_auth.py) spares the key derivation of a password that verified before,
and must never accept another password: not a wrong one, not the old one after the operator
changed it through the API, not across a restart of the CSMS on the same database."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.harness import Harness, csms
from websockets.exceptions import InvalidStatus

from csms.transport.basic_auth import (
    hash_authorization_key,
    hash_password,
    upgraded,
    verify_password,
)

GOOD = "0123456789abcdef"
NEW = "fedcba9876543210-new"
WRONG = [
    "wrong-password!!",
    GOOD + "x",  # the good one and more
    GOOD[:-1],  # a prefix of the good one
    GOOD.upper(),
    "",
]


async def refused(harness: Harness, charge_point_id: str, password: str | None) -> int:
    with pytest.raises(InvalidStatus) as refusal:
        async with harness.charge_point(charge_point_id, password=password):
            pass
    return refusal.value.response.status_code


async def logs_in(harness: Harness, charge_point_id: str, password: str) -> None:
    async with harness.charge_point(charge_point_id, password=password) as cp:
        assert (await cp.boot())["status"] == "Accepted"


async def set_password(harness: Harness, charge_point_id: str, password: str) -> None:
    response = await harness.api.put(
        f"/charge-points/{charge_point_id}", json={"password": password}
    )
    assert response.status_code == 200, response.text
    assert response.json()["hasPassword"] is True


async def test_a_wrong_password_is_refused_after_a_good_login(harness: Harness) -> None:
    await set_password(harness, "SECURE", GOOD)
    await logs_in(harness, "SECURE", GOOD)
    await logs_in(harness, "SECURE", GOOD)  # now from the cache
    for password in [*WRONG, None]:
        assert await refused(harness, "SECURE", password) == 401, password
    await logs_in(harness, "SECURE", GOOD)


async def test_another_charge_points_password_is_refused(harness: Harness) -> None:
    await set_password(harness, "CP-A", GOOD)
    await set_password(harness, "CP-B", NEW)
    await logs_in(harness, "CP-A", GOOD)
    await logs_in(harness, "CP-B", NEW)
    assert await refused(harness, "CP-A", NEW) == 401
    assert await refused(harness, "CP-B", GOOD) == 401


async def test_a_password_changed_through_the_api_replaces_the_old_one(harness: Harness) -> None:
    await set_password(harness, "SECURE", GOOD)
    await logs_in(harness, "SECURE", GOOD)
    await set_password(harness, "SECURE", NEW)
    assert await refused(harness, "SECURE", GOOD) == 401
    await logs_in(harness, "SECURE", NEW)
    assert await refused(harness, "SECURE", GOOD) == 401
    # And back: the first password is good again, the second no longer.
    await set_password(harness, "SECURE", GOOD)
    assert await refused(harness, "SECURE", NEW) == 401
    await logs_in(harness, "SECURE", GOOD)
    # Removed: the charge point connects without credentials.
    response = await harness.api.put("/charge-points/SECURE", json={"password": None})
    assert response.status_code == 200 and response.json()["hasPassword"] is False
    async with harness.charge_point("SECURE") as cp:
        assert (await cp.boot())["status"] == "Accepted"


async def test_the_cache_does_not_outlive_a_restart_wrongly(tmp_path: Path) -> None:
    database = tmp_path / "csms.db"
    async with csms(database) as first:
        await set_password(first, "SECURE", GOOD)
        await logs_in(first, "SECURE", GOOD)
    async with csms(database) as second:
        for password in [*WRONG, None]:
            assert await refused(second, "SECURE", password) == 401, password
        await logs_in(second, "SECURE", GOOD)
        await set_password(second, "SECURE", NEW)
    async with csms(database) as third:
        assert await refused(third, "SECURE", GOOD) == 401
        await logs_in(third, "SECURE", NEW)
        assert await refused(third, "SECURE", GOOD) == 401


# -- the stored hashes ---------------------------------------------------------------------------

# scrypt with n=2**14, r=8, p=1 of "0123456789abcdef" under this salt: a hash stored by an earlier
# version must keep verifying (the parameters are part of the stored format).
KNOWN_SALT = "000102030405060708090a0b0c0d0e0f"
KNOWN_HASH = (
    f"scrypt${KNOWN_SALT}$"
    "38becf1e8b3984e11d3e62440f954c0b4098aed85db1cd5e5df0e9eeb6eb60bbb2dd1272f0f8f672dd57ac3726a08deded5ad10f4f5fec06b5b68d7e4e6232fa"
)


def test_a_hash_stored_earlier_verifies() -> None:
    assert verify_password(GOOD, KNOWN_HASH)
    assert not verify_password(NEW, KNOWN_HASH)


def test_a_new_hash_has_a_16_byte_salt_of_its_own() -> None:
    first, second = hash_password(GOOD), hash_password(GOOD)
    assert first != second
    scheme, salt, digest = first.split("$")
    assert (scheme, len(bytes.fromhex(salt)), len(bytes.fromhex(digest))) == ("scrypt", 16, 64)
    assert verify_password(GOOD, first) and verify_password(GOOD, second)


def test_an_authorization_key_gets_the_keyed_hash_and_a_short_secret_scrypt() -> None:
    first, second = hash_authorization_key(GOOD), hash_authorization_key(GOOD)
    assert first != second
    scheme, salt, digest = first.split("$")
    assert (scheme, len(bytes.fromhex(salt)), len(bytes.fromhex(digest))) == ("hmac-sha256", 16, 32)
    assert verify_password(GOOD, first) and verify_password(GOOD, second)
    for wrong in WRONG:
        assert not verify_password(wrong, first), wrong
    # Under the whitepaper's 16 bytes (A00.FR.205): the slow hash, never upgraded.
    short = hash_authorization_key(GOOD[:15])
    assert short.startswith("scrypt$") and verify_password(GOOD[:15], short)
    assert upgraded(GOOD[:15], short) is None
    # A 16-byte key in non-ASCII characters counts bytes, not characters.
    assert hash_authorization_key("ééééééééé").startswith("hmac-sha256$")


def test_only_a_slow_hash_of_a_long_enough_key_is_upgraded() -> None:
    faster = upgraded(GOOD, KNOWN_HASH)
    assert faster is not None and faster.startswith("hmac-sha256$")
    assert verify_password(GOOD, faster) and not verify_password(NEW, faster)
    assert upgraded(GOOD, faster) is None


async def test_a_stored_scrypt_hash_is_replaced_by_the_fast_form_at_the_next_login(
    tmp_path: Path,
) -> None:
    database = tmp_path / "csms.db"
    async with csms(database) as first:
        await first.store.save_charge_point(
            "OLD", registration_status="Accepted", password_hash=KNOWN_HASH, description="kept"
        )
        # A wrong password replaces nothing.
        assert await refused(first, "OLD", NEW) == 401
        stored = await first.store.get_charge_point("OLD")
        assert stored is not None and stored.password_hash == KNOWN_HASH
        await logs_in(first, "OLD", GOOD)
        stored = await first.store.get_charge_point("OLD")
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("hmac-sha256$")
        assert (stored.registration_status, stored.description) == ("Accepted", "kept")
    async with csms(database) as second:  # no cache: the fast hash itself verifies
        for password in [*WRONG, None]:
            assert await refused(second, "OLD", password) == 401, password
        await logs_in(second, "OLD", GOOD)


async def test_a_password_the_operator_changed_meanwhile_is_not_overwritten(
    harness: Harness,
) -> None:
    await harness.store.save_charge_point(
        "OLD", registration_status="Accepted", password_hash=KNOWN_HASH, description=None
    )
    newer = hash_authorization_key(NEW)
    await harness.store.save_charge_point(
        "OLD", registration_status="Accepted", password_hash=newer, description=None
    )
    assert not await harness.store.replace_password_hash("OLD", KNOWN_HASH, "x")
    stored = await harness.store.get_charge_point("OLD")
    assert stored is not None and stored.password_hash == newer


async def test_the_api_stores_the_fast_hash(harness: Harness) -> None:
    await set_password(harness, "SECURE", GOOD)
    stored = await harness.store.get_charge_point("SECURE")
    assert stored is not None and stored.password_hash is not None
    assert stored.password_hash.startswith("hmac-sha256$")
    assert GOOD not in stored.password_hash


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "hmac-sha256$nothex$00",
        f"hmac-sha256${KNOWN_SALT}",
        f"hmac-sha256${KNOWN_SALT}$" + "00" * 32,
        KNOWN_HASH.replace("scrypt$", "hmac-sha256$", 1),
        "garbage",
        "scrypt$nothex$00",
        f"scrypt${KNOWN_SALT}",
        KNOWN_HASH.replace("scrypt$", "bcrypt$", 1),
        KNOWN_HASH.replace("scrypt$", "Scrypt$", 1),
        KNOWN_HASH.replace("scrypt$", "aaa$", 1),
        KNOWN_HASH.replace("scrypt$", "zzz$", 1),
        KNOWN_HASH + "$extra",
    ],
)
def test_a_malformed_or_foreign_hash_verifies_no_password(stored: str) -> None:
    for password in (GOOD, "", "garbage"):
        assert not verify_password(password, stored)
