"""Operator accounts in the store (docs/console.md): users with case-insensitively unique names,
API tokens by digest and their revocation, console sessions, the audit log; on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from csms.storage import ConsoleSession, Role, UserExistsError
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW


async def test_users_are_added_found_by_name_in_any_case_and_changed(store: SqlStore) -> None:
    alice = await store.add_user("Alice", Role.ADMIN, "scrypt$x$y", NOW)
    assert alice.name == "Alice" and alice.role is Role.ADMIN and not alice.disabled
    with pytest.raises(UserExistsError):
        await store.add_user("alice", Role.VIEWER, "scrypt$x$y", NOW)
    assert await store.get_user_by_name("ALICE") == alice
    assert await store.get_user(alice.id) == alice
    later = NOW + timedelta(minutes=1)
    changed = await store.update_user(alice.id, at=later, role=Role.VIEWER, disabled=True)
    assert changed is not None and changed.role is Role.VIEWER and changed.disabled
    assert changed.updated_at == later and changed.created_at == NOW
    assert await store.list_users() == [changed]
    assert await store.update_user(999, at=later, role=Role.ADMIN) is None


async def test_tokens_are_kept_by_digest_and_revoked_once(store: SqlStore) -> None:
    user = await store.add_user("bob", Role.OPERATOR, "h", NOW)
    token = await store.add_api_token(user.id, "ci", "d" * 64, "csms_abc", NOW)
    assert token.revoked_at is None and token.user_id == user.id
    revoked = await store.revoke_api_token(token.id, NOW + timedelta(seconds=1))
    assert revoked is not None and revoked.revoked_at == NOW + timedelta(seconds=1)
    again = await store.revoke_api_token(token.id, NOW + timedelta(seconds=9))
    assert again is not None and again.revoked_at == revoked.revoked_at
    assert await store.list_api_tokens(user.id) == [revoked]
    assert await store.revoke_api_token(12345, NOW) is None


async def test_sessions_expire_and_end_when_the_user_is_disabled(store: SqlStore) -> None:
    user = await store.add_user("carol", Role.VIEWER, "h", NOW)
    for name, ttl in (("a", 60), ("b", 3600)):
        await store.add_session(
            ConsoleSession(
                digest=name * 64,
                user_id=user.id,
                csrf_token="c",
                created_at=NOW,
                expires_at=NOW + timedelta(seconds=ttl),
            )
        )
    later = NOW + timedelta(seconds=120)
    assert [s.digest for s in await store.list_sessions(later)] == ["b" * 64]
    assert await store.delete_expired_sessions(later) == 1
    await store.update_user(user.id, at=later, disabled=True)
    assert await store.list_sessions(NOW) == []


async def test_the_audit_log_is_newest_first_and_filtered(store: SqlStore) -> None:
    for index in range(3):
        await store.add_audit_entry(
            at=NOW + timedelta(seconds=index),
            actor="api-token" if index else "dave",
            user_id=None,
            method="POST",
            path=f"/api/v1/x/{index}",
            operation="x",
            charge_point_id="CP1" if index == 2 else None,
            summary='{"a":1}',
            status=200,
        )
    entries = await store.list_audit_entries()
    assert [e.path for e in entries] == ["/api/v1/x/2", "/api/v1/x/1", "/api/v1/x/0"]
    assert [e.path for e in await store.list_audit_entries(before_id=entries[0].id)] == [
        "/api/v1/x/1",
        "/api/v1/x/0",
    ]
    assert [e.actor for e in await store.list_audit_entries(actor="dave")] == ["dave"]
    assert [e.path for e in await store.list_audit_entries(charge_point_id="CP1")] == [
        "/api/v1/x/2"
    ]
