"""What the CSMS reports in the durable outbox (docs/events-and-webhooks.md): each event is
handed to the store with the write of the change it reports and committed with it, in the same
group-commit batch (one more row in the batch's executemany, no commit of its own). Events that
report nothing else stored (connected, disconnected, command answered, approved) are a write of
their own.

The data of the events the live bus has too is the same (live.py builds it for both).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from csms.features import alerts, live
from csms.features.context import Context, Services
from csms.ocpp16 import (
    BootNotificationRequest,
    MeterValuesRequest,
    StatusNotificationRequest,
)
from csms.storage import ChargePoint, OutboxEvent, StoreError, Transaction

log = logging.getLogger("csms.outbox")

# Every kind of event in the outbox, and the names a webhook filter may use (a kind, or the part
# of one before its dot: "transaction" for both transaction events).
KINDS = frozenset(
    {
        "connected",
        "disconnected",
        "booted",
        "approved",
        "status",
        "transaction.started",
        "transaction.stopped",
        "meter",
        "command.answered",
        "firmware.finished",
        "diagnostics.finished",
        "alert.raised",
        "alert.cleared",
    }
)
TYPES = KINDS | {kind.partition(".")[0] for kind in KINDS}


def booted(ctx: Context, request: BootNotificationRequest, status: str) -> list[OutboxEvent]:
    return [OutboxEvent("booted", ctx.charge_point_id, ctx.now(), live.boot_data(request, status))]


def status(
    ctx: Context, request: StatusNotificationRequest, timestamp: datetime
) -> list[OutboxEvent]:
    data = live.status_data(request, timestamp)
    return [OutboxEvent("status", ctx.charge_point_id, ctx.now(), data)]


def started(ctx: Context, received_at: datetime) -> Callable[[Transaction], list[OutboxEvent]]:
    """transaction.started, unless the start was a replay (the transaction was started by an
    earlier StartTransaction, received at another time)."""

    def events(transaction: Transaction) -> list[OutboxEvent]:
        if transaction.start_received_at != received_at:
            return []
        data = live.started_data(transaction)
        return [OutboxEvent("transaction.started", ctx.charge_point_id, received_at, data)]

    return events


def stopped(
    ctx: Context, received_at: datetime
) -> Callable[[Transaction | None], list[OutboxEvent]]:
    """transaction.stopped with energy (Wh) and duration (s), for a transaction of this charge
    point that this StopTransaction stopped (not an unknown one, not a replay)."""

    def events(transaction: Transaction | None) -> list[OutboxEvent]:
        if transaction is None or transaction.stop_received_at != received_at:
            return []
        data = stopped_data(transaction)
        return [OutboxEvent("transaction.stopped", ctx.charge_point_id, received_at, data)]

    return events


def stopped_data(transaction: Transaction) -> dict[str, Any]:
    return {
        **live.started_data(transaction),
        "meterStop": transaction.meter_stop,
        "stopTimestamp": None if transaction.stop_time is None else live.iso(transaction.stop_time),
        "reason": transaction.stop_reason or "Local",
        "stopIdTag": transaction.stop_id_tag,
        "energyWh": energy_wh(transaction),
        "energyFlags": list(transaction.energy_flags),
        "durationS": duration_s(transaction),
    }


def energy_wh(transaction: Transaction) -> int:
    """The billable energy computed at the stop (features/core/energy.py: register resets and
    rollbacks handled, never negative); else meterStop - meterStart, never negative."""
    if transaction.energy_wh is not None:
        return transaction.energy_wh
    if transaction.meter_stop is None:
        return 0
    return max(0, transaction.meter_stop - transaction.meter_start)


def duration_s(transaction: Transaction) -> int:
    """Seconds from start to stop by the charge point's clock, never negative."""
    if transaction.stop_time is None:
        return 0
    return max(0, round((transaction.stop_time - transaction.start_time).total_seconds()))


def meter(ctx: Context, request: MeterValuesRequest) -> list[OutboxEvent]:
    """A meter event, only while some webhook subscription asked for meter events by name
    (they are opt-in: no row on the hottest path otherwise)."""
    if not ctx.services.meter_events_wanted:
        return []
    power, energy = live.latest_power_energy(request.meter_value)
    data = {
        "connectorId": request.connector_id,
        "transactionId": request.transaction_id,
        "powerW": power,
        "energyWh": energy,
        "samples": sum(len(value.sampled_value) for value in request.meter_value),
        "timestamp": live.iso(max(value.timestamp for value in request.meter_value)),
    }
    return [OutboxEvent("meter", ctx.charge_point_id, ctx.now(), data)]


def approved(
    existing: ChargePoint | None, status: str, at: datetime, charge_point_id: str
) -> list[OutboxEvent]:
    """approved: an operator set a charge point Accepted that was not (or registered it so)."""
    if status != "Accepted" or (existing is not None and existing.registration_status == status):
        return []
    before = None if existing is None else existing.registration_status
    return [OutboxEvent("approved", charge_point_id, at, {"previousStatus": before})]


async def record(services: Services, events: Sequence[OutboxEvent]) -> None:
    """Events of their own (no other change to commit them with). A store that is closing
    (shutdown) or failing loses them, logged: the caller's work is done either way."""
    try:
        await services.store.record_events(events)
    except (StoreError, ValueError) as exc:
        log.warning("could not record %s: %r", ", ".join(e.kind for e in events), exc)


async def command_answered(
    services: Services, charge_point_id: str, action: str, data: dict[str, Any]
) -> None:
    event = OutboxEvent("command.answered", charge_point_id, services.clock.now(), data)
    await record(services, [event])


def presence(services: Services) -> Callable[[str, bool, dict[str, Any]], Any]:
    """The transport's hook (transport/server.py): connected and disconnected events, and the
    offline alert cleared when a charge point connects."""

    async def told(charge_point_id: str, connected: bool, data: dict[str, Any]) -> None:
        kind = "connected" if connected else "disconnected"
        await record(services, [OutboxEvent(kind, charge_point_id, services.clock.now(), data)])
        if connected:
            await alerts.connected(services, charge_point_id)

    return told
