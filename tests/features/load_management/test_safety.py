"""Load management's safety net, as properties over the production code path
(features/load_management/ `converge`, allocation.py, smart_charging/allocation.py):
for random group trees, limits, strategies, charge points, transactions, limits in force,
answers (Accepted, Rejected, no answer) and answer orders, the sum of what may be in force never
exceeds any group's limit at any instant: while lowerings and raises are in flight (a charge
point may apply a profile at any moment between receiving it and answering, so each in-flight
profile counts at the worse of its old and new limit), when fallback TxDefaultProfiles change
under transactions that run on them, and when a group's fallbacks are bounded by its parents.

The charge points are in-process stand-ins registered in the real Registry: they keep which
profile applies to each transaction and answer when the test says so. The store is a stand-in
that only takes the two records converge writes (installed profiles and the allocation history,
tested on both databases in test_load_management*.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csms.features.context import Services
from csms.features.load_management import converge
from csms.features.load_management.allocation import GroupNode, fallback_limits
from csms.features.load_management.machine import Draw, TxEvent
from csms.features.load_management.model import CpState, TxState, group_limit_amps
from csms.ocppj import CallResult
from csms.settings import Settings
from csms.storage import LoadGroup, LoadGroupMember
from csms.transport import Registry

NOW = datetime(2030, 1, 1, tzinfo=UTC)
ROOT = 1


class RecordingStore:
    """Takes what converge records; nothing else of the store is used on this path."""

    def __init__(self) -> None:
        self.profiles: list[Any] = []
        self.allocations: list[Any] = []

    async def record_load_profile(self, profile: Any) -> None:
        self.profiles.append(profile)

    async def record_load_allocations(self, history: list[Any]) -> None:
        self.allocations.extend(history)


@dataclass
class Flight:
    charge_point: ChargePoint
    connector_id: int
    transaction_id: int | None
    limit: Decimal
    answer: asyncio.Future[str]

    def __repr__(self) -> str:
        what = f"transaction {self.transaction_id}" if self.transaction_id else "fallback"
        return f"<{self.charge_point.charge_point_id} {what}: {self.limit} A>"


@dataclass
class ChargePoint:
    """What the charge point applies: a TxProfile limit per transaction, the fallback."""

    world: World
    charge_point_id: str
    max_current: Decimal
    tx_limits: dict[int, Decimal] = field(default_factory=dict)
    default: Decimal | None = None
    registration: str = "Accepted"
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def applied(self, transaction_id: int) -> Decimal:
        limit = self.tx_limits.get(transaction_id)
        if limit is None:
            limit = self.default if self.default is not None else self.max_current
        return min(limit, self.max_current)

    def worst(self, transaction_id: int) -> Decimal:
        """The most the transaction may draw now, whichever in-flight profiles it applied."""
        candidates = [self.applied(transaction_id)]
        for flight in self.world.flights:
            if flight.charge_point is not self:
                continue
            if flight.transaction_id == transaction_id:
                candidates.append(flight.limit)
            elif flight.transaction_id is None and transaction_id not in self.tx_limits:
                candidates.append(flight.limit)  # a fallback under a transaction on it
        return min(max(candidates), self.max_current)

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[Any]:
        async with self.lock:
            yield self.call

    async def call(self, action: str, payload: dict[str, Any], **_: Any) -> CallResult:
        assert action == "SetChargingProfile"
        wire = payload["csChargingProfiles"]
        (period,) = wire["chargingSchedule"]["chargingSchedulePeriod"]
        flight = Flight(
            charge_point=self,
            connector_id=payload["connectorId"],
            transaction_id=wire.get("transactionId"),
            limit=Decimal(str(period["limit"])),
            answer=asyncio.get_running_loop().create_future(),
        )
        self.world.flights.append(flight)
        self.world.check(f"sent {self.charge_point_id} {wire.get('transactionId')} {flight.limit}")
        self.world.sent.set()
        try:
            status = await flight.answer
        finally:
            self.world.flights.remove(flight)
        if status == "Timeout":  # lost on the way: not applied
            raise TimeoutError
        if status in ("Accepted", "AnswerLost"):
            if flight.transaction_id is None:
                self.default = flight.limit
            else:
                self.tx_limits[flight.transaction_id] = flight.limit
        self.world.check(f"answered {self.charge_point_id} {flight.transaction_id} {status}")
        if status == "AnswerLost":  # applied, but the answer was lost
            raise TimeoutError
        return CallResult(unique_id="1", payload={"status": status})


@dataclass
class World:
    services: Services
    charge_points: dict[str, ChargePoint] = field(default_factory=dict)
    flights: list[Flight] = field(default_factory=list)
    sent: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def model(self) -> Any:
        return self.services.load

    def check(self, when: str) -> None:
        for group_id, group in self.model.groups.items():
            below = set(self.model.subtree(group_id))
            total = sum(
                (
                    self.charge_points[cp.charge_point_id].worst(tx.transaction_id)
                    for cp in self.model.cps.values()
                    if cp.member.group_id in below
                    for tx in cp.transactions.values()
                ),
                Decimal(0),
            )
            limit = group_limit_amps(group)
            assert total <= limit, f"group {group_id}: {total} A > {limit} A ({when})"


def group(group_id: int, parent: int | None, limit: int, strategy: str) -> LoadGroup:
    return LoadGroup(
        id=group_id,
        name=f"g{group_id}",
        parent_id=parent,
        limit=Decimal(limit),
        strategy=strategy,
        created_at=NOW,
        updated_at=NOW,
    )


AMPS = st.integers(0, 32).map(Decimal)


def build(data: st.DataObject) -> World:
    services = Services(
        settings=Settings(certification_mode=False),
        store=RecordingStore(),  # type: ignore[arg-type]
        registry=Registry(),
    )
    world = World(services)
    model = services.load
    model.enabled = False  # no worker: converge is called by the test
    parents: dict[int, int | None] = {ROOT: None}
    for group_id in range(2, data.draw(st.integers(1, 4), label="groups") + 1):
        parents[group_id] = data.draw(st.sampled_from(sorted(parents)), label="parent")
    strategies = st.sampled_from(["EqualShare", "Priority"])
    limits = {g: data.draw(st.integers(0, 100), label=f"limit {g}") for g in parents}
    for index in range(data.draw(st.integers(1, 5), label="charge points")):
        charge_point_id = f"CP{index}"
        max_current = data.draw(st.sampled_from([Decimal(16), Decimal(32)]), label="max")
        member = LoadGroupMember(
            charge_point_id=charge_point_id,
            group_id=data.draw(st.sampled_from(sorted(parents)), label="group"),
            priority=data.draw(st.integers(0, 2), label="priority"),
            max_current=max_current,
        )
        connectors = data.draw(st.integers(1, 3), label="connectors")
        cp = CpState(member=member, connectors=connectors, refresh=False, listed=True)
        cp.needs_default = data.draw(st.booleans(), label="needs default")
        fake = ChargePoint(world, charge_point_id, max_current)
        cp.default_accepted = fake.default = data.draw(st.none() | AMPS, label="default")
        for connector_id in range(1, connectors + 1):
            if not data.draw(st.booleans(), label="charging"):
                continue
            transaction_id = index * 10 + connector_id
            tx = TxState(transaction_id=transaction_id, connector_id=connector_id)
            tx.accepted = data.draw(st.none() | AMPS, label="accepted")
            if tx.accepted is not None:
                fake.tx_limits[transaction_id] = tx.accepted
            tx.priority = data.draw(st.none() | st.integers(0, 3), label="tx priority")
            if data.draw(st.integers(0, 4), label="idle") == 0:
                tx.on(TxEvent.NOT_DRAWING)
            if data.draw(st.integers(0, 3), label="draws") == 0:
                tx.draw, tx.draw_seen = data.draw(AMPS, label="draw"), float("inf")
            cp.transactions[connector_id] = tx
        model.cps[charge_point_id] = cp
        world.charge_points[charge_point_id] = fake
        services.registry.add(fake)  # type: ignore[arg-type]
    # What is in force at the start fits every group (else no allocation could make it fit
    # at once: a lowering counts only once Accepted).
    for group_id in parents:
        model.groups[group_id] = group(group_id, parents[group_id], 0, "EqualShare")
    for group_id in parents:
        below = set(model.subtree(group_id))
        in_force = sum(
            (
                world.charge_points[cp.charge_point_id].applied(tx.transaction_id)
                for cp in model.cps.values()
                if cp.member.group_id in below
                for tx in cp.transactions.values()
            ),
            Decimal(0),
        )
        limit = max(limits[group_id], int(in_force) + 1)
        strategy = data.draw(strategies, label="strategy")
        model.groups[group_id] = group(group_id, parents[group_id], limit, strategy)
    world.check("at the start")
    return world


async def run_converge(world: World, data: st.DataObject) -> None:
    """converge, answering the profiles in flight one at a time, in an order and with answers
    the test draws."""
    task = asyncio.ensure_future(converge(world.services, ROOT))
    while not task.done():
        world.sent.clear()
        sent = asyncio.ensure_future(world.sent.wait())
        if not world.flights:
            await asyncio.wait([task, sent], return_when=asyncio.FIRST_COMPLETED)
        sent.cancel()
        # Let every send started in the same gather reach its charge point.
        for _ in range(5):
            await asyncio.sleep(0)
        if not world.flights or task.done():
            continue
        index = data.draw(st.integers(0, len(world.flights) - 1), label=f"next of {world.flights}")
        flight = world.flights[index]
        # "AnswerLost": applied, then no answer (test_a_raise_whose_answer_was_lost_stays_reserved).
        status = data.draw(
            st.sampled_from(["Accepted"] * 6 + ["Rejected", "Timeout", "AnswerLost"]),
            label="answer",
        )
        flight.answer.set_result(status)
    await task
    world.check("after converge")


def changes(world: World, data: st.DataObject) -> None:
    """Between two allocations: transactions stop, go idle or draw less, stuck charge points
    are heard from again."""
    model = world.model
    for cp in model.cps.values():
        cp.stuck = False
        for connector_id, tx in list(cp.transactions.items()):
            tx.on(TxEvent.HEARD_FROM)
            event = data.draw(st.sampled_from(["none", "stop", "idle", "draw"]), label="event")
            if event == "stop":
                del cp.transactions[connector_id]
            elif event == "idle":
                tx.on(TxEvent.CHARGING if tx.mode.draw == Draw.IDLE else TxEvent.NOT_DRAWING)
            elif event == "draw":
                tx.draw, tx.draw_seen = data.draw(AMPS, label="draw"), float("inf")
    model.retry_at.clear()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_no_group_ever_exceeds_its_limit_while_profiles_are_in_flight(
    data: st.DataObject,
) -> None:
    async def scenario() -> None:
        world = build(data)
        await run_converge(world, data)
        changes(world, data)
        await run_converge(world, data)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("limit", "high_before", "over_by"),
    [(32, 20, Decimal(4)), (13, 5, Decimal("0.5")), (12.2, 5, Decimal("0.1"))],
)
def test_a_fallback_raise_under_a_transaction_on_it_waits_for_room(
    limit: float, high_before: int, over_by: Decimal
) -> None:
    """Cases the properties cover, pinned at the raise gate's edge: a fallback that rises under
    a transaction still on it while a neighbour's TxProfile rises too. Sent together the raises
    would exceed the group's limit by `over_by`; the gate keeps the fallback back until the
    transaction's own TxProfile is Accepted."""

    async def scenario() -> None:
        services = Services(
            settings=Settings(certification_mode=False),
            store=RecordingStore(),  # type: ignore[arg-type]
            registry=Registry(),
        )
        world = World(services)
        model = services.load
        model.groups[ROOT] = group(ROOT, None, 0, "Priority")
        model.groups[ROOT] = dataclasses.replace(model.groups[ROOT], limit=Decimal(str(limit)))
        high = CpState(
            member=LoadGroupMember(charge_point_id="HIGH", group_id=ROOT, priority=2),
            connectors=1,
            refresh=False,
            listed=True,
            needs_default=False,
        )
        low = CpState(
            member=LoadGroupMember(charge_point_id="LOW", group_id=ROOT, priority=0),
            connectors=1,
            refresh=False,
            listed=True,
            needs_default=False,
        )
        for cp in (high, low):
            fake = ChargePoint(world, cp.charge_point_id, Decimal(32))
            cp.default_accepted = fake.default = Decimal(5)
            world.charge_points[cp.charge_point_id] = fake
            services.registry.add(fake)  # type: ignore[arg-type]
            model.cps[cp.charge_point_id] = cp
        high.transactions[1] = TxState(
            transaction_id=1, connector_id=1, accepted=Decimal(high_before)
        )
        world.charge_points["HIGH"].tx_limits[1] = Decimal(high_before)
        low.transactions[1] = TxState(transaction_id=2, connector_id=1)  # on the fallback (5 A)
        world.check("at the start")
        task = asyncio.ensure_future(converge(services, ROOT))
        while not task.done():
            for _ in range(5):
                await asyncio.sleep(0)
            for flight in list(world.flights):
                if not flight.answer.done():
                    flight.answer.set_result("Accepted")
            world.sent.clear()
            sent = asyncio.ensure_future(world.sent.wait())
            await asyncio.wait([task, sent], return_when=asyncio.FIRST_COMPLETED)
            sent.cancel()
        await task
        world.check("after converge")

    asyncio.run(scenario())


