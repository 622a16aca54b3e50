"""Core profile, charge-point-initiated messages (spec 4.1-4.10): each answered schema-valid
after what it reports is stored."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from csms.features import alerts, live, outbox
from csms.features.authorization import authorize, tag_info
from csms.features.charger_profiles import heartbeat_interval_at_boot
from csms.features.clocks import clock_suspect
from csms.features.context import Context, Handler
from csms.features.core.commands import after_accepted_boot, scheduled_availability_reported
from csms.features.core.transaction_energy import (
    energy_of,
    refresh_ended,
    refresh_energy_of,
)
from csms.features.local_list.sync import status_reported
from csms.features.reservation import reservations as reservation
from csms.features.smart_charging.commands import (
    transaction_profiles_ended,
    transaction_profiles_started,
)
from csms.ocpp16 import (
    Action,
    AuthorizationStatus,
    AuthorizeRequest,
    AuthorizeResponse,
    BootNotificationRequest,
    BootNotificationResponse,
    DataTransferRequest,
    DataTransferResponse,
    DataTransferStatus,
    HeartbeatRequest,
    HeartbeatResponse,
    MeterValue,
    MeterValuesRequest,
    MeterValuesResponse,
    RegistrationStatus,
    StartTransactionRequest,
    StartTransactionResponse,
    StatusNotificationRequest,
    StatusNotificationResponse,
    StopTransactionRequest,
    StopTransactionResponse,
)
from csms.ocppj import CallRefused, ErrorCode
from csms.storage import (
    BootInfo,
    ConnectorStatus,
    DataTransferRecord,
    MeterSample,
    Transaction,
    TransactionStart,
    TransactionStop,
)

log = logging.getLogger("csms.features.core")


async def boot_notification(
    ctx: Context, request: BootNotificationRequest
) -> BootNotificationResponse:
    """Spec 4.2: the registration status set for this charge point decides the answer; the
    interval is the heartbeat interval when Accepted, else the wait before the next boot."""
    now = ctx.now()
    boot = BootInfo(
        charge_point_vendor=request.charge_point_vendor,
        charge_point_model=request.charge_point_model,
        charge_point_serial_number=request.charge_point_serial_number,
        charge_box_serial_number=request.charge_box_serial_number,
        firmware_version=request.firmware_version,
        iccid=request.iccid,
        imsi=request.imsi,
        meter_type=request.meter_type,
        meter_serial_number=request.meter_serial_number,
    )
    charge_point = await ctx.store.get_charge_point(ctx.charge_point_id)
    status = RegistrationStatus(
        charge_point.registration_status if charge_point else RegistrationStatus.ACCEPTED
    )
    await ctx.store.record_boot(ctx.charge_point_id, boot, now, outbox.booted(ctx, request, status))
    ctx.connection.accepted = status == RegistrationStatus.ACCEPTED
    ctx.connection.registration = status
    if ctx.connection.accepted:
        after_accepted_boot(ctx)
    interval = (
        await heartbeat_interval(ctx, request)
        if status == RegistrationStatus.ACCEPTED
        else ctx.services.settings.boot_retry_interval
    )
    live.booted(ctx, request, status)
    await alerts.booted(ctx.services, ctx.charge_point_id)
    return BootNotificationResponse(status=status, current_time=now, interval=interval)


async def heartbeat_interval(ctx: Context, boot: BootNotificationRequest) -> int:
    """The operator's HeartbeatInterval for this charge point, else its charger profiles',
    else the server's (features/charger_profiles.py, heartbeat_interval_at_boot)."""
    interval, _ = await heartbeat_interval_at_boot(
        ctx.services,
        ctx.charge_point_id,
        vendor=boot.charge_point_vendor,
        model=boot.charge_point_model,
        firmware_version=boot.firmware_version,
    )
    return interval


async def heartbeat(ctx: Context, request: HeartbeatRequest) -> HeartbeatResponse:
    """Spec 4.6. The router notes every message as a sign of life, heartbeats included."""
    return HeartbeatResponse(current_time=ctx.now())


async def status_notification(
    ctx: Context, request: StatusNotificationRequest
) -> StatusNotificationResponse:
    """Spec 4.9: any connector, any status, at any time (also before the StartTransaction it
    belongs to, OCTT 2.3); a missing timestamp is the receipt time. Kept in the history; the
    connector's current state only if no newer report by the charge point's clock is known (a
    queued report flushed late, docs/field-behaviour.md)."""
    now = ctx.now()
    timestamp = request.timestamp or now
    await ctx.store.record_status(
        ConnectorStatus(
            charge_point_id=ctx.charge_point_id,
            connector_id=request.connector_id,
            status=request.status,
            error_code=request.error_code,
            info=request.info,
            vendor_id=request.vendor_id,
            vendor_error_code=request.vendor_error_code,
            timestamp=timestamp,
            received_at=now,
            clock_suspect=clock_suspect(timestamp, now),
        ),
        outbox.status(ctx, request, timestamp),
    )
    status_reported(ctx, request.error_code)  # spec 3.5.2: LocalListConflict
    await scheduled_availability_reported(ctx, request.connector_id, request.status, timestamp)
    live.status(ctx, request, timestamp)
    await alerts.status_reported(
        ctx.services, ctx.charge_point_id, request.connector_id, request.status, request.error_code
    )
    return StatusNotificationResponse()


