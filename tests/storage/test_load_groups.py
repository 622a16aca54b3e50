"""Load groups: the tree (no cycles, names unique, subgroups block a delete), members (a charge
point in one group at most), transactions' own priorities, and the allocation history. On
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import timedelta
from decimal import Decimal

import pytest

from csms.storage import (
    InstalledChargingProfile,
    LoadAllocation,
    LoadGroupConflictError,
    LoadGroupMember,
    LoadGroupSpec,
    TransactionStart,
    UnknownChargePointError,
)
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW


def spec(name: str, parent_id: int | None = None, **fields: object) -> LoadGroupSpec:
    values: dict[str, object] = {"limit": Decimal(100), **fields}
    return LoadGroupSpec(name=name, parent_id=parent_id, **values)  # type: ignore[arg-type]


async def test_groups_round_trip_exactly(store: SqlStore) -> None:
    site = await store.create_load_group(
        spec(
            "site",
            unit="W",
            voltage=Decimal("229.5"),
            phases=1,
            strategy="Priority",
            min_current=Decimal("6.5"),
            draw_margin=Decimal("1.5"),
        ),
        NOW,
    )
    feeder = await store.create_load_group(spec("feeder", site.id), NOW)
    assert (site.id, feeder.id) == (1, 2)
    assert await store.get_load_group(site.id) == site
    assert (site.voltage, site.min_current, site.created_at) == (
        Decimal("229.5"),
        Decimal("6.5"),
        NOW,
    )
    assert await store.list_load_groups() == [site, feeder]
    assert await store.get_load_group(99) is None

    later = NOW + timedelta(minutes=1)
    changed = await store.update_load_group(
        feeder.id, spec("feeder A", site.id, limit=Decimal("40.5")), later
    )
    assert changed is not None
    assert (changed.name, changed.limit, changed.updated_at, changed.created_at) == (
        "feeder A",
        Decimal("40.5"),
        later,
        NOW,
    )
    assert await store.update_load_group(99, spec("x"), later) is None


async def test_the_tree_has_no_cycles_and_unique_names(store: SqlStore) -> None:
    site = await store.create_load_group(spec("site"), NOW)
    feeder = await store.create_load_group(spec("feeder", site.id), NOW)
    branch = await store.create_load_group(spec("branch", feeder.id), NOW)

    with pytest.raises(LoadGroupConflictError, match="cycle"):
        await store.update_load_group(site.id, spec("site", branch.id), NOW)
    with pytest.raises(LoadGroupConflictError, match="cycle"):
        await store.update_load_group(feeder.id, spec("feeder", feeder.id), NOW)
    with pytest.raises(LoadGroupConflictError, match="named"):
        await store.create_load_group(spec("feeder"), NOW)
    with pytest.raises(LoadGroupConflictError, match="named"):
        await store.update_load_group(branch.id, spec("site", feeder.id), NOW)
    with pytest.raises(LoadGroupConflictError, match="no load group 42"):
        await store.create_load_group(spec("orphan", 42), NOW)
    # Moving a branch elsewhere is fine.
    moved = await store.update_load_group(branch.id, spec("branch", site.id), NOW)
    assert moved is not None and moved.parent_id == site.id

    with pytest.raises(LoadGroupConflictError, match="subgroups"):
        await store.delete_load_group(site.id)
    assert await store.delete_load_group(branch.id)
    assert not await store.delete_load_group(branch.id)


async def test_a_charge_point_is_in_one_group_at_most(store: SqlStore, charge_point: str) -> None:
    site = await store.create_load_group(spec("site"), NOW)
    other = await store.create_load_group(spec("other"), NOW)
    member = LoadGroupMember(
        charge_point_id=charge_point,
        group_id=site.id,
        priority=2,
        phases=1,
        max_current=Decimal("16.5"),
        connectors=2,
    )
    assert await store.put_load_group_member(member) == member
    with pytest.raises(LoadGroupConflictError, match="member of load group 1"):
        await store.put_load_group_member(
            LoadGroupMember(charge_point_id=charge_point, group_id=other.id)
        )
    changed = LoadGroupMember(charge_point_id=charge_point, group_id=site.id, priority=5)
    await store.put_load_group_member(changed)
    assert await store.list_load_group_members() == [changed]
    assert await store.list_load_group_members(other.id) == []
    with pytest.raises(UnknownChargePointError):
        await store.put_load_group_member(LoadGroupMember(charge_point_id="CP9", group_id=1))
    with pytest.raises(LoadGroupConflictError):
        await store.put_load_group_member(
            LoadGroupMember(charge_point_id=charge_point, group_id=99)
        )

    assert await store.remove_load_group_member(charge_point) == changed
    assert await store.remove_load_group_member(charge_point) is None
    await store.put_load_group_member(LoadGroupMember(charge_point_id=charge_point, group_id=2))
    # Deleting a group lets its members go.
    assert await store.delete_load_group(other.id)
    assert await store.list_load_group_members() == []


async def test_transaction_priorities(store: SqlStore, charge_point: str) -> None:
    transaction = await store.start_transaction(
        TransactionStart(
            charge_point_id=charge_point,
            connector_id=1,
            id_tag="TAG",
            meter_start=0,
            timestamp=NOW,
            reservation_id=None,
            id_tag_status="Accepted",
        )
    )
    assert await store.set_transaction_load_priority(transaction.id, 3)
    assert await store.transaction_load_priorities() == {transaction.id: 3}
    assert await store.transaction_load_priorities([transaction.id, 77]) == {transaction.id: 3}
    assert await store.transaction_load_priorities([]) == {}
    assert await store.set_transaction_load_priority(transaction.id, None)
    assert await store.transaction_load_priorities() == {}
    assert not await store.set_transaction_load_priority(77, 1)


def record(group_id: int, minutes: int, transaction_id: int | None = 1) -> LoadAllocation:
    return LoadAllocation(
        group_id=group_id,
        charge_point_id="CP1",
        connector_id=1,
        transaction_id=transaction_id,
        purpose="TxProfile",
        limit=Decimal("10.6"),
        number_phases=3,
        paused=False,
        demand=Decimal(32),
        measured_draw=None,
        strategy="EqualShare",
        reason="equal share of site (32 A)",
        status="Accepted",
        sent_at=NOW + timedelta(minutes=minutes),
        answered_at=NOW + timedelta(minutes=minutes, seconds=1),
    )


async def test_allocation_history(store: SqlStore) -> None:
    site = await store.create_load_group(spec("site"), NOW)
    feeder = await store.create_load_group(spec("feeder", site.id), NOW)
    await store.record_load_allocations(
        [record(site.id, 0), record(feeder.id, 1, transaction_id=2), record(site.id, 2)]
    )
    await store.record_load_allocations([record(99, 3)])  # a group deleted meanwhile
    await store.record_load_allocations([])

    newest = await store.load_allocation_history([site.id, feeder.id])
    assert [(r.group_id, r.sent_at) for r in newest] == [
        (site.id, NOW + timedelta(minutes=2)),
        (feeder.id, NOW + timedelta(minutes=1)),
        (site.id, NOW),
    ]
    assert newest[0] == dataclasses.replace(record(site.id, 2), id=3)
    assert [r.id for r in await store.load_allocation_history([site.id], before_id=3)] == [1]
    assert [r.id for r in await store.load_allocation_history([site.id, feeder.id], limit=1)] == [3]
    only = await store.load_allocation_history([site.id, feeder.id], transaction_id=2)
    assert [r.id for r in only] == [2]
    assert await store.load_allocation_history([]) == []

    assert await store.prune_load_allocations(NOW + timedelta(minutes=1)) == 1
    assert [r.id for r in await store.load_allocation_history([site.id, feeder.id])] == [3, 2]


def installed(charge_point_id: str, n: int, rng: random.Random) -> InstalledChargingProfile:
    purpose = rng.choice(("TxDefaultProfile", "TxProfile", "ChargePointMaxProfile"))
    connector_id = 0 if purpose == "ChargePointMaxProfile" else rng.randrange(3)
    wire = {
        "chargingProfileId": rng.randrange(1, 7),
        "stackLevel": rng.randrange(3),
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": Decimal(n) / 10}],
        },
    }
    return InstalledChargingProfile(
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        charging_profile_id=wire["chargingProfileId"],  # type: ignore[arg-type]
        stack_level=wire["stackLevel"],  # type: ignore[arg-type]
        purpose=purpose,
        transaction_id=None,
        remote_start_id_tag=None,
        profile=wire,
        installed_at=NOW,
    )


async def test_load_profiles_recorded_many_at_once_as_one_by_one(store: SqlStore) -> None:
    """record_load_profile (batched) keeps exactly what install_charging_profile keeps, with
    the same answers, whatever the order of replacements within one batch."""
    for charge_point_id in ("ONE", "MANY"):
        await store.save_charge_point(
            charge_point_id, registration_status="Accepted", password_hash=None, description=None
        )
    rng = random.Random(7)
    for _ in range(5):
        batch = [installed("ONE", n, rng) for n in range(40)]
        one_by_one = [await store.install_charging_profile(p) for p in batch]
        many = await asyncio.gather(
            *(
                store.record_load_profile(dataclasses.replace(p, charge_point_id="MANY"))
                for p in batch
            )
        )
        assert list(many) == one_by_one
        kept = {
            cp: [
                dataclasses.replace(p, charge_point_id="-")
                for p in await store.charging_profiles_of(cp)
            ]
            for cp in ("ONE", "MANY")
        }
        assert kept["MANY"] == kept["ONE"]
