"""HTTP Basic auth of charge points (whitepaper 2.3) after a good login: the verified-password
cache (transport/basic_auth.py) spares the key derivation of a password that verified before,
and must never accept another password: not a wrong one, not the old one after the operator
changed it through the API, not across a restart of the CSMS on the same database."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.harness import Harness, csms
from websockets.exceptions import InvalidStatus

from csms.transport.basic_auth import hash_password, verify_password

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


@pytest.mark.parametrize(
    "stored",
    [
        "",
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
