"""Stored logs that are kept bounded: unknown charge points refused at the handshake (one row
per id, capped, pruned by age; features/unknown_charge_points.py) and the audit log (pruned by
age)."""

from __future__ import annotations

from datetime import timedelta

from csms.storage import UnknownChargePointAttempt
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW


def _attempt(n: int, **fields: object) -> UnknownChargePointAttempt:
    values: dict[str, object] = {
        "charge_point_id": f"UNK{n}",
        "first_at": NOW - timedelta(hours=n),
        "last_at": NOW - timedelta(minutes=n),
        "attempts": n + 1,
        "reason": "unknown",
    }
    values.update(fields)
    return UnknownChargePointAttempt(**values)  # type: ignore[arg-type]


async def test_unknown_charge_points_one_row_per_id_capped_and_forgotten(store: SqlStore) -> None:
    await store.save_unknown_charge_points([_attempt(n) for n in range(5)], [], keep=10)
    stored = await store.list_unknown_charge_points(100)
    assert [a.charge_point_id for a in stored] == [f"UNK{n}" for n in range(5)]
    assert stored[2] == _attempt(2)
    # The same id again: its row is replaced, not added.
    again = _attempt(4, last_at=NOW + timedelta(minutes=1), attempts=9, reason="looks like CP1")
    await store.save_unknown_charge_points([again], ["UNK0"], keep=10)
    stored = await store.list_unknown_charge_points(100)
    assert [a.charge_point_id for a in stored] == ["UNK4", "UNK1", "UNK2", "UNK3"]
    assert stored[0] == again
    # Capped: only the most recently seen stay.
    await store.save_unknown_charge_points([], [], keep=2)
    assert [a.charge_point_id for a in await store.list_unknown_charge_points(100)] == [
        "UNK4",
        "UNK1",
    ]
    assert len(await store.list_unknown_charge_points(1)) == 1


async def test_unknown_charge_points_pruned_by_age(store: SqlStore) -> None:
    old = [_attempt(n, last_at=NOW - timedelta(days=40 + n)) for n in range(3)]
    await store.save_unknown_charge_points([*old, _attempt(9)], [], keep=10)
    assert await store.prune_unknown_charge_points(NOW - timedelta(days=30)) == 3
    assert [a.charge_point_id for a in await store.list_unknown_charge_points(10)] == ["UNK9"]
    assert await store.prune_unknown_charge_points(NOW - timedelta(days=30)) == 0


async def test_audit_log_pruned_by_age(store: SqlStore) -> None:
    for days in (400, 366, 10, 0):
        await store.add_audit_entry(
            at=NOW - timedelta(days=days),
            actor="ada",
            user_id=None,
            method="POST",
            path=f"/{days}",
            operation=None,
            charge_point_id=None,
            summary=None,
            status=200,
        )
    assert await store.prune_audit_log(NOW - timedelta(days=365)) == 2
    assert [e.path for e in await store.list_audit_entries()] == ["/0", "/10"]
    assert await store.prune_audit_log(NOW - timedelta(days=365)) == 0
