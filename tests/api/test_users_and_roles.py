"""Users, roles, API tokens and the audit log of the operator API (docs/console.md), against a
real server: every route of the app's own route table needs its role, checked before the body;
a revoked token or a disabled user is refused at once; every change is audited."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.api.test_abuse import _fill, _head, _raw_status, _routes, _url
from tests.harness import Harness

from csms.api.roles import required_role
from csms.storage import Role

PASSWORD = "correct horse battery"


async def add_user(harness: Harness, name: str, role: str) -> tuple[int, str]:
    """A user made by the static token (an admin), and an API token of theirs."""
    made = await harness.api.post("/users", json={"name": name, "role": role, "password": PASSWORD})
    assert made.status_code == 201, made.text
    user_id = made.json()["id"]
    token = await harness.api.post(f"/users/{user_id}/tokens", json={"name": "tests"})
    assert token.status_code == 201, token.text
    return user_id, token.json()["token"]


@pytest.fixture
async def as_user(harness: Harness) -> AsyncIterator[Any]:
    clients: list[httpx.AsyncClient] = []

    async def make(name: str, role: str) -> httpx.AsyncClient:
        _, token = await add_user(harness, name, role)
        client = httpx.AsyncClient(
            base_url=str(harness.api.base_url), headers={"Authorization": f"Bearer {token}"}
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_the_static_token_is_an_admin_without_a_user(harness: Harness) -> None:
    me = (await harness.api.get("/me")).json()
    assert me == {"name": "api-token", "role": "admin", "userId": None, "csrfToken": None}
    assert (await harness.api.post("/tokens", json={"name": "x"})).status_code == 400


async def test_tokens_are_shown_once_and_stored_as_digests(harness: Harness, as_user: Any) -> None:
    user_id, token = await add_user(harness, "erin", "viewer")
    stored = await harness.store.list_api_tokens(user_id)
    assert [t.digest for t in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in str(stored)
    listed = (await harness.api.get(f"/users/{user_id}/tokens")).json()
    assert "token" not in listed[0] and token.startswith(listed[0]["prefix"])
    stored_user = await harness.store.get_user(user_id)
    stored_hash = stored_user.password_hash
    assert stored_hash.startswith("scrypt$") and PASSWORD not in stored_hash


async def _status_of(client: httpx.AsyncClient, method: str, url: str) -> tuple[int, str]:
    """The status of a request with a bad body, and its text; a streaming answer (Server-Sent
    Events, never ending) is opened, its status taken and closed unread."""
    async with client.stream(
        method, url, content=b'{"not json', headers={"Content-Type": "application/json"}
    ) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return response.status_code, "(event stream)"
        await response.aread()
        return response.status_code, response.text


async def test_every_route_needs_its_role(harness: Harness, as_user: Any) -> None:
    viewer = await as_user("vera", "viewer")
    operator = await as_user("otto", "operator")
    routes = [r for r in await _routes(harness) if r[1].startswith("/api/v1/")]
    assert len(routes) > 40
    checked = {Role.VIEWER: 0, Role.OPERATOR: 0, Role.ADMIN: 0}
    for method, path, operation in routes:
        # (Not token 1: that is the viewer's own, which it may revoke.)
        url = _url(harness, _fill(path, operation, token_id="999999"))
        needed = required_role(method, path)
        checked[needed] += 1
        section = path.split("/")[3]
        # The rule, written out again here: the test fails if roles.py drifts from it.
        if section in ("users", "audit"):
            assert needed is Role.ADMIN, (method, path)
        elif section in ("me", "tokens") or method in ("GET", "HEAD"):
            assert needed is Role.VIEWER, (method, path)
        else:
            assert needed is Role.OPERATOR, (method, path)
        for client, role in ((viewer, Role.VIEWER), (operator, Role.OPERATOR)):
            status_code, text = await _status_of(client, method, url)
            where = (role, method, path, text)
            if role.allows(needed):
                assert status_code not in (401, 403, 500), where
            else:
                assert status_code == 403, where
    assert all(checked.values()), checked


async def test_a_revoked_token_is_refused_at_once(harness: Harness) -> None:
    user_id, token = await add_user(harness, "rita", "operator")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=str(harness.api.base_url), headers=headers) as client:
        mine = (await client.get("/tokens")).json()
        assert (await client.get("/me")).json()["name"] == "rita"
        assert (await client.delete(f"/tokens/{mine[0]['id']}")).status_code == 204
        assert (await client.get("/me")).status_code == 401
    listed = (await harness.api.get(f"/users/{user_id}/tokens")).json()
    assert listed[0]["revokedAt"] is not None


async def test_a_user_cannot_revoke_another_users_token(harness: Harness, as_user: Any) -> None:
    _, token = await add_user(harness, "paula", "viewer")
    other = await as_user("quinn", "operator")
    theirs = (await harness.store.list_api_tokens())[0]
    assert (await other.delete(f"/tokens/{theirs.id}")).status_code == 404
    async with httpx.AsyncClient(
        base_url=str(harness.api.base_url), headers={"Authorization": f"Bearer {token}"}
    ) as client:
        assert (await client.get("/me")).status_code == 200


async def test_disabling_a_user_refuses_their_tokens_and_a_role_change_applies_at_once(
    harness: Harness,
) -> None:
    user_id, token = await add_user(harness, "sam", "viewer")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=str(harness.api.base_url), headers=headers) as client:
        assert (await client.put("/id-tags/TAG1", json={})).status_code == 403
        await harness.api.patch(f"/users/{user_id}", json={"role": "operator"})
        assert (await client.put("/id-tags/TAG1", json={})).status_code == 200
        await harness.api.patch(f"/users/{user_id}", json={"disabled": True})
        assert (await client.get("/me")).status_code == 401
        await harness.api.patch(f"/users/{user_id}", json={"disabled": False})
        assert (await client.get("/me")).status_code == 200


async def test_user_names_are_unique_and_passwords_long_enough(harness: Harness) -> None:
    await add_user(harness, "Tina", "viewer")
    again = await harness.api.post(
        "/users", json={"name": "tina", "role": "viewer", "password": PASSWORD}
    )
    assert again.status_code == 409
    short = await harness.api.post("/users", json={"name": "u", "role": "viewer", "password": "x"})
    assert short.status_code == 422


async def test_commands_are_audited_with_who_and_the_answer(harness: Harness, as_user: Any) -> None:
    operator = await as_user("oscar", "operator")
    viewer = await as_user("val", "viewer")
    async with harness.charge_point() as cp:
        await cp.boot()
        reset = await operator.post("/charge-points/CP1/commands/Reset", json={"type": "Soft"})
        assert reset.status_code == 200
        await cp.expect_call("Reset")
    assert (await operator.post("/reset", params={"charge_point_id": "CP9"}, json={})).status_code
    assert (await viewer.put("/id-tags/TAG9", json={})).status_code == 403
    await viewer.get("/charge-points")  # reads are not audited
    entries = (await harness.api.get("/audit")).json()
    refused, offline, command = entries[0], entries[1], entries[2]
    assert command["actor"] == "oscar" and command["method"] == "POST"
    assert command["path"] == "/api/v1/charge-points/CP1/commands/Reset"
    assert command["chargePointId"] == "CP1" and command["status"] == 200
    assert command["summary"] == '{"type":"Soft"}' and command["operation"]
    assert offline["actor"] == "oscar" and offline["chargePointId"] == "CP9"
    assert offline["status"] >= 400
    assert refused["actor"] == "val" and refused["status"] == 403
    assert not any(e["path"] == "/api/v1/charge-points" for e in entries)
    # Only admins read it.
    assert (await operator.get("/audit")).status_code == 403


async def test_passwords_never_reach_the_audit_log(harness: Harness) -> None:
    await add_user(harness, "wendy", "viewer")
    entries = (await harness.api.get("/audit", params={"actor": "api-token"})).json()
    added = next(e for e in entries if e["path"] == "/api/v1/users")
    assert PASSWORD not in str(entries) and '"password":"***"' in added["summary"]
    assert added["status"] == 201


async def test_a_role_too_small_is_refused_before_the_body_is_read(harness: Harness) -> None:
    _, token = await add_user(harness, "xena", "viewer")
    port = harness.app.http_port
    # Announced huge and never sent: a 403 that waited for the body would not come.
    for path in ("/api/v1/firmware", "/api/v1/users", "/api/v1/id-tags"):
        assert await _raw_status(port, _head(path, 300_000_000, token), b"x" * 1000) == 403
