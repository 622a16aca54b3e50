"""Reconnect storm benchmark: a fleet with per-charge-point passwords comes back all at once.

    .venv/bin/python bench/reconnect_storm.py --charge-points 10000 [--database postgresql] \
        [--no-scrypt]

What it does, printing the figures (it asserts nothing; see README.md, "Reconnect storms"):

1. Starts `csms serve` on a fresh database (bench/load.py's server helpers) and provisions the
   fleet through the bulk imports: N charge points with a random 20-byte AuthorizationKey each
   (POST /api/v1/charge-points/import) and N id tags (POST /api/v1/id-tags/import), timed; and,
   for comparison, 500 id tags one PUT at a time.
2. **Storm, fresh server**: every charge point connects at once with HTTP Basic auth, sends
   BootNotification and StatusNotification; time until the last one is answered. A failed
   attempt (refused, timed out, dropped) is retried after 1-3 s, as chargers do.
3. **Storm after a restart** (SIGTERM, start again on the same database): no cache is warm.
4. **The same storm with scrypt hashes**, as an earlier version stored them: every charge
   point's hash is replaced in the database by a scrypt hash (one shared password, hashed once
   here, so that the server still verifies each charge point separately), the server restarted,
   the storm run; each login then replaces its hash by the fast form, and a last restart and
   storm shows the upgraded fleet.

Server CPU seconds are read from /proc for each storm. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import random
import secrets
import sqlite3
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from load import (
    cpu_seconds,
    database_url,
    drop_database,
    percentiles,
    register_id_tags,
    start_server,
    stop_server,
)

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
SHARED_PASSWORD = "legacy-shared-key-0123456789"
BOOT = '[2,"b","BootNotification",{"chargePointVendor":"BenchVendor","chargePointModel":"Storm"}]'
STATUS = '[2,"s","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]'


def post(port: int, token: str, path: str, body: bytes, content_type: str) -> tuple[Any, float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1{path}",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=600) as response:
        answer = json.loads(response.read())
    return answer, time.monotonic() - started


async def one_charge_point(
    url: str, charge_point_id: str, password: str, timeout: float
) -> tuple[float | str, int]:
    """(seconds from the start of the storm until its StatusNotification was answered, or why
    its last attempt failed; attempts). A failed attempt is retried after 1-3 s, as chargers do,
    until `timeout`."""
    auth = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
    started = time.monotonic()
    attempts = 0
    outcome: float | str = "timeout"
    while time.monotonic() - started < timeout:
        attempts += 1
        outcome = await _attempt(url, charge_point_id, auth, started + timeout)
        if isinstance(outcome, float):
            return outcome - started, attempts
        await asyncio.sleep(random.uniform(1.0, 3.0))
    return outcome, attempts


async def _attempt(url: str, charge_point_id: str, auth: str, deadline: float) -> float | str:
    """One connection: boot and report; the time it was done, or why it failed. CALLs from the
    CSMS meanwhile (a GetConfiguration after the boot, say) are answered NotSupported."""
    try:
        async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
            async with connect(
                f"{url}/{charge_point_id}",
                subprotocols=[Subprotocol("ocpp1.6")],
                additional_headers={"Authorization": f"Basic {auth}"},
                compression=None,
                ping_interval=None,
                open_timeout=None,
            ) as websocket:
                for frame in (BOOT, STATUS):
                    await websocket.send(frame)
                    while (answer := json.loads(await websocket.recv()))[0] == 2:
                        await websocket.send(json.dumps([4, answer[1], "NotSupported", "", {}]))
                    if answer[0] != 3:
                        return f"answered {answer[0]}"
                return time.monotonic()
    except TimeoutError:
        return "timeout"
    except Exception as exc:  # every failure is a figure here, not a crash
        return type(exc).__name__


async def storm(url: str, fleet: Sequence[tuple[str, str]], timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    results = await asyncio.gather(
        *(one_charge_point(url, cp, password, timeout) for cp, password in fleet)
    )
    seconds = time.monotonic() - started
    done = [outcome for outcome, _ in results if isinstance(outcome, float)]
    failures: dict[str, int] = {}
    for outcome, _ in results:
        if isinstance(outcome, str):
            failures[outcome] = failures.get(outcome, 0) + 1
    return {
        "booted": len(done),
        "seconds": round(seconds, 2),
        "per_second": round(len(done) / seconds, 1) if seconds else 0.0,
        "latency_s": percentiles(done),
        "attempts": sum(attempts for _, attempts in results),
        "not_booted": failures,
    }


def scrypt_hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def set_every_hash(url: str, password_hash: str) -> None:
    """As an earlier version would have stored it (the server is stopped)."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as connection:
            connection.execute("UPDATE charge_points SET password_hash = ?", (password_hash,))
        return
    import asyncpg  # type: ignore[import-untyped]

    async def update() -> None:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await connection.execute("UPDATE charge_points SET password_hash = $1", password_hash)
        finally:
            await connection.close()

    asyncio.run(update())


