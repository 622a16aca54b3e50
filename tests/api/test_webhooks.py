"""/api/v1/webhooks: bad input answered 422 naming the field, secrets never returned, the
subscription's life (create, list, get, update, delete) and 404s."""

from __future__ import annotations

from typing import Any

import pytest
from tests.harness import Harness

SECRET = "a-secret-of-some-length"


def fields_named(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [str(error["loc"][-1]) for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http:///no-host"}, "url"),
        ({"url": "http://example.com:port/"}, "url"),
        ({"url": "https://example.com/" + "x" * 2000}, "url"),
        ({"types": ["transaction.started", "coffee.brewed"]}, "types"),
        ({"types": []}, "types"),
        ({"secret": "short"}, "secret"),
        ({"secret": None}, "secret"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
async def test_bad_subscriptions_are_refused_naming_the_field(
    harness: Harness, body: dict[str, Any], field: str
) -> None:
    valid = {"url": "https://example.com/hook", "secret": SECRET}
    response = await harness.api.post("/webhooks", json={**valid, **body})
    assert fields_named(response) == [field]
    if field == "types" and body["types"]:
        assert "coffee.brewed" in response.text
    assert await harness.store.list_webhooks() == []


async def test_a_subscription_never_shows_its_secret(harness: Harness) -> None:
    created = await harness.api.post(
        "/webhooks",
        json={
            "url": "https://user:pass@example.com/hook",
            "types": ["transaction", "alert.raised"],
            "secret": SECRET,
            "description": "billing",
        },
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["url"] == "https://user:***@example.com/hook"
    assert (hook["types"], hook["enabled"], hook["pending"]) == (
        ["alert.raised", "transaction"],  # sorted
        True,
        0,
    )
    changed = await harness.api.patch(
        f"/webhooks/{hook['id']}",
        json={"types": None, "secret": "another-secret-that-is-long", "enabled": False},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["types"], changed.json()["enabled"]) == (None, False)
    assert changed.json()["description"] == "billing"
    responses = [
        created,
        changed,
        await harness.api.get("/webhooks"),
        await harness.api.get(f"/webhooks/{hook['id']}"),
    ]
    for response in responses:
        assert response.status_code in (200, 201)
        assert "secret" not in response.text.lower() and "pass" not in response.text
    audit = await harness.api.get("/audit")
    assert audit.status_code == 200 and "/webhooks" in audit.text
    assert SECRET not in audit.text and "another-secret" not in audit.text
    stored = await harness.store.get_webhook(hook["id"])
    assert stored is not None and stored.secret == "another-secret-that-is-long"
    bad = await harness.api.patch(f"/webhooks/{hook['id']}", json={"url": "file:///etc/passwd"})
    assert fields_named(bad) == ["url"]
    assert (await harness.api.delete(f"/webhooks/{hook['id']}")).status_code == 204
    for method, path in [
        ("GET", f"/webhooks/{hook['id']}"),
        ("PATCH", f"/webhooks/{hook['id']}"),
        ("DELETE", f"/webhooks/{hook['id']}"),
        ("GET", f"/webhooks/{hook['id']}/dead-letters"),
        ("POST", f"/webhooks/{hook['id']}/dead-letters/redeliver"),
    ]:
        response = await harness.api.request(method, path, json={} if method != "GET" else None)
        assert response.status_code == 404, (method, path, response.text)
