"""Charger compatibility (docs/charger-compatibility.md), with the simulator acting like the
charger stacks of issue 15 (simulator/stacks.py) against a real CSMS on SQLite and PostgreSQL:
dates a 32-bit stack cannot hold, the heartbeat interval an operator set, GetConfiguration in
batches, operators' charger profiles. Also across the field's lifecycles: a reconnect without a
boot, a reboot, an answer lost and sent again.

The composite comparison and the state that follows the charge point are in
test_charger_state.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from csms.simulator import SimulatedChargePoint
from csms.simulator.stacks import Stack
from tests.harness import Harness, csms

TAG = "FAR-FUTURE"
LATEST = "2037-12-31T23:59:59Z"
CAP_DATES = {"capDates": True}


async def get(harness: Harness, path: str, **params: Any) -> Any:
    response = await harness.api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def post(harness: Harness, path: str, body: Any, expected: int = 200) -> Any:
    response = await harness.api.post(path, json=body)
    assert response.status_code == expected, response.text
    return response.json()


async def far_future_tag(harness: Harness) -> None:
    body = {"status": "Accepted", "expiryDate": "2040-06-01T00:00:00Z"}
    response = await harness.api.put(f"/id-tags/{TAG}", json=body)
    assert response.status_code == 200, response.text


def local_list_payload() -> dict[str, Any]:
    return {
        "listVersion": 4,
        "updateType": "Full",
        "localAuthorizationList": [
            {
                "idTag": TAG,
                "idTagInfo": {"status": "Accepted", "expiryDate": "2040-06-01T00:00:00Z"},
            }
        ],
    }


# -- dates a 32-bit stack cannot hold ---------------------------------------------------------


async def test_dates_from_2038_on_are_capped_for_a_32_bit_stack(harness: Harness) -> None:
    await far_future_tag(harness)
    async with harness.charge_point("CP32", stack="32-bit") as cp:
        await cp.boot_and_report()
        # Authorize, StartTransaction and StopTransaction answers: capped, nothing dropped.
        for _ in range(2):
            assert (await cp.authorize(TAG))["idTagInfo"] == {
                "status": "Accepted",
                "expiryDate": LATEST,
            }
        # Its answer lost and the CALL sent again: the same (capped) answer from memory.
        cp.lose_next_answer(new_connection=True)
        started = await cp.start_transaction(1, TAG)
        assert cp.lost_answers[-1].payload == started  # type: ignore[union-attr]
        assert started["idTagInfo"]["expiryDate"] == LATEST
        stopped = await cp.stop_transaction(started["transactionId"], 100, id_tag=TAG)
        assert stopped["idTagInfo"]["expiryDate"] == LATEST
        assert cp.state.seen.dropped_dates == []

        # ReserveNow: the charge point gets the capped date, the CSMS records what it sent.
        answer = await post(
            harness,
            "/charge-points/CP32/reservations",
            {"connectorId": 1, "idTag": TAG, "expiryDate": "2099-01-01T00:00:00Z"},
        )
        call = await cp.expect_call("ReserveNow")
        assert (answer["status"], call.payload["expiryDate"]) == ("Accepted", LATEST)
        assert answer["reservation"]["expiryDate"] == LATEST

        # SendLocalList through the generic endpoint: capped too.
        sent = await post(
            harness, "/charge-points/CP32/commands/SendLocalList", local_list_payload()
        )
        call = await cp.expect_call("SendLocalList")
        assert sent == {"status": "Accepted"}
        assert call.payload["localAuthorizationList"][0]["idTagInfo"]["expiryDate"] == LATEST
        assert cp.state.local_list[TAG] == {"status": "Accepted", "expiryDate": LATEST}
        assert cp.state.seen.dropped_dates == []

        # Each kind of adaptation is noted once per charge point.
        described = await get(harness, "/charge-points/CP32/charger-profile")
        assert described["profiles"] == ["csms-simulator", "32-bit-time"]
        assert described["rules"] == {"capDates": True, "localLimitAmps": 32.0}
        assert [(a["rule"], a["action"]) for a in described["adaptations"]] == [
            ("capDates", "Authorize"),
            ("capDates", "StartTransaction"),
            ("capDates", "StopTransaction"),
            ("capDates", "ReserveNow"),
            ("capDates", "SendLocalList"),
        ]
        cp.no_unexpected_calls()


@pytest.fixture
async def never_capped(database_url: str) -> AsyncIterator[Harness]:
    """A CSMS that never caps dates (cap_dates=never): what the stacks do with them."""
    async with csms(database_url, cap_dates="never") as running:
        yield running


async def test_without_capping_the_stacks_drop_or_refuse_the_dates(never_capped: Harness) -> None:
    harness = never_capped
    await far_future_tag(harness)
    async with harness.charge_point("CPTS", stack="strict-ts") as strict:
        await strict.boot_and_report()
        assert (await strict.authorize(TAG))["idTagInfo"]["expiryDate"].startswith("2040-06-01")
        response = await harness.api.post(
            "/charge-points/CPTS/reservations",
            json={"connectorId": 1, "idTag": TAG, "expiryDate": "2099-01-01T00:00:00Z"},
        )
        assert response.status_code == 502, response.text
        assert response.json()["errorCode"] == "PropertyConstraintViolation"
        assert strict.state.seen.refused == ["ReserveNow expiryDate"]
    async with harness.charge_point("CP32", stack="32-bit") as dropping:
        await dropping.boot_and_report()
        await dropping.authorize(TAG)
        await post(harness, "/charge-points/CP32/commands/SendLocalList", local_list_payload())
        await dropping.expect_call("SendLocalList")
        # Accepted, and the card never expires offline.
        assert dropping.state.local_list[TAG] == {"status": "Accepted"}
        assert dropping.state.seen.dropped_dates == [
            "Authorize idTagInfo.expiryDate",
            "SendLocalList localAuthorizationList[0].idTagInfo.expiryDate",
        ]
        described = await get(harness, "/charge-points/CP32/charger-profile")
        assert "capDates" not in described["rules"] and described["adaptations"] == []


async def test_always_capped_whatever_the_profile(database_url: str) -> None:
    async with csms(database_url, cap_dates="always") as harness:
        await far_future_tag(harness)
        async with harness.charge_point("PLAIN") as cp:
            await cp.boot()
            assert (await cp.authorize(TAG))["idTagInfo"]["expiryDate"] == LATEST


# -- operators' charger profiles --------------------------------------------------------------


async def test_an_operators_profile_by_vendor_or_id(harness: Harness) -> None:
    await far_future_tag(harness)
    listed = await get(harness, "/charger-profiles")
    assert [(p["name"], p["builtin"]) for p in listed] == [
        ("csms-simulator", True),
        ("32-bit-time", True),
        ("cpp-stack", True),
        ("strict-schema-ts", True),
    ]
    async with harness.charge_point("ACME-1", vendor="ACME", model="Wall 7") as cp:
        await cp.boot()
        assert (await cp.authorize(TAG))["idTagInfo"]["expiryDate"].startswith("2040-06-01")

        body = {
            "description": "ACME walls",
            "vendor": "acme",
            "model": "wall \\d+",
            "rules": CAP_DATES,
        }
        response = await harness.api.put("/charger-profiles/acme-wall", json=body)
        assert response.status_code == 201, response.text
        assert response.json() == {
            "name": "acme-wall",
            "description": "ACME walls",
            "vendor": "acme",
            "model": "wall \\d+",
            "firmwareVersion": None,
            "chargePointIds": [],
            "rules": CAP_DATES,
            "builtin": False,
        }
        # In force at once, also without a new boot.
        assert (await cp.authorize(TAG))["idTagInfo"]["expiryDate"] == LATEST
        described = await get(harness, "/charge-points/ACME-1/charger-profile")
        assert (described["vendor"], described["model"], described["profiles"]) == (
            "ACME",
            "Wall 7",
            ["acme-wall"],
        )
        # Replaced: by charge point id instead, maxKeys added.
        replaced = {"chargePointIds": ["OTHER"], "rules": {"maxKeys": 3}}
        response = await harness.api.put("/charger-profiles/acme-wall", json=replaced)
        assert response.status_code == 200, response.text
        assert (await cp.authorize(TAG))["idTagInfo"]["expiryDate"].startswith("2040-06-01")
        response = await harness.api.delete("/charger-profiles/acme-wall")
        assert response.status_code == 204
        assert [p["name"] for p in await get(harness, "/charger-profiles")][-1] == (
            "strict-schema-ts"
        )


@pytest.mark.parametrize(
    ("name", "body", "status", "detail"),
    [
        ("csms-simulator", {"vendor": "x"}, 409, "'csms-simulator' is a built-in profile"),
        ("p", {"rules": CAP_DATES}, 422, "would match no charge point"),
        ("p", {"vendor": "wall("}, 422, "vendor: not a regular expression"),
        ("p", {"vendor": "x", "rules": {"maxKeys": 0}}, 422, "maxKeys"),
        ("p", {"vendor": "x", "rules": {"capDate": True}}, 422, "capDate"),
        ("no spaces", {"vendor": "x"}, 422, "name"),
    ],
)
async def test_profiles_refused_with_the_reason(
    harness: Harness, name: str, body: dict[str, Any], status: int, detail: str
) -> None:
    response = await harness.api.put(f"/charger-profiles/{name}", json=body)
    assert response.status_code == status, response.text
    assert detail in response.text
    assert len(await get(harness, "/charger-profiles")) == 4


async def test_deleting_profiles_that_are_not_there(harness: Harness) -> None:
    assert (await harness.api.delete("/charger-profiles/nope")).status_code == 404
    assert (await harness.api.delete("/charger-profiles/cpp-stack")).status_code == 409
    assert (await harness.api.get("/charge-points/NOPE/charger-profile")).status_code == 404


# -- GetConfigurationMaxKeys ------------------------------------------------------------------

KEYS = [
    "HeartbeatInterval",
    "MeterValueSampleInterval",
    "NumberOfConnectors",
    "ConnectionTimeOut",
    "ResetRetries",
    "LocalAuthListMaxLength",
    "SendLocalListMaxLength",
    "NoSuchKey",
]


async def test_get_configuration_respects_the_stacks_max_keys(harness: Harness) -> None:
    async with harness.charge_point("CPTS", stack="strict-ts") as cp:
        await cp.boot()
        answer = await post(harness, "/charge-points/CPTS/get-configuration", {"key": KEYS})
        first, second = (
            await cp.expect_call("GetConfiguration"),
            await cp.expect_call("GetConfiguration"),
        )
        assert (first.payload["key"], second.payload["key"]) == (KEYS[:5], KEYS[5:])
        assert [item["key"] for item in answer["configurationKey"]] == KEYS[:7]
        assert answer["unknownKey"] == ["NoSuchKey"]
        assert cp.state.seen.refused == []
        stored = await get(harness, "/charge-points/CPTS/configuration")
        assert {entry["key"] for entry in stored["configurationKey"]} == set(KEYS[:7])


async def test_get_configuration_max_keys_read_from_the_charge_point(harness: Harness) -> None:
    """A charge point no profile describes: the GetConfigurationMaxKeys it reported counts."""
    async with harness.charge_point("SMALL", stack=Stack(get_configuration_max_keys=3)) as cp:
        await cp.boot()
        # Before the CSMS read it: asked all at once, refused (502 with the charge point's error).
        refused = await post(
            harness, "/charge-points/SMALL/get-configuration", {"key": KEYS[:4]}, expected=502
        )
        assert refused["errorCode"] == "OccurenceConstraintViolation"
        assert (await cp.expect_call("GetConfiguration")).payload == {"key": KEYS[:4]}
        assert cp.state.seen.refused == ["GetConfiguration of 4 keys"]
        await post(harness, "/charge-points/SMALL/get-configuration", {})
        await cp.expect_call("GetConfiguration")
        await post(harness, "/charge-points/SMALL/get-configuration", {"key": KEYS[:4]})
        calls = [await cp.expect_call("GetConfiguration") for _ in range(2)]
        assert [c.payload["key"] for c in calls] == [KEYS[:3], KEYS[3:4]]


# -- configuration the operator set stays set -------------------------------------------------


async def change(harness: Harness, cp: SimulatedChargePoint, key: str, value: str) -> str:
    answer = await post(
        harness,
        f"/charge-points/{cp.charge_point_id}/change-configuration",
        {"key": key, "value": value},
    )
    await cp.expect_call("ChangeConfiguration")
    status: str = answer["status"]
    return status


async def stored_value(harness: Harness, charge_point_id: str, key: str) -> str | None:
    stored = await get(harness, f"/charge-points/{charge_point_id}/configuration")
    values = {entry["key"]: entry["value"] for entry in stored["configurationKey"]}
    return values.get(key)


async def test_heartbeat_interval_survives_a_reboot(harness: Harness) -> None:
    async with harness.charge_point("HB") as cp:
        assert (await cp.boot())["interval"] == 300  # the server's default
        assert await change(harness, cp, "HeartbeatInterval", "45") == "Accepted"
        assert cp.configuration["HeartbeatInterval"][0] == "45"
        assert await change(harness, cp, "HeartbeatInterval", "abc") == "Rejected"

        # A reboot: the answer is the operator's interval, the snapshot keeps it.
        answer = await cp.hard_reboot()
        assert answer is not None and answer["interval"] == 45
        assert cp.configuration["HeartbeatInterval"][0] == "45"
        assert await stored_value(harness, "HB", "HeartbeatInterval") == "45"

        # Read afresh from the charge point: still 45.
        await post(harness, "/charge-points/HB/get-configuration", {})
        await cp.expect_call("GetConfiguration")
        assert await stored_value(harness, "HB", "HeartbeatInterval") == "45"

        # A charge point that lost its configuration (reports 300) is told 45 again at its
        # next boot, the BootNotification's answer lost once and the boot sent again.
        cp.configuration["HeartbeatInterval"] = ("300", False)
        await post(harness, "/charge-points/HB/get-configuration", {})
        await cp.expect_call("GetConfiguration")
        assert await stored_value(harness, "HB", "HeartbeatInterval") == "300"
        cp.lose_next_answer(new_connection=True)
        assert (await cp.boot())["interval"] == 45
        assert len(cp.lost_answers) == 1
        assert cp.configuration["HeartbeatInterval"][0] == "45"

        # A reconnect without a boot changes nothing; another charge point keeps the default.
        await cp.drop_and_reconnect()
        assert "currentTime" in await cp.heartbeat()
        assert (await cp.boot())["interval"] == 45
    async with harness.charge_point("HB2") as other:
        assert (await other.boot())["interval"] == 300


async def test_a_change_whose_answer_was_lost_is_not_known(database_url: str) -> None:
    """The CSMS keeps only what a charge point accepted: an unanswered ChangeConfiguration
    (timeout) is not an operator's value, and the boot answers the default."""
    async with csms(database_url, call_timeout=0.5) as harness, harness.charge_point("HBL") as cp:
        await cp.boot()
        cp.answers["ChangeConfiguration"] = _never
        response = await harness.api.post(
            "/charge-points/HBL/change-configuration",
            json={"key": "HeartbeatInterval", "value": "45"},
        )
        assert response.status_code == 504, response.text
        del cp.answers["ChangeConfiguration"]
        assert (await cp.boot())["interval"] == 300
        assert await stored_value(harness, "HBL", "HeartbeatInterval") is None


