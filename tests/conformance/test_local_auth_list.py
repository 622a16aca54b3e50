"""Local Auth List Management profile: OCTT TC_042_1, TC_042_2, TC_043_1, TC_043_3, TC_043_4
and TC_043_5 (test-case document 3.14; spec 3.5.2, 5.10 GetLocalListVersion, 5.15 SendLocalList,
6.41, 7.1; errata 3.52; catalogue 3.2).

The operator works through the typed local list endpoints: the CSMS's list of a charge point is
chosen by a policy (here: every id tag the CSMS knows, the OCTT test tags of catalogue 2.5), the
version it sends is the `nextVersion` the API showed, and in certification mode it sends nothing
on its own: neither after a Failed or NotSupported answer nor after a change to an id tag, which
stays pending until the operator pushes it (catalogue 2.6-1)."""

from __future__ import annotations

from typing import Any

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import CHARGE_POINT_ID, IdTags, Wire, no_unsolicited_calls
from tests.harness import Harness

POLICY = "octt"


async def every_tag_policy(harness: Harness) -> None:
    """The CSMS's configuration for these cases: the charge point's list holds every id tag."""
    response = await harness.api.put(f"/local-list-policies/{POLICY}", json={"kind": "all"})
    assert response.status_code == 200, response.text
    response = await harness.api.put(
        f"/charge-points/{CHARGE_POINT_ID}/local-list/policy", json={"policy": POLICY}
    )
    assert response.status_code == 200, response.text


