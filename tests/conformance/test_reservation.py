"""Reservation profile: OCTT TC_046, TC_047, TC_048_1..4, TC_049, TC_051, TC_052 and TC_053
(test-case document 3.17; spec 3.11, 5.13 ReserveNow, 5.1 CancelReservation, 4.8
StartTransaction reservationId, 3.10 parent idTag).

The operator reserves through POST /charge-points/{id}/reservations and cancels through
DELETE /reservations/{id}; a CancelReservation for an id the CSMS never made (TC_052) goes
through the generic command endpoint. Each case also checks the reservation the CSMS keeps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CONNECTOR_ID,
    IdTags,
    Wire,
    authorized,
    connector_statuses,
    no_unsolicited_calls,
    operator,
    parse_time,
    stored_transaction,
)
from tests.harness import Harness

# <Configured Expiry Date Offset> of TC_047, in seconds: short, so the expiry is seen soon.
EXPIRY_OFFSET = 1


async def reserve(
    harness: Harness,
    cp: SimulatedChargePoint,
    body: dict[str, Any],
    *,
    status_code: int = 200,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """[Manual action] reserve through the typed endpoint: (the API's answer, the ReserveNow
    payload as the charge point received it)."""
    response = await harness.api.post(
        f"/charge-points/{cp.charge_point_id}/reservations", json=body
    )
    assert response.status_code == status_code, response.text
    call = await cp.expect_call("ReserveNow")
    answer: dict[str, Any] = response.json()
    return answer, call.payload


async def stored_reservation(harness: Harness, reservation_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/reservations/{reservation_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def reservation_reaches(
    harness: Harness, reservation_id: int, state: str, timeout: float = 5.0
) -> dict[str, Any]:
    """The reservation once the CSMS has moved it to `state` on its own (its expiry): read
    through the API until then, since nothing on the wire marks that moment."""
    async with asyncio.timeout(timeout):
        while (stored := await stored_reservation(harness, reservation_id))["state"] != state:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return stored


async def accepted_reservation(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags, **fields: Any
) -> int:
    """ReserveNow Accepted and StatusNotification Reserved (the first steps of most cases)."""
    answer, request = await reserve(
        harness, cp, {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid, **fields}
    )
    assert answer["status"] == "Accepted"
    assert answer["reservation"]["state"] == "Accepted"
    assert await cp.status_notification(request["connectorId"], "Reserved") == {}
    reservation_id: int = request["reservationId"]
    return reservation_id


async def test_tc_046_reservation_of_a_connector_transaction(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_046_CSMS (3.17.1): ReserveNow for the configured connector and valid tag (Accepted),
    Reserved, then the Charging state whose StartTransaction carries the reservationId: the
    reservation is Used by that transaction."""
    wire = Wire(cp)
    before = datetime.now(UTC)
    answer, request = await reserve(
        harness, cp, {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}
    )
    assert (request["connectorId"], request["idTag"]) == (CONNECTOR_ID, id_tags.valid)
    assert isinstance(request["reservationId"], int) and request["reservationId"] > 0
    assert parse_time(request["expiryDate"]) > before
    assert answer["status"] == "Accepted"
    reservation_id = request["reservationId"]
    assert await cp.status_notification(CONNECTOR_ID, "Reserved") == {}
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Reserved"

    # Charging, with the reservation (spec 4.8).
    await authorized(cp, id_tags.valid)
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    start = await cp.start_transaction(CONNECTOR_ID, id_tags.valid, reservation_id=reservation_id)
    assert start["idTagInfo"]["status"] == "Accepted"
    transaction_id = start["transactionId"]
    assert await cp.status_notification(CONNECTOR_ID, "Charging") == {}

    assert wire.calls() == [
        "CS→ ReserveNow",
        "CP→ StatusNotification",
        "CP→ Authorize",
        "CP→ StatusNotification",
        "CP→ StartTransaction",
        "CP→ StatusNotification",
    ]
    assert (await stored_transaction(harness, transaction_id))["reservationId"] == reservation_id
    stored = await stored_reservation(harness, reservation_id)
    assert (stored["state"], stored["transactionId"]) == ("Used", transaction_id)
    assert (stored["chargePointId"], stored["connectorId"], stored["idTag"]) == (
        cp.charge_point_id,
        CONNECTOR_ID,
        id_tags.valid,
    )
    await no_unsolicited_calls(cp)


