"""The CSMS and its peers under one load, in one run, in one table.

    .venv/bin/python bench/compare.py --charge-points 1000 --rate 1000 --duration 20 \\
        [--servers echo,ocpp-lib,csms-sqlite,csms-postgresql,csms-sqlite-no-log] [--markdown]

Runs bench/load.py (the same load generator, settings and machine) once per server, one after
the other, and prints one table: what was answered, latencies per action, the server's CPU per
message and its ratio to the echo stand-in's, connect rate, bring-up time, memory per connected
charge point, disk bytes written per message, server CPU per charge point brought up. The
servers:

- `echo`: bench/echo_server.py, bare `websockets` answering at once: the ceiling of the client
  and of the WebSocket layer on this machine;
- `ocpp-lib`: bench/ocpp_lib_server.py, a stand-in on the PyPI `ocpp` library (schema checks,
  no storage): what many Python CSMSs are built on;
- `csms-sqlite`, `csms-postgresql`: `csms serve`, every message stored durably before its
  answer, the message log on (its default);
- `csms-sqlite-no-log`: the same with `--message-log-days 0`, so the message log's own cost
  shows on a line of its own.

With `--markdown` the table is printed as Markdown (for README.md, with the commit and date);
`--json` prints every run's full figures. It asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SERVERS: dict[str, list[str]] = {
    "echo": ["--server", "echo"],
    "ocpp-lib": ["--server", "ocpp-lib"],
    "csms-sqlite": ["--database", "sqlite"],
    "csms-postgresql": ["--database", "postgresql"],
    "csms-sqlite-no-log": ["--database", "sqlite", "--message-log-days", "0"],
}
ACTIONS = ("Heartbeat", "StatusNotification", "Authorize", "StartTransaction", "MeterValues",
           "StopTransaction")  # fmt: skip


def run_load(server: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable, str(BENCH / "load.py"), *SERVERS[server],
        "--charge-points", str(args.charge_points),
        "--rate", str(args.rate),
        "--duration", str(args.duration),
        "--workers", str(args.workers),
        "--json",
    ]  # fmt: skip
    print(f"[compare] {server}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"failed": done.returncode, "stderr": done.stderr[-2000:]}
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def row(server: str, figures: dict[str, Any], echo_us: float | None) -> dict[str, Any]:
    if "failed" in figures:
        return {"server": server, "failed": figures["failed"]}
    mix, up, memory = figures["mix"], figures["bring_up"], figures["server_memory"]
    cpu_us = mix["cpu"]["server_cpu_us_per_message"]
    per_action = {
        kind: mix["per_action"][kind]["latency_ms"] for kind in ACTIONS if kind in mix["per_action"]
    }
    return {
        "server": server,
        # The median of the per-second counts of answers during the mix.
        "answered_per_second": mix["answered_per_second"]["median"],
        "errors": mix["errors"],
        "latency_ms": mix["latency_ms"],
        "per_action_ms": per_action,
        "cpu_us_per_message": cpu_us,
        "cpu_ratio_to_echo": round(cpu_us / echo_us, 1) if echo_us else None,
        "connects_per_second": up["connect_rate_per_second"],
        "bring_up_seconds": up["bring_up_seconds"],
        # Server CPU per charge point brought up: handshake, admission, boot, first reports.
        "bring_up_cpu_ms_per_charge_point": up["cpu"].get("server_cpu_ms_per_charge_point"),
        "kb_per_connected_charge_point": memory["kb_per_connected_charge_point"],
        "disk_bytes_per_message": mix["cpu"].get("server_disk_write_bytes_per_message", 0),
        "machine_busy_percent": mix["cpu"].get("machine_busy_percent"),
        "other_percent": mix["cpu"].get("other_percent"),
    }


def _ms(p: dict[str, float]) -> str:
    return f"{p.get('p50', '-')} / {p.get('p99', '-')}" if p.get("count") else "-"


def markdown(rows: Sequence[dict[str, Any]], args: argparse.Namespace, commit: str) -> str:
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"`bench/compare.py --charge-points {args.charge_points} --rate {args.rate} "
        f"--duration {args.duration}`, commit `{commit}`, {when}:",
        "",
        "| server | msg/s answered (median) | errors | p50 / p99 ms | "
        + " | ".join(f"{kind} p50 / p99 ms" for kind in ACTIONS)
        + " | CPU µs/msg | x echo | connects/s | bring-up s | bring-up CPU ms/CP | KB/CP"
        + " | disk B/msg | other CPU % |",
        "| --- |" + " ---: |" * (12 + len(ACTIONS)),
    ]
    for r in rows:
        if "failed" in r:
            lines.append(f"| {r['server']} | failed ({r['failed']}) |" + " |" * (11 + len(ACTIONS)))
            continue
        actions = " | ".join(_ms(r["per_action_ms"].get(kind, {})) for kind in ACTIONS)
        lines.append(
            f"| {r['server']} | {r['answered_per_second']} | {r['errors']} | "
            f"{_ms(r['latency_ms'])} | {actions} | {r['cpu_us_per_message']} | "
            f"{r['cpu_ratio_to_echo']} | {r['connects_per_second']} | {r['bring_up_seconds']} | "
            f"{r['bring_up_cpu_ms_per_charge_point']} | "
            f"{r['kb_per_connected_charge_point']} | {r['disk_bytes_per_message']} | "
            f"{r['other_percent']} |"
        )
    return "\n".join(lines)


def commit_of_checkout() -> str:
    done = subprocess.run(
        ["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--charge-points", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--servers",
        default="echo,ocpp-lib,csms-sqlite,csms-postgresql,csms-sqlite-no-log",
        help=f"comma-separated, of {', '.join(SERVERS)}",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true")
    output.add_argument("--json", action="store_true", help="every run's full figures")
    args = parser.parse_args(argv)
    unknown = [s for s in args.servers.split(",") if s not in SERVERS]
    if unknown:
        parser.error(f"unknown server(s): {', '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    runs = {server: run_load(server, args) for server in args.servers.split(",")}
    echo = runs.get("echo", {})
    echo_us = (
        None if "failed" in echo or not echo else echo["mix"]["cpu"]["server_cpu_us_per_message"]
    )
    rows = [row(server, figures, echo_us) for server, figures in runs.items()]
    if args.json:
        print(json.dumps(runs, indent=2))
    elif args.markdown:
        print(markdown(rows, args, commit_of_checkout()))
    else:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