async def local_list(harness: Harness) -> dict[str, Any]:
    response = await harness.api.get(f"/charge-points/{CHARGE_POINT_ID}/local-list")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def send(harness: Harness, update_type: str) -> dict[str, Any]:
    response = await harness.api.post(
        f"/charge-points/{CHARGE_POINT_ID}/local-list/send", json={"updateType": update_type}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def read_version(harness: Harness) -> dict[str, Any]:
    response = await harness.api.post(f"/charge-points/{CHARGE_POINT_ID}/local-list/version")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def provisioned(id_tags: IdTags) -> set[str]:
    """The tags the conformance fixtures stored (the invalid one never is)."""
    return {
        id_tags.valid,
        id_tags.expired,
        id_tags.expired_by_date,
        id_tags.blocked,
        id_tags.parent,
        id_tags.group_a,
        id_tags.group_b,
    }


def assert_every_entry_has_id_tag_info(payload: dict[str, Any]) -> None:
    for entry in payload["localAuthorizationList"]:
        assert set(entry) == {"idTag", "idTagInfo"}, entry
        assert entry["idTagInfo"]["status"] in ("Accepted", "Blocked", "Expired", "Invalid")


async def test_tc_042_1_get_local_list_version_not_supported(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_042_1_CSMS (3.14.1): GetLocalListVersion answered -1 (spec 5.10: no local list
    support); the CSMS records that the charge point does not support one."""
    cp.answers["GetLocalListVersion"] = {"listVersion": -1}
    wire = Wire(cp)

    answer = await read_version(harness)
    call = await cp.expect_call("GetLocalListVersion")

    assert call.payload == {}
    assert answer["listVersion"] == -1
    stored = await local_list(harness)
    assert answer["localList"] == stored
    assert (stored["status"], stored["reportedVersion"], stored["version"]) == (
        "NotSupported",
        -1,
        None,
    )
    assert stored["reconciledAt"] is not None
    assert wire.calls() == ["CS→ GetLocalListVersion"]
    await no_unsolicited_calls(cp)


async def test_tc_042_2_get_local_list_version_empty(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_042_2_CSMS (3.14.1): GetLocalListVersion answered 0 (spec 5.10: the list is empty);
    the CSMS now knows the list: version 0, no entries."""
    assert cp.state.local_list_version == 0
    wire = Wire(cp)

    answer = await read_version(harness)
    call = await cp.expect_call("GetLocalListVersion")

    assert call.payload == {}
    assert answer["listVersion"] == 0
    stored = await local_list(harness)
    assert (stored["status"], stored["reportedVersion"], stored["version"]) == ("InSync", 0, 0)
    assert stored["entries"] == []
    assert wire.calls() == ["CS→ GetLocalListVersion"]
    await no_unsolicited_calls(cp)


async def test_tc_043_1_send_local_authorization_list_not_supported(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_043_1_CSMS (3.14.2): SendLocalList with updateType Full answered NotSupported; the
    CSMS records it and sends nothing more."""
    await every_tag_policy(harness)
    before = await local_list(harness)
    cp.answers["SendLocalList"] = {"status": "NotSupported"}
    wire = Wire(cp)

    result = await send(harness, "Full")
    call = await cp.expect_call("SendLocalList")

    assert call.payload["updateType"] == "Full"
    assert call.payload["listVersion"] >= 1  # errata 3.52
    assert [message["status"] for message in result["messages"]] == ["NotSupported"]
    assert result["messages"][0]["request"] == call.payload
    stored = await local_list(harness)
    # What the CSMS believes installed stays what it was (nothing, on a fresh CSMS).
    assert (stored["status"], stored["version"], stored["entries"]) == (
        "NotSupported",
        before["version"],
        before["entries"],
    )
    assert stored["lastUpdate"]["status"] == "NotSupported"
    assert wire.calls() == ["CS→ SendLocalList"]
    await no_unsolicited_calls(cp)


async def test_tc_043_3_send_local_authorization_list_failed(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_043_3_CSMS (3.14.2): SendLocalList with updateType Full answered Failed; the CSMS
    records that it no longer knows the list (a Full is due) and, in certification mode, does
    not retry on its own."""
    await every_tag_policy(harness)
    believed = (await local_list(harness))["version"]
    cp.answers["SendLocalList"] = {"status": "Failed"}
    wire = Wire(cp)

    result = await send(harness, "Full")
    call = await cp.expect_call("SendLocalList")

    assert call.payload["updateType"] == "Full"
    assert [message["status"] for message in result["messages"]] == ["Failed"]
    stored = await local_list(harness)
    # The version believed installed stays what it was (none on a fresh CSMS).
    assert (stored["status"], stored["version"], stored["fullUpdateDue"]) == (
        "Failed",
        believed,
        True,
    )
    assert (stored["lastUpdate"]["updateType"], stored["lastUpdate"]["status"]) == (
        "Full",
        "Failed",
    )
    assert wire.calls() == ["CS→ SendLocalList"]
    await no_unsolicited_calls(cp)


async def test_tc_043_4_send_local_authorization_list_full(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_043_4_CSMS (3.14.2): SendLocalList Full with the CSMS's id tags, every entry with its
    idTagInfo, at the version the API announced (never 0 or -1, errata 3.52); Accepted, and the
    CSMS then believes exactly that list installed."""
    await every_tag_policy(harness)
    before = await local_list(harness)
    assert before["fullUpdateDue"] is True
    assert before["desiredCount"] == len(provisioned(id_tags))
    wire = Wire(cp)

    result = await send(harness, "Full")
    call = await cp.expect_call("SendLocalList")

    assert call.payload["updateType"] == "Full"
    assert call.payload["listVersion"] == before["nextVersion"] >= 1
    assert_every_entry_has_id_tag_info(call.payload)
    entries = {
        entry["idTag"]: entry["idTagInfo"] for entry in call.payload["localAuthorizationList"]
    }
    assert set(entries) == provisioned(id_tags)
    assert entries[id_tags.valid] == {"status": "Accepted"}
    assert entries[id_tags.blocked] == {"status": "Blocked"}
    assert entries[id_tags.group_a] == {"status": "Accepted", "parentIdTag": id_tags.parent}
    assert entries[id_tags.expired]["status"] == "Expired"
    assert "expiryDate" in entries[id_tags.expired_by_date]
    assert [message["status"] for message in result["messages"]] == ["Accepted"]

    stored = await local_list(harness)
    assert (stored["status"], stored["version"]) == ("InSync", call.payload["listVersion"])
    assert stored["entries"] == call.payload["localAuthorizationList"]
    assert stored["pendingChanges"] == []
    assert stored["fullUpdateDue"] is False
    assert cp.state.local_list_version == call.payload["listVersion"]
    assert set(cp.state.local_list) == provisioned(id_tags)
    assert wire.calls() == ["CS→ SendLocalList"]
    await no_unsolicited_calls(cp)


async def test_tc_043_5_send_local_authorization_list_differential(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_043_5_CSMS (3.14.2; catalogue Δ2025-11: an initial Full list was set, and the
    Differential carries only the newly added idTag with a listVersion above the initial one).
    The operator adds an id tag: in certification mode it stays pending; the optional
    GetLocalListVersion confirms the installed version; the operator pushes the Differential."""
    await every_tag_policy(harness)
    initial = (await send(harness, "Full"))["messages"][0]["request"]
    await cp.expect_call("SendLocalList")
    new_tag = "OCTT-NEW-01"
    wire = Wire(cp)

    response = await harness.api.put(f"/id-tags/{new_tag}", json={"status": "Accepted"})
    assert response.status_code == 200, response.text
    await no_unsolicited_calls(cp)  # nothing sent on its own
    pending = await local_list(harness)
    assert pending["pendingChanges"] == [{"idTag": new_tag, "idTagInfo": {"status": "Accepted"}}]

    # Steps 1-2 (optional): the charge point holds the version the CSMS believes; the new tag
    # is pending, so the list is shown PendingChanges, never InSync next to pending changes
    # (docs/charger-compatibility.md).
    assert (await read_version(harness))["listVersion"] == initial["listVersion"]
    await cp.expect_call("GetLocalListVersion")
    assert (await local_list(harness))["status"] == "PendingChanges"

    # Steps 3-4.
    result = await send(harness, "Differential")
    call = await cp.expect_call("SendLocalList")

    assert call.payload["updateType"] == "Differential"
    assert call.payload["listVersion"] > initial["listVersion"]
    assert call.payload["listVersion"] == pending["nextVersion"]
    assert call.payload["localAuthorizationList"] == [
        {"idTag": new_tag, "idTagInfo": {"status": "Accepted"}}
    ]
    assert_every_entry_has_id_tag_info(call.payload)
    assert [message["status"] for message in result["messages"]] == ["Accepted"]

    stored = await local_list(harness)
    assert (stored["status"], stored["version"]) == ("InSync", call.payload["listVersion"])
    assert {entry["idTag"] for entry in stored["entries"]} == provisioned(id_tags) | {new_tag}
    assert stored["pendingChanges"] == []
    assert set(cp.state.local_list) == provisioned(id_tags) | {new_tag}
    assert wire.calls() == [
        "CP→ Heartbeat",  # of the check that nothing was sent on its own
        "CS→ GetLocalListVersion",
        "CS→ SendLocalList",
    ]
    await no_unsolicited_calls(cp)
