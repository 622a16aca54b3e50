"""The operator's local list API in certification mode (the CSMS sends only what it is told):
policies, chunking by SendLocalListMaxLength, refusals, explicit versions, the generic command
endpoint recording what it sent."""

from __future__ import annotations

from typing import Any

from tests.harness import Harness

from csms.simulator import SimulatedChargePoint

CP = "CP1"


async def put_tags(harness: Harness, *id_tags: str, **body: Any) -> None:
    for id_tag in id_tags:
        response = await harness.api.put(f"/id-tags/{id_tag}", json={"status": "Accepted", **body})
        assert response.status_code == 200, response.text


async def assign(harness: Harness, policy: str, body: dict[str, Any], cp: str = CP) -> None:
    response = await harness.api.put(f"/local-list-policies/{policy}", json=body)
    assert response.status_code == 200, response.text
    response = await harness.api.put(
        f"/charge-points/{cp}/local-list/policy", json={"policy": policy}
    )
    assert response.status_code == 200, response.text


async def local_list(harness: Harness, cp: str = CP) -> dict[str, Any]:
    response = await harness.api.get(f"/charge-points/{cp}/local-list")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def snapshot(harness: Harness, sim: SimulatedChargePoint, **keys: str) -> None:
    """Set read-only keys on the charge point and let the CSMS read its configuration."""
    for key, value in keys.items():
        sim.configuration[key] = (value, True)
    response = await harness.api.post(
        f"/charge-points/{sim.charge_point_id}/get-configuration", json={}
    )
    assert response.status_code == 200, response.text
    await sim.expect_call("GetConfiguration")


async def test_full_list_split_by_send_local_list_max_length(harness: Harness) -> None:
    """Spec 9.2.3 and catalogue R-LL-01: a Full message with the first entries, then
    Differentials with the rest, one version up each (spec 7.47)."""
    tags = [f"TAG-{n}" for n in range(7)]
    await put_tags(harness, *tags)
    async with harness.charge_point(CP) as sim:
        await sim.boot()
        await snapshot(harness, sim, SendLocalListMaxLength="3")
        await assign(harness, "everyone", {"kind": "all"})
        assert (await local_list(harness))["sendLocalListMaxLength"] == 3

        planned = await harness.api.post(
            f"/charge-points/{CP}/local-list/send?dryRun=true", json={"updateType": "Full"}
        )
        assert planned.status_code == 200, planned.text
        assert planned.json()["dryRun"] is True
        plan = [message["request"] for message in planned.json()["messages"]]
        sim.no_unexpected_calls()  # a dry run sends nothing

        response = await harness.api.post(
            f"/charge-points/{CP}/local-list/send", json={"updateType": "Full"}
        )
        assert response.status_code == 200, response.text
        calls = [await sim.expect_call("SendLocalList") for _ in range(3)]

        assert [call.payload for call in calls] == plan
        assert [(c.payload["updateType"], c.payload["listVersion"]) for c in calls] == [
            ("Full", 1),
            ("Differential", 2),
            ("Differential", 3),
        ]
        assert [len(c.payload["localAuthorizationList"]) for c in calls] == [3, 3, 1]
        assert [m["status"] for m in response.json()["messages"]] == ["Accepted"] * 3
        stored = response.json()["localList"]
        assert (stored["status"], stored["version"], stored["pendingChanges"]) == ("InSync", 3, [])
        assert [entry["idTag"] for entry in stored["entries"]] == tags
        assert (sim.state.local_list_version, sorted(sim.state.local_list)) == (3, tags)
        sim.no_unexpected_calls()


async def test_chunk_failure_stops_the_update(harness: Harness) -> None:
    """The second message is refused: what the first installed is kept, nothing more goes."""
    await put_tags(harness, "A", "B", "C")
    async with harness.charge_point(CP) as sim:
        await sim.boot()
        await snapshot(harness, sim, SendLocalListMaxLength="2")
        await assign(harness, "everyone", {"kind": "all"})
        answers = iter([{"status": "Accepted"}, {"status": "Failed"}])
        sim.answers["SendLocalList"] = lambda payload: next(answers)

        response = await harness.api.post(
            f"/charge-points/{CP}/local-list/send", json={"updateType": "Full"}
        )

        assert response.status_code == 200, response.text
        await sim.expect_call("SendLocalList")
        await sim.expect_call("SendLocalList")
        assert [m["status"] for m in response.json()["messages"]] == ["Accepted", "Failed"]
        stored = await local_list(harness)
        assert (stored["status"], stored["version"], stored["nextVersion"]) == ("Failed", 1, 3)
        assert [entry["idTag"] for entry in stored["entries"]] == ["A", "B"]
        assert stored["fullUpdateDue"] is True
        sim.no_unexpected_calls()


