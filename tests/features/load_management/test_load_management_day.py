"""A simulated day of site load management: 20 charge points (2 connectors each) on a site
limited to 100 A, cars arriving and leaving at random (seeded), some drawing less than they may,
some stopping to draw (SuspendedEV) or drawing more again, meter values every hour.

The simulated charge points enforce the profiles they were sent: their meter values never
exceed their own evaluation of the profiles (simulator/smart_charging.py), and one whose limit
drops below 6 A says SuspendedEVSE (Charging again above it), as a real one would. Time is
simulated: each event runs as soon as the previous one has settled, no real waiting.

Asserted:
* from the frames, in the order they crossed (all charge points in one process, one monotonic
  clock): the sum of the TxProfile limits in force never exceeds 100 A, a lowering counting
  once Accepted, a raise from the moment it arrives, a stopped transaction no more (from the
  moment its StopTransaction leaves, whatever profile for it arrives or is answered after);
* once settled after each event: no limit between 0 and 6 A; a charging car is paused only
  when 16 (= 100 // 6) others each have their minimum and no idle car has any current; two
  charging cars differ only where the smaller one got all it asked for (max-min fairness);
* regularly: every charge point's own composite schedule (GetCompositeSchedule) agrees with
  the CSMS's, and its limit is the allocation the CSMS shows.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.harness import Harness, csms

from csms.simulator import SimulatedChargePoint
from csms.simulator.meter import default_sampled_values
from csms.simulator.smart_charging import get_composite_schedule
from csms.storage import IdTag

SITE_LIMIT = Decimal(100)
MINIMUM = Decimal(6)
CHARGE_POINTS = 20
CONNECTORS = 2
SEED = 20250602
DAY = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)


@dataclass
class Session:
    charge_point: int
    connector_id: int
    arrive: datetime
    leave: datetime
    car_max: Decimal  # what the car can take, A per phase
    full_at: datetime | None  # SuspendedEV from then on
    ramp_at: datetime | None  # takes 16 A from then on
    transaction_id: int | None = None
    energy: float = 0.0


@dataclass
class Day:
    harness: Harness
    cps: list[SimulatedChargePoint]
    now: list[datetime]
    group_id: int
    sessions: dict[tuple[int, int], Session] = field(default_factory=dict)  # active ones
    events: int = 0
    checks: int = 0

    def cp(self, index: int) -> SimulatedChargePoint:
        return self.cps[index]


def plan_sessions(rng: random.Random) -> list[Session]:
    sessions = []
    for index in range(CHARGE_POINTS):
        for connector_id in range(1, CONNECTORS + 1):
            t = DAY + timedelta(minutes=rng.randrange(0, 180, 5))
            while t < DAY + timedelta(hours=15):
                stay = timedelta(minutes=rng.randrange(45, 300, 5))
                full = rng.random() < 0.3
                ramp = rng.random() < 0.2
                sessions.append(
                    Session(
                        charge_point=index,
                        connector_id=connector_id,
                        arrive=t,
                        leave=t + stay,
                        car_max=Decimal(rng.choice((8, 11, 16, 16, 16))),
                        full_at=t + stay * 3 / 4 if full else None,
                        ramp_at=t + stay / 3 if ramp and not full else None,
                    )
                )
                t += stay + timedelta(minutes=rng.randrange(10, 180, 5))
    return sessions


def timeline(sessions: list[Session]) -> list[tuple[datetime, list[tuple[str, Session | None]]]]:
    """Events by time; those at the same time come as one burst."""
    at: dict[datetime, list[tuple[str, Session | None]]] = {}
    for session in sessions:
        at.setdefault(session.arrive, []).append(("arrive", session))
        at.setdefault(session.leave, []).append(("leave", session))
        if session.full_at is not None:
            at.setdefault(session.full_at.replace(second=0, microsecond=0), []).append(
                ("full", session)
            )
        if session.ramp_at is not None:
            at.setdefault(session.ramp_at.replace(second=0, microsecond=0), []).append(
                ("ramp", session)
            )
    for hour in range(1, 17):
        at.setdefault(DAY + timedelta(hours=hour, minutes=1), []).append(("meter", None))
    order = {"leave": 0, "full": 1, "ramp": 2, "arrive": 3, "meter": 4}
    return [(t, sorted(at[t], key=lambda e: order[e[0]])) for t in sorted(at)]


_LIMITS: dict[tuple[int, int, int, datetime], Decimal] = {}


def sim_limit(cp: SimulatedChargePoint, connector_id: int) -> Decimal:
    """The charge point's own composite limit on the connector now (A per phase); evaluated
    again only after new frames (its profiles and transactions change only with them)."""
    key = (id(cp), connector_id, len(cp.log), cp.clock())
    if key not in _LIMITS:
        answer = get_composite_schedule(cp.state, {"connectorId": connector_id, "duration": 1})
        period = answer["chargingSchedule"]["chargingSchedulePeriod"][0]
        _LIMITS[key] = Decimal(str(period["limit"]))
    return _LIMITS[key]


async def arrive(day: Day, session: Session) -> None:
    cp = day.cp(session.charge_point)
    if (session.charge_point, session.connector_id) in day.sessions:
        return  # the previous car is still there (overlapping plan): this one goes elsewhere
    await cp.status_notification(session.connector_id, "Preparing")
    tag = f"TAG-{session.charge_point}-{session.connector_id}"
    answer = await cp.start_transaction(session.connector_id, tag, meter_start=0)
    session.transaction_id = answer["transactionId"]
    day.sessions[(session.charge_point, session.connector_id)] = session
    await cp.status_notification(session.connector_id, "Charging")


async def leave(day: Day, session: Session) -> None:
    if day.sessions.get((session.charge_point, session.connector_id)) is not session:
        return
    cp = day.cp(session.charge_point)
    assert session.transaction_id is not None
    del day.sessions[(session.charge_point, session.connector_id)]
    await cp.stop_transaction(session.transaction_id, int(session.energy), reason="EVDisconnected")
    await cp.status_notification(session.connector_id, "Finishing")
    await cp.status_notification(session.connector_id, "Available")


def draw(day: Day, session: Session) -> Decimal:
    cp = day.cp(session.charge_point)
    status = cp.state.connector_status.get(session.connector_id)
    if status in ("SuspendedEV", "SuspendedEVSE"):
        return Decimal(0)
    car = Decimal(16) if session.ramp_at and day.now[0] >= session.ramp_at else session.car_max
    return min(car, sim_limit(cp, session.connector_id))


async def meter(day: Day, session: Session) -> None:
    cp = day.cp(session.charge_point)
    current = draw(day, session)
    session.energy += float(current) * 230 * 3  # about an hour at that current
    await cp.meter_values(
        session.connector_id,
        transaction_id=session.transaction_id,
        sampled_values=default_sampled_values(
            session.energy, charging=current > 0, current_a=float(current)
        ),
    )


async def run_event(day: Day, kind: str, session: Session | None) -> None:
    day.events += 1
    if kind == "arrive":
        assert session is not None
        await arrive(day, session)
    elif kind == "leave":
        assert session is not None
        await leave(day, session)
    elif session is None:  # meter: every active connector at once
        await asyncio.gather(*(meter(day, s) for s in list(day.sessions.values())))
    elif day.sessions.get((session.charge_point, session.connector_id)) is session:
        if kind == "full":
            await day.cp(session.charge_point).status_notification(
                session.connector_id, "SuspendedEV"
            )
        else:  # ramp: the car takes more; the next meter values show it
            await meter(day, session)


async def settle(day: Day) -> None:
    """Wait for load management, let each charge point react to its limits (SuspendedEVSE
    below 6 A, Charging again above), until nothing changes."""
    for _ in range(6):
        await day.harness.app.services.load.wait_idle(timeout=20)
        reactions: list[Coroutine[Any, Any, Any]] = []
        for (index, connector_id), session in day.sessions.items():
            cp = day.cp(index)
            status = cp.state.connector_status.get(connector_id)
            limit = sim_limit(cp, connector_id)
            if status == "Charging" and limit < MINIMUM:
                reactions.append(cp.status_notification(connector_id, "SuspendedEVSE"))
            elif status == "SuspendedEVSE" and limit >= MINIMUM:
                reactions.append(cp.status_notification(connector_id, "Charging"))
                reactions.append(meter(day, session))
        if not reactions:
            return
        await asyncio.gather(*reactions)
    raise AssertionError("the site did not settle")


async def allocation(day: Day) -> dict[str, Any]:
    response = await day.harness.api.get(f"/load-groups/{day.group_id}/allocation")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def check_fairness(day: Day) -> None:
    body = await allocation(day)
    rows = body["transactions"]
    assert {row["transactionId"] for row in rows} == {
        s.transaction_id for s in day.sessions.values()
    }
    assert Decimal(str(body["groups"][0]["inForce"])) <= SITE_LIMIT
    idle = ("SuspendedEV", "Finishing")
    charging = [row for row in rows if row["connectorStatus"] not in idle]
    limits = {row["transactionId"]: Decimal(str(row["limit"])) for row in rows}
    for row in rows:
        assert limits[row["transactionId"]] == 0 or limits[row["transactionId"]] >= MINIMUM, row
    if any(limits[row["transactionId"]] == 0 for row in charging):
        served = [row for row in rows if limits[row["transactionId"]] >= MINIMUM]
        assert len(served) == int(SITE_LIMIT // MINIMUM), rows
        assert all(limits[row["transactionId"]] == 0 for row in rows if row not in charging)
    served_charging = [row for row in charging if limits[row["transactionId"]] > 0]
    for a in served_charging:
        for b in served_charging:
            wanted = min(Decimal(str(a["demand"])), limits[b["transactionId"]])
            assert limits[a["transactionId"]] >= wanted - Decimal("0.1"), (a, b)


async def drain(cp: SimulatedChargePoint) -> list[Any]:
    """The CALLs the CSMS sent so far (the frames are checked from the log)."""
    calls = []
    while True:
        try:
            calls.append(await cp.expect_call(timeout=0.001))
        except AssertionError:
            return calls


async def check_composites(day: Day) -> None:
    """Each charge point's own composite limit is the CSMS's, and the allocation's."""
    for cp in day.cps:
        await drain(cp)
    body = await allocation(day)
    by_tx = {row["transactionId"]: row for row in body["transactions"]}
    day.checks += 1
    for (index, connector_id), session in day.sessions.items():
        cp = day.cp(index)
        response = await day.harness.api.get(
            f"/charge-points/{cp.charge_point_id}/composite-schedule",
            params={"connectorId": connector_id, "duration": 120, "compare": "true"},
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        await cp.expect_call("GetCompositeSchedule")
        assert answer["agree"], answer
        row = by_tx[session.transaction_id]
        assert sim_limit(cp, connector_id) == Decimal(str(row["limit"])), row


# A replay of the wire, one branch per frame kind: a test oracle kept in one piece.
def frames_sum(cps: list[SimulatedChargePoint]) -> tuple[Decimal, int]:  # noqa: C901
    """Replay every frame of every charge point in the order they crossed: the highest sum of
    the TxProfile limits in force, and how many SetChargingProfile came."""
    frames = sorted(
        ((frame.time, cp.charge_point_id, frame) for cp in cps for frame in cp.log),
        key=lambda item: item[0],
    )
    in_force: dict[tuple[str, int], tuple[int, Decimal]] = {}  # -> (transactionId, limit)
    pending: dict[tuple[str, str], tuple[int, int, Decimal, tuple[int, Decimal] | None]] = {}
    # A charge point keeps its transaction until the StopTransaction answer comes, so it may
    # still accept a profile for it after sending the stop; the car draws nothing by then.
    stopped: set[int] = set()
    peak, messages = Decimal(0), 0
    for _, charge_point_id, frame in frames:
        message = json.loads(frame.text)
        if frame.direction == "received" and message[0] == 2:
            _, unique_id, action, payload = message
            if action != "SetChargingProfile":
                continue
            messages += 1
            profile = payload["csChargingProfiles"]
            if profile["chargingProfilePurpose"] != "TxProfile":
                continue
            if profile["transactionId"] in stopped:
                continue
            connector_id = payload["connectorId"]
            limit = Decimal(str(profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]))
            key = (charge_point_id, connector_id)
            before = in_force.get(key)
            pending[(charge_point_id, unique_id)] = (
                connector_id,
                profile["transactionId"],
                limit,
                before,
            )
            if before is None or before[0] != profile["transactionId"] or limit >= before[1]:
                in_force[key] = (profile["transactionId"], limit)  # a raise: in force now
        elif frame.direction == "sent" and message[0] == 3:
            _, unique_id, payload = message
            sent = pending.pop((charge_point_id, unique_id), None)
            if sent is None:
                continue
            connector_id, transaction_id, limit, before = sent
            key = (charge_point_id, connector_id)
            if transaction_id in stopped:
                pass
            elif payload.get("status") == "Accepted":
                in_force[key] = (transaction_id, limit)  # a lowering: in force once Accepted
            elif in_force.get(key) == (transaction_id, limit):
                if before is None:
                    in_force.pop(key)
                else:
                    in_force[key] = before
        elif frame.direction == "sent" and message[0] == 2 and message[2] == "StopTransaction":
            stopped.add(message[3]["transactionId"])
            for key, (transaction_id, _) in list(in_force.items()):
                if transaction_id in stopped:
                    del in_force[key]
        total = sum((limit for _, limit in in_force.values()), Decimal(0))
        assert total <= SITE_LIMIT, f"{total} A in force at {frame}"
        peak = max(peak, total)
    return peak, messages


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Day]:
    now = [DAY]
    # Bursts of one slot come together anyway: a short debounce keeps the day quick.
    async with csms(tmp_path / "csms.db", certification_mode=False, load_debounce=0.001) as harness:
        for index in range(CHARGE_POINTS):
            for connector_id in range(1, CONNECTORS + 1):
                await harness.store.put_id_tag(
                    IdTag(id_tag=f"TAG-{index}-{connector_id}", status="Accepted")
                )
        cps = [
            harness.charge_point(f"SITE-{index:02}", connectors=CONNECTORS, clock=lambda: now[0])
            for index in range(CHARGE_POINTS)
        ]
        for cp in cps:
            await cp.connect()
            await cp.boot_and_report()
        response = await harness.api.post(
            "/load-groups", json={"name": "site", "limit": float(SITE_LIMIT)}
        )
        assert response.status_code == 201, response.text
        group_id = response.json()["id"]
        for cp in cps:
            response = await harness.api.put(
                f"/load-groups/{group_id}/members/{cp.charge_point_id}", json={}
            )
            assert response.status_code == 200, response.text
        try:
            yield Day(harness=harness, cps=cps, now=now, group_id=group_id)
        finally:
            for cp in cps:
                await cp.close()


