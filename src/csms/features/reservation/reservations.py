"""Reservation profile (spec 3.11, 5.13 ReserveNow, 5.1 CancelReservation): the CSMS keeps every
reservation it asks for, with its life: Requested, then the charge point's answer (Accepted,
Faulted, Occupied, Rejected, Unavailable) or Failed, then Used (spec 4.8), Cancelled or Expired.

- The answers are recorded by result hooks, so a ReserveNow or CancelReservation sent through
  the generic command endpoint is kept track of too.
- A StartTransaction ends the reservation it names (spec 4.8), or, when it names none, the
  Accepted reservation its idTag (or its group, spec 3.10) holds on that connector.
- An owned task (`expire_reservations`, run by app.py) marks reservations Expired at their
  expiryDate: the charge point ends them then by itself (spec 5.13) and reports the connector
  Available; the CSMS sends nothing for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from csms.features import commands
from csms.features.commands import Sent, on_result
from csms.features.context import Context, Services
from csms.ocpp16 import (
    Action,
    CancelReservationStatus,
    ReservationStatus,
    ReserveNowRequest,
    from_payload,
    to_payload,
)
from csms.ocppj import CallError, CallResult
from csms.storage import (
    ACTIVE_RESERVATION_STATES,
    Configuration,
    Reservation,
    ReservationConflictError,
    ReservationRequest,
    ReservationState,
    Store,
    StoreClosedError,
    Transaction,
)

log = logging.getLogger("csms.features.reservation")

# The expiry task looks again at least this often (another process may have added one).
_EXPIRY_RECHECK = 60.0
_EXPIRY_RETRY = 5.0
_MAX_RESERVATION_ID = 2**31 - 1

# Why the charge point did not make the reservation (spec 7.40), in the CSMS's words.
_REFUSALS: dict[str, str] = {
    ReservationStatus.FAULTED: "the connector (or every connector) is Faulted",
    ReservationStatus.OCCUPIED: "the connector (or every connector) is occupied or reserved",
    ReservationStatus.REJECTED: "the charge point does not take this reservation",
    ReservationStatus.UNAVAILABLE: "the connector (or every connector) is Unavailable",
}


class ReservationRefused(Exception):
    """The CSMS did not send the ReserveNow or CancelReservation; `reservation` is the record
    it kept of a reservation that ended there (state Failed), if any."""

    def __init__(self, message: str, reservation: Reservation | None = None) -> None:
        super().__init__(message)
        self.reservation = reservation


class UnknownReservation(LookupError):
    """No reservation with that reservationId."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the charge point answered (a CALLRESULT or CALLERROR) and the reservation now."""

    sent: Sent
    reservation: Reservation