async def _never(payload: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(3600)
    return {}


# -- the heartbeat interval of charger profiles -----------------------------------------------


async def put_profile(harness: Harness, name: str, body: Any, expected: int = 201) -> Any:
    response = await harness.api.put(f"/charger-profiles/{name}", json=body)
    assert response.status_code == expected, response.text
    return response.json()


async def test_a_profiles_heartbeat_interval_until_the_operator_sets_one(harness: Harness) -> None:
    """The boot answer's interval (spec 4.2): the operator's HeartbeatInterval > the matching
    profiles' heartbeatInterval > the server's default (300)."""
    beat = {"vendor": "acme", "rules": {"heartbeatInterval": 120}}
    assert (await put_profile(harness, "acme-beat", beat))["rules"] == {"heartbeatInterval": 120}
    async with harness.charge_point("ACME-HB", vendor="ACME", model="Wall 7") as cp:
        assert (await cp.boot())["interval"] == 120
        assert cp.configuration["HeartbeatInterval"][0] == "120"
        described = await get(harness, "/charge-points/ACME-HB/charger-profile")
        assert described["profiles"] == ["acme-beat"]
        assert described["rules"] == {"heartbeatInterval": 120}

        # The operator's value wins over the profile: across a reconnect and a reboot, and
        # after the profile changed.
        assert await change(harness, cp, "HeartbeatInterval", "45") == "Accepted"
        await cp.drop_and_reconnect()
        assert (await cp.boot())["interval"] == 45
        answer = await cp.hard_reboot()
        assert answer is not None and answer["interval"] == 45
        beat["rules"] = {"heartbeatInterval": 60}
        await put_profile(harness, "acme-beat", beat, expected=200)
        assert (await cp.boot())["interval"] == 45
        assert cp.configuration["HeartbeatInterval"][0] == "45"

    # Another charge point of the vendor: the changed profile at once; deleted, the default.
    async with harness.charge_point("ACME-2", vendor="ACME") as other:
        assert (await other.boot())["interval"] == 60
        assert (await harness.api.delete("/charger-profiles/acme-beat")).status_code == 204
        assert (await other.boot())["interval"] == 300
        assert other.configuration["HeartbeatInterval"][0] == "300"
        answer = await other.hard_reboot()
        assert answer is not None and answer["interval"] == 300


async def test_heartbeat_interval_of_several_profiles(harness: Harness) -> None:
    """Operator profiles by charge point id before those by pattern, the shortest among equals
    (built-in ones come after both: tests/quirks)."""
    await put_profile(harness, "acme-long", {"vendor": "acme", "rules": {"heartbeatInterval": 600}})
    await put_profile(harness, "acme-short", {"vendor": "ac.*", "rules": {"heartbeatInterval": 90}})
    async with harness.charge_point("FLEET-1", vendor="ACME") as cp:
        assert (await cp.boot())["interval"] == 90
        by_id = {"chargePointIds": ["FLEET-1", "FLEET-9"], "rules": {"heartbeatInterval": 900}}
        await put_profile(harness, "fleet", by_id)
        assert (await cp.boot())["interval"] == 900
        await put_profile(
            harness,
            "fleet-short",
            {"chargePointIds": ["FLEET-1"], "rules": {"heartbeatInterval": 800}},
        )
        assert (await cp.boot())["interval"] == 800
        described = await get(harness, "/charge-points/FLEET-1/charger-profile")
        assert described["profiles"] == ["acme-long", "acme-short", "fleet", "fleet-short"]
        assert described["rules"] == {"heartbeatInterval": 800}
    async with harness.charge_point("FLEET-2", vendor="ACME") as other:
        assert (await other.boot())["interval"] == 90
        # Boots of a known identity read no profiles from the database (the match is kept).
        reads = []
        listed = harness.store.list_charger_profiles

        async def counted() -> Any:
            reads.append(1)
            return await listed()

        harness.store.list_charger_profiles = counted
        for _ in range(3):
            assert (await other.boot())["interval"] == 90
        assert reads == []
        del harness.store.list_charger_profiles
    # A simulator (built-in profile csms-simulator, no interval) under an operator's profile.
    async with harness.charge_point("FLEET-9") as simulated:
        assert (await simulated.boot())["interval"] == 900


@pytest.mark.parametrize("value", [0, 86_401, -30, True, 30.0, 30.5, "30", [30]])
async def test_bad_heartbeat_intervals_are_refused_and_nothing_stored(
    harness: Harness, value: Any
) -> None:
    body = {"vendor": "acme", "rules": {"heartbeatInterval": value}}
    response = await harness.api.put("/charger-profiles/acme-beat", json=body)
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [
        ["body", "rules", "heartbeatInterval"]
    ]
    assert len(await get(harness, "/charger-profiles")) == 4
    # A stored profile replaced by a bad one: unchanged.
    await put_profile(harness, "acme-beat", {"vendor": "acme", "rules": {"heartbeatInterval": 7}})
    response = await harness.api.put("/charger-profiles/acme-beat", json=body)
    assert response.status_code == 422, response.text
    assert (await get(harness, "/charger-profiles"))[-1]["rules"] == {"heartbeatInterval": 7}
    async with harness.charge_point("ACME-B", vendor="ACME") as cp:
        assert (await cp.boot())["interval"] == 7
