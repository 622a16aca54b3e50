"""Remote Trigger profile (spec 5.17 TriggerMessage): ask a charge point to send one of its own
messages now, and wait (bounded) for what it sends.

- Accepted means the charge point will send it; Rejected and NotImplemented that it will not.
- The message may come before the TriggerMessage answer (the charge point SHALL answer first,
  but frames cross on the wire), after it, or never; and a message sent for another reason in
  between counts as the answer too (spec 5.17). So the CSMS listens for it (a call observer,
  features/router.py) from before the request goes out.
- Without a connectorId a StatusNotification is asked for every connector, 0 included (spec
  5.17), and a MeterValues for every connector: the wait ends when each has come.
- Errata 3.40: once a BootNotification was Accepted, the CSMS SHALL NOT trigger another one
  until the charge point boots again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from csms.features import commands
from csms.features.commands import Sent
from csms.features.context import Services
from csms.ocpp16 import Action, MessageTrigger, TriggerMessageStatus
from csms.ocppj import Call, CallResult

# Requested messages that are about one connector (spec 5.17: otherwise a connectorId is
# irrelevant to the message and ignored).
_PER_CONNECTOR = frozenset({MessageTrigger.STATUS_NOTIFICATION, MessageTrigger.METER_VALUES})


class TriggerRefused(Exception):
    """The CSMS does not send this TriggerMessage (errata 3.40)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrival:
    """A message the charge point sent while the CSMS waited for the triggered one."""

    action: str
    connector_id: int | None
    payload: dict[str, Any]  # as received
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Triggered:
    sent: Sent
    messages: list[Arrival]
    # Every message expected came (a single one, or one per connector).
    complete: bool

    @property
    def status(self) -> str | None:
        response = self.sent.response
        return response.payload.get("status") if isinstance(response, CallResult) else None


async def trigger_message(
    services: Services,
    charge_point_id: str,
    requested_message: MessageTrigger,
    connector_id: int | None = None,
    *,
    wait: float,
    connect_timeout: float = 0.0,
) -> Triggered:
    """Send TriggerMessage; when Accepted, wait up to `wait` s for the requested message(s)."""
    return await send_trigger(
        services,
        charge_point_id,
        Action.TRIGGER_MESSAGE,
        str(requested_message),
        str(requested_message),
        connector_id,
        wait=wait,
        connect_timeout=connect_timeout,
    )


async def send_trigger(
    services: Services,
    charge_point_id: str,
    action: Action,
    requested_message: str,
    expected_action: str,
    connector_id: int | None = None,
    *,
    wait: float,
    connect_timeout: float = 0.0,
) -> Triggered:
    """Send `action` (TriggerMessage, or the whitepaper's ExtendedTriggerMessage) asking for
    `requested_message`; when Accepted, wait up to `wait` s for the charge point's
    `expected_action` message(s) (the same name, but for the extended trigger's
    FirmwareStatusNotification and SignChargePointCertificate)."""
    connection = services.registry.get(charge_point_id)
    if (
        requested_message == MessageTrigger.BOOT_NOTIFICATION
        and connection is not None
        and connection.accepted
    ):
        raise TriggerRefused(
            f"{charge_point_id}'s BootNotification was Accepted: no {action} for another "
            "until it boots again (errata 3.40)"
        )
    expected = await _expected_connectors(
        services, charge_point_id, requested_message, connector_id
    )
    payload: dict[str, Any] = {"requestedMessage": requested_message}
    if connector_id is not None:
        payload["connectorId"] = connector_id
    with _listen(services, charge_point_id, expected_action, connector_id, expected) as heard:
        sent = await commands.send(
            services, charge_point_id, action, payload, connect_timeout=connect_timeout
        )
        triggered = Triggered(sent, list(heard.arrivals), heard.done.is_set())
        if triggered.status != TriggerMessageStatus.ACCEPTED or wait <= 0:
            return triggered
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(heard.done.wait(), wait)
        return Triggered(sent, list(heard.arrivals), heard.done.is_set())


@dataclass(slots=True, eq=False)  # observers are removed by identity
class _Listener:
    """The call observer of one TriggerMessage: collects the messages it asked for."""

    services: Services
    charge_point_id: str
    action: str
    connector_id: int | None
    # Connectors still to report (a request for all connectors); None = the first message ends.
    remaining: set[int] | None
    arrivals: list[Arrival] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, charge_point_id: str, call: Call, request: Any) -> None:
        if charge_point_id != self.charge_point_id or call.action != self.action:
            return
        connector_id = getattr(request, "connector_id", None)
        if self.action in _PER_CONNECTOR and self.connector_id not in (None, connector_id):
            return
        self.arrivals.append(
            Arrival(
                action=call.action,
                connector_id=connector_id,
                payload=call.payload,
                received_at=self.services.clock.now(),
            )
        )
        if self.remaining is not None:
            if connector_id is not None:
                self.remaining.discard(connector_id)
            if self.remaining:
                return
        self.done.set()


@contextlib.contextmanager
def _listen(
    services: Services,
    charge_point_id: str,
    action: str,
    connector_id: int | None,
    expected: set[int] | None,
) -> Iterator[_Listener]:
    listener = _Listener(services, charge_point_id, action, connector_id, remaining=expected)
    services.call_observers.append(listener)
    try:
        yield listener
    finally:
        services.call_observers.remove(listener)


async def _expected_connectors(
    services: Services,
    charge_point_id: str,
    requested_message: str,
    connector_id: int | None,
) -> set[int] | None:
    """The connectors a request for all connectors should hear from: 1..NumberOfConnectors (as
    configured, else as reported), plus 0 for StatusNotification; None when there is no such
    set (one message is the answer) or it is not known."""
    if connector_id is not None or requested_message not in _PER_CONNECTOR:
        return None
    store = services.store
    number: int | None = None
    for entry in (await store.configuration_of(charge_point_id)).entries:
        if entry.key == "NumberOfConnectors" and entry.value and entry.value.strip().isdigit():
            number = int(entry.value)
    if number is not None:
        connectors = set(range(1, number + 1))
    else:
        connectors = {c.connector_id for c in await store.list_connectors(charge_point_id)} - {0}
    if not connectors:
        return None
    if requested_message == MessageTrigger.STATUS_NOTIFICATION:
        connectors.add(0)
    return connectors
