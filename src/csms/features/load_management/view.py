"""Site load management as the operator sees it: what each transaction may draw and why (its
group, the strategy, its demand and measured draw, paused or not, the last limit sent and the
answer), each group's limit against the sum of the limits in force, each member's fallback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from csms.features.load_management.allocation import Share
from csms.features.load_management.model import CpState, LoadModel, Round, TxState, group_limit_amps
from csms.transport import Registry

_STRATEGY_WORDS = {"EqualShare": "equal share", "Priority": "priority share"}


def reason_of(model: LoadModel, cp: CpState, tx: TxState | None, share: Share | None) -> str:
    """Why the transaction got its limit (or the member its fallback), in words."""
    group = model.groups.get(cp.member.group_id)
    if group is None:
        return "its group was deleted"
    if tx is None:
        return (
            "fallback TxDefaultProfile: every group above stays within its limit if all the "
            "connectors below it charge at this"
        )
    if share is None:
        return "not allocated yet"
    if share.fixed:
        if tx.refused:
            return "reserved at its limit in force: the charge point refused the last profile"
        return "reserved at its limit in force: the charge point is offline or did not answer"
    binding = model.groups.get(share.bound_by) if share.bound_by is not None else None
    if share.paused:
        where = binding or group
        return (
            f"paused: {where.name} ({group_limit_amps(where)} A) cannot give every transaction "
            f"its {where.min_current} A minimum; lower priority or later arrivals wait"
        )
    if binding is not None:
        words = _STRATEGY_WORDS.get(binding.strategy, binding.strategy)
        return f"{words} of {binding.name} ({group_limit_amps(binding)} A)"
    if share.demand < cp.member.max_current:
        if tx.idle:
            status = cp.statuses.get(tx.connector_id)
            return f"not drawing ({status}): its group's minimum, after every charging car"
        return f"measured draw {tx.draw} A plus the {group.draw_margin} A margin"
    return f"all its connector can take ({cp.member.max_current} A)"


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionAllocation:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    group_id: int
    connector_status: str | None
    priority: int
    max_current: Decimal
    demand: Decimal | None
    measured_draw: Decimal | None
    limit: Decimal | None  # the allocation
    in_force: Decimal  # what it may draw now, as far as the CSMS can tell
    paused: bool
    reserved: bool  # its limit cannot be changed now (reserved at what is in force)
    number_phases: int
    reason: str
    sent_limit: Decimal | None
    sent_at: datetime | None
    status: str | None  # the answer to the last profile sent
    answered_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupUse:
    group_id: int
    name: str
    parent_id: int | None
    limit_amps: Decimal
    strategy: str
    transactions: int
    allocated: Decimal  # sum of the allocations
    in_force: Decimal  # sum of the limits in force


@dataclass(frozen=True, slots=True, kw_only=True)
class Fallback:
    charge_point_id: str
    group_id: int
    connectors: int
    online: bool
    limit: Decimal | None  # what it should be
    accepted: Decimal | None  # what the charge point accepted
    sent_at: datetime | None
    status: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationView:
    enabled: bool
    groups: list[GroupUse]  # the group, then every group below it
    transactions: list[TransactionAllocation]
    fallbacks: list[Fallback]
    # Figures of the worker's last allocation (any tree).
    compute_seconds: float | None
    converge_seconds: float | None
    profiles_sent: int
    # The last allocations that sent profiles, this tree's, newest first.
    rounds: list[Round]


def allocation_view(model: LoadModel, registry: Registry, group_id: int) -> AllocationView:
    groups = model.subtree(group_id)
    members = model.members_below(group_id)
    transactions: list[TransactionAllocation] = []
    allocated: dict[int, Decimal] = {}
    in_force: dict[int, Decimal] = {}
    counts: dict[int, int] = {}
    for cp, tx in sorted(model.transactions(members), key=lambda item: item[1].transaction_id):
        share, last = tx.share, tx.last
        now = cp.in_force(tx)
        for g in model.path_of(cp.member.group_id):
            allocated[g] = allocated.get(g, Decimal(0)) + (share.limit if share else now)
            in_force[g] = in_force.get(g, Decimal(0)) + now
            counts[g] = counts.get(g, 0) + 1
        transactions.append(
            TransactionAllocation(
                transaction_id=tx.transaction_id,
                charge_point_id=cp.charge_point_id,
                connector_id=tx.connector_id,
                group_id=cp.member.group_id,
                connector_status=cp.statuses.get(tx.connector_id),
                priority=tx.priority if tx.priority is not None else cp.member.priority,
                max_current=cp.member.max_current,
                demand=share.demand if share else None,
                measured_draw=tx.draw,
                limit=share.limit if share else None,
                in_force=now,
                paused=share.paused if share else False,
                reserved=share.fixed if share else False,
                number_phases=cp.member.phases,
                reason=reason_of(model, cp, tx, share),
                sent_limit=last.limit if last else None,
                sent_at=last.sent_at if last else None,
                status=last.status if last else None,
                answered_at=last.answered_at if last else None,
            )
        )
    uses = [
        GroupUse(
            group_id=g,
            name=model.groups[g].name,
            parent_id=model.groups[g].parent_id,
            limit_amps=group_limit_amps(model.groups[g]),
            strategy=model.groups[g].strategy,
            transactions=counts.get(g, 0),
            allocated=allocated.get(g, Decimal(0)),
            in_force=in_force.get(g, Decimal(0)),
        )
        for g in groups
        if g in model.groups
    ]
    fallbacks = [
        Fallback(
            charge_point_id=cp.charge_point_id,
            group_id=cp.member.group_id,
            connectors=cp.connectors,
            online=registry.get(cp.charge_point_id) is not None,
            limit=cp.default_target,
            accepted=cp.default_accepted,
            sent_at=cp.default_last.sent_at if cp.default_last else None,
            status=cp.default_last.status if cp.default_last else None,
        )
        for cp in sorted(members, key=lambda cp: cp.charge_point_id)
    ]
    return AllocationView(
        enabled=model.enabled,
        groups=uses,
        transactions=transactions,
        fallbacks=fallbacks,
        compute_seconds=model.compute_seconds,
        converge_seconds=model.converge_seconds,
        profiles_sent=model.profiles_sent,
        rounds=[r for r in reversed(model.rounds) if r.root == model.root_of(group_id)][:10],
    )
