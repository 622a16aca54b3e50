"""Outside certification mode the CSMS keeps local lists up to date on its own: after a boot
(GetLocalListVersion, then a Full list on a mismatch or the pending Differential), after a
change to an id tag or a policy, and after a failed update (a Full list, a bounded number of
times). Charge points without a policy are left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness import Harness, csms

from csms.features.local_list.sync import FULL_RESENDS
from csms.ocppj import CallError, ErrorCode
from csms.simulator import SimulatedChargePoint


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with csms(
        tmp_path / "csms.db", certification_mode=False, fetch_configuration_on_boot=False
    ) as running:
        yield running


async def idle(harness: Harness) -> None:
    await harness.app.services.local_lists.wait_idle()


async def put_tag(harness: Harness, id_tag: str, **body: Any) -> None:
    response = await harness.api.put(f"/id-tags/{id_tag}", json={"status": "Accepted", **body})
    assert response.status_code == 200, response.text


async def policy(harness: Harness, name: str, body: dict[str, Any], *charge_points: str) -> None:
    response = await harness.api.put(f"/local-list-policies/{name}", json=body)
    assert response.status_code == 200, response.text
    for charge_point_id in charge_points:
        response = await harness.api.put(
            f"/charge-points/{charge_point_id}/local-list/policy", json={"policy": name}
        )
        assert response.status_code == 200, response.text


async def register(harness: Harness, *charge_points: str) -> None:
    for charge_point_id in charge_points:
        response = await harness.api.put(
            f"/charge-points/{charge_point_id}", json={"registrationStatus": "Accepted"}
        )
        assert response.status_code == 200, response.text


async def local_list(harness: Harness, charge_point_id: str) -> dict[str, Any]:
    response = await harness.api.get(f"/charge-points/{charge_point_id}/local-list")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def booted_in_sync(harness: Harness, sim: SimulatedChargePoint) -> dict[str, Any]:
    """Boot: the CSMS reads the (empty) list's version and sends what the policy selects."""
    await sim.boot()
    assert (await sim.expect_call("GetLocalListVersion")).payload == {}
    call = await sim.expect_call("SendLocalList")
    await idle(harness)
    stored = await local_list(harness, sim.charge_point_id)
    assert (stored["status"], stored["version"]) == ("InSync", call.payload["listVersion"])
    return call.payload


async def test_boot_sends_the_list_and_id_tag_changes_follow(harness: Harness) -> None:
    await put_tag(harness, "FLEET")
    await put_tag(harness, "m1", parentIdTag="FLEET")
    await put_tag(harness, "solo")
    await register(harness, "CP-A", "CP-B")
    await policy(harness, "fleet", {"kind": "parentIdTags", "idTags": ["fleet"]}, "CP-A")
    await policy(harness, "solo", {"kind": "idTags", "idTags": ["solo"]}, "CP-B")
    async with harness.charge_point("CP-A") as a, harness.charge_point("CP-B") as b:
        # Known empty (version 0): the Differential from it carries the whole list.
        first = await booted_in_sync(harness, a)
        assert first == {
            "listVersion": 1,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idTag": "FLEET", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "m1", "idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}},
            ],
        }
        await booted_in_sync(harness, b)

        # A new member of the fleet: CP-A only.
        await put_tag(harness, "m2", parentIdTag="FLEET")
        call = await a.expect_call("SendLocalList")
        assert call.payload == {
            "listVersion": 2,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idTag": "m2", "idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}}
            ],
        }
        # m1 moves to another group: removed from CP-A's list.
        await put_tag(harness, "m1", parentIdTag="OTHER")
        call = await a.expect_call("SendLocalList")
        assert call.payload["localAuthorizationList"] == [{"idTag": "m1"}]
        # solo is blocked, then deleted: CP-B's list follows.
        await put_tag(harness, "solo", status="Blocked")
        call = await b.expect_call("SendLocalList")
        assert call.payload["localAuthorizationList"] == [
            {"idTag": "solo", "idTagInfo": {"status": "Blocked"}}
        ]
        assert (await harness.api.delete("/id-tags/solo")).status_code == 204
        call = await b.expect_call("SendLocalList")
        assert call.payload["localAuthorizationList"] == [{"idTag": "solo"}]
        await idle(harness)

        assert sorted(a.state.local_list) == ["FLEET", "m2"]
        assert b.state.local_list == {}
        assert (await local_list(harness, "CP-A"))["version"] == a.state.local_list_version == 3
        assert (await local_list(harness, "CP-B"))["pendingChanges"] == []
        a.no_unexpected_calls()
        b.no_unexpected_calls()