class Run:
    def __init__(self, args: argparse.Namespace, url: str, workdir: Path) -> None:
        self.args, self.url, self.workdir = args, url, workdir
        self.token = secrets.token_urlsafe(16)
        self.server = start_server(args, url, self.token, workdir)

    def restart(self) -> None:
        stop_server(self.server)
        self.server = start_server(self.args, self.url, self.token, self.workdir)

    def storm(self, fleet: Sequence[tuple[str, str]]) -> dict[str, Any]:
        cpu_before = cpu_seconds(self.server.process.pid)
        ocpp = f"ws://127.0.0.1:{self.server.ocpp_port}/ocpp"
        figures = asyncio.run(storm(ocpp, fleet, self.args.timeout))
        figures["server_cpu_s"] = round(cpu_seconds(self.server.process.pid) - cpu_before, 2)
        return figures


def provision(run: Run, count: int) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    fleet = [(f"STORM{n:05d}", secrets.token_hex(20)) for n in range(count)]
    port, token = run.server.http_port, run.token
    rows = [{"chargePointId": cp, "password": password} for cp, password in fleet]
    answer, cp_seconds = post(
        port, token, "/charge-points/import", json.dumps(rows).encode(), "application/json"
    )
    csv = "idTag,status\n" + "".join(f"TAG{n:05d},Accepted\n" for n in range(count))
    tags, tag_seconds = post(port, token, "/id-tags/import", csv.encode(), "text/csv")
    one_by_one = register_id_tags(port, token, [f"ONE{n:05d}" for n in range(500)])
    figures = {
        "charge_points_import": {**answer, "seconds": round(cp_seconds, 2)},
        "id_tags_import_csv": {**tags, "seconds": round(tag_seconds, 2)},
        "id_tags_one_put_each_500": one_by_one,
    }
    return fleet, figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="csms-storm-") as directory:
        workdir = Path(directory)
        url, pg_name = database_url(args, workdir)
        bench = Run(args, url, workdir)
        try:
            fleet, figures = provision(bench, args.charge_points)
            figures["storm_fresh_server"] = bench.storm(fleet)
            bench.restart()
            figures["storm_after_restart"] = bench.storm(fleet)
            if args.no_scrypt:
                return {"charge_points": args.charge_points, "database": args.database, **figures}
            stop_server(bench.server)
            set_every_hash(url, scrypt_hash(SHARED_PASSWORD))
            legacy = [(cp, SHARED_PASSWORD) for cp, _ in fleet]
            bench.server = start_server(args, url, bench.token, workdir)
            figures["storm_scrypt_hashes_after_restart"] = bench.storm(legacy)
            bench.restart()
            figures["storm_upgraded_hashes_after_restart"] = bench.storm(legacy)
        finally:
            stop_server(bench.server)
            if pg_name is not None:
                drop_database(args, pg_name)
    return {"charge_points": args.charge_points, "database": args.database, **figures}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--charge-points", type=int, default=2000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds a charge point keeps trying"
    )
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument(
        "--no-scrypt",
        action="store_true",
        help="skip the storms with an earlier version's scrypt hashes (minutes at 10,000)",
    )
    # What bench/load.py's start_server reads.
    parser.set_defaults(
        server="csms",
        heartbeat_interval=300,
        server_log_level="INFO",
        message_log_days=None,
        server_cprofile=None,
        server_src=None,
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    figures = run(parse_args(argv))
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
