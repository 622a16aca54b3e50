"""What the feature handlers tell the live event bus (events.py, docs/live-events.md): one call
per handler, after what it reports is stored. Kinds: booted, status, transaction.started,
transaction.stopped, meter (throttled per transaction), command.sent, command.answered
(connected and disconnected come from the transport, message from message_log.py).

The same moments are counted in the metrics (metrics.py) and logged at INFO, one line each
(docs/operating.md, "Logs")."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from csms import logs
from csms.features.context import Context, Services
from csms.ocpp16 import (
    BootNotificationRequest,
    MeterValue,
    MeterValuesRequest,
    SampledValue,
    StatusNotificationRequest,
    StopTransactionRequest,
)
from csms.ocppj import CallError, CallResult
from csms.storage import Transaction

log = logging.getLogger("csms.activity")

# At most one meter event per transaction (or connector, outside one) this often (seconds).
METER_INTERVAL = 1.0


def booted(ctx: Context, request: BootNotificationRequest, status: str) -> None:
    log.info(
        "boot %s: %s %s firmware %s",
        status,
        request.charge_point_vendor,
        request.charge_point_model,
        request.firmware_version,
    )
    ctx.services.events.publish("booted", ctx.charge_point_id, boot_data(request, status))


def boot_data(request: BootNotificationRequest, status: str) -> dict[str, Any]:
    """The data of a booted event (live and in the outbox)."""
    return {
        "status": status,
        "vendor": request.charge_point_vendor,
        "model": request.charge_point_model,
        "firmwareVersion": request.firmware_version,
    }


def status(ctx: Context, request: StatusNotificationRequest, timestamp: datetime) -> None:
    ctx.services.events.publish("status", ctx.charge_point_id, status_data(request, timestamp))


def status_data(request: StatusNotificationRequest, timestamp: datetime) -> dict[str, Any]:
    """The data of a status event (live and in the outbox)."""
    return {
        "connectorId": request.connector_id,
        "status": request.status,
        "errorCode": request.error_code,
        "info": request.info,
        "vendorErrorCode": request.vendor_error_code,
        "timestamp": iso(timestamp),
    }


def transaction_started(ctx: Context, transaction: Transaction) -> None:
    log.info(
        "transaction %d started on connector %d, meterStart %d Wh",
        transaction.id,
        transaction.connector_id,
        transaction.meter_start,
    )
    ctx.services.events.publish(
        "transaction.started", ctx.charge_point_id, started_data(transaction)
    )


def started_data(transaction: Transaction) -> dict[str, Any]:
    """The data of a transaction.started event (live and in the outbox)."""
    return {
        "transactionId": transaction.id,
        "connectorId": transaction.connector_id,
        "idTag": transaction.id_tag,
        "idTagStatus": transaction.id_tag_status,
        "meterStart": transaction.meter_start,
        "timestamp": iso(transaction.start_time),
    }


def transaction_stopped(
    ctx: Context,
    request: StopTransactionRequest,
    transaction: Transaction | None,
    energy: int | None,
) -> None:
    """`energy`: the billable energy in Wh (features/core/energy.py), None for a transaction
    the CSMS does not know."""
    meter_start = transaction.meter_start if transaction else None
    ctx.services.metrics.transaction_stopped(energy)
    log.info("transaction %d stopped, %s Wh", request.transaction_id, energy)
    ctx.services.events.publish(
        "transaction.stopped",
        ctx.charge_point_id,
        {
            "transactionId": request.transaction_id,
            "connectorId": transaction.connector_id if transaction else None,
            "idTag": transaction.id_tag if transaction else request.id_tag,
            "meterStart": meter_start,
            "meterStop": request.meter_stop,
            "energyWh": energy,
            "reason": request.reason or "Local",
            "timestamp": iso(request.timestamp),
        },
    )


def meter_values(ctx: Context, request: MeterValuesRequest) -> None:
    """The latest power (W) and energy register (Wh), at most one event per METER_INTERVAL per
    transaction (the latest values of the interval)."""
    events = ctx.services.events
    if not events.wants("meter"):
        return
    power, energy = latest_power_energy(request.meter_value)
    if power is None and energy is None:
        return
    key = ("meter", ctx.charge_point_id, request.connector_id, request.transaction_id)
    data: dict[str, Any] = {
        "connectorId": request.connector_id,
        "transactionId": request.transaction_id,
        "powerW": power,
        "energyWh": energy,
        "timestamp": iso(max(m.timestamp for m in request.meter_value)),
    }
    events.publish_throttled(key, METER_INTERVAL, "meter", ctx.charge_point_id, data)


def command_sent(services: Services, charge_point_id: str, action: str) -> None:
    services.events.publish("command.sent", charge_point_id, {"action": action})


def command_answered(
    services: Services,
    charge_point_id: str,
    action: str,
    response: CallResult | CallError | None,
    failure: str | None = None,
) -> dict[str, Any]:
    """`response` None: no answer (`failure` says why: timeout, disconnected). The event's
    data (for the outbox too)."""
    data: dict[str, Any] = {"action": action}
    if isinstance(response, CallResult):
        data["status"] = response.payload.get("status")
        outcome = str(data["status"] or "CALLRESULT")
    elif isinstance(response, CallError):
        data["errorCode"] = outcome = str(response.error_code)
    else:
        data["failure"] = outcome = str(failure)
    services.metrics.command_answered(action, outcome)
    log.info(
        "command %s to %s by %s: %s",
        action,
        charge_point_id,
        logs.principal.get() or "the CSMS",
        outcome,
        extra={"charge_point_id": charge_point_id, "action": action},
    )
    services.events.publish("command.answered", charge_point_id, data)
    return data


def latest_power_energy(
    meter_values: Sequence[MeterValue],
) -> tuple[float | None, float | None]:
    """From the newest MeterValue that has them: Power.Active.Import (W; the total, else the sum
    of the phases) and Energy.Active.Import.Register (Wh, the default measurand; spec 7.43)."""
    power: float | None = None
    energy: float | None = None
    for meter_value in sorted(meter_values, key=lambda m: m.timestamp, reverse=True):
        total_power: Decimal | None = None
        phase_power: list[Decimal] = []
        for sample in meter_value.sampled_value:
            reading = _reading(sample)
            if reading is None:
                continue
            kind, value = reading
            if kind == "power":
                total_power = value
            elif kind == "phase-power":
                phase_power.append(value)
            elif energy is None:
                energy = float(value)
        if power is None and (total_power is not None or phase_power):
            power = float(total_power if total_power is not None else sum(phase_power))
        if power is not None and energy is not None:
            break
    return power, energy


_PHASES = frozenset(("L1", "L2", "L3", "L1-N", "L2-N", "L3-N"))


def _reading(sample: SampledValue) -> tuple[str, Decimal] | None:
    """("power", W), ("phase-power", W) or ("energy", Wh) of one outlet sample, else None."""
    if sample.format == "SignedData" or sample.location not in (None, "Outlet"):
        return None
    value = _number(sample.value)
    if value is None:
        return None
    measurand = sample.measurand or "Energy.Active.Import.Register"
    if measurand == "Power.Active.Import" and sample.unit in (None, "W", "kW"):
        watts = value * 1000 if sample.unit == "kW" else value
        if sample.phase is None:
            return "power", watts
        return ("phase-power", watts) if sample.phase in _PHASES else None
    if (
        measurand == "Energy.Active.Import.Register"
        and sample.phase is None
        and sample.unit in (None, "Wh", "kWh")
    ):
        return "energy", value * 1000 if sample.unit == "kWh" else value
    return None


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def iso(timestamp: datetime) -> str:
    """An aware datetime as ISO 8601 with a Z."""
    return timestamp.isoformat().replace("+00:00", "Z")
