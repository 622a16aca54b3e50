"""Core profile, charge-point-initiated messages (spec 4.1-4.10): the answers, and what the CSMS
stored, through the simulator on a real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.harness import Harness

from csms.simulator import SimulatedChargePoint
from csms.storage import IdTag

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def add_tags(harness: Harness) -> None:
    future = datetime.now(UTC) + timedelta(days=30)
    past = datetime.now(UTC) - timedelta(days=1)
    for tag in (
        IdTag(id_tag="GOOD", status="Accepted", expiry_date=future, parent_id_tag="FLEET"),
        IdTag(id_tag="OTHER", status="Accepted"),
        IdTag(id_tag="BLOCKED", status="Blocked"),
        IdTag(id_tag="OLD", status="Accepted", expiry_date=past),
        IdTag(id_tag="GONE", status="Expired"),
    ):
        await harness.store.put_id_tag(tag)


async def test_boot_notification_stores_the_identity(harness: Harness) -> None:
    async with harness.charge_point("CP1") as cp:
        answer = await cp.call(
            "BootNotification",
            {
                "chargePointVendor": "ACME",
                "chargePointModel": "Wallbox 22",
                "chargePointSerialNumber": "CPSN-1",
                "chargeBoxSerialNumber": "CBSN-1",
                "firmwareVersion": "1.2.3",
                "iccid": "8931",
                "imsi": "2620",
                "meterType": "EMH",
                "meterSerialNumber": "M-1",
            },
        )
    assert answer["status"] == "Accepted"
    assert answer["interval"] == harness.app.services.settings.heartbeat_interval
    stored = await harness.store.get_charge_point("CP1")
    assert stored is not None and stored.boot is not None
    assert stored.boot.charge_point_vendor == "ACME"
    assert stored.boot.charge_point_serial_number == "CPSN-1"
    assert stored.boot.charge_box_serial_number == "CBSN-1"
    assert (stored.boot.firmware_version, stored.boot.iccid, stored.boot.imsi) == (
        "1.2.3",
        "8931",
        "2620",
    )
    assert (stored.boot.meter_type, stored.boot.meter_serial_number) == ("EMH", "M-1")
    assert stored.last_boot_at is not None


async def test_rejected_charge_point_gets_rejected_with_retry_interval(harness: Harness) -> None:
    await harness.store.save_charge_point(
        "REJ", registration_status="Rejected", password_hash=None, description=None
    )
    async with harness.charge_point("REJ") as cp:
        answer = await cp.boot()
    assert answer["status"] == "Rejected"
    assert answer["interval"] == harness.app.services.settings.boot_retry_interval


async def test_heartbeat_answers_server_time_and_notes_last_seen(harness: Harness) -> None:
    async with harness.charge_point() as cp:
        await cp.boot()
        before = datetime.now(UTC) - timedelta(seconds=1)
        answer = await cp.heartbeat()
    current = datetime.fromisoformat(answer["currentTime"].replace("Z", "+00:00"))
    assert abs(current - datetime.now(UTC)) < timedelta(seconds=5)
    stored = await harness.store.get_charge_point("CP1")
    assert stored is not None and stored.last_seen_at is not None
    assert stored.last_seen_at >= before


async def test_status_notifications_keep_current_state_and_history(harness: Harness) -> None:
    # Newer by the charge point's clock than the boot reports (timestamped now): current.
    reported = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    async with harness.charge_point(connectors=2) as cp:
        await cp.boot_and_report()
        await cp.status_notification(
            1,
            "Faulted",
            "ConnectorLockFailure",
            info="lock stuck",
            vendor_id="ACME",
            vendor_error_code="E42",
            timestamp=iso(reported),
        )
    connectors = await harness.store.list_connectors("CP1")
    assert [(c.connector_id, c.status) for c in connectors] == [
        (0, "Available"),
        (1, "Faulted"),
        (2, "Available"),
    ]
    faulted = connectors[1]
    assert (faulted.error_code, faulted.info, faulted.vendor_id, faulted.vendor_error_code) == (
        "ConnectorLockFailure",
        "lock stuck",
        "ACME",
        "E42",
    )
    assert faulted.timestamp == reported
    history = await harness.store.status_history("CP1", 1)
    assert [h.status for h in history] == ["Faulted", "Available"]


@pytest.mark.parametrize(
    ("id_tag", "status"),
    [
        ("GOOD", "Accepted"),
        ("good", "Accepted"),  # CiString20: case-insensitive
        ("BLOCKED", "Blocked"),
        ("OLD", "Expired"),
        ("GONE", "Expired"),
        ("UNKNOWN", "Invalid"),
    ],
)
async def test_authorize(harness: Harness, id_tag: str, status: str) -> None:
    await add_tags(harness)
    async with harness.charge_point() as cp:
        await cp.boot()
        info = (await cp.authorize(id_tag))["idTagInfo"]
    assert info["status"] == status
    if id_tag.upper() == "GOOD":
        assert info["parentIdTag"] == "FLEET"
        assert "expiryDate" in info


async def test_start_and_stop_transaction_are_stored(harness: Harness) -> None:
    await add_tags(harness)
    async with harness.charge_point() as cp:
        await cp.boot()
        start = await cp.start_transaction(
            1, "GOOD", meter_start=100, timestamp=iso(T0), reservation_id=7
        )
        transaction_id = start["transactionId"]
        assert start["idTagInfo"]["status"] == "Accepted" and transaction_id > 0
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=150)
        stop = await cp.stop_transaction(
            transaction_id,
            400,
            reason="EVDisconnected",
            id_tag="GOOD",
            timestamp=iso(T0 + timedelta(hours=1)),
            transaction_data=[
                {
                    "timestamp": iso(T0 + timedelta(hours=1)),
                    "sampledValue": [{"value": "400", "context": "Transaction.End"}],
                }
            ],
        )
        assert stop["idTagInfo"]["status"] == "Accepted"
    transaction = await harness.store.get_transaction(transaction_id)
    assert transaction is not None
    assert (transaction.charge_point_id, transaction.connector_id, transaction.id_tag) == (
        "CP1",
        1,
        "GOOD",
    )
    assert (transaction.meter_start, transaction.meter_stop) == (100, 400)
    assert transaction.start_time == T0 and transaction.stop_time == T0 + timedelta(hours=1)
    assert (transaction.stop_reason, transaction.stop_id_tag, transaction.reservation_id) == (
        "EVDisconnected",
        "GOOD",
        7,
    )
    samples = await harness.store.meter_values(transaction_id)
    assert samples[-1].value == "400" and samples[-1].context == "Transaction.End"
    assert samples[0].measurand == "Energy.Active.Import.Register"


async def test_replayed_start_gets_the_same_transaction(harness: Harness) -> None:
    await add_tags(harness)
    async with harness.charge_point() as cp:
        await cp.boot()
        first = await cp.start_transaction(1, "GOOD", meter_start=5, timestamp=iso(T0))
        again = await cp.start_transaction(1, "GOOD", meter_start=5, timestamp=iso(T0))
    assert again == first
    assert len(await harness.store.list_transactions(charge_point_id="CP1")) == 1


async def test_concurrent_tx_and_invalid_tags_still_get_a_transaction(harness: Harness) -> None:
    await add_tags(harness)
    async with harness.charge_point("A") as a, harness.charge_point("B") as b:
        await a.boot()
        await b.boot()
        first = await a.start_transaction(1, "GOOD")
        second = await b.start_transaction(1, "GOOD")
        invalid = await b.start_transaction(2, "NOBODY")
    assert first["idTagInfo"]["status"] == "Accepted"
    assert second["idTagInfo"]["status"] == "ConcurrentTx"
    assert invalid["idTagInfo"]["status"] == "Invalid"
    ids = {first["transactionId"], second["transactionId"], invalid["transactionId"]}
    assert len(ids) == 3 and min(ids) > 0


@pytest.mark.parametrize("transaction_id", [-1, 999999])
async def test_stop_of_unknown_transaction_is_answered(
    harness: Harness, transaction_id: int
) -> None:
    async with harness.charge_point() as cp:
        await cp.boot()
        answer = await cp.stop_transaction(transaction_id, 10, id_tag="UNKNOWN")
    assert answer == {"idTagInfo": {"status": "Invalid"}}


async def test_double_stop_is_answered_and_keeps_the_first(harness: Harness) -> None:
    await add_tags(harness)
    async with harness.charge_point() as cp:
        await cp.boot()
        transaction_id = (await cp.start_transaction(1, "OTHER"))["transactionId"]
        assert await cp.stop_transaction(transaction_id, 10, reason="Local") == {}
        assert await cp.stop_transaction(transaction_id, 20, reason="Remote") == {}
    transaction = await harness.store.get_transaction(transaction_id)
    assert transaction is not None
    assert (transaction.meter_stop, transaction.stop_reason) == (10, "Local")


async def test_meter_values_are_stored_with_every_field(harness: Harness) -> None:
    sampled = [
        {
            "value": "1.5",
            "measurand": "Energy.Active.Import.Register",
            "unit": "kWh",
            "context": "Sample.Clock",
            "location": "Outlet",
            "format": "Raw",
        },
        {"value": "230.1", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
        {"value": "21.5", "measurand": "Temperature", "unit": "Celcius", "location": "Body"},
        {"value": "12"},
    ]
    async with harness.charge_point() as cp:
        await cp.boot()
        # Connector 0 (main meter) and an unknown transaction: answered all the same.
        assert await cp.meter_values(0, timestamp=iso(T0), sampled_values=sampled) == {}
        assert await cp.meter_values(1, transaction_id=4242, sampled_values=sampled[:1]) == {}
    # Kept as sent, also for a transaction the CSMS does not know.
    (orphan,) = await harness.store.meter_values(4242)
    assert (orphan.connector_id, orphan.value, orphan.unit) == (1, "1.5", "kWh")
    main_meter = await harness.store.meter_values_of("CP1", connector_id=0)
    assert [
        (s.value, s.measurand, s.phase, s.unit, s.context, s.location, s.format, s.timestamp)
        for s in main_meter
    ] == [
        ("1.5", "Energy.Active.Import.Register", None, "kWh", "Sample.Clock", "Outlet", "Raw", T0),
        ("230.1", "Voltage", "L1-N", "V", None, None, None, T0),
        ("21.5", "Temperature", None, "Celcius", None, "Body", None, T0),
        ("12", None, None, None, None, None, None, T0),
    ]


async def test_data_transfer_vendor_registry(harness: Harness) -> None:
    async def echo(data: str, message_id: str | None) -> tuple[str, str | None]:
        return "Accepted", data.upper()

    harness.app.services.data_transfer["com.example"] = {"echo": echo}
    async with harness.charge_point() as cp:
        await cp.boot()
        assert await cp.data_transfer("com.example", "echo", "hi") == {
            "status": "Accepted",
            "data": "HI",
        }
        assert await cp.data_transfer("com.example", "other") == {"status": "UnknownMessageId"}
        # TC_064: a vendor we do not know, no data in the answer.
        assert await cp.data_transfer("org.nobody") == {"status": "UnknownVendorId"}


async def test_firmware_and_diagnostics_notifications_are_recorded(harness: Harness) -> None:
    async with harness.charge_point() as cp:
        await cp.boot()
        assert await cp.firmware_status("Downloading") == {}
        assert await cp.diagnostics_status("Uploaded") == {}
    notifications = await harness.store.list_notifications("CP1")
    assert [(n.kind, n.status) for n in notifications] == [
        ("firmware", "Downloading"),
        ("diagnostics", "Uploaded"),
    ]


async def test_simulated_session_from_boot_to_stop(harness: Harness) -> None:
    await add_tags(harness)
    cp: SimulatedChargePoint
    async with harness.charge_point("FULL", connectors=1) as cp:
        await cp.boot_and_report()
        assert (await cp.authorize("OTHER"))["idTagInfo"]["status"] == "Accepted"
        await cp.status_notification(1, "Preparing")
        transaction_id = (await cp.start_transaction(1, "OTHER"))["transactionId"]
        await cp.status_notification(1, "Charging")
        for energy in (100, 200, 300):
            await cp.meter_values(1, transaction_id=transaction_id, energy_wh=energy)
        await cp.stop_transaction(transaction_id, 300, reason="Local")
        await cp.status_notification(1, "Finishing")
        await cp.status_notification(1, "Available")
    listed = (await harness.api.get("/transactions", params={"charge_point_id": "FULL"})).json()
    assert [t["id"] for t in listed] == [transaction_id]
    assert listed[0]["active"] is False
