"""Site load management, what the CSMS keeps in memory: the groups, each member charge point's
connectors, transactions and the limits in force, and which group trees are due for a new
allocation. Told of the charge points' messages by `observe` (a call observer, router.py),
which must stay cheap: it only notes what changed and marks the tree due; the worker
(worker.py) does the rest. Imports nothing of the features (Services holds it). Each
transaction's state is a small state machine (machine.py): the messages are its events.
Over 400 lines: the model is one class with the tree, the observer and the worker's bookkeeping,
which share its fields; split, each part would reach into the others.

A limit is "in force" from the moment a raise is sent and until a lowering is Accepted (the
CSMS cannot know which moment in between the charge point applies it). A transaction without
a TxProfile of ours charges under our fallback TxDefaultProfile if the charge point accepted
one, else up to its connector's maximum.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from csms.features.load_management.allocation import GroupNode, LeafDemand, Share
from csms.features.load_management.machine import (
    Control,
    Draw,
    TxEvent,
    TxMode,
    status_event,
    step,
)
from csms.features.load_management.meter import measured_current
from csms.ocpp16 import (
    Action,
    MeterValuesRequest,
    StartTransactionRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
)
from csms.ocppj import Call
from csms.smart_charging import Strategy
from csms.storage import LoadGroup, LoadGroupMember

_TENTH = Decimal("0.1")
_ZERO = Decimal(0)
# The admission priority of an idle transaction: after every charging one.
IDLE_PRIORITY = -(10**9)


@dataclass(slots=True)
class Sending:
    """The last limit sent for a transaction (or a fallback), for the operator."""

    limit: Decimal
    sent_at: datetime
    status: str = "Pending"  # then the answer, or Offline / Timeout / Failed
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Round:
    """One allocation of a tree and the profiles it sent, for the operator's figures."""

    root: int
    started_at: datetime
    compute_seconds: float  # the arithmetic (allocation and fallbacks), the last time
    seconds: float  # from the start until every profile was answered
    lowerings: int
    raises: int
    failed: int  # not Accepted


@dataclass(slots=True)
class TxState:
    transaction_id: int
    connector_id: int
    priority: int | None = None  # its own, over its charge point's
    accepted: Decimal | None = None  # our TxProfile's limit, Accepted
    pending: Decimal | None = None  # sent, not answered yet
    # When the limit in force last changed (monotonic): older draw readings say nothing.
    limit_since: float = field(default_factory=time.monotonic)
    # Whether its limit can be changed now, and whether the car draws (machine.py).
    mode: TxMode = field(default_factory=TxMode)
    draw: Decimal | None = None  # measured, A per phase
    draw_seen: float = 0.0  # monotonic
    share: Share | None = None  # the last allocation computed
    last: Sending | None = None

    def on(self, event: TxEvent) -> bool:
        """Apply `event` (machine.step); whether the mode changed."""
        before, self.mode = self.mode, step(self.mode, event)
        return self.mode != before

    @property
    def stuck(self) -> bool:
        """Its limit cannot be changed until its charge point is heard from again."""
        return self.mode.control == Control.UNANSWERED

    @property
    def refused(self) -> bool:
        """Its limit cannot be changed for the rest of the transaction (unless it reboots)."""
        return self.mode.control == Control.REFUSED

    @property
    def idle(self) -> bool:
        """The car draws nothing now: it gets the minimum, only where no charging car waits."""
        return self.mode.draw == Draw.IDLE


