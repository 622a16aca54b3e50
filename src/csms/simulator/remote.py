"""A simulated charge point on the wall (`--stay`): it stays online and acts on the CSMS's
remote commands like a charger would. An accepted RemoteStartTransaction (spec 5.11) starts a
transaction on its connector (StatusNotification Preparing, StartTransaction, Charging, then
MeterValues every MeterValueSampleInterval seconds); an accepted RemoteStopTransaction (spec
5.12) ends it (StopTransaction reason Remote, Finishing, Available)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from csms.ocppj import Call, CallError, CallResult
from csms.simulator.charge_point import SimulatedChargePoint

# MeterValues interval when the charge point's MeterValueSampleInterval is 0 or unset.
DEFAULT_METER_INTERVAL = 60.0


async def stay(cp: SimulatedChargePoint, seconds: float) -> None:
    """Answer the CSMS for `seconds`, charging on remote start until remote stop; a charge
    still running at the end is stopped (reason Local)."""
    commands: asyncio.Queue[Call] = asyncio.Queue()

    def answered(call: Call, response: CallResult | CallError) -> None:
        if (
            call.action in ("RemoteStartTransaction", "RemoteStopTransaction")
            and isinstance(response, CallResult)
            and response.payload.get("status") == "Accepted"
        ):
            commands.put_nowait(call)

    cp.on_answered = answered
    deadline = time.monotonic() + seconds
    charging: dict[int, asyncio.Task[None]] = {}  # transactionId -> its MeterValues loop
    meters: dict[int, int] = {}  # transactionId -> Wh so far
    try:
        while (left := deadline - time.monotonic()) > 0:
            try:
                call = await asyncio.wait_for(commands.get(), left)
            except TimeoutError:
                break
            if call.action == "RemoteStartTransaction":
                transaction_id = await _start(cp, call.payload)
                if transaction_id is not None:
                    charging[transaction_id] = asyncio.create_task(
                        _meter(cp, transaction_id, meters)
                    )
            elif (task := charging.pop(call.payload["transactionId"], None)) is not None:
                await _stop(cp, call.payload["transactionId"], task, meters, "Remote")
    finally:
        cp.on_answered = None
        for transaction_id, task in list(charging.items()):
            await _stop(cp, transaction_id, task, meters, "Local")


async def _start(cp: SimulatedChargePoint, request: dict[str, object]) -> int | None:
    connector_id = request.get("connectorId")
    if not isinstance(connector_id, int):
        busy = {t.connector_id for t in cp.transactions.values()}
        free = [c for c in range(1, cp.connectors + 1) if c not in busy]
        if not free:
            return None
        connector_id = free[0]
    id_tag = str(request["idTag"])
    await cp.status_notification(connector_id, "Preparing")
    started = await cp.start_transaction(connector_id, id_tag, meter_start=0)
    if started.get("idTagInfo", {}).get("status") != "Accepted":
        await cp.stop_transaction(started["transactionId"], 0, reason="DeAuthorized", id_tag=id_tag)
        await cp.status_notification(connector_id, "Available")
        return None
    await cp.status_notification(connector_id, "Charging")
    transaction_id: int = started["transactionId"]
    return transaction_id


async def _meter(cp: SimulatedChargePoint, transaction_id: int, meters: dict[int, int]) -> None:
    """MeterValues of a running transaction, 1 kWh an hour more each interval (11 kW)."""
    value, _ = cp.configuration.get("MeterValueSampleInterval", ("0", False))
    interval = float(value) if value.isdigit() and int(value) > 0 else DEFAULT_METER_INTERVAL
    transaction = cp.transactions[transaction_id]
    while True:
        await asyncio.sleep(interval)
        meters[transaction_id] = meters.get(transaction_id, 0) + round(11_000 * interval / 3600)
        await cp.meter_values(
            transaction.connector_id,
            transaction_id=transaction_id,
            energy_wh=meters[transaction_id],
        )


async def _stop(
    cp: SimulatedChargePoint,
    transaction_id: int,
    task: asyncio.Task[None],
    meters: dict[int, int],
    reason: str,
) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    transaction = cp.transactions.get(transaction_id)
    if transaction is None:
        return
    await cp.stop_transaction(transaction_id, meters.pop(transaction_id, 0), reason=reason)
    await cp.status_notification(transaction.connector_id, "Finishing")
    await cp.status_notification(transaction.connector_id, "Available")
