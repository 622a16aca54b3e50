"""Reservations beyond the OCTT cases (spec 5.13, 5.1, 4.8, 3.10): what the typed endpoint
refuses, every way a reservation fails, reservations made through the generic endpoint, which
StartTransaction uses which reservation, cancelling, and the CSMS's own expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.harness import Harness, csms

from csms.ocppj import CallError, ErrorCode
from csms.simulator import SimulatedChargePoint
from csms.storage import IdTag

FUTURE = datetime.now(UTC) + timedelta(hours=1)


def wire_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    """CP1 with 2 connectors, booted (Accepted, connectors Available), and some id tags:
    GOOD and MEMBER of group FLEET, OTHER of none."""
    for tag in (
        IdTag(id_tag="GOOD", status="Accepted", parent_id_tag="FLEET"),
        IdTag(id_tag="MEMBER", status="Accepted", parent_id_tag="FLEET"),
        IdTag(id_tag="OTHER", status="Accepted"),
    ):
        await harness.store.put_id_tag(tag)
    async with harness.charge_point("CP1", connectors=2) as charge_point:
        await charge_point.boot_and_report()
        yield charge_point


async def reserve(harness: Harness, body: dict[str, Any], charge_point_id: str = "CP1") -> Any:
    return await harness.api.post(f"/charge-points/{charge_point_id}/reservations", json=body)


async def read_configuration(harness: Harness, cp: SimulatedChargePoint, *keys: str) -> None:
    response = await harness.api.post(
        f"/charge-points/{cp.charge_point_id}/get-configuration", json={"key": list(keys)}
    )
    assert response.status_code == 200, response.text
    await cp.expect_call("GetConfiguration")


async def reservations(harness: Harness, **params: Any) -> list[dict[str, Any]]:
    response = await harness.api.get("/reservations", params=params)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def state_of(harness: Harness, reservation_id: int) -> str:
    response = await harness.api.get(f"/reservations/{reservation_id}")
    assert response.status_code == 200, response.text
    state: str = response.json()["state"]
    return state


async def test_connector_zero_needs_reserve_connector_zero_supported(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    # Nothing known of the configuration yet: refused, nothing sent, nothing stored.
    response = await reserve(harness, {"connectorId": 0, "idTag": "GOOD"})
    assert response.status_code == 409
    assert "ReserveConnectorZeroSupported" in response.json()["detail"]
    assert "reservation" not in response.json()

    cp.configuration["ReserveConnectorZeroSupported"] = ("false", True)
    await read_configuration(harness, cp, "ReserveConnectorZeroSupported")
    response = await reserve(harness, {"connectorId": 0, "idTag": "GOOD"})
    assert response.status_code == 409
    assert "'false'" in response.json()["detail"]

    cp.no_unexpected_calls()
    assert await reservations(harness) == []
    # The generic endpoint still sends it (certification sends what the operator asks).
    response = await harness.api.post(
        "/charge-points/CP1/commands/ReserveNow",
        json={
            "connectorId": 0,
            "expiryDate": wire_time(FUTURE),
            "idTag": "GOOD",
            "reservationId": 9,
        },
    )
    assert response.json() == {"status": "Rejected"}
    await cp.expect_call("ReserveNow")
    assert [(r["id"], r["state"]) for r in await reservations(harness)] == [(9, "Rejected")]


async def test_a_connector_that_does_not_exist(harness: Harness, cp: SimulatedChargePoint) -> None:
    # Unknown NumberOfConnectors: sent, and the charge point's refusal is recorded.
    response = await reserve(harness, {"connectorId": 3, "idTag": "GOOD"})
    assert response.status_code == 200
    await cp.expect_call("ReserveNow")
    assert response.json()["status"] == "Rejected"
    assert response.json()["reservation"]["state"] == "Rejected"

    # Known: a Failed reservation with the reason, and nothing sent.
    await read_configuration(harness, cp, "NumberOfConnectors")
    response = await reserve(harness, {"connectorId": 3, "idTag": "GOOD"})
    assert response.status_code == 409
    failed = response.json()["reservation"]
    assert failed["state"] == "Failed"
    assert failed["reason"] == "connector 3 does not exist: NumberOfConnectors is 2"
    assert response.json()["detail"] == failed["reason"]
    cp.no_unexpected_calls()
    assert await state_of(harness, failed["id"]) == "Failed"


async def test_expiry_date_must_lie_ahead_and_carry_a_time_zone(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    past = wire_time(datetime.now(UTC) - timedelta(seconds=1))
    response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD", "expiryDate": past})
    assert response.status_code == 409
    assert "not in the future" in response.json()["detail"]
    naive = (datetime.now() + timedelta(hours=1)).isoformat()
    response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD", "expiryDate": naive})
    assert response.status_code == 422
    cp.no_unexpected_calls()
    assert await reservations(harness) == []


async def test_given_expiry_date_and_parent_go_on_the_wire(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    expiry = datetime.now(UTC).replace(microsecond=123456) + timedelta(hours=2)
    response = await reserve(
        harness,
        {
            "connectorId": 2,
            "idTag": "GOOD",
            "parentIdTag": "FLEET",
            "expiryDate": expiry.isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    call = await cp.expect_call("ReserveNow")
    reservation = response.json()["reservation"]
    assert call.payload == {
        "connectorId": 2,
        "expiryDate": wire_time(expiry),
        "idTag": "GOOD",
        "parentIdTag": "FLEET",
        "reservationId": reservation["id"],
    }
    assert datetime.fromisoformat(reservation["expiryDate"]) == expiry.replace(microsecond=123000)
    assert reservation["parentIdTag"] == "FLEET"


async def test_operator_reservation_ids(harness: Harness, cp: SimulatedChargePoint) -> None:
    response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD", "reservationId": 500})
    assert response.json()["reservation"]["id"] == 500
    await cp.expect_call("ReserveNow")
    # The same id again replaces the reservation (spec 5.13), on the charge point and here.
    response = await reserve(harness, {"connectorId": 2, "idTag": "OTHER", "reservationId": 500})
    assert response.json()["status"] == "Accepted"
    assert (await cp.expect_call("ReserveNow")).payload["reservationId"] == 500
    assert [(r["id"], r["connectorId"], r["idTag"]) for r in await reservations(harness)] == [
        (500, 2, "OTHER")
    ]
    # The CSMS allocates past the highest id.
    response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD"})
    assert response.json()["reservation"]["id"] == 501
    await cp.expect_call("ReserveNow")

    # Another charge point's id, and the id of a reservation that is over: refused, unsent.
    await harness.api.put("/charge-points/CP2", json={"registrationStatus": "Accepted"})
    response = await reserve(
        harness, {"connectorId": 1, "idTag": "GOOD", "reservationId": 501}, "CP2"
    )
    assert response.status_code == 409
    assert "charge point 'CP1'" in response.json()["detail"]
    assert (await harness.api.delete("/reservations/500")).json()["status"] == "Accepted"
    await cp.expect_call("CancelReservation")
    response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD", "reservationId": 500})
    assert response.status_code == 409
    assert "not reused" in response.json()["detail"]
    cp.no_unexpected_calls()
    response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD", "reservationId": 0})
    assert response.status_code == 422


async def test_unknown_charge_point_and_bad_filters(harness: Harness) -> None:
    assert (await reserve(harness, {"connectorId": 1, "idTag": "GOOD"}, "NOPE")).status_code == 404
    assert (await harness.api.get("/reservations", params={"state": "Nope"})).status_code == 422
    assert (await harness.api.get("/reservations/12")).status_code == 404
    assert (await harness.api.delete("/reservations/12")).status_code == 404


async def test_offline_call_error_and_no_answer_end_failed(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db", call_timeout=0.3) as harness:
        await harness.api.put("/charge-points/CP1", json={"registrationStatus": "Accepted"})
        response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD"})
        assert response.status_code == 409
        [offline] = await reservations(harness)
        assert offline["state"] == "Failed"
        assert "not connected" in offline["reason"]

        async with harness.charge_point("CP1") as cp:
            await cp.boot()
            cp.answers["ReserveNow"] = CallError(
                unique_id="", error_code=ErrorCode.NOT_SUPPORTED, error_description="no way"
            )
            response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD"})
            assert response.status_code == 502
            assert response.json()["errorCode"] == "NotSupported"
            assert response.json()["reservation"]["state"] == "Failed"
            assert response.json()["reservation"]["reason"] == "CALLERROR NotSupported: no way"

            never = asyncio.Event()

            async def silent(payload: dict[str, Any]) -> dict[str, Any]:
                await never.wait()
                return {"status": "Accepted"}

            cp.answers["ReserveNow"] = silent
            response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD"})
            assert response.status_code == 504
            never.set()
        states = [(r["state"], r["reason"]) for r in await reservations(harness)]
        assert [state for state, _ in states] == ["Failed", "Failed", "Failed"]
        assert "did not answer ReserveNow" in states[2][1]


async def test_generic_endpoint_reservations_are_kept_and_used(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    payload = {
        "connectorId": 1,
        "expiryDate": wire_time(FUTURE),
        "idTag": "GOOD",
        "reservationId": 77,
    }
    response = await harness.api.post("/charge-points/CP1/commands/ReserveNow", json=payload)
    assert response.json() == {"status": "Accepted"}
    await cp.expect_call("ReserveNow")
    [kept] = await reservations(harness)
    assert (kept["id"], kept["state"], kept["idTag"], kept["connectorId"]) == (
        77,
        "Accepted",
        "GOOD",
        1,
    )

    start = await cp.start_transaction(1, "GOOD", reservation_id=77)
    assert start["idTagInfo"]["status"] == "Accepted"
    [used] = await reservations(harness)
    assert (used["state"], used["transactionId"], used["reason"]) == (
        "Used",
        start["transactionId"],
        None,
    )

    # A reservationId no reservation can have is sent, answered, and not kept.
    payload = {**payload, "connectorId": 2, "reservationId": -5}
    response = await harness.api.post("/charge-points/CP1/commands/ReserveNow", json=payload)
    assert response.json() == {"status": "Accepted"}
    await cp.expect_call("ReserveNow")
    assert len(await reservations(harness)) == 1


async def test_start_without_reservation_id_uses_the_holders_reservation(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    response = await reserve(harness, {"connectorId": 1, "idTag": "GOOD", "parentIdTag": "FLEET"})
    reservation_id = response.json()["reservation"]["id"]
    await cp.expect_call("ReserveNow")
    other_connector = await reserve(harness, {"connectorId": 2, "idTag": "OTHER"})
    await cp.expect_call("ReserveNow")

    # Another tag, or the holder on another connector: not this reservation.
    await cp.start_transaction(1, "OTHER")
    assert await state_of(harness, reservation_id) == "Accepted"
    # A tag of the reservation's group (spec 3.10, 5.13), without reservationId.
    start = await cp.start_transaction(1, "MEMBER", meter_start=10)
    used = (await harness.api.get(f"/reservations/{reservation_id}")).json()
    assert (used["state"], used["transactionId"]) == ("Used", start["transactionId"])
    assert "without reservationId" in used["reason"]
    assert await state_of(harness, other_connector.json()["reservation"]["id"]) == "Accepted"


async def test_start_with_a_reservation_id(harness: Harness, cp: SimulatedChargePoint) -> None:
    mine = (await reserve(harness, {"connectorId": 1, "idTag": "GOOD"})).json()["reservation"]["id"]
    await cp.expect_call("ReserveNow")
    await harness.api.put("/charge-points/CP2", json={"registrationStatus": "Accepted"})
    async with harness.charge_point("CP2") as cp2:
        await cp2.boot()
        theirs = (await reserve(harness, {"connectorId": 1, "idTag": "GOOD"}, "CP2")).json()
        await cp2.expect_call("ReserveNow")
    theirs_id = theirs["reservation"]["id"]

    # Another charge point's reservation, or one never made: the start is answered as usual.
    start = await cp.start_transaction(2, "OTHER", reservation_id=theirs_id)
    assert start["idTagInfo"]["status"] == "Accepted"
    start = await cp.start_transaction(2, "MEMBER", reservation_id=4242)
    assert start["idTagInfo"]["status"] == "Accepted"
    assert await state_of(harness, theirs_id) == "Accepted"

    # The charge point decides who used its reservation: even a tag the CSMS would not match.
    timestamp = datetime.now(UTC).replace(microsecond=0)
    start = await cp.start_transaction(1, "GOOD", reservation_id=mine, timestamp=timestamp)
    replay = await cp.start_transaction(1, "GOOD", reservation_id=mine, timestamp=timestamp)
    assert replay["transactionId"] == start["transactionId"]
    used = (await harness.api.get(f"/reservations/{mine}")).json()
    assert (used["state"], used["transactionId"]) == ("Used", start["transactionId"])


async def test_cancel(harness: Harness, cp: SimulatedChargePoint) -> None:
    first = (await reserve(harness, {"connectorId": 1, "idTag": "GOOD"})).json()["reservation"][
        "id"
    ]
    await cp.expect_call("ReserveNow")
    # The charge point does not know it: Rejected, and the CSMS keeps it as it is.
    cp.answers["CancelReservation"] = {"status": "Rejected"}
    response = await harness.api.delete(f"/reservations/{first}")
    assert response.status_code == 200
    assert response.json()["status"] == "Rejected"
    assert response.json()["reservation"]["state"] == "Accepted"
    await cp.expect_call("CancelReservation")

    del cp.answers["CancelReservation"]
    assert (await harness.api.delete(f"/reservations/{first}")).json()["status"] == "Accepted"
    await cp.expect_call("CancelReservation")
    assert await state_of(harness, first) == "Cancelled"
    # Nothing left to cancel: refused, unsent.
    response = await harness.api.delete(f"/reservations/{first}")
    assert response.status_code == 409
    assert "Cancelled" in response.json()["detail"]
    cp.no_unexpected_calls()


async def test_expiry_wakes_for_an_earlier_reservation(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    later = (await reserve(harness, {"connectorId": 1, "idTag": "GOOD"})).json()["reservation"]
    await cp.expect_call("ReserveNow")
    soon = wire_time(datetime.now(UTC) + timedelta(milliseconds=300))
    response = await reserve(harness, {"connectorId": 2, "idTag": "OTHER", "expiryDate": soon})
    soonest = response.json()["reservation"]["id"]
    await cp.expect_call("ReserveNow")

    # Nothing on the wire marks the expiry: the API shows it.
    async with asyncio.timeout(5):
        while await state_of(harness, soonest) != "Expired":  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert await state_of(harness, later["id"]) == "Accepted"
    assert [r["id"] for r in await reservations(harness, state="Expired")] == [soonest]
    assert [r["id"] for r in await reservations(harness, charge_point_id="CP1")] == [
        later["id"],
        soonest,
    ]
    assert await reservations(harness, charge_point_id="CP2") == []
    cp.no_unexpected_calls()