@dataclass(slots=True)
class CpState:
    """One member charge point. Its transactions carry their state (machine.py); its own flags
    are work still to do for the worker (needs_default: install the fallback; refresh: read its
    transactions again) and whether it may be sent to (stuck: a send failed, until it is heard
    from again or its retry is due)."""

    member: LoadGroupMember
    connectors: int = 1
    statuses: dict[int, str] = field(default_factory=dict)
    transactions: dict[int, TxState] = field(default_factory=dict)  # by connector id
    default_accepted: Decimal | None = None  # our fallback TxDefaultProfile's limit
    default_pending: Decimal | None = None
    default_target: Decimal | None = None
    default_last: Sending | None = None
    needs_default: bool = True  # (re)install the fallback (joined, booted)
    refresh: bool = True  # re-read its active transactions from the store
    # StartTransactions handled (and about to be answered): (connector, idTag, meterStart,
    # timestamp). A transaction read from the store joins only once its start was seen here:
    # the store has it before the charge point has its transactionId.
    starts_seen: set[tuple[int, str, int, datetime]] = field(default_factory=set)
    listed: bool = False  # its transactions were read once (then all of them count)
    stuck: bool = False  # a send failed: wait until it is heard from again
    max_stack_level: int | None = None  # ChargeProfileMaxStackLevel, when known
    power_only: bool = False  # its ChargingScheduleAllowedChargingRateUnit is Power only

    @property
    def charge_point_id(self) -> str:
        return self.member.charge_point_id

    def fallback_in_force(self) -> Decimal:
        maximum = self.member.max_current
        base = maximum if self.default_accepted is None else min(self.default_accepted, maximum)
        if self.default_pending is not None and self.default_pending > base:
            return min(self.default_pending, maximum)
        return base

    def in_force(self, tx: TxState) -> Decimal:
        base = tx.accepted if tx.accepted is not None else self.fallback_in_force()
        if tx.pending is not None and tx.pending > base:
            base = tx.pending
        return min(base, self.member.max_current)

    def by_transaction(self, transaction_id: int) -> TxState | None:
        for tx in self.transactions.values():
            if tx.transaction_id == transaction_id:
                return tx
        return None


def group_limit_amps(group: LoadGroup) -> Decimal:
    """A per phase: a W limit is shared as if balanced over the group's phases, which bounds
    the power too (a car on fewer phases draws less power for the same current)."""
    if group.unit == "W":
        return (group.limit / (group.voltage * group.phases)).quantize(_TENTH, ROUND_FLOOR)
    return group.limit


