"""Edges, each with several cases: a charging profile exactly at ChargeProfileMaxStackLevel and
one above it (spec 5.16, 9.1.9); an unknown transaction in the API; a CALL with an unknown
action (NotImplemented) and one only a Central System sends (NotSupported, J 4.2.3); a
reservation that another idTag's start does or does not end (spec 5.13, 4.8)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.harness import Harness

from csms.features.authorization import tag_info
from csms.simulator import SimulatedChargePoint
from csms.storage import IdTag

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    """CP1 with two connectors, booted; tags GOOD and MEMBER of group FLEET, OTHER of none,
    RIVAL of group RIVALS, NOBODY unknown."""
    for tag in (
        IdTag(id_tag="GOOD", status="Accepted", parent_id_tag="FLEET"),
        IdTag(id_tag="MEMBER", status="Accepted", parent_id_tag="FLEET"),
        IdTag(id_tag="OTHER", status="Accepted"),
        IdTag(id_tag="RIVAL", status="Accepted", parent_id_tag="RIVALS"),
    ):
        await harness.store.put_id_tag(tag)
    async with harness.charge_point("CP1", connectors=2) as charge_point:
        await charge_point.boot_and_report()
        yield charge_point


# -- ChargeProfileMaxStackLevel -----------------------------------------------------------------


def tx_default_profile(charging_profile_id: int, stack_level: int) -> dict[str, Any]:
    return {
        "chargingProfileId": charging_profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }


@pytest.mark.parametrize("max_stack_level", [0, 1, 2, 7])
async def test_stack_level_at_the_maximum_is_sent_and_above_it_refused(
    harness: Harness, cp: SimulatedChargePoint, max_stack_level: int
) -> None:
    cp.configuration["ChargeProfileMaxStackLevel"] = (str(max_stack_level), True)
    response = await harness.api.post("/charge-points/CP1/get-configuration", json={})
    assert response.status_code == 200, response.text
    await cp.expect_call("GetConfiguration")

    above = tx_default_profile(2, max_stack_level + 1)
    response = await harness.api.post(
        "/charge-points/CP1/charging-profiles", json={"connectorId": 1, "csChargingProfiles": above}
    )
    assert response.status_code == 422, response.text
    assert f"ChargeProfileMaxStackLevel is {max_stack_level}" in response.json()["detail"]

    at = tx_default_profile(1, max_stack_level)
    response = await harness.api.post(
        "/charge-points/CP1/charging-profiles", json={"connectorId": 1, "csChargingProfiles": at}
    )
    assert response.status_code == 200, response.text
    call = await cp.expect_call("SetChargingProfile")
    assert call.payload["csChargingProfiles"]["stackLevel"] == max_stack_level
    assert response.json()["status"] == "Accepted"
    await cp.heartbeat()
    cp.no_unexpected_calls()  # the refused one was never sent


# -- an unknown transaction -------------------------------------------------------------------


async def test_an_unknown_transaction_is_404(harness: Harness, cp: SimulatedChargePoint) -> None:
    started = await cp.start_transaction(1, "GOOD")
    known = started["transactionId"]
    assert (await harness.api.get(f"/transactions/{known}")).status_code == 200
    for unknown in (known + 1, known + 1000, 2**31 - 1, 0, -1):
        response = await harness.api.get(f"/transactions/{unknown}")
        assert response.status_code == 404, (unknown, response.text)
        assert str(unknown) in response.json()["detail"]


# -- actions a charge point may not send -------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "FooBar",
        "bootnotification",  # action names are case-sensitive (J 4.2.1)
        "Boot Notification",
        "Heartbeat2",
        "GetCompositeSchedules",
        "Get15118EVCertificate",  # OCPP 2.0.1, not OCPP 1.6 nor its security extension
    ],
)
async def test_an_unknown_action_is_not_implemented(harness: Harness, action: str) -> None:
    await refused_with(harness, action, "NotImplemented", f"unknown action {action!r}")


@pytest.mark.parametrize(
    "action",
    [
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    ],
)
async def test_a_central_system_action_from_a_charge_point_is_not_supported(
    harness: Harness, action: str
) -> None:
    await refused_with(harness, action, "NotSupported", f"{action} is sent by a Central System")


async def refused_with(harness: Harness, action: str, code: str, description: str) -> None:
    async with harness.raw() as raw:
        booted = await raw.exchange([2, "boot", "BootNotification", BOOT])
        assert booted[0] == 3 and booted[2]["status"] == "Accepted"
        reply = await raw.exchange([2, "c1", action, {}])
        assert reply[:4] == [4, "c1", code, description], reply
        # The connection stays usable.
        reply = await raw.exchange([2, "ok", "Heartbeat", {}])
        assert reply[0] == 3 and "currentTime" in reply[2]


# -- a reservation and another idTag -----------------------------------------------------------


async def reserve(harness: Harness, cp: SimulatedChargePoint, connector_id: int) -> int:
    response = await harness.api.post(
        "/charge-points/CP1/reservations",
        json={
            "connectorId": connector_id,
            "idTag": "GOOD",
            "parentIdTag": "FLEET",
            "expiryDate": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    await cp.expect_call("ReserveNow")
    reservation_id: int = response.json()["reservation"]["id"]
    return reservation_id


async def state_of(harness: Harness, reservation_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/reservations/{reservation_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("id_tag", ["OTHER", "RIVAL", "NOBODY", "FLEETX", "good-ish"])
async def test_another_tags_start_without_reservation_id_leaves_the_reservation(
    harness: Harness, cp: SimulatedChargePoint, id_tag: str
) -> None:
    reservation_id = await reserve(harness, cp, 1)
    await cp.start_transaction(1, id_tag)
    reservation = await state_of(harness, reservation_id)
    assert (reservation["state"], reservation["transactionId"]) == ("Accepted", None)


@pytest.mark.parametrize(("id_tag", "connector_id"), [("GOOD", 1), ("MEMBER", 1), ("good", 0)])
async def test_the_holder_or_its_group_without_reservation_id_uses_it(
    harness: Harness, cp: SimulatedChargePoint, id_tag: str, connector_id: int
) -> None:
    if connector_id == 0:
        cp.configuration["ReserveConnectorZeroSupported"] = ("true", True)
        response = await harness.api.post("/charge-points/CP1/get-configuration", json={})
        assert response.status_code == 200, response.text
        await cp.expect_call("GetConfiguration")
    reservation_id = await reserve(harness, cp, connector_id)
    started = await cp.start_transaction(1, id_tag)
    reservation = await state_of(harness, reservation_id)
    assert (reservation["state"], reservation["transactionId"]) == (
        "Used",
        started["transactionId"],
    )


@pytest.mark.parametrize("id_tag", ["OTHER", "RIVAL", "NOBODY"])
async def test_another_tag_using_the_reservation_id_ends_it(
    harness: Harness, cp: SimulatedChargePoint, id_tag: str
) -> None:
    """The charge point decides who may use its reservation (spec 5.13): the CSMS records it
    Used by the transaction that named it, whatever the tag."""
    reservation_id = await reserve(harness, cp, 1)
    started = await cp.start_transaction(1, id_tag, reservation_id=reservation_id)
    reservation = await state_of(harness, reservation_id)
    assert (reservation["state"], reservation["transactionId"]) == (
        "Used",
        started["transactionId"],
    )


# -- a tag's status and its expiry date --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expired", "answered"),
    [
        ("Blocked", True, "Blocked"),
        ("Invalid", True, "Invalid"),
        ("Expired", False, "Expired"),
        ("Accepted", True, "Expired"),
        ("Accepted", False, "Accepted"),
    ],
)
async def test_only_an_accepted_tag_turns_expired_at_its_expiry_date(
    harness: Harness, status: str, expired: bool, answered: str
) -> None:
    """Spec 7.27, errata 3.73: a Blocked or Invalid tag stays so after its expiryDate."""
    offset = timedelta(days=-1 if expired else 1)
    await harness.store.put_id_tag(
        IdTag(id_tag="TAG", status=status, expiry_date=datetime.now(UTC) + offset)
    )
    async with harness.charge_point("CP9") as cp:
        await cp.boot()
        assert (await cp.authorize("TAG"))["idTagInfo"]["status"] == answered
        started = await cp.start_transaction(1, "TAG")
        assert started["idTagInfo"]["status"] == answered


def test_a_tag_is_expired_from_the_instant_of_its_expiry_date() -> None:
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    tag = IdTag(id_tag="TAG", status="Accepted", expiry_date=expiry, parent_id_tag="P")
    tick = timedelta(microseconds=1)
    assert tag_info(tag, expiry - tick).status == "Accepted"
    assert tag_info(tag, expiry).status == "Expired"
    assert tag_info(tag, expiry + tick).status == "Expired"
    assert (tag_info(tag, expiry).expiry_date, tag_info(tag, expiry).parent_id_tag) == (expiry, "P")