async def test_a_day_on_a_100_a_site(day: Day) -> None:
    await settle(day)
    for cp in day.cps:  # the fallback: 100 A / 40 connectors (and the boot's GetConfiguration)
        defaults = [c for c in await drain(cp) if c.action == "SetChargingProfile"]
        assert (
            defaults[-1].payload["csChargingProfiles"]["chargingSchedule"][
                "chargingSchedulePeriod"
            ][0]["limit"]
            == 2.5
        )
    events = timeline(plan_sessions(random.Random(SEED)))
    most = 0
    for step, (moment, burst) in enumerate(events):
        day.now[0] = moment
        await asyncio.gather(*(run_event(day, kind, session) for kind, session in burst))
        await settle(day)
        await check_fairness(day)
        most = max(most, len(day.sessions))
        if step % 40 == 0:
            await check_composites(day)
    await check_composites(day)

    peak, messages = frames_sum(day.cps)
    print(
        f"\n{day.events} events, at most {most} cars at once: peak sum of TxProfile limits "
        f"{peak} A of {SITE_LIMIT} A, {messages} SetChargingProfile messages, "
        f"{day.checks} composite schedule checks"
    )
    assert day.events > 300
    assert most > int(SITE_LIMIT // MINIMUM)  # some cars had to wait
    assert peak > SITE_LIMIT - MINIMUM  # the site was used
