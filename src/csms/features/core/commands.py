"""Core profile, CSMS-initiated operations (spec 5.x): what the CSMS records from each answer,
and the operations that need more than one message (a remote start and its transaction).

The hooks keep the CSMS's view consistent with what the charge point answered: the
configuration snapshot (GetConfiguration, ChangeConfiguration) and the requested availability
of each connector (ChangeAvailability, Accepted or Scheduled).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csms.features import commands
from csms.features.commands import Sent, on_result
from csms.features.context import Context, Services
from csms.features.local_list import sync as local_auth_list
from csms.ocpp16 import (
    Action,
    AvailabilityStatus,
    ConfigurationStatus,
    RemoteStartStopStatus,
)
from csms.ocppj import CallResult
from csms.storage import Availability, ConfigurationEntry

log = logging.getLogger("csms.features.core")


def _payload(sent: Sent) -> dict[str, Any]:
    assert isinstance(sent.response, CallResult)
    return sent.response.payload


@on_result(Action.GET_CONFIGURATION)
async def _configuration_read(services: Services, sent: Sent) -> None:
    """Spec 5.8: keep the reported keys; a request for all keys replaces the snapshot."""
    answer = _payload(sent)
    entries = [
        ConfigurationEntry(
            key=item["key"], value=item.get("value"), readonly=bool(item["readonly"])
        )
        for item in answer.get("configurationKey", [])
    ]
    await services.store.save_configuration(
        sent.charge_point_id,
        entries,
        unknown_keys=list(answer.get("unknownKey", [])),
        complete=not sent.request.get("key"),
        at=services.clock.now(),
    )


@on_result(Action.CHANGE_CONFIGURATION)
async def _configuration_changed(services: Services, sent: Sent) -> None:
    """Spec 5.3: Accepted and RebootRequired both change the value."""
    status = _payload(sent)["status"]
    if status in (ConfigurationStatus.ACCEPTED, ConfigurationStatus.REBOOT_REQUIRED):
        # The security keys (AuthorizationKey, SecurityProfile) change how the charge point
        # may connect; the AuthorizationKey's value is never kept (whitepaper A01.FR.09).
        from csms.features.security.profiles import configuration_changed

        if await configuration_changed(
            services, sent.charge_point_id, sent.request["key"], sent.request["value"]
        ):
            return
        await services.store.set_configuration_value(
            sent.charge_point_id,
            sent.request["key"],
            sent.request["value"],
            at=services.clock.now(),
        )


@on_result(Action.CHANGE_AVAILABILITY)
async def _availability_changed(services: Services, sent: Sent) -> None:
    """Spec 5.2: Accepted now, or Scheduled for after the running transaction(s)."""
    status = _payload(sent)["status"]
    if status in (AvailabilityStatus.ACCEPTED, AvailabilityStatus.SCHEDULED):
        await services.store.record_availability(
            Availability(
                charge_point_id=sent.charge_point_id,
                connector_id=sent.request["connectorId"],
                requested=sent.request["type"],
                status=status,
                at=services.clock.now(),
            )
        )


# The connector statuses that show an availability in effect (spec 5.2, 7.7).
_SHOWS = {"Inoperative": frozenset({"Unavailable"}), "Operative": frozenset({"Available"})}


async def scheduled_availability_reported(
    ctx: Context, connector_id: int, status: str, at: datetime
) -> None:
    """Spec 5.2: a Scheduled change takes effect once the transaction has ended; the
    StatusNotification that shows the new availability (Unavailable for Inoperative, Available
    for Operative) makes it effective: Accepted from then on, as the charge point has it."""
    if status not in ("Unavailable", "Available"):
        return
    for availability in await ctx.store.availability_of(ctx.charge_point_id):
        if (
            availability.connector_id == connector_id
            and availability.status == AvailabilityStatus.SCHEDULED
            and status in _SHOWS.get(availability.requested, ())
        ):
            await ctx.store.record_availability(
                dataclasses.replace(availability, status=AvailabilityStatus.ACCEPTED, at=at)
            )


@dataclass(frozen=True, slots=True)
class RemoteStart:
    sent: Sent
    transaction_id: int | None


async def remote_start(
    services: Services,
    charge_point_id: str,
    payload: dict[str, Any],
    *,
    wait: float,
    connect_timeout: float = 0.0,
) -> RemoteStart:
    """Spec 5.11: send RemoteStartTransaction; when Accepted, wait up to `wait` s for the
    StartTransaction it leads to and return its transactionId."""
    with services.transaction_starts.expect(
        charge_point_id, payload.get("connectorId"), payload["idTag"]
    ) as started:
        sent = await commands.send(
            services,
            charge_point_id,
            Action.REMOTE_START_TRANSACTION,
            payload,
            connect_timeout=connect_timeout,
        )
        accepted = (
            isinstance(sent.response, CallResult)
            and sent.response.payload.get("status") == RemoteStartStopStatus.ACCEPTED
        )
        if not accepted or wait <= 0:
            return RemoteStart(sent, None)
        try:
            transaction = await asyncio.wait_for(started, wait)
        except TimeoutError:
            return RemoteStart(sent, None)
        return RemoteStart(sent, transaction.id)


async def fetch_configuration(services: Services, charge_point_id: str) -> None:
    """Automation outside certification mode: read the whole configuration after a boot."""
    try:
        await commands.send(services, charge_point_id, Action.GET_CONFIGURATION, {})
    except commands.CommandFailed as exc:
        log.info("%s: configuration not fetched: %s", charge_point_id, exc)


def after_accepted_boot(ctx: Context) -> None:
    """What the CSMS does on its own once a charge point is Accepted (never in certification
    mode, where only operator commands go out: catalogue 2.6 quirk 1)."""
    settings = ctx.services.settings
    if settings.certification_mode:
        return
    if settings.fetch_configuration_on_boot:
        services, charge_point_id = ctx.services, ctx.charge_point_id
        ctx.after_reply(lambda: fetch_configuration(services, charge_point_id))
    local_auth_list.after_accepted_boot(ctx)
