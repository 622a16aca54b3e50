"""The load groups API: create, read, change and delete groups and members, with the tree's
rules (no cycles, a charge point in one group at most) and input validation."""

from __future__ import annotations

from typing import Any

from tests.harness import Harness


async def create(harness: Harness, **fields: Any) -> dict[str, Any]:
    response = await harness.api.post("/load-groups", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_read_change_delete(harness: Harness) -> None:
    site = await create(harness, name="site", limit=63)
    assert {k: v for k, v in site.items() if k not in ("createdAt", "updatedAt")} == {
        "id": 1,
        "name": "site",
        "parentId": None,
        "limit": 63.0,
        "unit": "A",
        "voltage": 230.0,
        "phases": 3,
        "strategy": "EqualShare",
        "minCurrent": 6.0,
        "drawMargin": 2.0,
        "limitAmps": 63.0,
    }
    feeder = await create(
        harness, name="feeder", parentId=site["id"], limit=11000, unit="W", phases=1
    )
    assert feeder["limitAmps"] == 47.8  # 11000 W / 230 V, rounded down

    response = await harness.api.get("/load-groups")
    assert [g["name"] for g in response.json()] == ["site", "feeder"]
    response = await harness.api.patch(
        f"/load-groups/{feeder['id']}", json={"strategy": "Priority", "minCurrent": 8}
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["strategy"], changed["minCurrent"], changed["parentId"], changed["limit"]) == (
        "Priority",
        8.0,
        site["id"],
        11000.0,
    )
    # parentId null: a site of its own.
    response = await harness.api.patch(f"/load-groups/{feeder['id']}", json={"parentId": None})
    assert response.json()["parentId"] is None
    response = await harness.api.get(f"/load-groups/{feeder['id']}")
    assert response.json()["parentId"] is None and response.json()["strategy"] == "Priority"

    assert (await harness.api.delete(f"/load-groups/{feeder['id']}")).status_code == 204
    assert (await harness.api.get(f"/load-groups/{feeder['id']}")).status_code == 404
    assert (await harness.api.delete(f"/load-groups/{feeder['id']}")).status_code == 404


async def test_the_tree_rules(harness: Harness) -> None:
    site = await create(harness, name="site", limit=100)
    feeder = await create(harness, name="feeder", parentId=site["id"], limit=50)

    response = await harness.api.patch(
        f"/load-groups/{site['id']}", json={"parentId": feeder["id"]}
    )
    assert response.status_code == 409 and "cycle" in response.json()["detail"]
    response = await harness.api.post("/load-groups", json={"name": "site", "limit": 1})
    assert response.status_code == 409
    response = await harness.api.post("/load-groups", json={"name": "x", "limit": 1, "parentId": 9})
    assert response.status_code == 409
    response = await harness.api.delete(f"/load-groups/{site['id']}")
    assert response.status_code == 409 and "subgroups" in response.json()["detail"]
    assert (await harness.api.patch("/load-groups/9", json={"limit": 5})).status_code == 404


async def test_invalid_input(harness: Harness) -> None:
    for body in (
        {"name": "a", "limit": 0},
        {"name": "a", "limit": -5},
        {"name": "", "limit": 5},
        {"name": "a", "limit": 5, "unit": "kW"},
        {"name": "a", "limit": 5, "phases": 4},
        {"name": "a", "limit": 5, "strategy": "Random"},
        {"name": "a", "limit": 5, "minCurrent": 6.05},
        {"name": "a", "limit": 5, "voltage": 0},
    ):
        response = await harness.api.post("/load-groups", json=body)
        assert response.status_code == 422, body


async def test_members(harness: Harness) -> None:
    site = await create(harness, name="site", limit=100)
    other = await create(harness, name="other", limit=100)
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
    members = f"/load-groups/{site['id']}/members"

    response = await harness.api.put(
        f"{members}/CP1", json={"priority": 2, "phases": 1, "maxCurrent": 16, "connectors": 2}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "chargePointId": "CP1",
        "groupId": site["id"],
        "priority": 2,
        "phases": 1,
        "maxCurrent": 16.0,
        "connectors": 2,
    }
    assert [m["chargePointId"] for m in (await harness.api.get(members)).json()] == ["CP1"]

    # In one group at most; unknown charge points and groups.
    response = await harness.api.put(f"/load-groups/{other['id']}/members/CP1", json={})
    assert response.status_code == 409 and "member of load group" in response.json()["detail"]
    assert (await harness.api.put(f"{members}/CP9", json={})).status_code == 404
    assert (await harness.api.put("/load-groups/9/members/CP1", json={})).status_code == 404
    assert (await harness.api.get("/load-groups/9/members")).status_code == 404
    response = await harness.api.put(f"{members}/CP1", json={"maxCurrent": 16.05})
    assert response.status_code == 422

    response = await harness.api.delete(f"/load-groups/{other['id']}/members/CP1")
    assert response.status_code == 404
    assert (await harness.api.delete(f"{members}/CP1")).status_code == 204
    assert (await harness.api.get(members)).json() == []
    response = await harness.api.put(f"/load-groups/{other['id']}/members/CP1", json={})
    assert response.status_code == 200


async def test_allocation_and_history_of_an_unknown_group(harness: Harness) -> None:
    assert (await harness.api.get("/load-groups/9/allocation")).status_code == 404
    assert (await harness.api.get("/load-groups/9/allocation/history")).status_code == 404
    site = await create(harness, name="site", limit=100)
    response = await harness.api.get(f"/load-groups/{site['id']}/allocation/history")
    assert response.status_code == 200 and response.json() == []
    paths = (await harness.api.get("/openapi.json")).json()["paths"]
    assert "/api/v1/load-groups/{group_id}/allocation" in paths
