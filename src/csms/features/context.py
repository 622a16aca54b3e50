"""What a feature handler works with: the services of the CSMS and the calling charge point."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from csms.events import EventBus
from csms.features.charger_profiles import ChargerProfiles
from csms.features.transaction_starts import TransactionStarts
from csms.features.unknown_charge_points import UnknownChargePoints
from csms.files.host import FileHost
from csms.metrics import Metrics
from csms.ocppj import Call
from csms.settings import Settings
from csms.storage import Store
from csms.transport import FollowUp, OcppConnection, Registry
from csms.transport.replay import ReplayMemory

if TYPE_CHECKING:
    from csms.features.alerts import AlertMemory
    from csms.features.load_management.model import LoadModel
    from csms.features.local_list.worker import LocalListQueue
    from csms.features.security.authority import BuiltInAuthority, Signer


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, an aware UTC datetime."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# Told of each CALL of a charge point once its handler has answered it (stored what it reports),
# before the answer is sent: (charge point id, the CALL, its decoded request). Must not raise or
# block. A TriggerMessage waits for the message it asked for this way (features/remote_trigger/).
CallObserver = Callable[[str, Call, Any], None]


# A DataTransfer.req handler for one vendorId / messageId (spec 4.3): data in, (status, data) out.
DataTransferHandler = Callable[[str, str | None], Awaitable[tuple[str, str | None]]]


def _local_list_queue() -> LocalListQueue:
    # Imported here, not above: a feature package imports this module (the dependency runs from
    # the features to the plumbing, docs/architecture.md); the queue itself imports nothing.
    from csms.features.local_list.worker import LocalListQueue

    return LocalListQueue()


def _load_model() -> LoadModel:
    from csms.features.load_management.model import LoadModel  # as _local_list_queue

    return LoadModel()


def _alert_memory() -> AlertMemory:
    from csms.features.alerts import AlertMemory  # as _local_list_queue

    return AlertMemory()


@dataclass(slots=True, kw_only=True)
class Services:
    """Everything long-lived the features use; built once by the composition root (app.py)."""

    settings: Settings
    store: Store
    registry: Registry
    clock: Clock = field(default_factory=SystemClock)
    # vendorId -> messageId (None = any) -> handler (spec 4.3).
    data_transfer: dict[str, dict[str | None, DataTransferHandler]] = field(default_factory=dict)
    transaction_starts: TransactionStarts = field(default_factory=TransactionStarts)
    call_observers: list[CallObserver] = field(default_factory=list)
    # Set when a reservation may now expire sooner than the expiry task planned (reservation/).
    reservations_changed: asyncio.Event = field(default_factory=asyncio.Event)
    # Charge points whose local authorization list is to be brought up to date.
    local_lists: LocalListQueue = field(default_factory=_local_list_queue)
    # Site load management: the groups, their members and what is in force (load_management/).
    load: LoadModel = field(default_factory=_load_model)

    # The answers last given to each charge point, for CALLs sent again (transport/replay.py).
    replays: ReplayMemory = field(default_factory=ReplayMemory)

    # Hosted files and the links to them (files/); set by the composition root.
    files: FileHost | None = None

    # What happens, as it happens, for the console's live views (events.py).
    events: EventBus = field(default_factory=EventBus)

    # Unknown charge points refused at the handshake, for the operator to approve.
    unknown_charge_points: UnknownChargePoints = field(default_factory=UnknownChargePoints)
    # Prometheus metrics of this CSMS (metrics.py).
    metrics: Metrics = field(default_factory=Metrics)
    # Whether some webhook subscription takes meter events: only then are they written to the
    # outbox (docs/events-and-webhooks.md); kept by the webhook API and the deliverer.
    meter_events_wanted: bool = False
    # What the alerts remember between messages (boots per charge point; features/alerts.py).
    alerts: AlertMemory = field(default_factory=_alert_memory)
    # What the CSMS knows about each charge point's stack (docs/charger-compatibility.md).
    charger_profiles: ChargerProfiles = field(default_factory=ChargerProfiles)
    # The charge point CA (features/security/authority.py) and who signs CSRs: the built-in CA,
    # or an external one with the same interface; None = SignCertificate is Rejected.
    authority: BuiltInAuthority | None = None
    signer: Signer | None = None


@dataclass(slots=True)
class Context:
    """One CALL from a charge point being handled."""

    services: Services
    connection: OcppConnection
    follow_ups: list[FollowUp] = field(default_factory=list)

    @property
    def charge_point_id(self) -> str:
        return self.connection.charge_point_id

    @property
    def store(self) -> Store:
        return self.services.store

    def now(self) -> datetime:
        return self.services.clock.now()

    def after_reply(self, follow_up: FollowUp) -> None:
        """Run `follow_up` once the answer to this CALL is sent (never CALL the charge point
        from inside the handler of its own CALL: it waits for our answer first)."""
        self.follow_ups.append(follow_up)


Handler = Callable[[Context, Any], Awaitable[Any]]
