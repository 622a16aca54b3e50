"""The local authorization list part of the store: policies, the per charge point record, and
the entries the CSMS believes installed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csms.storage import IdTag, LocalList, LocalListPolicy, LocalListUpdate
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW

LATER = NOW + timedelta(minutes=5)
EXPIRY = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def full(version: int, *tags: IdTag, answer: str = "Accepted") -> LocalListUpdate:
    accepted = answer == "Accepted"
    return LocalListUpdate(
        charge_point_id="CP1",
        update_type="Full",
        list_version=version,
        answer=answer,
        status="InSync" if accepted else "Failed",
        at=NOW,
        applied=accepted,
        entries=tags,
    )


async def test_policies_round_trip(store: SqlStore) -> None:
    assert await store.list_local_list_policies() == []
    assert await store.get_local_list_policy("depot") is None

    depot = LocalListPolicy(name="depot", kind="idTags", id_tags=("B", "a"), description="staff")
    everyone = LocalListPolicy(name="all", kind="all")
    await store.put_local_list_policy(depot)
    await store.put_local_list_policy(everyone)

    assert await store.get_local_list_policy("depot") == depot  # tags in the order given
    assert await store.list_local_list_policies() == [everyone, depot]

    replaced = LocalListPolicy(name="depot", kind="parentIdTags", id_tags=("GROUP",))
    await store.put_local_list_policy(replaced)
    assert await store.get_local_list_policy("depot") == replaced

    assert await store.delete_local_list_policy("depot") is True
    assert await store.delete_local_list_policy("depot") is False
    assert await store.list_local_list_policies() == [everyone]


async def test_assignment_and_unknown_list(store: SqlStore, charge_point: str) -> None:
    assert await store.local_list_of(charge_point) == LocalList(charge_point_id=charge_point)
    assert await store.list_local_lists() == []

    await store.put_local_list_policy(LocalListPolicy(name="p", kind="all"))
    await store.assign_local_list_policy(charge_point, "p")

    assigned = await store.local_list_of(charge_point)
    assert (assigned.policy, assigned.status, assigned.version) == ("p", "Unknown", None)
    assert await store.list_local_lists("p") == [assigned]
    assert await store.list_local_lists("other") == []

    # Deleting the policy leaves the charge point without one (and keeps its record).
    await store.delete_local_list_policy("p")
    assert (await store.local_list_of(charge_point)).policy is None

    await store.put_local_list_policy(LocalListPolicy(name="p", kind="all"))
    await store.assign_local_list_policy(charge_point, "p")
    await store.assign_local_list_policy(charge_point, None)
    assert (await store.local_list_of(charge_point)).policy is None


async def test_full_then_differential_updates(store: SqlStore, charge_point: str) -> None:
    await store.record_local_list_update(
        full(
            3,
            IdTag(id_tag="Alpha", status="Accepted", expiry_date=EXPIRY),
            IdTag(id_tag="beta", status="Blocked", parent_id_tag="G"),
        )
    )
    local_list = await store.local_list_of(charge_point)
    assert (local_list.status, local_list.version, local_list.sent_version) == ("InSync", 3, 3)
    assert (local_list.last_update_type, local_list.last_update_status) == ("Full", "Accepted")
    assert local_list.last_update_at == NOW
    assert await store.local_list_entries(charge_point) == [
        IdTag(id_tag="Alpha", status="Accepted", expiry_date=EXPIRY),
        IdTag(id_tag="beta", status="Blocked", parent_id_tag="G"),
    ]
    assert await store.local_list_holders("ALPHA") == [charge_point]
    assert await store.local_list_holders("gamma") == []

    # Differential: update Alpha (another spelling), delete BETA, add gamma.
    await store.record_local_list_update(
        LocalListUpdate(
            charge_point_id=charge_point,
            update_type="Differential",
            list_version=4,
            answer="Accepted",
            status="InSync",
            at=LATER,
            applied=True,
            entries=(
                IdTag(id_tag="ALPHA", status="Expired"),
                IdTag(id_tag="gamma", status="Accepted"),
            ),
            removals=("BETA",),
        )
    )
    assert await store.local_list_entries(charge_point) == [
        IdTag(id_tag="ALPHA", status="Expired"),
        IdTag(id_tag="gamma", status="Accepted"),
    ]
    local_list = await store.local_list_of(charge_point)
    assert (local_list.version, local_list.sent_version, local_list.last_update_at) == (
        4,
        4,
        LATER,
    )

    # A Full replaces everything.
    await store.record_local_list_update(full(5, IdTag(id_tag="delta", status="Accepted")))
    assert [tag.id_tag for tag in await store.local_list_entries(charge_point)] == ["delta"]


async def test_failed_update_keeps_the_entries(store: SqlStore, charge_point: str) -> None:
    await store.record_local_list_update(full(2, IdTag(id_tag="A", status="Accepted")))
    await store.record_local_list_error(charge_point, "too long")

    await store.record_local_list_update(
        full(7, IdTag(id_tag="B", status="Accepted"), answer="Failed")
    )

    local_list = await store.local_list_of(charge_point)
    # Believed version and entries unchanged; the version sent is remembered (never reused).
    assert (local_list.status, local_list.version, local_list.sent_version) == ("Failed", 2, 7)
    assert (local_list.last_update_version, local_list.last_update_status) == (7, "Failed")
    assert local_list.error == "too long"
    assert [tag.id_tag for tag in await store.local_list_entries(charge_point)] == ["A"]

    # A lower version sent later does not lower sent_version; an applied one clears the error.
    await store.record_local_list_update(full(5, IdTag(id_tag="C", status="Accepted")))
    local_list = await store.local_list_of(charge_point)
    assert (local_list.version, local_list.sent_version, local_list.error) == (5, 7, None)


async def test_unanswered_update(store: SqlStore, charge_point: str) -> None:
    await store.record_local_list_update(
        LocalListUpdate(
            charge_point_id=charge_point,
            update_type="Differential",
            list_version=9,
            answer=None,
            status="Failed",
            at=NOW,
        )
    )
    local_list = await store.local_list_of(charge_point)
    assert (local_list.status, local_list.version, local_list.sent_version) == ("Failed", None, 9)
    assert local_list.last_update_status is None


async def test_version_reports(store: SqlStore, charge_point: str) -> None:
    await store.record_local_list_update(full(4, IdTag(id_tag="A", status="Accepted")))

    await store.record_local_list_version(charge_point, 6, status="Mismatch", at=LATER)
    local_list = await store.local_list_of(charge_point)
    assert (local_list.status, local_list.version, local_list.reported_version) == (
        "Mismatch",
        4,
        6,
    )
    assert local_list.reconciled_at == LATER
    assert len(await store.local_list_entries(charge_point)) == 1

    # Known empty (version 0): no believed entries any more.
    await store.record_local_list_version(charge_point, 0, status="InSync", at=LATER, empty=True)
    local_list = await store.local_list_of(charge_point)
    assert (local_list.status, local_list.version, local_list.reported_version) == (
        "InSync",
        0,
        0,
    )
    assert await store.local_list_entries(charge_point) == []


async def test_deleting_the_charge_point_deletes_its_list(
    store: SqlStore, charge_point: str
) -> None:
    await store.record_local_list_update(full(1, IdTag(id_tag="A", status="Accepted")))
    await store.delete_charge_point(charge_point)
    assert await store.list_local_lists() == []
    assert await store.local_list_holders("A") == []
