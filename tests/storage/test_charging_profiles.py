"""The charging profiles the CSMS believes installed: replacement (spec 3.13.2, 5.16.3),
ClearChargingProfile matching (5.5, errata 3.25/3.26), TxProfiles bound to the transaction a
RemoteStartTransaction started (5.16.2) and dropped when it ends (7.10). On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from csms.storage import InstalledChargingProfile
from csms.storage.sql import SqlStore, open_store
from tests.storage.conftest import NOW

CPMAX, DEFAULT, TX = "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"


def profile(
    charging_profile_id: int,
    *,
    connector_id: int = 1,
    stack_level: int = 0,
    purpose: str = DEFAULT,
    transaction_id: int | None = None,
    remote_start_id_tag: str | None = None,
    limit: Any = 6.0,
    charge_point_id: str = "CP1",
) -> InstalledChargingProfile:
    wire: dict[str, Any] = {
        "chargingProfileId": charging_profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }
    if transaction_id is not None and remote_start_id_tag is None:
        wire["transactionId"] = transaction_id
    return InstalledChargingProfile(
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        charging_profile_id=charging_profile_id,
        stack_level=stack_level,
        purpose=purpose,
        transaction_id=transaction_id,
        remote_start_id_tag=remote_start_id_tag,
        profile=wire,
        installed_at=NOW,
    )


async def ids(store: SqlStore, charge_point_id: str = "CP1") -> list[int]:
    return [p.charging_profile_id for p in await store.charging_profiles_of(charge_point_id)]


async def test_install_and_read_back(store: SqlStore, charge_point: str) -> None:
    installed = [
        profile(3, connector_id=2, stack_level=1),
        profile(1, connector_id=0, purpose=CPMAX),
        profile(2, connector_id=2, stack_level=0),
    ]
    for item in installed:
        assert await store.install_charging_profile(item) == []

    assert await store.charging_profiles_of(charge_point) == [
        installed[1],
        installed[2],
        installed[0],
    ]
    assert await store.charging_profiles_of(charge_point, connector_id=2) == [
        installed[2],
        installed[0],
    ]
    assert await store.charging_profiles_of("CP2") == []


async def test_decimal_limits_are_stored_as_json_numbers(
    store: SqlStore, charge_point: str
) -> None:
    await store.install_charging_profile(profile(1, limit=Decimal("6.1")))
    await store.install_charging_profile(profile(2, stack_level=1, limit=Decimal("16.0")))
    limits = [
        p.profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        for p in await store.charging_profiles_of(charge_point)
    ]
    assert limits == [6.1, 16]


async def test_same_stack_level_and_purpose_on_the_connector_replaces(
    store: SqlStore, charge_point: str
) -> None:
    await store.install_charging_profile(profile(1, connector_id=1, stack_level=0))
    await store.install_charging_profile(profile(2, connector_id=0, stack_level=0))
    await store.install_charging_profile(profile(3, connector_id=1, stack_level=1))
    await store.install_charging_profile(profile(4, connector_id=1, stack_level=0, purpose=TX))

    # Same connector, stack level and purpose: replaced. Connector 0's TxDefaultProfile stays
    # (3.13.1: replaced only for that connector), as do other purposes and stack levels.
    assert await store.install_charging_profile(profile(5, connector_id=1, stack_level=0)) == [1]
    assert await ids(store) == [2, 4, 5, 3]


async def test_same_id_replaces_wherever_it_was(store: SqlStore, charge_point: str) -> None:
    await store.install_charging_profile(profile(1, connector_id=1, stack_level=0))
    await store.install_charging_profile(profile(2, connector_id=2, stack_level=3))

    # Id 1 moves to connector 2, and also replaces id 2 there (same stack level and purpose).
    assert await store.install_charging_profile(profile(1, connector_id=2, stack_level=3)) == [2]
    (only,) = await store.charging_profiles_of(charge_point)
    assert (only.charging_profile_id, only.connector_id, only.stack_level) == (1, 2, 3)


@pytest.mark.parametrize(
    ("criteria", "cleared"),
    [
        ({}, [1, 2, 3, 4, 5, 6]),
        # An id clears that profile; the other fields are then ignored (errata 3.26).
        ({"charging_profile_id": 2}, [2]),
        ({"charging_profile_id": 2, "connector_id": 0, "purpose": CPMAX}, [2]),
        ({"charging_profile_id": 99}, []),
        # Otherwise every given field must match (logical AND, errata 3.25).
        ({"connector_id": 0}, [1, 6]),
        ({"connector_id": 1}, [2, 3, 4]),
        ({"purpose": DEFAULT}, [2, 3, 5, 6]),
        ({"stack_level": 1}, [3, 5]),
        ({"connector_id": 1, "purpose": DEFAULT}, [2, 3]),
        ({"connector_id": 1, "purpose": DEFAULT, "stack_level": 1}, [3]),
        ({"purpose": TX, "stack_level": 1}, []),
        ({"connector_id": 3}, []),
    ],
)
async def test_clear_semantics(
    store: SqlStore, charge_point: str, criteria: dict[str, Any], cleared: list[int]
) -> None:
    for item in [
        profile(1, connector_id=0, stack_level=0, purpose=CPMAX),
        profile(2, connector_id=1, stack_level=0),
        profile(3, connector_id=1, stack_level=1),
        profile(4, connector_id=1, stack_level=0, purpose=TX, transaction_id=7),
        profile(5, connector_id=2, stack_level=1),
        profile(6, connector_id=0, stack_level=2),
    ]:
        await store.install_charging_profile(item)
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    await store.install_charging_profile(profile(2, charge_point_id="CP2"))

    assert await store.clear_charging_profiles(charge_point, **criteria) == cleared
    assert sorted(set(await ids(store)) | set(cleared)) == [1, 2, 3, 4, 5, 6]
    assert await ids(store, "CP2") == [2]  # another charge point's are untouched


async def test_remote_start_profile_is_bound_to_its_transaction(
    store: SqlStore, charge_point: str
) -> None:
    await store.install_charging_profile(
        profile(1, connector_id=1, purpose=TX, remote_start_id_tag="tag-a")
    )
    await store.install_charging_profile(
        profile(2, connector_id=2, purpose=TX, remote_start_id_tag="TAG-A")
    )
    await store.install_charging_profile(profile(3, connector_id=1, stack_level=0))

    # The idTag matches case-insensitively (CiString20, spec 7.28); other connectors wait.
    assert await store.bind_transaction_profiles(charge_point, 1, 41, "TAG-A") == [1]
    first, default, other = await store.charging_profiles_of(charge_point)
    assert (first.transaction_id, first.remote_start_id_tag) == (41, None)
    assert first.profile["chargingProfileId"] == 1 and "transactionId" not in first.profile
    assert (default.charging_profile_id, default.transaction_id) == (3, None)
    assert (other.transaction_id, other.remote_start_id_tag) == (None, "TAG-A")

    # A replayed StartTransaction (same transaction) keeps it.
    assert await store.bind_transaction_profiles(charge_point, 1, 41, "TAG-A") == []
    assert await ids(store) == [1, 3, 2]


async def test_a_start_drops_the_connectors_stale_tx_profiles(
    store: SqlStore, charge_point: str
) -> None:
    await store.install_charging_profile(
        profile(1, connector_id=1, purpose=TX, remote_start_id_tag="someone-else")
    )
    await store.install_charging_profile(
        profile(2, connector_id=1, stack_level=1, purpose=TX, transaction_id=40)
    )
    await store.install_charging_profile(profile(3, connector_id=1, stack_level=0))

    assert await store.bind_transaction_profiles(charge_point, 1, 41, "TAG-A") == []
    assert await ids(store) == [3]


async def test_tx_profiles_end_with_their_transaction(store: SqlStore, charge_point: str) -> None:
    for item in [
        profile(1, connector_id=0, purpose=CPMAX),
        profile(2, connector_id=1, stack_level=0),
        profile(3, connector_id=1, stack_level=0, purpose=TX, transaction_id=41),
        profile(4, connector_id=1, stack_level=1, purpose=TX, transaction_id=41),
        profile(5, connector_id=2, stack_level=0, purpose=TX, transaction_id=42),
        profile(6, connector_id=1, stack_level=2, purpose=TX, transaction_id=None),
        profile(7, connector_id=1, stack_level=3, purpose=TX, remote_start_id_tag="next"),
    ]:
        await store.install_charging_profile(item)

    # A RemoteStartTransaction's profile waiting for the next transaction stays.
    assert await store.drop_transaction_profiles(charge_point, 1, 41) == [3, 4, 6]
    assert await ids(store) == [1, 2, 7, 5]
    assert await store.drop_transaction_profiles(charge_point, 1, 41) == []


async def test_deleting_the_charge_point_deletes_its_profiles(
    store: SqlStore, charge_point: str
) -> None:
    await store.install_charging_profile(profile(1))
    assert await store.delete_charge_point(charge_point)
    assert await store.charging_profiles_of(charge_point) == []


async def test_naive_installed_at_is_refused(store: SqlStore, charge_point: str) -> None:
    naive = profile(1)
    naive = InstalledChargingProfile(
        **{
            **{name: getattr(naive, name) for name in naive.__dataclass_fields__},
            "installed_at": (NOW + timedelta(seconds=1)).replace(tzinfo=None),
        }
    )
    with pytest.raises(ValueError, match="naive"):
        await store.install_charging_profile(naive)


async def test_without_tx_profiles_a_start_and_a_stop_cost_no_writer_round(
    store: SqlStore, charge_point: str, database_url: str
) -> None:
    """A charge point that never held a TxProfile: binding and dropping are answered from
    memory (no commit); one TxProfile, installed here or read at the first use after a
    restart, and they run again. Other purposes do not count."""
    await store.install_charging_profile(profile(1, connector_id=1, purpose=DEFAULT))
    commits = store.commits
    assert await store.bind_transaction_profiles(charge_point, 1, 41, "TAG-A") == []
    assert await store.drop_transaction_profiles(charge_point, 1, 41) == []
    assert store.commits == commits

    await store.install_charging_profile(
        profile(2, connector_id=1, stack_level=1, purpose=TX, remote_start_id_tag="TAG-A")
    )
    commits = store.commits
    assert await store.bind_transaction_profiles(charge_point, 1, 42, "TAG-A") == [2]
    assert store.commits == commits + 1
    # Installed through load management's batched path, on another charge point.
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    await store.record_load_profile(
        profile(3, charge_point_id="CP2", purpose=TX, transaction_id=43)
    )
    assert await store.drop_transaction_profiles("CP2", 1, 43) == [3]

    # After a restart the TxProfile rows in the database are found at the first start.
    await store.install_charging_profile(profile(4, connector_id=2, purpose=TX, transaction_id=44))
    restarted = await open_store(database_url, now=lambda: NOW)
    try:
        assert await restarted.drop_transaction_profiles(charge_point, 2, 44) == [4]
    finally:
        await restarted.close()
