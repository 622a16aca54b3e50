"""The operator API's command path: the generic endpoint and the typed Core endpoints, against a
real server and a simulated charge point (issue: operator API for every CSMS operation)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from tests.harness import Harness, csms

from csms.ocppj import CallError, ErrorCode


async def test_requires_the_bearer_token(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as anonymous:
        for method, path in [
            ("GET", "/charge-points"),
            ("POST", "/charge-points/CP1/commands/Reset"),
            ("PUT", "/id-tags/X"),
        ]:
            response = await anonymous.request(method, path, json={})
            assert response.status_code == 401, path
        wrong = await anonymous.get("/charge-points", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


async def test_generic_command_returns_the_call_result(harness: Harness) -> None:
    async with harness.charge_point() as cp:
        await cp.boot()
        response = await harness.api.post(
            "/charge-points/CP1/commands/Reset", json={"type": "Soft"}
        )
        assert response.status_code == 200
        assert response.json() == {"status": "Accepted"}
        call = await cp.expect_call("Reset")
        assert call.payload == {"type": "Soft"}


async def test_schema_valid_but_wrong_requests_are_sent(harness: Harness) -> None:
    # Certification needs them (catalogue 2.4): unknown connector, unsupported key, "-1".
    async with harness.charge_point(connectors=2) as cp:
        await cp.boot()
        for action, payload in [
            ("UnlockConnector", {"connectorId": 3}),
            ("ChangeConfiguration", {"key": "NoSuchKey", "value": "x"}),
            ("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "-1"}),
            ("RemoteStopTransaction", {"transactionId": 987654}),
            ("CancelReservation", {"reservationId": 4711}),
        ]:
            response = await harness.api.post(f"/charge-points/CP1/commands/{action}", json=payload)
            assert response.status_code == 200, response.text
            assert (await cp.expect_call(action)).payload == payload


async def test_bad_requests_get_4xx_and_nothing_is_sent(harness: Harness) -> None:
    async with harness.charge_point() as cp:
        await cp.boot()
        cases: list[tuple[str, Any, int]] = [
            ("/charge-points/CP1/commands/Reset", {"type": "Warm"}, 422),
            ("/charge-points/CP1/commands/Reset", {}, 422),
            ("/charge-points/CP1/commands/Reset", {"type": "Soft", "extra": 1}, 422),
            ("/charge-points/CP1/commands/Heartbeat", {}, 404),  # a charge point's action
            ("/charge-points/CP1/commands/Explode", {}, 404),
            ("/charge-points/NOPE/commands/Reset", {"type": "Soft"}, 404),
            ("/charge-points/CP1/commands/Reset", [1, 2], 422),
        ]
        for path, body, expected in cases:
            response = await harness.api.post(path, json=body)
            assert response.status_code == expected, (path, body, response.text)
            assert response.json()["detail"]
        cp.no_unexpected_calls()


async def test_offline_charge_point_gives_409_or_waits_for_it(harness: Harness) -> None:
    async with harness.charge_point() as cp:
        await cp.boot()
    response = await harness.api.post("/charge-points/CP1/commands/ClearCache", json={})
    assert response.status_code == 409

    async def connect_later() -> None:
        async with harness.charge_point() as late:
            await late.expect_call("ClearCache", timeout=10)

    later = asyncio.create_task(connect_later())
    response = await harness.api.post(
        "/charge-points/CP1/commands/ClearCache", json={}, params={"connect_timeout": 10}
    )
    assert response.status_code == 200 and response.json() == {"status": "Accepted"}
    await later


async def test_call_error_gives_502_and_timeout_504(tmp_path: Path) -> None:
    async with (
        csms(tmp_path / "db.sqlite", call_timeout=0.5) as harness,
        harness.charge_point() as cp,
    ):
        await cp.boot()
        cp.answers["ClearCache"] = CallError(
            unique_id="", error_code=ErrorCode.INTERNAL_ERROR, error_description="broken"
        )
        response = await harness.api.post("/charge-points/CP1/commands/ClearCache", json={})
        assert response.status_code == 502
        assert response.json() == {
            "errorCode": "InternalError",
            "errorDescription": "broken",
            "errorDetails": {},
        }

        never = asyncio.Event()

        async def silent(payload: dict[str, Any]) -> dict[str, Any]:
            await never.wait()
            return {"status": "Accepted"}

        cp.answers["Reset"] = silent
        response = await harness.api.post(
            "/charge-points/CP1/commands/Reset", json={"type": "Hard"}
        )
        assert response.status_code == 504
        never.set()


async def test_remote_start_returns_the_transaction_id(harness: Harness) -> None:
    await harness.api.put("/id-tags/REMOTE", json={"status": "Accepted"})
    async with harness.charge_point() as cp:
        await cp.boot()

        async def charger() -> int:
            call = await cp.expect_call("RemoteStartTransaction")
            assert call.payload == {"idTag": "REMOTE", "connectorId": 2}
            await cp.authorize("REMOTE")
            started = await cp.start_transaction(2, "REMOTE")
            return int(started["transactionId"])

        side = asyncio.create_task(charger())
        response = await harness.api.post(
            "/charge-points/CP1/remote-start", json={"idTag": "REMOTE", "connectorId": 2}
        )
        transaction_id = await side
        assert response.status_code == 200
        assert response.json() == {"status": "Accepted", "transactionId": transaction_id}

        cp.answers["RemoteStartTransaction"] = {"status": "Rejected"}
        response = await harness.api.post("/charge-points/CP1/remote-start", json={"idTag": "X"})
        assert response.json() == {"status": "Rejected", "transactionId": None}
        await cp.expect_call("RemoteStartTransaction")

        cp.answers.pop("RemoteStartTransaction")
        response = await harness.api.post(
            "/charge-points/CP1/remote-start",
            json={"idTag": "X", "connectorId": 1},
            params={"wait": 0.2},
        )
        assert response.json() == {"status": "Accepted", "transactionId": None}
        await cp.expect_call("RemoteStartTransaction")

        response = await harness.api.post(
            "/charge-points/CP1/remote-stop", json={"transactionId": transaction_id}
        )
        assert response.json() == {"status": "Accepted"}
        assert (await cp.expect_call("RemoteStopTransaction")).payload == {
            "transactionId": transaction_id
        }


async def test_configuration_is_kept_consistent_with_the_answers(harness: Harness) -> None:
    async with harness.charge_point() as cp:
        await cp.boot()
        response = await harness.api.post("/charge-points/CP1/get-configuration", json={})
        assert response.status_code == 200
        reported = {k["key"]: k for k in response.json()["configurationKey"]}
        stored = (await harness.api.get("/charge-points/CP1/configuration")).json()
        assert {k["key"] for k in stored["configurationKey"]} == set(reported)
        assert stored["completeAt"] is not None

        response = await harness.api.post(
            "/charge-points/CP1/change-configuration",
            json={"key": "MeterValueSampleInterval", "value": "60"},
        )
        assert response.json() == {"status": "Accepted"}
        response = await harness.api.post(
            "/charge-points/CP1/change-configuration", json={"key": "Bogus", "value": "1"}
        )
        assert response.json() == {"status": "NotSupported"}
        response = await harness.api.post(
            "/charge-points/CP1/get-configuration", json={"key": ["HeartbeatInterval", "Nope"]}
        )
        assert response.json()["unknownKey"] == ["Nope"]

        stored = (await harness.api.get("/charge-points/CP1/configuration")).json()
        values = {k["key"]: k["value"] for k in stored["configurationKey"]}
        assert values["MeterValueSampleInterval"] == "60"
        assert "Bogus" not in values
        assert stored["unknownKey"] == ["Nope"]
        # The partial read kept the other keys.
        assert set(values) == set(reported)


async def test_availability_is_remembered(harness: Harness) -> None:
    async with harness.charge_point(connectors=2) as cp:
        await cp.boot()
        response = await harness.api.post(
            "/charge-points/CP1/change-availability",
            json={"connectorId": 1, "type": "Inoperative"},
        )
        assert response.json() == {"status": "Accepted"}
        cp.answers["ChangeAvailability"] = {"status": "Rejected"}
        await harness.api.post(
            "/charge-points/CP1/change-availability", json={"connectorId": 2, "type": "Inoperative"}
        )
    detail = (await harness.api.get("/charge-points/CP1")).json()
    assert [(a["connectorId"], a["requested"], a["status"]) for a in detail["availability"]] == [
        (1, "Inoperative", "Accepted")
    ]


async def test_other_typed_operations(harness: Harness) -> None:
    async with harness.charge_point(connectors=2) as cp:
        await cp.boot()
        for path, body, action, payload, answer in [
            ("reset", {"type": "Hard"}, "Reset", {"type": "Hard"}, {"status": "Accepted"}),
            (
                "unlock-connector",
                {"connectorId": 1},
                "UnlockConnector",
                {"connectorId": 1},
                {"status": "Unlocked"},
            ),
            ("clear-cache", None, "ClearCache", {}, {"status": "Accepted"}),
            (
                "data-transfer",
                {"vendorId": "com.x", "messageId": "m", "data": "d"},
                "DataTransfer",
                {"vendorId": "com.x", "messageId": "m", "data": "d"},
                None,
            ),
        ]:
            response = await harness.api.post(f"/charge-points/CP1/{path}", json=body)
            assert response.status_code == 200, response.text
            if answer is not None:
                assert response.json() == answer
            assert (await cp.expect_call(action)).payload == payload
        response = await harness.api.post("/charge-points/CP1/reset", json={"type": "Warm"})
        assert response.status_code == 422
        cp.no_unexpected_calls()


async def test_configuration_is_fetched_after_boot_outside_certification_mode(
    tmp_path: Path,
) -> None:
    async with (
        csms(tmp_path / "db.sqlite", certification_mode=False) as harness,
        harness.charge_point() as cp,
    ):
        await cp.boot()
        call = await cp.expect_call("GetConfiguration")
        assert call.payload == {}
        # The next command waits until the answer to the first is recorded.
        response = await harness.api.post("/charge-points/CP1/clear-cache")
        assert response.status_code == 200
        stored = (await harness.api.get("/charge-points/CP1/configuration")).json()
        assert stored["completeAt"] is not None
        assert "HeartbeatInterval" in {k["key"] for k in stored["configurationKey"]}