async def test_boot_with_an_unknown_version_sends_the_full_list(harness: Harness) -> None:
    """GetLocalListVersion reports a version the CSMS does not believe installed: a Full list,
    with a version above the one reported."""
    await put_tag(harness, "A")
    await register(harness, "CP1")
    await policy(harness, "everyone", {"kind": "all"}, "CP1")
    async with harness.charge_point("CP1") as sim:
        sim.state.local_list_version = 7
        sim.state.local_list = {"STRANGER": {"status": "Accepted"}}

        await sim.boot()
        await sim.expect_call("GetLocalListVersion")
        call = await sim.expect_call("SendLocalList")
        await idle(harness)

        assert call.payload == {
            "listVersion": 8,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}],
        }
        assert sim.state.local_list == {"A": {"status": "Accepted"}}
        stored = await local_list(harness, "CP1")
        assert (stored["status"], stored["version"], stored["reportedVersion"]) == (
            "InSync",
            8,
            7,
        )

        # The operator's GetLocalListVersion finding a mismatch leads to a Full list too.
        sim.state.local_list_version = 20
        response = await harness.api.post("/charge-points/CP1/local-list/version")
        assert response.status_code == 200, response.text
        assert response.json()["localList"]["status"] == "Mismatch"
        await sim.expect_call("GetLocalListVersion")
        call = await sim.expect_call("SendLocalList")
        assert (call.payload["updateType"], call.payload["listVersion"]) == ("Full", 21)
        await idle(harness)
        assert (await local_list(harness, "CP1"))["status"] == "InSync"
        sim.no_unexpected_calls()


async def test_failed_differential_leads_to_a_full_list(harness: Harness) -> None:
    """Spec 5.15: after a Failed or VersionMismatch answer to a Differential, the Full list."""
    await put_tag(harness, "A")
    await register(harness, "CP1")
    await policy(harness, "everyone", {"kind": "all"}, "CP1")
    async with harness.charge_point("CP1") as sim:
        await booted_in_sync(harness, sim)
        answers = iter([{"status": "VersionMismatch"}, {"status": "Accepted"}])
        sim.answers["SendLocalList"] = lambda payload: next(answers)

        await put_tag(harness, "B")
        differential = await sim.expect_call("SendLocalList")
        full = await sim.expect_call("SendLocalList")
        await idle(harness)

        assert (differential.payload["updateType"], differential.payload["listVersion"]) == (
            "Differential",
            2,
        )
        assert full.payload == {
            "listVersion": 3,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "A", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "B", "idTagInfo": {"status": "Accepted"}},
            ],
        }
        stored = await local_list(harness, "CP1")
        assert (stored["status"], stored["version"]) == ("InSync", 3)
        sim.no_unexpected_calls()


async def test_full_resends_are_bounded(harness: Harness) -> None:
    await put_tag(harness, "A")
    await register(harness, "CP1")
    await policy(harness, "everyone", {"kind": "all"}, "CP1")
    async with harness.charge_point("CP1") as sim:
        await booted_in_sync(harness, sim)
        sim.answers["SendLocalList"] = {"status": "Failed"}

        await put_tag(harness, "B")
        calls = [await sim.expect_call("SendLocalList") for _ in range(1 + FULL_RESENDS)]
        await idle(harness)

        assert [call.payload["updateType"] for call in calls] == ["Differential"] + [
            "Full"
        ] * FULL_RESENDS
        assert [call.payload["listVersion"] for call in calls] == [2, 3, 4]
        stored = await local_list(harness, "CP1")
        assert (stored["status"], stored["version"], stored["nextVersion"]) == ("Failed", 1, 5)
        sim.no_unexpected_calls()

        # The operator's own Differential is refused now; a Full from the API goes out (and
        # is retried the same bounded way).
        response = await harness.api.post(
            "/charge-points/CP1/local-list/send", json={"updateType": "Differential"}
        )
        assert response.status_code == 409
        response = await harness.api.post(
            "/charge-points/CP1/local-list/send", json={"updateType": "Full"}
        )
        assert response.status_code == 200, response.text
        assert [m["status"] for m in response.json()["messages"]] == ["Failed"] * (1 + FULL_RESENDS)
        for _ in range(1 + FULL_RESENDS):
            await sim.expect_call("SendLocalList")
        await idle(harness)
        sim.no_unexpected_calls()


