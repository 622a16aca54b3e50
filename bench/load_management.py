"""Benchmark of site load management with 1,000 active transactions on simulated charge points.

    .venv/bin/python bench/load_management.py                 # 500 charge points x 2 connectors
    .venv/bin/python bench/load_management.py --charge-points 250 --json

It starts `csms serve` as its own process on free ports with a fresh SQLite database (or
--database URL), connects the simulated charge points from this process (every frame checked
against the schemas, every profile enforced by the simulator), puts them all in one site, starts
one transaction per connector, and then times, for each event, from the moment it happens until
every profile it causes has been answered by its charge point:

  stop      one transaction stops: every other one is raised
  start     one starts: every other one is lowered (Accepted) before the new one is raised
  lower     the site's limit is lowered: every transaction and fallback is lowered
  raise     the site's limit is raised again

and prints with it the CSMS's own figures for that allocation (the allocation's compute time and
the whole round of lowerings and raises, from /load-groups/{id}/allocation) and the pure
allocation time of 1,000 transactions measured here. Only 127.0.0.1 is contacted; every phase
is bounded in time. A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from csms.features.load_management.allocation import GroupNode, LeafDemand, allocate_tree
from csms.simulator import SimulatedChargePoint
from csms.simulator.answers import DEFAULT_ANSWERS

READY = re.compile(
    r"OCPP on ws://127\.0\.0\.1:(\d+)/ocpp/\{chargePointId\}, API on http://127\.0\.0\.1:(\d+)"
)
QUIET = 0.5  # seconds without a profile: the event's profiles are all answered


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Answers:
    """Every SetChargingProfile the simulated charge points answered: (monotonic, payload)."""

    seen: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self, cp: SimulatedChargePoint) -> Callable[[dict[str, Any]], dict[str, Any]]:
        default = DEFAULT_ANSWERS["SetChargingProfile"]

        def answer(payload: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = default(cp.state, payload)  # type: ignore[assignment]
            self.seen.append((time.monotonic(), payload))
            self.arrived.set()
            return result

        return answer

    async def count(self, since: int, expected: int, timeout: float) -> None:
        """Until `expected` profiles have come after `since`."""
        async with asyncio.timeout(timeout):
            while len(self.seen) - since < expected:
                self.arrived.clear()
                await self.arrived.wait()


def start_server(
    args: argparse.Namespace, url: str, token: str, workdir: Path
) -> tuple[Any, int, int]:
    command = [
        sys.executable, "-m", "csms", "serve",
        "--host", "127.0.0.1", "--ocpp-port", "0", "--http-port", "0",
        "--database", url, f"--api-token={token}",
        "--unknown-charge-points", "accept",
        "--heartbeat-interval", "3600",
        "--fetch-configuration-on-boot", "false",
        "--ftp-port", "off",
        "--data-dir", str(workdir / "data"),
        "--log-level", "INFO",
    ]  # fmt: skip
    if args.server_profile:
        command[1:1] = ["-m", "cProfile", "-o", str(Path(args.server_profile).resolve())]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CSMS_")}
    log_path = workdir / "server.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, cwd=workdir, env=environment,
            start_new_session=True,
        )  # fmt: skip
    until = time.monotonic() + 60
    while time.monotonic() < until:
        match = READY.search(log_path.read_text(errors="replace"))
        if match:
            return process, int(match[1]), int(match[2])
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(log_path.read_text(errors="replace")[-3000:])


async def settled(api: httpx.AsyncClient, group_id: int, timeout: float) -> dict[str, Any]:
    """Until every transaction's and fallback's limit is Accepted and in force (twice in a row,
    half a second apart)."""
    deadline = time.monotonic() + timeout
    calm = 0
    while time.monotonic() < deadline:
        body: dict[str, Any] = (await api.get(f"/load-groups/{group_id}/allocation")).json()
        done = all(
            row["inForce"] == row["limit"] and row["status"] == "Accepted"
            for row in body["transactions"]
        ) and all(f["accepted"] == f["limit"] for f in body["fallbacks"])
        calm = calm + 1 if done else 0
        if calm == 2:
            return body
        await asyncio.sleep(QUIET)
    raise TimeoutError("load management did not settle")


async def gather_bounded(jobs: list[Callable[[], Awaitable[Any]]], limit: int) -> None:
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> None:
        async with semaphore:
            await job()

    await asyncio.gather(*(one(job) for job in jobs))


async def timed_event(
    name: str,
    answers: Answers,
    api: httpx.AsyncClient,
    group_id: int,
    event: Callable[[], Awaitable[Any]],
    expected: int,
    timeout: float,
) -> dict[str, Any]:
    """Time the event until the `expected` profiles it causes have all been answered."""
    since = len(answers.seen)
    wall = datetime.now(UTC)
    started = time.monotonic()
    await event()
    await answers.count(since, expected, timeout)
    body = await settled(api, group_id, timeout)
    new = answers.seen[since:]
    last = max(at for at, _ in new)
    pending = [row for row in body["transactions"] if row["inForce"] != row["limit"]]
    tx_profiles = sum(
        1 for _, p in new if p["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"
    )
    rounds = [r for r in body["rounds"] if datetime.fromisoformat(r["startedAt"]) >= wall]
    result = {
        "event": name,
        "expected": expected,
        "profiles": len(new),
        "tx_profiles": tx_profiles,
        "all_profiles_answered_s": round(last - started, 3),
        # The CSMS's own figures: its allocations for this event, the longest arithmetic, and
        # from the first allocation's start to the last one's last answer.
        "csms_rounds": len(rounds),
        "csms_compute_s": round(max((r["computeSeconds"] for r in rounds), default=0), 4),
        "csms_rounds_s": round(
            max(
                (
                    (datetime.fromisoformat(r["startedAt"]) - wall).total_seconds() + r["seconds"]
                    for r in rounds
                ),
                default=0,
            ),
            3,
        ),
        "transactions": len(body["transactions"]),
        "not_in_force": len(pending),
        "in_force_sum_a": body["groups"][0]["inForce"],
    }
    log(f"  {name}: {result}")
    return result


def pure_allocation_seconds(count: int) -> float:
    site = GroupNode(
        id=1,
        limit_amps=Decimal(count * 10 - 10),
        demands=tuple(LeafDemand(key=str(n), max_current=Decimal(32)) for n in range(count)),
    )
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        allocate_tree(site)
        best = min(best, time.perf_counter() - started)
    return best


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="csms-lm-bench-"))
    url = args.database or f"sqlite+aiosqlite:///{workdir / 'csms.db'}"
    token = secrets.token_urlsafe(16)
    process, ocpp_port, http_port = start_server(args, url, token, workdir)
    answers = Answers()
    cps: list[SimulatedChargePoint] = []
    connectors = args.connectors
    transactions = args.charge_points * connectors
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{http_port}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        ) as api:
            setup = time.monotonic()
            for n in range(transactions + 1):
                response = await api.put(f"/id-tags/TAG{n}", json={"status": "Accepted"})
                response.raise_for_status()
            # One more charge point, its connector free: the "start" event's.
            for n in range(args.charge_points + 1):
                cp = SimulatedChargePoint(
                    f"LM{n:05}",
                    f"ws://127.0.0.1:{ocpp_port}/ocpp",
                    connectors=connectors if n < args.charge_points else 1,
                    response_timeout=60,
                )
                cp.answers["SetChargingProfile"] = answers.answer(cp)
                cps.append(cp)

            async def boot(cp: SimulatedChargePoint) -> None:
                await cp.connect()
                await cp.boot_and_report()

            await gather_bounded([lambda cp=cp: boot(cp) for cp in cps], 100)
            limit = transactions * 10 - 10  # 9.9 A each (a tenth rounded away) ...
            response = await api.post("/load-groups", json={"name": "site", "limit": limit})
            response.raise_for_status()
            group_id = response.json()["id"]
            since = len(answers.seen)
            response = await api.put(
                f"/load-groups/{group_id}/members",
                json=[{"chargePointId": cp.charge_point_id} for cp in cps],
            )
            response.raise_for_status()
            await answers.count(since, len(cps), 120)
            await settled(api, group_id, 120)
            log(f"{len(cps)} charge points joined: {len(answers.seen) - since} fallbacks")

            async def start(cp: SimulatedChargePoint, connector_id: int, tag: str) -> None:
                await cp.status_notification(connector_id, "Preparing")
                await cp.start_transaction(connector_id, tag)
                await cp.status_notification(connector_id, "Charging")

            since = len(answers.seen)
            jobs = [
                (lambda cp=cp, c=c, n=n: start(cp, c, f"TAG{n}"))
                for n, (cp, c) in enumerate(
                    (cp, c) for cp in cps[:-1] for c in range(1, connectors + 1)
                )
            ]
            await gather_bounded(jobs, 200)  # type: ignore[arg-type]
            await settled(api, group_id, 600)
            log(
                f"{transactions} transactions started in {time.monotonic() - setup:.1f} s of "
                f"set-up: {len(answers.seen) - since} profiles while they came"
            )

            first = cps[0]
            stopped = next(iter(first.transactions))
            spare = cps[-1]
            # With the limit 10 n - 10 A: n transactions get 9.9 A, n - 1 get 10 A; at 80 %
            # of it everyone's limit and every fallback (limit / connectors) change.
            everyone = transactions + len(cps)
            events: list[tuple[str, Callable[[], Awaitable[Any]], int]] = [
                ("stop", lambda: first.stop_transaction(stopped, 1000), transactions - 1),
                ("start", lambda: start(spare, 1, f"TAG{transactions}"), transactions),
                (
                    "lower",
                    lambda: api.patch(f"/load-groups/{group_id}", json={"limit": limit * 0.8}),
                    everyone,
                ),
                (
                    "raise",
                    lambda: api.patch(f"/load-groups/{group_id}", json={"limit": limit}),
                    everyone,
                ),
            ]
            results = [
                await timed_event(name, answers, api, group_id, event, expected, args.timeout)
                for name, event, expected in events
            ]
    finally:
        await asyncio.gather(*(cp.close() for cp in cps), return_exceptions=True)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    return {
        "charge_points": args.charge_points + 1,
        "active_transactions": transactions,
        "pure_allocation_s": round(pure_allocation_seconds(transactions), 4),
        "events": results,
        "cpu_count": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--charge-points", type=int, default=500)
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--database", help="a database URL (default: SQLite in a temp dir)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--server-profile", help="cProfile the server into this file")
    args = parser.parse_args()
    result = asyncio.run(asyncio.wait_for(run(args), 1800))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['active_transactions']} active transactions on {result['charge_points']} "
        f"simulated charge points; pure allocation {result['pure_allocation_s'] * 1000:.1f} ms"
    )
    print(
        f"{'event':<7}{'profiles':>9}{'all answered s':>16}{'compute ms':>12}"
        f"{'CSMS rounds':>13}{'CSMS s':>8}"
    )
    for event in result["events"]:
        print(
            f"{event['event']:<7}{event['profiles']:>9}{event['all_profiles_answered_s']:>16}"
            f"{event['csms_compute_s'] * 1000:>12.1f}{event['csms_rounds']:>13}"
            f"{event['csms_rounds_s']:>8}"
        )


if __name__ == "__main__":
    main()