async def test_refusals_send_nothing(harness: Harness) -> None:
    await put_tags(harness, "A", "B", "C")
    async with harness.charge_point(CP) as sim:
        await sim.boot()
        url = f"/charge-points/{CP}/local-list/send"

        # No policy: the CSMS does not manage this list.
        response = await harness.api.post(url, json={"updateType": "Full"})
        assert response.status_code == 409
        assert "policy" in response.json()["detail"]

        # Longer than LocalAuthListMaxLength (spec 9.2.2).
        await snapshot(harness, sim, LocalAuthListMaxLength="2")
        await assign(harness, "everyone", {"kind": "all"})
        response = await harness.api.post(url, json={"updateType": "Full"})
        assert response.status_code == 409
        assert "LocalAuthListMaxLength of 2" in response.json()["detail"]
        assert "3 entries" in response.json()["detail"]

        # A Differential while the CSMS does not know what the list holds.
        await assign(harness, "two", {"kind": "idTags", "idTags": ["A", "B"]})
        response = await harness.api.post(url, json={"updateType": "Differential"})
        assert response.status_code == 409
        assert "Full" in response.json()["detail"]

        # A Differential not above the installed version (spec 7.47).
        response = await harness.api.post(url, json={"updateType": "Full", "listVersion": 42})
        assert response.status_code == 200, response.text
        assert (await sim.expect_call("SendLocalList")).payload["listVersion"] == 42
        await put_tags(harness, "A", status="Blocked")
        response = await harness.api.post(
            url, json={"updateType": "Differential", "listVersion": 42}
        )
        assert response.status_code == 409
        assert "above the installed 42" in response.json()["detail"]

        # errata 3.52: never 0.
        response = await harness.api.post(url, json={"updateType": "Full", "listVersion": 0})
        assert response.status_code == 422
        sim.no_unexpected_calls()


async def test_differential_of_pending_changes(harness: Harness) -> None:
    await put_tags(harness, "A", "B")
    async with harness.charge_point(CP) as sim:
        await sim.boot()
        await assign(harness, "two", {"kind": "idTags", "idTags": ["a", "b", "c"]})
        url = f"/charge-points/{CP}/local-list/send"
        response = await harness.api.post(url, json={"updateType": "Full", "listVersion": 5})
        assert response.status_code == 200, response.text
        await sim.expect_call("SendLocalList")

        # Nothing pending: nothing sent.
        response = await harness.api.post(url, json={"updateType": "Differential"})
        assert response.status_code == 200, response.text
        assert response.json()["messages"] == []
        sim.no_unexpected_calls()

        await put_tags(harness, "C")  # now selected
        await put_tags(harness, "A", status="Blocked")
        response = await harness.api.delete("/id-tags/B")
        assert response.status_code == 204
        assert [entry["idTag"] for entry in (await local_list(harness))["pendingChanges"]] == [
            "B",
            "A",
            "C",
        ]

        response = await harness.api.post(url, json={"updateType": "Differential"})
        assert response.status_code == 200, response.text
        call = await sim.expect_call("SendLocalList")
        assert call.payload == {
            "listVersion": 6,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idTag": "B"},
                {"idTag": "A", "idTagInfo": {"status": "Blocked"}},
                {"idTag": "C", "idTagInfo": {"status": "Accepted"}},
            ],
        }
        assert sim.state.local_list == {
            "A": {"status": "Blocked"},
            "C": {"status": "Accepted"},
        }
        stored = await local_list(harness)
        assert (stored["version"], stored["pendingChanges"]) == (6, [])
        sim.no_unexpected_calls()

        # Spec 3.5.2 conflict reported: in certification mode only the status is stored.
        assert await sim.status_notification(0, "Available", "LocalListConflict") == {}
        assert "currentTime" in await sim.heartbeat()
        assert (await local_list(harness))["status"] == "InSync"
        sim.no_unexpected_calls()


