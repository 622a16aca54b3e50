"""Site load management, the arithmetic over a tree of groups (site > feeder > charge point).
Pure: no I/O; `smart_charging.allocate` does the sharing within each group.

A group's limit bounds everything below it. The tree is solved bottom up: each group shares
its own limit among the transactions of its whole subtree, each capped by what the groups
below it gave it; the root's result is the allocation. With equal share this is the max-min
fair allocation under nested limits (a transaction gets min(what it can take, the water level
of each group above it)); with priority, each group serves its highest tiers first among what
its subgroups allow.

A transaction whose limit the CSMS cannot change now (its charge point is offline, or refused
or did not answer the last profile) is `fixed`: its limit in force is reserved in every group
above it and the others share what is left (never below zero).

`fallback_limits` gives each charge point the TxDefaultProfile limit that keeps every group
within its limit even if all the connectors below it charge on that fallback at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from csms.smart_charging import Demand, Strategy, allocate

_TENTH = Decimal("0.1")
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class LeafDemand:
    """One active transaction."""

    key: str
    # What the connector (and car) can take, A per phase.
    max_current: Decimal
    phases: int = 3
    priority: int = 0
    # What the car draws now, when it clearly draws less than it is allowed (A per phase).
    observed_draw: Decimal | None = None
    # The limit in force that cannot be changed now (reserved), or None.
    fixed: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupNode:
    id: int
    # A per phase (a W limit already converted by the caller).
    limit_amps: Decimal
    strategy: Strategy = Strategy.EQUAL_SHARE
    min_current: Decimal = Decimal(6)
    draw_margin: Decimal = Decimal(2)
    children: tuple[GroupNode, ...] = ()
    # The transactions of the charge points that are members of this very group.
    demands: tuple[LeafDemand, ...] = ()

    def walk(self) -> Iterator[GroupNode]:
        """This group and every group below it, parents first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def all_demands(self) -> Iterator[LeafDemand]:
        for node in self.walk():
            yield from node.demands


@dataclass(frozen=True, slots=True, kw_only=True)
class Share:
    """What one transaction may draw, and why."""

    key: str
    limit: Decimal
    paused: bool
    number_phases: int
    # What it asked for: its maximum, or its measured draw plus the margin.
    demand: Decimal
    # The group whose limit made it less than its demand (None: it got its demand).
    bound_by: int | None
    # Reserved at its limit in force (not changeable now).
    fixed: bool = False


@dataclass(slots=True)
class _Entry:
    demand: LeafDemand
    cap: Decimal
    asked: Decimal
    bound_by: int | None = None
    paused: bool = False
    priority: int = 0


def allocate_tree(root: GroupNode) -> dict[str, Share]:
    """The allocation of every transaction under `root`, by key."""
    entries = _solve(root)
    shares: dict[str, Share] = {}
    for key, entry in entries.items():
        shares[key] = Share(
            key=key,
            limit=entry.cap,
            paused=entry.paused,
            number_phases=entry.demand.phases,
            demand=entry.asked,
            bound_by=entry.bound_by,
        )
    for demand in root.all_demands():
        if demand.fixed is not None:
            shares[demand.key] = Share(
                key=demand.key,
                limit=demand.fixed,
                paused=demand.fixed == 0,
                number_phases=demand.phases,
                demand=demand.max_current,
                bound_by=None,
                fixed=True,
            )
    return shares


def _solve(node: GroupNode) -> dict[str, _Entry]:
    """The caps of the changeable transactions below `node` once its own limit is shared."""
    entries: dict[str, _Entry] = {}
    for child in node.children:
        entries.update(_solve(child))
    direct = [demand for demand in node.demands if demand.fixed is None]
    for demand in direct:
        entries[demand.key] = _Entry(
            demand=demand,
            cap=demand.max_current,
            asked=_asked(demand, node),
            priority=demand.priority,
        )
    if not entries:
        return entries
    reserved = sum(
        (demand.fixed for demand in node.all_demands() if demand.fixed is not None), _ZERO
    )
    direct_keys = {demand.key for demand in direct}
    order = list(entries.values())
    demands = [
        Demand(
            key=entry.demand.key,
            max_current=entry.cap,
            phases=entry.demand.phases,
            priority=entry.priority,
            # The measured draw counts once, where the transaction's own group shares.
            observed_draw=entry.demand.observed_draw if entry.demand.key in direct_keys else None,
        )
        for entry in order
    ]
    allocations = allocate(
        max(node.limit_amps - reserved, _ZERO),
        demands,
        min_current=node.min_current,
        strategy=node.strategy,
        draw_margin=node.draw_margin,
    )
    for entry, allocation in zip(order, allocations, strict=True):
        if allocation.paused:
            if not entry.paused and entry.cap >= node.min_current:
                entry.bound_by = node.id
            entry.paused = True
            entry.cap = _ZERO
        elif allocation.limit < min(entry.cap, entry.asked):
            entry.bound_by = node.id
            entry.cap = allocation.limit
        else:
            entry.cap = allocation.limit
    return entries


def _asked(demand: LeafDemand, node: GroupNode) -> Decimal:
    """What the transaction wants: its maximum, or its draw plus the margin (allocate's cap)."""
    if demand.observed_draw is None:
        return demand.max_current
    return min(
        demand.max_current,
        max(demand.observed_draw + node.draw_margin, node.min_current),
    )


def fallback_limits(root: GroupNode, connectors: Mapping[int, int]) -> dict[int, Decimal]:
    """Per group id: the TxDefaultProfile limit (A per phase) for the connectors of its member
    charge points, so that every group stays within its limit if all the connectors below it
    charge at their fallback. `connectors`: group id -> connectors of its own members."""
    limits: dict[int, Decimal] = {}

    def below(node: GroupNode) -> int:
        return connectors.get(node.id, 0) + sum(below(child) for child in node.children)

    def visit(node: GroupNode, bound: Decimal | None) -> None:
        count = below(node)
        own = _floor_tenth(node.limit_amps / count) if count else node.limit_amps
        limit = own if bound is None else min(bound, own)
        limits[node.id] = limit
        for child in node.children:
            visit(child, limit)

    visit(root, None)
    return limits


def _floor_tenth(value: Decimal) -> Decimal:
    return value.quantize(_TENTH, rounding=ROUND_FLOOR)
