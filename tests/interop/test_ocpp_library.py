"""A charge point we did not write: the PyPI `ocpp` library's ChargePoint (which validates every
answer against the official schemas) runs a whole Core session against the real server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ocpp.v16 import ChargePoint as LibraryChargePoint
from ocpp.v16 import call
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


async def test_library_charge_point_runs_a_full_core_session(harness: Harness) -> None:
    await harness.api.put("/id-tags/LIBTAG", json={"status": "Accepted"})
    async with connect(f"{harness.url}/LIB1", subprotocols=["ocpp1.6"]) as websocket:  # type: ignore[list-item]
        cp = LibraryChargePoint("LIB1", websocket)
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