async def reserve_now(
    services: Services,
    charge_point_id: str,
    *,
    connector_id: int,
    id_tag: str,
    parent_id_tag: str | None = None,
    expiry_date: datetime | None = None,
    reservation_id: int | None = None,
    connect_timeout: float = 0.0,
) -> Outcome:
    """Spec 5.13: store the reservation (Requested), send ReserveNow, record the answer.

    Connector 0 only where the CSMS's copy of the configuration says ReserveConnectorZeroSupported
    is true (spec 9.3.1), and the expiryDate (default: now + reservation_expiry_offset) must lie
    ahead: otherwise ReservationRefused and nothing is stored. A connector the configuration's
    NumberOfConnectors rules out is stored as Failed, unsent. If the command fails (offline, no
    answer) the reservation is Failed and the CommandFailed propagates."""
    store = services.store
    now = services.clock.now()
    configuration = await store.configuration_of(charge_point_id)
    zero_supported = _value(configuration, "ReserveConnectorZeroSupported")
    if connector_id == 0 and zero_supported != "true":
        raise ReservationRefused(
            "connector 0 may be reserved only where ReserveConnectorZeroSupported is true "
            f"(spec 5.13); the CSMS's copy of {charge_point_id}'s configuration has "
            f"{zero_supported!r} (GetConfiguration reads it)"
        )
    if expiry_date is None:
        expiry_date = now + timedelta(seconds=services.settings.reservation_expiry_offset)
    # The expiryDate as it goes on the wire (milliseconds), so the record matches the frame.
    expiry_date = expiry_date.replace(microsecond=expiry_date.microsecond // 1000 * 1000)
    if expiry_date <= now:
        raise ReservationRefused(f"expiryDate {expiry_date.isoformat()} is not in the future")
    try:
        reservation = await store.request_reservation(
            ReservationRequest(
                charge_point_id=charge_point_id,
                connector_id=connector_id,
                id_tag=id_tag,
                parent_id_tag=parent_id_tag,
                expiry_date=expiry_date,
                reservation_id=reservation_id,
                at=now,
            )
        )
    except ReservationConflictError as exc:
        raise ReservationRefused(str(exc)) from None
    connectors = _number_of_connectors(configuration)
    if connectors is not None and connector_id > connectors:
        failed = await _fail(
            store,
            reservation,
            f"connector {connector_id} does not exist: NumberOfConnectors is {connectors}",
            now,
        )
        raise ReservationRefused(failed.reason or "", failed)
    payload = to_payload(
        ReserveNowRequest(
            connector_id=connector_id,
            expiry_date=expiry_date,
            id_tag=id_tag,
            reservation_id=reservation.id,
            parent_id_tag=parent_id_tag,
        )
    )
    try:
        sent = await commands.send(
            services,
            charge_point_id,
            Action.RESERVE_NOW,
            payload,
            connect_timeout=connect_timeout,
        )
    except commands.CommandFailed as exc:
        await _fail(store, reservation, str(exc), services.clock.now())
        raise
    if isinstance(sent.response, CallError):
        error = sent.response
        reason = f"CALLERROR {error.error_code}: {error.error_description}".rstrip(": ")
        return Outcome(sent, await _fail(store, reservation, reason, services.clock.now()))
    recorded = sent.details.get("reservation")
    if not isinstance(recorded, Reservation):  # not recorded: should not happen
        recorded = await store.get_reservation(reservation.id) or reservation
    return Outcome(sent, recorded)


async def cancel_reservation(
    services: Services, reservation_id: int, *, connect_timeout: float = 0.0
) -> Outcome:
    """Spec 5.1: CancelReservation for a reservation still in force (Requested or Accepted).
    Accepted makes it Cancelled; Rejected (the charge point has no such reservation) changes
    nothing here."""
    store = services.store
    reservation = await store.get_reservation(reservation_id)
    if reservation is None:
        raise UnknownReservation(f"Unknown reservation {reservation_id}")
    if reservation.state not in ACTIVE_RESERVATION_STATES:
        raise ReservationRefused(
            f"reservation {reservation_id} is {reservation.state}: there is nothing to cancel"
        )
    sent = await commands.send(
        services,
        reservation.charge_point_id,
        Action.CANCEL_RESERVATION,
        {"reservationId": reservation_id},
        connect_timeout=connect_timeout,
    )
    recorded = sent.details.get("reservation")
    if not isinstance(recorded, Reservation):
        recorded = await store.get_reservation(reservation_id) or reservation
    return Outcome(sent, recorded)


@on_result(Action.RESERVE_NOW)
async def _reserve_now_answered(services: Services, sent: Sent) -> dict[str, Any] | None:
    """Record the reservation as the answer left it, also when it was not made."""
    assert isinstance(sent.response, CallResult)
    status = sent.response.payload["status"]
    request = from_payload(ReserveNowRequest, sent.request)
    if not 0 < request.reservation_id <= _MAX_RESERVATION_ID:
        log.warning(
            "%s: ReserveNow with reservationId %s not recorded",
            sent.charge_point_id,
            request.reservation_id,
        )
        return None
    now = services.clock.now()
    existing = await services.store.get_reservation(request.reservation_id)
    recorded = await services.store.record_reservation(
        Reservation(
            id=request.reservation_id,
            charge_point_id=sent.charge_point_id,
            connector_id=request.connector_id,
            id_tag=request.id_tag,
            parent_id_tag=request.parent_id_tag,
            expiry_date=request.expiry_date,
            state=status,
            reason=_REFUSALS.get(status),
            transaction_id=None,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
    )
    if recorded is None:
        log.warning(
            "%s: reservationId %s belongs to another charge point; answer %s not recorded",
            sent.charge_point_id,
            request.reservation_id,
            status,
        )
        return None
    if status == ReservationStatus.ACCEPTED:
        services.reservations_changed.set()
    return {"reservation": recorded}


@on_result(Action.CANCEL_RESERVATION)
async def _cancel_answered(services: Services, sent: Sent) -> dict[str, Any] | None:
    assert isinstance(sent.response, CallResult)
    reservation_id = sent.request["reservationId"]
    if sent.response.payload["status"] != CancelReservationStatus.ACCEPTED:
        return None
    # The charge point still had it: cancelled, also if the CSMS had just expired it.
    cancelled = await services.store.update_reservation(
        reservation_id,
        state=ReservationState.CANCELLED,
        at=services.clock.now(),
        from_states=ACTIVE_RESERVATION_STATES | {ReservationState.EXPIRED},
        charge_point_id=sent.charge_point_id,
    )
    return None if cancelled is None else {"reservation": cancelled}


async def transaction_started(ctx: Context, transaction: Transaction) -> Reservation | None:
    """Called by the StartTransaction handler once the transaction is stored (spec 4.8): the
    reservation it ends becomes Used. Returns that reservation, if any."""
    store = ctx.store
    if transaction.reservation_id is not None:
        reservation = await store.get_reservation(transaction.reservation_id)
        if reservation is None or reservation.charge_point_id != transaction.charge_point_id:
            log.warning(
                "%s: StartTransaction %s names unknown reservation %s",
                transaction.charge_point_id,
                transaction.id,
                transaction.reservation_id,
            )
            return None
        if reservation.transaction_id == transaction.id:  # a replayed StartTransaction
            return reservation
        if not await _holds(store, reservation, transaction):
            # The charge point decides who may use its reservation; the CSMS takes its word.
            log.warning(
                "%s: reservation %s (%s on connector %s) used by %s on connector %s",
                transaction.charge_point_id,
                reservation.id,
                reservation.id_tag,
                reservation.connector_id,
                transaction.id_tag,
                transaction.connector_id,
            )
        return await _use(store, reservation, transaction, ctx.now(), reason=None)
    # Lenient: a charge point that leaves the reservationId out still ended the reservation
    # that this idTag holds on this connector (spec 5.13).
    for reservation in await store.list_reservations(
        charge_point_id=transaction.charge_point_id, state=ReservationState.ACCEPTED
    ):
        if reservation.connector_id in (0, transaction.connector_id) and await _holds(
            store, reservation, transaction
        ):
            return await _use(
                store,
                reservation,
                transaction,
                ctx.now(),
                reason="StartTransaction without reservationId by the reserved idTag",
            )
    return None


async def expire_reservations(services: Services) -> None:
    """Run until cancelled (app.py owns it): mark Requested and Accepted reservations Expired
    at their expiryDate, sleeping until the next one (or until `reservations_changed`)."""
    store = services.store
    changed = services.reservations_changed
    while True:
        changed.clear()
        delay = _EXPIRY_RECHECK
        try:
            for reservation in await store.expire_reservations(services.clock.now()):
                log.info("%s: reservation %s expired", reservation.charge_point_id, reservation.id)
            next_expiry = await store.next_reservation_expiry()
            if next_expiry is not None:
                until = (next_expiry - services.clock.now()).total_seconds()
                delay = min(max(until, 0.0), _EXPIRY_RECHECK)
        except StoreClosedError:
            return
        except Exception:
            log.exception("reservation expiry failed; retrying")
            delay = _EXPIRY_RETRY
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), delay)