async def authorize_(ctx: Context, request: AuthorizeRequest) -> AuthorizeResponse:
    """Spec 4.1: unknown tags are Invalid (a business answer, never a CALLERROR)."""
    return AuthorizeResponse(id_tag_info=await authorize(ctx.store, request.id_tag, ctx.now()))


async def start_transaction(
    ctx: Context, request: StartTransactionRequest
) -> StartTransactionResponse:
    """Spec 4.8: always a transactionId, whatever the idTag's status (TC_037_3); the tag is
    checked again because the charge point may have authorized it offline or from its cache
    (TC_007). A replay of an identical start after a lost answer gets the same transaction.
    ConcurrentTx and one transaction per connector: docs/field-behaviour.md, "Transactions"."""
    store = ctx.store
    received_at = ctx.now()
    tag = await store.get_id_tag(request.id_tag)
    info = tag_info(tag, received_at)
    if (
        info.status == AuthorizationStatus.ACCEPTED
        and tag is not None
        and tag.max_active_transactions is not None
        and _at_limit(
            tag.max_active_transactions,
            request,
            ctx.charge_point_id,
            await store.active_transactions_for_tag(request.id_tag),
        )
    ):
        info = dataclasses.replace(info, status=AuthorizationStatus.CONCURRENT_TX)
    # Open on this connector before: ended by the CSMS if this start supersedes them.
    running = await store.open_transactions_on(ctx.charge_point_id, request.connector_id)
    transaction = await store.start_transaction(
        TransactionStart(
            charge_point_id=ctx.charge_point_id,
            connector_id=request.connector_id,
            id_tag=request.id_tag,
            meter_start=request.meter_start,
            timestamp=request.timestamp,
            reservation_id=request.reservation_id,
            id_tag_status=info.status,
            received_at=received_at,
            clock_suspect=clock_suspect(request.timestamp, received_at),
        ),
        outbox.started(ctx, received_at),
    )
    ctx.services.transaction_starts.started(transaction)
    if running:  # their energy, now that they are over (or this one, if it started before)
        await refresh_ended(store, [*running, transaction])
    live.transaction_started(ctx, transaction)
    await transaction_profiles_started(ctx, transaction)  # spec 5.16.2: remote start profile
    await reservation.transaction_started(ctx, transaction)  # spec 4.8: it may end a reservation
    if transaction.id_tag_status != info.status:  # a replay: answer as the first time
        info = dataclasses.replace(info, status=AuthorizationStatus(transaction.id_tag_status))
    return StartTransactionResponse(transaction_id=transaction.id, id_tag_info=info)


def _at_limit(
    limit: int,
    request: StartTransactionRequest,
    charge_point_id: str,
    active: Iterable[Transaction],
) -> bool:
    """Whether the tag's active transactions on other connectors number its limit already. The
    one on this connector does not count: this start either ends it (one transaction at a time
    per connector, its StopTransaction lost or late) or is a replay of it."""
    here = (charge_point_id, request.connector_id)
    return sum((t.charge_point_id, t.connector_id) != here for t in active) >= limit


async def stop_transaction(
    ctx: Context, request: StopTransactionRequest
) -> StopTransactionResponse:
    """Spec 4.10, errata 3.18: always answered, also for an unknown or stopped transaction and
    for transactionId -1 (a CALLERROR would block the charge point's transaction queue). A
    transaction the CSMS ended takes the charge point's values (docs/field-behaviour.md)."""
    store = ctx.store
    received_at = ctx.now()
    # One commit: the stop, its transactionData and the energy from all register samples
    # (spec 4.10: also for a late or replayed stop), so that transaction.stopped carries it.
    transaction = await store.stop_transaction(
        TransactionStop(
            charge_point_id=ctx.charge_point_id,
            transaction_id=request.transaction_id,
            meter_stop=request.meter_stop,
            timestamp=request.timestamp,
            reason=request.reason,
            id_tag=request.id_tag,
            received_at=received_at,
            clock_suspect=clock_suspect(request.timestamp, received_at),
            transaction_data=tuple(
                _samples(
                    ctx.charge_point_id,
                    0,  # filed under the transaction's connector by the store
                    request.transaction_id,
                    request.transaction_data or (),
                    received_at=received_at,
                )
            ),
        ),
        outbox.stopped(ctx, received_at),
        energy_of,
    )
    if transaction is None:
        log.warning(
            "%s: StopTransaction for unknown transaction %s",
            ctx.charge_point_id,
            request.transaction_id,
        )
    elif transaction.ended_by != "csms":  # superseded: its connector runs another one now
        await transaction_profiles_ended(ctx, transaction)  # spec 7.10: its TxProfiles end too
    energy = None if transaction is None else transaction.energy_wh
    live.transaction_stopped(ctx, request, transaction, energy)
    if request.id_tag is None:
        return StopTransactionResponse()
    return StopTransactionResponse(id_tag_info=await authorize(store, request.id_tag, ctx.now()))