@pytest.mark.parametrize("harness_settings", [{"reservation_expiry_offset": EXPIRY_OFFSET}])
async def test_tc_047_reservation_of_a_connector_expire(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_047_CSMS (3.17.1): ReserveNow whose expiryDate is now + the configured expiry date
    offset (Accepted), Reserved; nobody comes, and at the expiry the charge point reports the
    connector Available. The CSMS marks the reservation Expired at its expiryDate, on its own,
    without sending anything."""
    wire = Wire(cp)
    before = datetime.now(UTC)
    answer, request = await reserve(
        harness, cp, {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}
    )
    after = datetime.now(UTC)
    assert (request["connectorId"], request["idTag"]) == (CONNECTOR_ID, id_tags.valid)
    expiry_date = parse_time(request["expiryDate"])
    offset = timedelta(seconds=EXPIRY_OFFSET)
    # Milliseconds on the wire: the sent value is cut, never rounded up.
    assert before + offset - timedelta(milliseconds=1) <= expiry_date <= after + offset
    assert answer["status"] == "Accepted"
    reservation_id = request["reservationId"]
    assert await cp.status_notification(CONNECTOR_ID, "Reserved") == {}

    # [EV driver does not arrive before the expiry date]
    stored = await reservation_reaches(harness, reservation_id, "Expired")
    assert parse_time(stored["expiryDate"]) == expiry_date
    assert parse_time(stored["updatedAt"]) >= expiry_date
    assert await cp.status_notification(CONNECTOR_ID, "Available") == {}

    assert wire.calls() == ["CS→ ReserveNow", "CP→ StatusNotification", "CP→ StatusNotification"]
    assert (await connector_statuses(harness))[CONNECTOR_ID]["status"] == "Available"
    await no_unsolicited_calls(cp)


async def refused_reservation(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags, status: str
) -> None:
    """The charge point answers ReserveNow with `status`. The CSMS takes the answer: the
    reservation is kept in that state, not in force (it does not expire, nothing can use it)."""
    cp.answers["ReserveNow"] = {"status": status}
    wire = Wire(cp)
    answer, request = await reserve(
        harness, cp, {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}
    )
    assert (request["connectorId"], request["idTag"]) == (CONNECTOR_ID, id_tags.valid)
    assert answer["status"] == status
    assert answer["reservation"]["state"] == status
    assert answer["reservation"]["reason"]

    assert wire.calls() == ["CS→ ReserveNow"]
    assert (await stored_reservation(harness, request["reservationId"]))["state"] == status
    response = await harness.api.get("/reservations", params={"state": "Accepted"})
    assert response.json() == []
    await no_unsolicited_calls(cp)


async def test_tc_048_1_reservation_of_a_connector_faulted(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_048_1_CSMS (3.17.1): ReserveNow for the configured connector and valid tag, answered
    Faulted."""
    await refused_reservation(harness, cp, id_tags, "Faulted")


async def test_tc_048_4_reservation_of_a_connector_rejected(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_048_4_CSMS (3.17.1): ReserveNow for the configured connector and valid tag, answered
    Rejected."""
    await refused_reservation(harness, cp, id_tags, "Rejected")


async def test_tc_048_2_reservation_of_a_connector_occupied(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_048_2_CSMS (3.17.1): a cable is plugged in (Preparing on the configured connector);
    the operator reserves that connector: Occupied."""
    wire = Wire(cp)
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    answer, request = await reserve(
        harness, cp, {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}
    )
    assert (request["connectorId"], request["idTag"]) == (CONNECTOR_ID, id_tags.valid)
    assert answer["status"] == "Occupied"

    assert wire.calls() == ["CP→ StatusNotification", "CS→ ReserveNow"]
    assert (await stored_reservation(harness, request["reservationId"]))["state"] == "Occupied"
    await no_unsolicited_calls(cp)


async def test_tc_048_3_reservation_of_a_connector_unavailable(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_048_3_CSMS (3.17.1): the operator makes the configured connector Inoperative
    (ChangeAvailability, Accepted; StatusNotification Unavailable), then reserves it:
    Unavailable."""
    wire = Wire(cp)
    response = await harness.api.post(
        f"/charge-points/{cp.charge_point_id}/change-availability",
        json={"connectorId": CONNECTOR_ID, "type": "Inoperative"},
    )
    assert response.status_code == 200, response.text
    call = await cp.expect_call("ChangeAvailability")
    assert call.payload == {"connectorId": CONNECTOR_ID, "type": "Inoperative"}
    assert await cp.status_notification(CONNECTOR_ID, "Unavailable") == {}
    answer, request = await reserve(
        harness, cp, {"connectorId": CONNECTOR_ID, "idTag": id_tags.valid}
    )
    assert (request["connectorId"], request["idTag"]) == (CONNECTOR_ID, id_tags.valid)
    assert answer["status"] == "Unavailable"

    assert wire.calls() == ["CS→ ChangeAvailability", "CP→ StatusNotification", "CS→ ReserveNow"]
    assert (await stored_reservation(harness, request["reservationId"]))["state"] == "Unavailable"
    await no_unsolicited_calls(cp)


async def test_tc_049_reservation_of_a_charge_point_transaction(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_049_CSMS (3.17.2): ReserveNow for connector 0 (the charge point, any connector),
    Reserved. The CSMS knows from GetConfiguration (before the case) that the charge point
    takes reservations of connector 0. Beyond the case: the reserved tag then charges on a
    connector, which uses the reservation."""
    answer, _ = await operator(
        harness, cp, "GetConfiguration", {"key": ["ReserveConnectorZeroSupported"]}
    )
    assert answer["configurationKey"][0]["value"] == "true"

    wire = Wire(cp)
    answer, request = await reserve(harness, cp, {"connectorId": 0, "idTag": id_tags.valid})
    assert request["connectorId"] == 0
    assert request["idTag"] == id_tags.valid
    assert answer["status"] == "Accepted"
    reservation_id = request["reservationId"]
    assert await cp.status_notification(0, "Reserved") == {}

    assert wire.calls() == ["CS→ ReserveNow", "CP→ StatusNotification"]
    stored = await stored_reservation(harness, reservation_id)
    assert (stored["state"], stored["connectorId"]) == ("Accepted", 0)
    await no_unsolicited_calls(cp)

    # Not part of the case: the tag charges on a connector, which uses the reservation. The
    # configured one: in a certification session the CSMS may still hold an earlier case's
    # transaction of this tag there (the tool's charge point never stops it), which this start
    # ends; on another connector the tag would rightly be ConcurrentTx.
    transaction_id = await _charging_with(cp, id_tags.valid, CONNECTOR_ID, reservation_id)
    stored = await stored_reservation(harness, reservation_id)
    assert (stored["state"], stored["transactionId"]) == ("Used", transaction_id)
    await no_unsolicited_calls(cp)


async def test_tc_051_cancel_reservation(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_051_CSMS (3.17.3): a reservation of a connector (not 0), Accepted and Reserved; the
    operator cancels it: CancelReservation with its reservationId, Accepted; the connector is
    Available again. The reservation is Cancelled."""
    wire = Wire(cp)
    reservation_id = await accepted_reservation(harness, cp, id_tags)

    response = await harness.api.delete(f"/reservations/{reservation_id}")
    assert response.status_code == 200, response.text
    call = await cp.expect_call("CancelReservation")
    assert call.payload == {"reservationId": reservation_id}
    assert response.json()["status"] == "Accepted"
    assert response.json()["reservation"]["state"] == "Cancelled"
    assert await cp.status_notification(CONNECTOR_ID, "Available") == {}

    assert wire.calls() == [
        "CS→ ReserveNow",
        "CP→ StatusNotification",
        "CS→ CancelReservation",
        "CP→ StatusNotification",
    ]
    reservation = await stored_reservation(harness, reservation_id)
    assert (reservation["state"], reservation["connectorId"]) == ("Cancelled", CONNECTOR_ID)
    assert reservation["connectorId"] != 0
    await no_unsolicited_calls(cp)


async def test_tc_052_cancel_reservation_rejected(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_052_CSMS (3.17.3): a reservation (Accepted, Reserved); the operator cancels a
    reservationId that is not that one: the charge point answers Rejected, and the real
    reservation stays in force."""
    wire = Wire(cp)
    reservation_id = await accepted_reservation(harness, cp, id_tags)

    unknown = reservation_id + 1000
    answer, call = await operator(harness, cp, "CancelReservation", {"reservationId": unknown})
    assert call.payload == {"reservationId": unknown}
    assert call.payload["reservationId"] != reservation_id
    assert answer == {"status": "Rejected"}

    assert wire.calls() == ["CS→ ReserveNow", "CP→ StatusNotification", "CS→ CancelReservation"]
    assert (await stored_reservation(harness, reservation_id))["state"] == "Accepted"
    assert (await harness.api.get(f"/reservations/{unknown}")).status_code == 404
    await no_unsolicited_calls(cp)


async def test_tc_053_use_a_reserved_connector_with_parent_id_tag(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_053_CSMS (3.17.4): ReserveNow with a reservationId, an idTag and its parentIdTag
    (Accepted), Reserved; the Charging state on it; then the driver presents another tag of the
    same group: Authorize answers Accepted with the reservation's parentIdTag, and that tag
    stops the transaction (spec 3.10), then Finishing."""
    wire = Wire(cp)
    answer, request = await reserve(
        harness,
        cp,
        {"connectorId": CONNECTOR_ID, "idTag": id_tags.group_a, "parentIdTag": id_tags.parent},
    )
    assert request["connectorId"] != 0
    assert (request["idTag"], request["parentIdTag"]) == (id_tags.group_a, id_tags.parent)
    assert answer["status"] == "Accepted"
    reservation_id = request["reservationId"]
    assert await cp.status_notification(CONNECTOR_ID, "Reserved") == {}

    transaction_id = await _charging_with(cp, id_tags.group_a, CONNECTOR_ID, reservation_id)
    # [the driver presents a new tag of the reservation's group]
    other = await cp.authorize(id_tags.group_b)
    assert other["idTagInfo"]["status"] == "Accepted"
    assert other["idTagInfo"]["parentIdTag"] == id_tags.parent
    stop = await cp.stop_transaction(transaction_id, 1500, id_tag=id_tags.group_b, reason="Local")
    assert stop["idTagInfo"]["status"] == "Accepted"
    assert await cp.status_notification(CONNECTOR_ID, "Finishing") == {}

    assert wire.calls() == [
        "CS→ ReserveNow",
        "CP→ StatusNotification",
        "CP→ Authorize",
        "CP→ StatusNotification",
        "CP→ StartTransaction",
        "CP→ StatusNotification",
        "CP→ Authorize",
        "CP→ StopTransaction",
        "CP→ StatusNotification",
    ]
    stored = await stored_reservation(harness, reservation_id)
    assert (stored["state"], stored["transactionId"], stored["parentIdTag"]) == (
        "Used",
        transaction_id,
        id_tags.parent,
    )
    transaction = await stored_transaction(harness, transaction_id)
    assert (transaction["reservationId"], transaction["stopIdTag"], transaction["active"]) == (
        reservation_id,
        id_tags.group_b,
        False,
    )
    await no_unsolicited_calls(cp)


async def _charging_with(
    cp: SimulatedChargePoint, id_tag: str, connector_id: int, reservation_id: int
) -> int:
    """The Charging state on a reservation: Authorize, Preparing, StartTransaction with the
    reservationId (Accepted), Charging."""
    await authorized(cp, id_tag)
    assert await cp.status_notification(connector_id, "Preparing") == {}
    start = await cp.start_transaction(connector_id, id_tag, reservation_id=reservation_id)
    assert start["idTagInfo"]["status"] == "Accepted"
    assert await cp.status_notification(connector_id, "Charging") == {}
    transaction_id: int = start["transactionId"]
    return transaction_id