async def _holds(store: Store, reservation: Reservation, transaction: Transaction) -> bool:
    """Spec 5.13: the idTag or its parent idTag matches the reservation's idTag or parent."""
    reserved = {t.casefold() for t in (reservation.id_tag, reservation.parent_id_tag) if t}
    if transaction.id_tag.casefold() in reserved:
        return True
    if reservation.parent_id_tag is None:
        return False
    tag = await store.get_id_tag(transaction.id_tag)
    return bool(tag and tag.parent_id_tag and tag.parent_id_tag.casefold() in reserved)


async def _use(
    store: Store,
    reservation: Reservation,
    transaction: Transaction,
    now: datetime,
    *,
    reason: str | None,
) -> Reservation | None:
    # Also one the CSMS has just expired: the charge point's clock decides.
    used = await store.update_reservation(
        reservation.id,
        state=ReservationState.USED,
        at=now,
        reason=reason,
        transaction_id=transaction.id,
        from_states=ACTIVE_RESERVATION_STATES | {ReservationState.EXPIRED},
        charge_point_id=transaction.charge_point_id,
    )
    if used is None:
        log.warning(
            "%s: StartTransaction %s names reservation %s, which is %s",
            transaction.charge_point_id,
            transaction.id,
            reservation.id,
            reservation.state,
        )
    return used


async def _fail(store: Store, reservation: Reservation, reason: str, now: datetime) -> Reservation:
    failed = await store.update_reservation(
        reservation.id,
        state=ReservationState.FAILED,
        at=now,
        reason=reason,
        from_states={ReservationState.REQUESTED},
    )
    return failed or reservation


def _value(configuration: Configuration, key: str) -> str | None:
    for entry in configuration.entries:
        if entry.key.casefold() == key.casefold():
            return None if entry.value is None else entry.value.strip().lower()
    return None


def _number_of_connectors(configuration: Configuration) -> int | None:
    value = _value(configuration, "NumberOfConnectors")
    return int(value) if value is not None and value.isdigit() else None