async def test_generic_command_endpoint_is_recorded(harness: Harness) -> None:
    """Any schema-valid SendLocalList through the generic endpoint is sent as given, and its
    answer recorded like the CSMS's own."""
    async with harness.charge_point(CP) as sim:
        await sim.boot()
        payload = {
            "listVersion": 9,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "X1", "idTagInfo": {"status": "ConcurrentTx"}},
                {"idTag": "X2", "idTagInfo": {"status": "Accepted", "parentIdTag": "P"}},
            ],
        }
        response = await harness.api.post(
            f"/charge-points/{CP}/commands/SendLocalList", json=payload
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "Accepted"}
        assert (await sim.expect_call("SendLocalList")).payload == payload

        stored = await local_list(harness)
        assert (stored["status"], stored["version"], stored["policy"]) == ("InSync", 9, None)
        assert stored["entries"] == payload["localAuthorizationList"]
        assert stored["nextVersion"] == 10

        sim.state.local_list_version = 11  # changed behind the CSMS's back
        response = await harness.api.post(
            f"/charge-points/{CP}/commands/GetLocalListVersion", json={}
        )
        assert response.json() == {"listVersion": 11}
        await sim.expect_call("GetLocalListVersion")
        stored = await local_list(harness)
        assert (stored["status"], stored["reportedVersion"], stored["fullUpdateDue"]) == (
            "Mismatch",
            11,
            True,
        )
        assert stored["nextVersion"] == 12
        sim.no_unexpected_calls()  # certification mode: the mismatch is only shown


async def test_policies(harness: Harness) -> None:
    await put_tags(harness, "FLEET", "m1", "other")
    await put_tags(harness, "m2", parentIdTag="fleet")
    response = await harness.api.put(
        "/local-list-policies/fleet",
        json={"kind": "parentIdTags", "idTags": ["FLEET"], "description": "fleet cards"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "name": "fleet",
        "kind": "parentIdTags",
        "idTags": ["FLEET"],
        "description": "fleet cards",
        "chargePoints": [],
        "size": 2,  # FLEET and m2
    }

    bad = await harness.api.put("/local-list-policies/x", json={"kind": "all", "idTags": ["A"]})
    assert bad.status_code == 422
    bad = await harness.api.put("/local-list-policies/x", json={"kind": "some"})
    assert bad.status_code == 422
    bad = await harness.api.put(
        "/local-list-policies/x", json={"kind": "idTags", "idTags": ["X" * 21]}
    )
    assert bad.status_code == 422

    async with harness.charge_point(CP) as sim:
        await sim.boot()
        response = await harness.api.put(
            f"/charge-points/{CP}/local-list/policy", json={"policy": "nope"}
        )
        assert response.status_code == 422
        response = await harness.api.put(
            "/charge-points/NOPE/local-list/policy", json={"policy": "fleet"}
        )
        assert response.status_code == 404
        response = await harness.api.put(
            f"/charge-points/{CP}/local-list/policy", json={"policy": "fleet"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["policy"] == "fleet"
        assert response.json()["desiredCount"] == 2

        assert (await harness.api.get("/local-list-policies/fleet")).json()["chargePoints"] == [CP]
        listed = await harness.api.get("/local-list-policies")
        assert [policy["name"] for policy in listed.json()] == ["fleet"]

        response = await harness.api.delete("/local-list-policies/fleet")
        assert response.status_code == 409
        assert CP in response.json()["detail"]
        response = await harness.api.put(
            f"/charge-points/{CP}/local-list/policy", json={"policy": None}
        )
        assert response.status_code == 200, response.text
        assert (await harness.api.delete("/local-list-policies/fleet")).status_code == 204
        assert (await harness.api.delete("/local-list-policies/fleet")).status_code == 404
        assert (await harness.api.get("/local-list-policies/fleet")).status_code == 404
        sim.no_unexpected_calls()


async def test_unknown_or_offline_charge_point(harness: Harness) -> None:
    assert (await harness.api.get("/charge-points/NOPE/local-list")).status_code == 404
    response = await harness.api.post("/charge-points/NOPE/local-list/version")
    assert response.status_code == 404
    response = await harness.api.put(
        f"/charge-points/{CP}", json={"registrationStatus": "Accepted"}
    )
    assert response.status_code == 200, response.text
    await assign(harness, "everyone", {"kind": "all"})
    response = await harness.api.post(f"/charge-points/{CP}/local-list/send", json={})
    assert response.status_code == 409  # not connected
    assert (await local_list(harness))["lastUpdate"] is None
    response = await harness.api.post(f"/charge-points/{CP}/local-list/version")
    assert response.status_code == 409