def test_a_raise_whose_answer_was_lost_stays_reserved() -> None:
    """The charge point may have applied a raise it sent no answer to (the answer was lost):
    until it is heard from, that raise must stay reserved. Group of 12 A: A paused (0 A), B at
    12 A; equal shares are 6 A each: B is lowered to 6 (Accepted), A raised to 6 (applied, the
    answer lost). Reserving A at 0 A, a new round would give B 12 A again: 18 A on 12."""

    async def scenario() -> None:
        services = Services(
            settings=Settings(certification_mode=False),
            store=RecordingStore(),  # type: ignore[arg-type]
            registry=Registry(),
        )
        world = World(services)
        model = services.load
        model.groups[ROOT] = group(ROOT, None, 12, "EqualShare")
        for name, transaction_id, before in (("A", 1, Decimal(0)), ("B", 2, Decimal(12))):
            cp = CpState(
                member=LoadGroupMember(
                    charge_point_id=name, group_id=ROOT, max_current=Decimal(16)
                ),
                connectors=1,
                refresh=False,
                listed=True,
                needs_default=False,
            )
            fake = ChargePoint(world, name, Decimal(16))
            cp.default_accepted = fake.default = Decimal(6)
            cp.transactions[1] = TxState(
                transaction_id=transaction_id, connector_id=1, accepted=before
            )
            fake.tx_limits[transaction_id] = before
            world.charge_points[name] = fake
            services.registry.add(fake)  # type: ignore[arg-type]
            model.cps[name] = cp
        world.check("at the start")
        lost: list[Flight] = []
        task = asyncio.ensure_future(converge(services, ROOT))
        while not task.done():
            for _ in range(5):
                await asyncio.sleep(0)
            for flight in list(world.flights):
                if flight.answer.done():
                    continue
                first_raise_of_a = flight.transaction_id == 1 and not lost
                if first_raise_of_a:
                    lost.append(flight)
                flight.answer.set_result("AnswerLost" if first_raise_of_a else "Accepted")
            world.sent.clear()
            sent = asyncio.ensure_future(world.sent.wait())
            await asyncio.wait([task, sent], return_when=asyncio.FIRST_COMPLETED)
            sent.cancel()
        await task
        assert lost, "A's raise was never sent"
        world.check("after converge")

    asyncio.run(scenario())