async def meter_values(ctx: Context, request: MeterValuesRequest) -> MeterValuesResponse:
    """Spec 4.7: every sampled value stored as sent, once (a replay after a lost answer is not
    stored again); always answered (a CALLERROR would make the charge point retry), also for
    connector 0 and for unknown transactions."""
    # Kept with the transactionId as sent, known or not (no read on this hot path).
    transaction_id = request.transaction_id
    await ctx.store.add_meter_values(
        _samples(
            ctx.charge_point_id,
            request.connector_id,
            transaction_id,
            request.meter_value,
            received_at=ctx.now(),
        ),
        outbox.meter(ctx, request),
    )
    if transaction_id is not None:
        # Late samples of a transaction over already: its energy again. Whether it is open is
        # known from memory; only a late one costs a read.
        running = await ctx.store.open_transactions_on(ctx.charge_point_id, request.connector_id)
        if all(t.id != transaction_id for t in running):
            await refresh_energy_of(ctx.store, transaction_id, ctx.charge_point_id)
    live.meter_values(ctx, request)
    return MeterValuesResponse()


def _samples(
    charge_point_id: str,
    connector_id: int,
    transaction_id: int | None,
    meter_values: Sequence[MeterValue],
    *,
    received_at: datetime | None = None,
) -> list[MeterSample]:
    """The sampled values, with the receipt time (if given) and their clocks judged by it."""
    return [
        MeterSample(
            charge_point_id=charge_point_id,
            connector_id=connector_id,
            transaction_id=transaction_id,
            timestamp=meter_value.timestamp,
            value=sample.value,
            measurand=sample.measurand,
            phase=sample.phase,
            unit=sample.unit,
            context=sample.context,
            location=sample.location,
            format=sample.format,
            received_at=received_at,
            clock_suspect=received_at is not None
            and clock_suspect(meter_value.timestamp, received_at),
        )
        for meter_value in meter_values
        for sample in meter_value.sampled_value
    ]


async def data_transfer(ctx: Context, request: DataTransferRequest) -> DataTransferResponse:
    """Spec 4.3: a registered vendor handler answers; otherwise UnknownVendorId (no data) or,
    for a known vendor, UnknownMessageId (TC_064). Data over data_transfer_max_bytes (UTF-8) is
    refused with PropertyConstraintViolation: the schema puts no bound on it, the store does
    (docs/field-behaviour.md, "Input limits and ids")."""
    limit = ctx.services.settings.data_transfer_max_bytes
    if request.data is not None and len(request.data) > limit // 4:
        size = len(request.data.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise CallRefused(
                ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
                f"data: {size} bytes, more than the {limit} this CSMS keeps",
            )
    handlers = ctx.services.data_transfer.get(request.vendor_id)
    data: str | None = None
    if handlers is None:
        status = DataTransferStatus.UNKNOWN_VENDOR_ID
    else:
        handler = handlers.get(request.message_id) or handlers.get(None)
        if handler is None:
            status = DataTransferStatus.UNKNOWN_MESSAGE_ID
        else:
            raw_status, data = await handler(request.data or "", request.message_id)
            status = DataTransferStatus(raw_status)
    await ctx.store.record_data_transfer(
        DataTransferRecord(
            charge_point_id=ctx.charge_point_id,
            vendor_id=request.vendor_id,
            message_id=request.message_id,
            data=request.data,
            status=status,
            received_at=ctx.now(),
        )
    )
    return DataTransferResponse(status=status, data=data)


ROUTES: dict[str, Handler] = {
    Action.AUTHORIZE: authorize_,
    Action.BOOT_NOTIFICATION: boot_notification,
    Action.DATA_TRANSFER: data_transfer,
    Action.HEARTBEAT: heartbeat,
    Action.METER_VALUES: meter_values,
    Action.START_TRANSACTION: start_transaction,
    Action.STATUS_NOTIFICATION: status_notification,
    Action.STOP_TRANSACTION: stop_transaction,
}
