"""A charge point we did not write: the PyPI `ocpp` library's ChargePoint (which validates every
answer against the official schemas) runs a whole Core session against the real server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as LibraryChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    DataTransferStatus,
    RegistrationStatus,
)
from tests.harness import Harness
from websockets.asyncio.client import connect


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Charger(LibraryChargePoint):  # type: ignore[misc]
    """The library's ChargePoint with answers to every Core command (spec 5), each noted."""

    received: list[tuple[str, dict[str, Any]]]

    def note(self, action: str, **fields: Any) -> None:
        self.received.append((action, fields))

    @on("Reset")
    def on_reset(self, type: str) -> call_result.Reset:
        self.note("Reset", type=type)
        return call_result.Reset(status="Accepted")

    @on("ChangeConfiguration")
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        self.note("ChangeConfiguration", key=key, value=value)
        return call_result.ChangeConfiguration(
            status="Accepted" if key == "MeterValueSampleInterval" else "NotSupported"
        )

    @on("GetConfiguration")
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        self.note("GetConfiguration", key=key)
        known = {"HeartbeatInterval": "300", "MeterValueSampleInterval": "60"}
        asked = key or list(known)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": False, "value": known[k]} for k in asked if k in known
            ],
            unknown_key=[k for k in asked if k not in known] or None,
        )

    @on("ChangeAvailability")
    def on_change_availability(
        self, connector_id: int, type: str
    ) -> call_result.ChangeAvailability:
        self.note("ChangeAvailability", connector_id=connector_id, type=type)
        return call_result.ChangeAvailability(status="Accepted")

    @on("ClearCache")
    def on_clear_cache(self) -> call_result.ClearCache:
        self.note("ClearCache")
        return call_result.ClearCache(status="Accepted")

    @on("RemoteStartTransaction")
    def on_remote_start(self, id_tag: str, **extra: Any) -> call_result.RemoteStartTransaction:
        self.note("RemoteStartTransaction", id_tag=id_tag, **extra)
        return call_result.RemoteStartTransaction(status="Accepted")

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        self.note("RemoteStopTransaction", transaction_id=transaction_id)
        return call_result.RemoteStopTransaction(status="Accepted")

    @on("UnlockConnector")
    def on_unlock(self, connector_id: int) -> call_result.UnlockConnector:
        self.note("UnlockConnector", connector_id=connector_id)
        return call_result.UnlockConnector(status="Unlocked")

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id: str, **extra: Any) -> call_result.DataTransfer:
        self.note("DataTransfer", vendor_id=vendor_id, **extra)
        return call_result.DataTransfer(status="UnknownVendorId")


CORE_COMMANDS: list[tuple[str, dict[str, Any], dict[str, Any], tuple[str, dict[str, Any]]]] = [
    ("Reset", {"type": "Soft"}, {"status": "Accepted"}, ("Reset", {"type": "Soft"})),
    (
        "ChangeConfiguration",
        {"key": "MeterValueSampleInterval", "value": "30"},
        {"status": "Accepted"},
        ("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"}),
    ),
    (
        "GetConfiguration",
        {"key": ["HeartbeatInterval", "Nope"]},
        {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
            "unknownKey": ["Nope"],
        },
        ("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}),
    ),
    (
        "ChangeAvailability",
        {"connectorId": 1, "type": "Inoperative"},
        {"status": "Accepted"},
        ("ChangeAvailability", {"connector_id": 1, "type": "Inoperative"}),
    ),
    ("ClearCache", {}, {"status": "Accepted"}, ("ClearCache", {})),
    (
        "RemoteStartTransaction",
        {"idTag": "LIBTAG", "connectorId": 1},
        {"status": "Accepted"},
        ("RemoteStartTransaction", {"id_tag": "LIBTAG", "connector_id": 1}),
    ),
    (
        "RemoteStopTransaction",
        {"transactionId": 42},
        {"status": "Accepted"},
        ("RemoteStopTransaction", {"transaction_id": 42}),
    ),
    (
        "UnlockConnector",
        {"connectorId": 2},
        {"status": "Unlocked"},
        ("UnlockConnector", {"connector_id": 2}),
    ),
    (
        "DataTransfer",
        {"vendorId": "com.example", "messageId": "hello"},
        {"status": "UnknownVendorId"},
        ("DataTransfer", {"vendor_id": "com.example", "message_id": "hello"}),
    ),
]


