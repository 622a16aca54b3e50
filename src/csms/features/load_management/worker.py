"""Site load management: several charge points on one supply never draw more than its limit.

Groups of charge points form trees (a site > its feeders > their charge points), each group
with a limit (A per phase, or W) and a strategy (allocation.py). Whenever a
transaction starts or stops, a connector stops or resumes drawing (SuspendedEV/SuspendedEVSE
and back to Charging), meter values show a car drawing clearly less than allowed (or all it is
allowed again), a group or membership changes, or a charge point boots, the tree is allocated
again and a TxProfile (spec 3.13.1, 5.16.3: purpose TxProfile, the transaction's id, a stack
level of its own, one Relative period in A with numberPhases) goes to each transaction whose
limit changed, and only to those.

The sum of the limits in force in a group never exceeds its limit, also while profiles are on
their way (model.py says when a limit is in force): every lowering is sent first and
awaited; a lowering not Accepted (refused, no answer, charge point offline) keeps its old limit
reserved and the rest is allocated again; only then are the raises sent, each checked against
the limits in force at that moment. A transaction below its group's minimum current is paused
(limit 0) rather than starved.

Each member also gets a fallback TxDefaultProfile on connector 0, one stack level lower, with a
limit that keeps every group within its limit if all the connectors below it charge at that
fallback (a transaction started while the CSMS is unreachable, or before its TxProfile comes).

Events come from the call observers (router.py: after a CALL is handled and stored) and are
coalesced per tree for `load_debounce` seconds; one owned worker (app.py) allocates each tree
that is due, trees in parallel, a tree never twice at once. The worker sends its CALLs on its
own, never from inside a charge point's CALL handler. Off in certification mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from csms.features.context import Services
from csms.features.load_management.allocation import (
    GroupNode,
    Share,
    allocate_tree,
    fallback_limits,
)
from csms.features.load_management.machine import TxEvent
from csms.features.load_management.model import (
    CpState,
    LoadModel,
    Round,
    Sending,
    TxState,
    group_limit_amps,
)
from csms.features.load_management.send import (
    MAYBE_APPLIED,
    OFFLINE,
    UNANSWERED,
    clear_departed,
    profile_of,
    set_profile,
)
from csms.features.load_management.state import load, refresh
from csms.features.load_management.view import reason_of
from csms.ocpp16 import ChargingProfileStatus
from csms.storage import LoadAllocation

log = logging.getLogger("csms.features.load_management")

_TENTH = Decimal("0.1")
# Allocate, lower, allocate again if a lowering failed ...: at most this many times per event.
_ROUNDS = 4
# The allocation history is kept this long, pruned this often (seconds).
_HISTORY = timedelta(days=30)
_PRUNE_EVERY = 3600.0


async def run_load_management(services: Services) -> None:
    """The owned task (app.py): load the groups, then allocate what is due until cancelled.
    Returns at once in certification mode or with load management off."""
    settings = services.settings
    model = services.load
    if settings.certification_mode or not settings.load_management:
        model.off()
        return
    try:
        await load(services)
    except Exception:  # task boundary: the rest of the CSMS runs on without it
        log.exception("load management not started: the load groups could not be read")
        model.off()
        return
    model.enabled = True
    services.call_observers.append(model.observe)
    try:
        model.mark_all()
        model.check_idle()
        prune_at = time.monotonic()
        async with asyncio.TaskGroup() as group:
            while True:
                wait = prune_at - time.monotonic()
                retry = model.next_retry()
                if retry is not None:
                    wait = min(wait, retry)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(model.wakeup.wait(), max(0.0, wait))
                model.wakeup.clear()
                model.retry_due()
                if time.monotonic() >= prune_at:
                    prune_at = time.monotonic() + _PRUNE_EVERY
                    group.create_task(_prune(services))
                # Coalesce a burst (a StatusNotification, StartTransaction and MeterValues of
                # one arrival; many charge points at once) into one allocation per tree.
                await asyncio.sleep(settings.load_debounce)
                for root in model.take_due():
                    group.create_task(_converge_task(services, root))
                if model.departed_due and not model.clearing:
                    model.clearing = True
                    group.create_task(clear_departed(services))
                model.check_idle()
    finally:
        services.call_observers.remove(model.observe)
        model.off()


async def _prune(services: Services) -> None:
    try:
        await services.store.prune_load_allocations(services.clock.now() - _HISTORY)
    except Exception:  # task boundary: the next prune tries again
        log.exception("pruning the load allocation history failed")


async def _converge_task(services: Services, root: int) -> None:
    try:
        await converge(services, root)
    except Exception:  # task boundary: one tree's failure must not stop the others
        log.exception("load group %s: allocation failed", root)
    finally:
        services.load.done(root)


@dataclass(slots=True)
class _Change:
    cp: CpState
    tx: TxState | None  # None: the fallback TxDefaultProfile
    limit: Decimal
    share: Share | None = None


async def converge(services: Services, root: int) -> None:
    """Allocate the tree under `root` and bring every limit in force to it."""
    model = services.load
    started = time.perf_counter()
    started_at = services.clock.now()
    history: list[LoadAllocation] = []
    counts = {"lowerings": 0, "raises": 0}
    try:
        for _ in range(_ROUNDS):
            if root not in model.groups:
                return
            members = model.members_below(root)
            await refresh(services, members)
            offline = {
                cp.charge_point_id
                for cp in members
                if services.registry.get(cp.charge_point_id) is None
            }
            for cp in members:
                if cp.charge_point_id in offline:
                    cp.stuck = True  # allocated again when it is heard from
            computing = time.perf_counter()
            tree = model.node(root, offline)
            shares = allocate_tree(tree)
            defaults = _fallbacks(model, tree)
            model.compute_seconds = time.perf_counter() - computing
            lowerings, raises = _plan(model, members, offline, shares, defaults)
            if not lowerings and not raises:
                return
            counts["lowerings"] += len(lowerings)
            answers = await asyncio.gather(
                *(_send(services, change, lowering=True, history=history) for change in lowerings)
            )
            if not all(answers):
                continue  # what failed stays reserved at its old limit: allocate again
            fitting = _fitting(model, root, raises)
            counts["raises"] += len(fitting)
            answers = await asyncio.gather(
                *(_send(services, change, lowering=False, history=history) for change in fitting)
            )
            if len(fitting) == len(raises) and all(answers):
                return
    finally:
        services.metrics.load_rounds.inc()
        model.converge_seconds = time.perf_counter() - started
        if history:
            model.rounds.append(
                Round(
                    root=root,
                    started_at=started_at,
                    compute_seconds=model.compute_seconds or 0.0,
                    seconds=model.converge_seconds,
                    lowerings=counts["lowerings"],
                    raises=counts["raises"],
                    failed=sum(1 for item in history if item.status != "Accepted"),
                )
            )
            await services.store.record_load_allocations(history)


def _fallbacks(model: LoadModel, tree: GroupNode) -> dict[int, Decimal]:
    connectors: dict[int, int] = {}
    for cp in model.cps.values():
        connectors[cp.member.group_id] = connectors.get(cp.member.group_id, 0) + cp.connectors
    return fallback_limits(tree, connectors)


def _plan(
    model: LoadModel,
    members: Sequence[CpState],
    offline: set[str],
    shares: dict[str, Share],
    defaults: dict[int, Decimal],
) -> tuple[list[_Change], list[_Change]]:
    """The changes to send: (lowerings, raises). Unchanged limits are not sent again."""
    lowerings: list[_Change] = []
    raises: list[_Change] = []
    for cp in members:
        usable = cp.charge_point_id not in offline and not cp.stuck
        fallback = min(defaults[cp.member.group_id], cp.member.max_current)
        cp.default_target = fallback
        if usable and (cp.needs_default or cp.default_accepted != fallback):
            change = _Change(cp=cp, tx=None, limit=fallback)
            (lowerings if fallback < cp.fallback_in_force() else raises).append(change)
        for tx in cp.transactions.values():
            share = shares.get(str(tx.transaction_id))
            if share is None:
                continue
            tx.share = share
            if share.fixed or not usable:
                continue
            if tx.accepted is not None and tx.accepted == share.limit:
                continue
            change = _Change(cp=cp, tx=tx, limit=share.limit, share=share)
            (lowerings if share.limit < cp.in_force(tx) else raises).append(change)
    return lowerings, raises


def _fitting(model: LoadModel, root: int, raises: list[_Change]) -> list[_Change]:
    """The raises that keep every group within its limit, given the limits in force now
    (lowerings that failed, transactions started meanwhile); each one taken counts as in force
    from here on (no await between this check and the sending)."""
    in_force: dict[int, Decimal] = {}
    for cp, tx in model.transactions(model.members_below(root)):
        for group_id in model.path_of(cp.member.group_id):
            in_force[group_id] = in_force.get(group_id, Decimal(0)) + cp.in_force(tx)
    fitting: list[_Change] = []
    for change in raises:
        cp = change.cp
        affected = [change.tx] if change.tx is not None else _on_fallback(cp)
        before = sum((cp.in_force(tx) for tx in affected), Decimal(0))
        previous = _mark_pending(change)
        increase = sum((cp.in_force(tx) for tx in affected), Decimal(0)) - before
        path = model.path_of(cp.member.group_id)
        if any(
            in_force.get(g, Decimal(0)) + increase > group_limit_amps(model.groups[g]) for g in path
        ):
            _set_pending(change, previous)
            continue
        for g in path:
            in_force[g] = in_force.get(g, Decimal(0)) + increase
        fitting.append(change)
    return fitting


def _on_fallback(cp: CpState) -> list[TxState]:
    return [tx for tx in cp.transactions.values() if tx.accepted is None]


def _answered(services: Services, change: _Change, status: str) -> bool:
    """Record the answer to a profile sent (what is in force, the transaction's state);
    whether it was Accepted."""
    cp, tx = change.cp, change.tx
    accepted = status == ChargingProfileStatus.ACCEPTED
    if tx is None:
        # Accepted: installed; else the next boot tries again.
        cp.needs_default = False
        if accepted:
            cp.default_accepted = change.limit
    elif accepted:
        tx.accepted = change.limit
        tx.limit_since = time.monotonic()
    elif status in UNANSWERED:
        tx.on(TxEvent.UNANSWERED)
    else:
        tx.on(TxEvent.REFUSED)  # Rejected, NotSupported, a CALLERROR: not again for this one
    if status in UNANSWERED:
        cp.stuck = True  # until it is heard from again ...
        if status != OFFLINE:
            services.load.retry_later(cp, services.settings.load_retry_interval)  # ... or later
    return accepted


def _mark_pending(change: _Change) -> Decimal | None:
    """Count the change as possibly in force from now on; what was pending before (a profile
    sent earlier that may have been applied, its answer lost) still counts too."""
    previous = change.cp.default_pending if change.tx is None else change.tx.pending
    _set_pending(change, change.limit if previous is None else max(previous, change.limit))
    return previous


def _set_pending(change: _Change, limit: Decimal | None) -> None:
    if change.tx is None:
        change.cp.default_pending = limit
    else:
        change.tx.pending = limit


async def _send(
    services: Services, change: _Change, *, lowering: bool, history: list[LoadAllocation]
) -> bool:
    """SetChargingProfile with the change; whether the charge point Accepted it. A lowering
    counts once Accepted, a raise from now on (model.py)."""
    model = services.load
    cp, tx = change.cp, change.tx
    group = model.groups.get(cp.member.group_id)
    if group is None or model.cps.get(cp.charge_point_id) is not cp:
        return False  # it left its group, or the group went, during this round
    previous = _mark_pending(change)
    sending = Sending(limit=change.limit, sent_at=services.clock.now())
    if tx is None:
        cp.default_last = sending
    else:
        tx.last = sending
        if not lowering:
            tx.limit_since = time.monotonic()
    connector_id = 0 if tx is None else tx.connector_id
    model.profiles_sent += 1
    sending.status = await set_profile(
        services, cp.charge_point_id, connector_id, profile_of(services, cp, tx, change.limit)
    )
    if sending.status == ChargingProfileStatus.ACCEPTED:
        _set_pending(change, None)  # in force now, replacing whatever was before
    elif sending.status not in MAYBE_APPLIED:
        _set_pending(change, previous)  # not applied: what may have been before still may be
    # else the charge point may have applied it: a raise stays reserved (in_force counts the
    # higher of the limits) until an Accepted profile replaces it.
    sending.answered_at = services.clock.now()
    accepted = _answered(services, change, sending.status)
    history.append(
        LoadAllocation(
            group_id=group.id,
            charge_point_id=cp.charge_point_id,
            connector_id=connector_id,
            transaction_id=None if tx is None else tx.transaction_id,
            purpose="TxDefaultProfile" if tx is None else "TxProfile",
            limit=change.limit,
            number_phases=cp.member.phases,
            paused=change.share is not None and change.share.paused,
            demand=None if change.share is None else change.share.demand,
            measured_draw=None if tx is None else tx.draw,
            strategy=group.strategy,
            reason=reason_of(model, cp, tx, change.share),
            status=sending.status,
            sent_at=sending.sent_at,
            answered_at=sending.answered_at,
        )
    )
    return accepted