class LoadModel:
    def __init__(self) -> None:
        self.enabled = False  # the worker runs (never in certification mode)
        self.groups: dict[int, LoadGroup] = {}
        self.cps: dict[str, CpState] = {}
        # Charge points that left a group and still hold our profiles: the ids to clear, and
        # those to try now (just left, or heard from since).
        self.departed: dict[str, set[int]] = {}
        self.departed_due: set[str] = set()
        # Held while the groups are read again after a change (reloads must not interleave).
        self.reloading = asyncio.Lock()
        self.dirty: set[int] = set()  # root group ids
        self.busy: set[int] = set()
        self.clearing = False  # the worker is clearing departed charge points
        self.wakeup = asyncio.Event()
        # Clear until the worker has read the groups (set at once when it does not run).
        self._idle = asyncio.Event()
        # Figures of the last allocation: seconds computing it, seconds until all was sent.
        self.compute_seconds: float | None = None
        self.converge_seconds: float | None = None
        self.profiles_sent = 0
        self.rounds: deque[Round] = deque(maxlen=50)
        # Charge points that did not answer while connected: when to try them again.
        self.retry_at: dict[str, float] = {}

    # -- the tree ------------------------------------------------------------------------------

    def root_of(self, group_id: int) -> int:
        seen: set[int] = set()
        current = group_id
        while current not in seen:
            seen.add(current)
            parent = self.groups[current].parent_id if current in self.groups else None
            if parent is None or parent not in self.groups:
                return current
            current = parent
        return current

    def path_of(self, group_id: int) -> list[int]:
        """The group and its ancestors, nearest first."""
        path: list[int] = []
        current: int | None = group_id
        while current is not None and current in self.groups and current not in path:
            path.append(current)
            current = self.groups[current].parent_id
        return path

    def subtree(self, group_id: int) -> list[int]:
        found = [group_id]
        for candidate in found:
            found.extend(g.id for g in self.groups.values() if g.parent_id == candidate)
        return found

    def members_below(self, group_id: int) -> list[CpState]:
        groups = set(self.subtree(group_id))
        return [cp for cp in self.cps.values() if cp.member.group_id in groups]

    def node(self, group_id: int, offline: set[str]) -> GroupNode:
        """The tree below `group_id` with the demand of every active transaction; a
        transaction whose limit cannot be changed now is fixed at its limit in force."""
        group = self.groups[group_id]
        children = tuple(
            self.node(child.id, offline)
            for child in sorted(self.groups.values(), key=lambda g: g.id)
            if child.parent_id == group_id
        )
        demands = tuple(
            self.demand(cp, tx, group, fixed=cp.charge_point_id in offline or cp.stuck)
            for cp in self.cps.values()
            if cp.member.group_id == group_id
            for tx in cp.transactions.values()
        )
        return GroupNode(
            id=group.id,
            limit_amps=group_limit_amps(group),
            strategy=Strategy(group.strategy),
            min_current=group.min_current,
            draw_margin=group.draw_margin,
            children=children,
            demands=demands,
        )

    def demand(self, cp: CpState, tx: TxState, group: LoadGroup, *, fixed: bool) -> LeafDemand:
        member = cp.member
        in_force = cp.in_force(tx)
        priority = member.priority if tx.priority is None else tx.priority
        return LeafDemand(
            key=str(tx.transaction_id),
            max_current=member.max_current,
            phases=member.phases,
            priority=IDLE_PRIORITY if tx.idle else priority,
            observed_draw=self.observed_draw(cp, tx, group, in_force),
            fixed=in_force if fixed or tx.stuck or tx.refused else None,
        )

    def observed_draw(
        self, cp: CpState, tx: TxState, group: LoadGroup, in_force: Decimal
    ) -> Decimal | None:
        """What the car evidently takes when it takes less than allowed: nothing while it is
        idle, else its last measured current if taken under the limit in force now and clearly
        below it (by half the margin). None: it may take all it gets."""
        if tx.idle:
            return _ZERO
        if tx.draw is None or tx.draw_seen < tx.limit_since:
            return None
        if tx.draw + group.draw_margin / 2 < in_force:
            return tx.draw
        return None

    # -- being told ----------------------------------------------------------------------------

    def mark(self, cp: CpState) -> None:
        if cp.member.group_id in self.groups:
            self.mark_group(cp.member.group_id)

    def mark_all(self) -> None:
        for group in self.groups.values():
            if group.parent_id is None or group.parent_id not in self.groups:
                self.mark_group(group.id)
        if self.departed_due and self.enabled:
            self._idle.clear()
            self.wakeup.set()

    def mark_group(self, group_id: int) -> None:
        if not self.enabled:
            return
        self.dirty.add(self.root_of(group_id))
        self._idle.clear()
        self.wakeup.set()

    def observe(self, charge_point_id: str, call: Call, request: Any) -> None:
        """A CALL of a charge point, handled and stored (a Services.call_observers entry)."""
        cp = self.cps.get(charge_point_id)
        if cp is None:
            self._departed_heard_from(charge_point_id)
            return
        if cp.stuck:
            self.retry_at.pop(charge_point_id, None)
            self.heard_from(cp)
        action = call.action
        if action == Action.BOOT_NOTIFICATION:
            cp.needs_default = cp.refresh = True
            for tx in cp.transactions.values():
                tx.on(TxEvent.BOOTED)
            self.mark(cp)
        elif isinstance(request, StartTransactionRequest):
            key = (request.connector_id, request.id_tag.casefold(), request.meter_start)
            cp.starts_seen.add((*key, request.timestamp))
            cp.refresh = True  # its transactionId is in the store
            self.mark(cp)
        elif isinstance(request, StopTransactionRequest):
            self._stopped(cp, request)
        elif isinstance(request, StatusNotificationRequest):
            self._status(cp, request)
        elif isinstance(request, MeterValuesRequest):
            self._meter_values(cp, request)

    def _departed_heard_from(self, charge_point_id: str) -> None:
        """A charge point not in a group: one that left it may now be cleared of our profiles."""
        if charge_point_id in self.departed and self.enabled:
            self.departed_due.add(charge_point_id)
            self._idle.clear()
            self.wakeup.set()

    def _stopped(self, cp: CpState, request: StopTransactionRequest) -> None:
        for connector_id, tx in list(cp.transactions.items()):
            if tx.transaction_id == request.transaction_id:
                del cp.transactions[connector_id]
                self.mark(cp)

    def _status(self, cp: CpState, request: StatusNotificationRequest) -> None:
        connector_id = request.connector_id
        before = cp.statuses.get(connector_id)
        status = cp.statuses[connector_id] = str(request.status)
        if connector_id > cp.connectors and cp.member.connectors is None:
            cp.connectors = connector_id  # more connectors: every fallback changes
            self.mark(cp)
        tx = cp.transactions.get(connector_id)
        if tx is None or status == before:
            return
        event = status_event(status, cp.in_force(tx) > 0)
        if event is not None and tx.on(event):
            self.mark(cp)

    def _meter_values(self, cp: CpState, request: MeterValuesRequest) -> None:
        tx = cp.transactions.get(request.connector_id)
        if tx is None or not request.meter_value:
            return
        group = self.groups.get(cp.member.group_id)
        if group is None:
            return
        draw = measured_current(request.meter_value, voltage=group.voltage, phases=cp.member.phases)
        if draw is None:
            return
        in_force = cp.in_force(tx)
        before = self.observed_draw(cp, tx, group, in_force)
        tx.draw, tx.draw_seen = draw, time.monotonic()
        if self.observed_draw(cp, tx, group, in_force) != before:
            self.mark(cp)

    # -- the worker's side ---------------------------------------------------------------------

    def retry_later(self, cp: CpState, delay: float) -> None:
        self.retry_at[cp.charge_point_id] = time.monotonic() + delay
        self.wakeup.set()  # the worker waits until the earliest retry: it may be sooner now

    def next_retry(self) -> float | None:
        """Seconds until the next retry is due, if any."""
        if not self.retry_at:
            return None
        return max(min(self.retry_at.values()) - time.monotonic(), 0.0)

    def retry_due(self) -> None:
        now = time.monotonic()
        for charge_point_id, at in list(self.retry_at.items()):
            if at > now:
                continue
            del self.retry_at[charge_point_id]
            cp = self.cps.get(charge_point_id)
            if cp is not None and cp.stuck:
                self.heard_from(cp)

    def heard_from(self, cp: CpState) -> None:
        """A charge point whose sending failed may be sent to again: allocate its tree."""
        cp.stuck = False
        for tx in cp.transactions.values():
            tx.on(TxEvent.HEARD_FROM)
        self.mark(cp)

    def take_due(self) -> list[int]:
        due = [root for root in self.dirty if root not in self.busy]
        for root in due:
            self.dirty.discard(root)
            self.busy.add(root)
        return due

    def done(self, root: int) -> None:
        self.busy.discard(root)
        if root in self.dirty:
            self.wakeup.set()
        self.check_idle()

    def off(self) -> None:
        """Load management does not run: nothing will ever be due."""
        self.enabled = False
        self._idle.set()

    def check_idle(self) -> None:
        if not self.dirty and not self.busy and not self.departed_due and not self.clearing:
            self._idle.set()

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until every due allocation is computed and sent (for tests and benchmarks)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    def transactions(self, cps: Iterable[CpState]) -> Iterator[tuple[CpState, TxState]]:
        for cp in cps:
            for tx in cp.transactions.values():
                yield cp, tx