# -- fallbacks -------------------------------------------------------------------------------


@st.composite
def trees(draw: st.DrawFn) -> tuple[GroupNode, dict[int, int]]:
    count = draw(st.integers(1, 6))
    parents = {1: None} | {g: draw(st.integers(1, g - 1)) for g in range(2, count + 1)}
    limits = {g: Decimal(draw(st.integers(0, 2000))) / 10 for g in parents}
    connectors = {g: draw(st.integers(0, 6)) for g in parents}

    def node(group_id: int) -> GroupNode:
        children = tuple(node(child) for child, parent in parents.items() if parent == group_id)
        return GroupNode(id=group_id, limit_amps=limits[group_id], children=children)

    return node(1), connectors


@given(trees())
def test_fallbacks_keep_every_group_within_its_limit(
    tree_and_connectors: tuple[GroupNode, dict[int, int]],
) -> None:
    """If every connector below a group charges at its fallback at once, the group holds: the
    fallback of a sub-group is bounded by its own limit and by every group above it."""
    root, connectors = tree_and_connectors
    limits = fallback_limits(root, connectors)
    for group in root.walk():
        drawn = sum(
            (connectors.get(below.id, 0) * limits[below.id] for below in group.walk()), Decimal(0)
        )
        assert drawn <= group.limit_amps, (group.id, drawn, group.limit_amps, limits)
        assert limits[group.id] >= 0