async def test_policy_changes_and_limits(harness: Harness) -> None:
    for id_tag in ("A", "B", "C"):
        await put_tag(harness, id_tag)
    await register(harness, "CP1")
    await policy(harness, "some", {"kind": "idTags", "idTags": ["A"]}, "CP1")
    async with harness.charge_point("CP1") as sim:
        sim.configuration["LocalAuthListMaxLength"] = ("2", True)
        await booted_in_sync(harness, sim)
        response = await harness.api.post("/charge-points/CP1/get-configuration", json={})
        assert response.status_code == 200, response.text
        await sim.expect_call("GetConfiguration")

        await policy(harness, "some", {"kind": "idTags", "idTags": ["A", "B"]})
        call = await sim.expect_call("SendLocalList")
        assert call.payload["localAuthorizationList"] == [
            {"idTag": "B", "idTagInfo": {"status": "Accepted"}}
        ]
        await idle(harness)

        # Three tags do not fit: nothing is sent, the reason is shown.
        await policy(harness, "some", {"kind": "all"})
        await idle(harness)
        stored = await local_list(harness, "CP1")
        assert "LocalAuthListMaxLength of 2" in stored["error"]
        assert len(stored["pendingChanges"]) == 1
        sim.no_unexpected_calls()

        # Back within the limit (and nothing to send: the list holds A and B already): the
        # reason is cleared.
        assert (await harness.api.delete("/id-tags/C")).status_code == 204
        await idle(harness)
        stored = await local_list(harness, "CP1")
        assert (stored["error"], stored["pendingChanges"]) == (None, [])
        assert "currentTime" in await sim.heartbeat()
        sim.no_unexpected_calls()


async def test_charge_points_without_policy_are_left_alone(harness: Harness) -> None:
    await put_tag(harness, "A")
    async with harness.charge_point("CP1") as sim:
        await sim.boot()
        await put_tag(harness, "B")
        await idle(harness)
        assert "currentTime" in await sim.heartbeat()
        sim.no_unexpected_calls()

        # A policy given later: the list is sent at once (a Full: nothing is known of it).
        await policy(harness, "everyone", {"kind": "all"}, "CP1")
        call = await sim.expect_call("SendLocalList")
        assert (call.payload["updateType"], call.payload["listVersion"]) == ("Full", 1)
        await idle(harness)
        sim.no_unexpected_calls()


async def test_not_supported_charge_point(harness: Harness) -> None:
    await put_tag(harness, "A")
    await register(harness, "CP1")
    await policy(harness, "everyone", {"kind": "all"}, "CP1")
    async with harness.charge_point("CP1") as sim:
        sim.answers["GetLocalListVersion"] = {"listVersion": -1}
        await sim.boot()
        await sim.expect_call("GetLocalListVersion")
        await idle(harness)
        assert (await local_list(harness, "CP1"))["status"] == "NotSupported"

        await put_tag(harness, "B")
        await idle(harness)
        assert "currentTime" in await sim.heartbeat()
        sim.no_unexpected_calls()


async def test_charge_point_without_the_profile(harness: Harness) -> None:
    """J 4.2.3: a CALLERROR NotImplemented/NotSupported means no local list: after the boot's
    GetLocalListVersion nothing more; a SendLocalList so answered is NotSupported, not
    retried."""
    await put_tag(harness, "A")
    await register(harness, "CP1")
    await policy(harness, "everyone", {"kind": "all"}, "CP1")
    async with harness.charge_point("CP1") as sim:
        unsupported = CallError(
            unique_id="", error_code=ErrorCode.NOT_IMPLEMENTED, error_description="no"
        )
        sim.answers["GetLocalListVersion"] = unsupported
        sim.answers["SendLocalList"] = unsupported
        await sim.boot()
        await sim.expect_call("GetLocalListVersion")
        await idle(harness)
        assert "currentTime" in await sim.heartbeat()
        sim.no_unexpected_calls()

        await put_tag(harness, "B")
        call = await sim.expect_call("SendLocalList")
        assert call.payload["updateType"] == "Full"
        await idle(harness)
        stored = await local_list(harness, "CP1")
        assert (stored["status"], stored["lastUpdate"]["status"]) == ("NotSupported", None)
        await put_tag(harness, "C")
        await idle(harness)
        assert "currentTime" in await sim.heartbeat()
        sim.no_unexpected_calls()


async def test_local_list_conflict_leads_to_a_full_list(harness: Harness) -> None:
    """Spec 3.5.2: StatusNotification (connector 0, LocalListConflict): the CSMS no longer
    trusts what it believes installed and sends its Full list, once the report is answered."""
    await put_tag(harness, "A")
    await register(harness, "CP1")
    await policy(harness, "everyone", {"kind": "all"}, "CP1")
    async with harness.charge_point("CP1") as sim:
        installed = await booted_in_sync(harness, sim)

        assert await sim.status_notification(0, "Available", "LocalListConflict") == {}
        call = await sim.expect_call("SendLocalList")
        await idle(harness)

        assert call.payload == {
            "listVersion": installed["listVersion"] + 1,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}],
        }
        stored = await local_list(harness, "CP1")
        assert (stored["status"], stored["error"]) == ("InSync", None)
        sim.no_unexpected_calls()