async def test_library_charge_point_runs_a_full_core_session(harness: Harness) -> None:
    await harness.api.put("/id-tags/LIBTAG", json={"status": "Accepted"})
    async with connect(f"{harness.url}/LIB1", subprotocols=["ocpp1.6"]) as websocket:  # type: ignore[list-item]
        cp = Charger("LIB1", websocket)
        cp.received = []
        listener = asyncio.create_task(cp.start())
        try:
            boot = await cp.call(
                call.BootNotification(
                    charge_point_model="Interop", charge_point_vendor="MobilityHouse"
                )
            )
            assert boot.status == RegistrationStatus.accepted
            assert isinstance(boot.interval, int)
            assert (await cp.call(call.Heartbeat())).current_time
            for connector in (0, 1):
                await cp.call(
                    call.StatusNotification(
                        connector_id=connector,
                        error_code=ChargePointErrorCode.no_error,
                        status=ChargePointStatus.available,
                    )
                )
            auth = await cp.call(call.Authorize(id_tag="LIBTAG"))
            assert auth.id_tag_info["status"] == AuthorizationStatus.accepted
            start = await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag="LIBTAG", meter_start=1000, timestamp=now()
                )
            )
            assert start.id_tag_info["status"] == AuthorizationStatus.accepted
            transaction_id = start.transaction_id
            assert transaction_id > 0
            await cp.call(
                call.StatusNotification(
                    connector_id=1,
                    error_code=ChargePointErrorCode.no_error,
                    status=ChargePointStatus.charging,
                )
            )
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=transaction_id,
                    meter_value=[
                        {
                            "timestamp": now(),
                            "sampledValue": [
                                {
                                    "value": "1500",
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                },
                                {
                                    "value": "16.1",
                                    "measurand": "Current.Import",
                                    "phase": "L1",
                                    "unit": "A",
                                },
                            ],
                        }
                    ],
                )
            )
            stop = await cp.call(
                call.StopTransaction(
                    meter_stop=2500,
                    timestamp=now(),
                    transaction_id=transaction_id,
                    reason="Local",
                    id_tag="LIBTAG",
                )
            )
            assert stop.id_tag_info["status"] == AuthorizationStatus.accepted
            transfer = await cp.call(call.DataTransfer(vendor_id="com.unknown.vendor"))
            assert transfer.status == DataTransferStatus.unknown_vendor_id

            # Every Core command through the API, answered by the library's handlers.
            for action, payload, answer, _ in CORE_COMMANDS:
                response = await harness.api.post(
                    f"/charge-points/LIB1/commands/{action}", json=payload
                )
                assert response.status_code == 200, (action, response.text)
                assert response.json() == answer, action
            assert cp.received == [received for _, _, _, received in CORE_COMMANDS]
        finally:
            listener.cancel()

    response = await harness.api.get(f"/transactions/{transaction_id}")
    assert response.status_code == 200
    transaction = response.json()
    assert transaction["chargePointId"] == "LIB1"
    assert transaction["idTag"] == "LIBTAG"
    assert transaction["meterStart"] == 1000 and transaction["meterStop"] == 2500
    assert transaction["stopReason"] == "Local"
    assert [(v["measurand"], v["value"]) for v in transaction["meterValues"]] == [
        ("Energy.Active.Import.Register", "1500"),
        ("Current.Import", "16.1"),
    ]
    charge_point = (await harness.api.get("/charge-points/LIB1")).json()
    assert charge_point["boot"]["chargePointVendor"] == "MobilityHouse"
    assert [c["status"] for c in charge_point["connectors"]] == ["Available", "Charging"]
