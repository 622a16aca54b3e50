"""Load benchmark of `csms serve`: many simulated OCPP 1.6J charge points, figures printed.

    .venv/bin/python bench/load.py --charge-points 10000 --rate 5000 --duration 60 \\
        --database sqlite            # or postgresql; --json for one JSON object

It starts the server as its own process on free ports with a fresh database (a SQLite file in
a temporary directory, or a PostgreSQL database created for the run and dropped afterwards),
registers one id tag per charge point through the operator API, runs the charge points in
`--workers` client processes (load_client.py), measures, stops everything, prints. Only
127.0.0.1 is contacted. Every phase is bounded in time; an overall alarm ends the run whatever
happens. It is a benchmark, not a test: it prints figures and asserts nothing. See README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import importlib.metadata
import json
import multiprocessing
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from load_client import ONLY_CYCLES, WorkerConfig, run_worker

BENCH = Path(__file__).resolve().parent
READY = re.compile(
    r"OCPP on ws://127\.0\.0\.1:(\d+)/ocpp/\{chargePointId\}, API on http://127\.0\.0\.1:(\d+)"
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Stand-ins that answer at once and store nothing: the echo (bare websockets, the client's
# ceiling) and one on the PyPI `ocpp` library (what many Python CSMSs are built on).
STAND_INS = {"echo": "echo_server.py", "ocpp-lib": "ocpp_lib_server.py"}
ACTIONS = (
    "Heartbeat",
    "StatusNotification",
    "Authorize",
    "StartTransaction",
    "MeterValues",
    "StopTransaction",
    "BootNotification",
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- /proc ---------------------------------------------------------------------------------


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process from /proc/<pid>/status, in KB (0 if gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all its threads, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return 0.0, 0.0
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS  # utime, stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads."""
    return sum(cpu_times(pid))


def io_counters(pid: int) -> dict[str, int]:
    """/proc/<pid>/io: write_bytes (sent to storage), syscw (write syscalls), ..."""
    counters: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/io") as io:
        for line in io:
            name, _, value = line.partition(":")
            counters[name] = int(value)
    return counters


def postgres_backends(database: str) -> list[int]:
    """Pids of the PostgreSQL backends serving `database` (their title names it)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                title = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            pids.append(int(entry))
    return pids


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass(slots=True)
class CpuSample:
    at: float
    server: float
    server_system: float
    server_io: dict[str, int]
    backends: dict[int, float]
    machine: tuple[int, int]


def sample_cpu(server_pid: int, pg_database: str | None) -> CpuSample:
    backends = postgres_backends(pg_database) if pg_database else []
    user, system = cpu_times(server_pid)
    return CpuSample(
        time.monotonic(),
        user + system,
        system,
        io_counters(server_pid),
        {pid: cpu_seconds(pid) for pid in backends},
        machine_jiffies(),
    )


def cpu_between(a: CpuSample, b: CpuSample) -> dict[str, float]:
    """CPU use between two samples, in % of one core (200% = both cores of this machine)."""
    wall = max(1e-9, b.at - a.at)
    backends = sum(b.backends[p] - a.backends.get(p, 0.0) for p in b.backends)
    busy = b.machine[0] - a.machine[0]
    total = max(1, b.machine[1] - a.machine[1])
    return {
        "seconds": round(wall, 2),
        "server_percent": round(100 * (b.server - a.server) / wall, 1),
        # Kernel time of the server: socket I/O, epoll, fsync of SQLite commits.
        "server_system_percent": round(100 * (b.server_system - a.server_system) / wall, 1),
        # Bytes the server itself had written to storage (SQLite WAL and database file; the
        # PostgreSQL server's own writes are not in it) and its write()-family system calls
        # (file writes; socket sends are not counted there).
        "server_disk_write_bytes": b.server_io.get("write_bytes", 0)
        - a.server_io.get("write_bytes", 0),
        "server_write_syscalls": b.server_io.get("syscw", 0) - a.server_io.get("syscw", 0),
        "postgres_backends_percent": round(100 * backends / wall, 1),
        "machine_busy_percent": round(100 * (os.cpu_count() or 1) * busy / total, 1),
    }


# -- the server ----------------------------------------------------------------------------


@dataclass(slots=True)
class Server:
    process: subprocess.Popen[bytes]
    ocpp_port: int
    http_port: int
    log_path: Path


def start_server(args: argparse.Namespace, url: str, token: str, workdir: Path) -> Server:
    """Start `csms serve` (or a stand-in) on free ports; wait for its ready line."""
    if args.server in STAND_INS:
        command = [sys.executable, str(BENCH / STAND_INS[args.server]), "--port", "0"]
    else:
        command = [
            sys.executable, "-m", "csms", "serve",
            "--host", "127.0.0.1",
            "--ocpp-port", "0",
            "--http-port", "0",
            "--ftp-port", "off",
            "--database", url,
            f"--api-token={token}",
            "--unknown-charge-points", "accept",
            "--heartbeat-interval", str(args.heartbeat_interval),
            "--log-level", args.server_log_level,
        ]  # fmt: skip
        if args.message_log_days is not None:
            command += ["--message-log-days", str(args.message_log_days)]
    if args.server_cprofile:
        command[1:1] = ["-m", "cProfile", "-o", str(Path(args.server_cprofile).resolve())]
    log_path = workdir / "server.log"
    # The log goes to a file, never to a pipe that could fill up and stall the server.
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, cwd=workdir,
            env=server_environment(args),
            start_new_session=True,
        )  # fmt: skip
    until = time.monotonic() + args.startup_timeout
    while time.monotonic() < until:
        match = READY.search(log_path.read_text(errors="replace"))
        if match:
            return Server(process, int(match[1]), int(match[2]), log_path)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    tail = log_path.read_text(errors="replace")[-3000:]
    stop_server(Server(process, 0, 0, log_path), timeout=5)
    raise RuntimeError(f"the server did not become ready; its log ends with:\n{tail}")


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    """The server's environment: ours without CSMS_* settings; --server-src first on the path
    (to benchmark another checkout, e.g. a `git archive` of a commit)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSMS_")}
    if args.server_src:
        source = str(Path(args.server_src).resolve())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    return env


def stop_server(server: Server, timeout: float = 60) -> dict[str, Any]:
    """SIGTERM, wait (bounded), SIGKILL if needed."""
    started = time.monotonic()
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            return {"exit": "killed after SIGTERM timeout", "seconds": timeout}
    return {"exit": process.returncode, "seconds": round(time.monotonic() - started, 2)}


# -- databases -----------------------------------------------------------------------------


def loopback_only(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"refusing {url!r}: the benchmark only contacts 127.0.0.1")


async def _pg_execute(admin_url: str, statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(admin_url, timeout=10)
    try:
        await connection.execute(statement, timeout=60)
    finally:
        await connection.close()


def database_url(args: argparse.Namespace, workdir: Path) -> tuple[str, str | None]:
    """(SQLAlchemy URL for the server, PostgreSQL database name to drop afterwards)."""
    if args.database == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'csms.db'}", None
    loopback_only(args.pg_admin_url)
    name = f"csms_bench_{os.getpid()}_{int(time.time())}"
    asyncio.run(_pg_execute(args.pg_admin_url, f'CREATE DATABASE "{name}"'))
    parts = urlsplit(args.pg_admin_url)
    return f"postgresql+asyncpg://{parts.netloc}/{name}", name


def drop_database(args: argparse.Namespace, name: str) -> None:
    asyncio.run(_pg_execute(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- id tags -------------------------------------------------------------------------------


def register_id_tags(http_port: int, token: str, tags: Sequence[str]) -> dict[str, Any]:
    """Every tag Accepted, in one POST /api/v1/id-tags/import (CSV): one transaction."""
    body = ("idTag,status\n" + "".join(f"{tag},Accepted\n" for tag in tags)).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=600)
    started = time.monotonic()
    try:
        connection.request("POST", "/api/v1/id-tags/import", body, headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    seconds = round(time.monotonic() - started, 2)
    if response.status != 200:
        return {"registered": 0, "seconds": seconds, "problem": f"import answered {answer!r}"}
    counts = json.loads(answer)
    return {"registered": counts["created"] + counts["updated"], "seconds": seconds}


# -- figures -------------------------------------------------------------------------------


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    n = len(ordered)

    def rank(p: float) -> float:
        return round(ordered[min(n - 1, max(0, int(p * n + 0.5) - 1))], 2)

    return {"count": n, "p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99),
            "max": round(ordered[-1], 2)}  # fmt: skip


def floats(data: bytes) -> array[float]:
    values = array("d")
    values.frombytes(data)
    return values


def merge_stats(reports: Sequence[dict[str, Any]], duration: float | None) -> dict[str, Any]:
    """Merge the workers' Stats.export() of one phase."""
    latency: dict[str, array[float]] = {}
    counters: dict[str, Counter[str]] = {k: Counter() for k in ("in_window", "sent", "errors",
                                                                  "answers")}  # fmt: skip
    for report in reports:
        for kind, data in report["latency"].items():
            latency.setdefault(kind, array("d")).extend(floats(data))
        for key, counter in counters.items():
            counter.update(report[key])
    every = array("d")
    for values in latency.values():
        every.extend(values)
    kinds = [k for k in ACTIONS if k in latency or k in counters["sent"]]
    result: dict[str, Any] = {
        "sent": sum(counters["sent"].values()),
        "answered": len(every),
        "errors": sum(counters["errors"].values()),
        "errors_by_reason": dict(counters["errors"].most_common()),
        "answers": dict(sorted(counters["answers"].items())),
        "latency_ms": percentiles(every),
        "per_action": {},
    }
    if duration:
        result["messages_per_second"] = round(sum(counters["in_window"].values()) / duration, 1)
    for kind in kinds:
        entry: dict[str, Any] = {
            "sent": counters["sent"][kind],
            "latency_ms": percentiles(latency.get(kind, array("d"))),
        }
        if duration:
            entry["messages_per_second"] = round(counters["in_window"][kind] / duration, 1)
        result["per_action"][kind] = entry
    return result


# -- the run -------------------------------------------------------------------------------


class Workers:
    """The client processes and their pipes."""

    def __init__(self, configs: Sequence[WorkerConfig]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []
        for config in configs:
            parent, child = context.Pipe()
            process = context.Process(target=run_worker, args=(config, child), daemon=True)
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    def gather(self, expected: str, timeout: float) -> list[Any]:
        """The `expected` report of every worker (bounded wait)."""
        reports: dict[int, Any] = {}
        until = time.monotonic() + timeout
        while len(reports) < len(self.pipes):
            left = until - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"workers did not report {expected!r} in {timeout:.0f} s")
            for pipe in wait([p for i, p in enumerate(self.pipes) if i not in reports], left):
                assert isinstance(pipe, Connection)
                index = self.pipes.index(pipe)
                try:
                    tag, payload = pipe.recv()
                except EOFError:
                    raise RuntimeError(f"worker {index} died") from None
                if tag == "error":
                    raise RuntimeError(f"worker {index}: {payload}")
                if tag == expected:
                    reports[index] = payload
        return [reports[i] for i in range(len(self.pipes))]

    def tell(self, command: str, argument: Any = None) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send((command, argument))

    def stop(self) -> None:
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.terminate()
                process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)


def worker_configs(args: argparse.Namespace, url: str, deadline: float) -> list[WorkerConfig]:
    ids = [f"BENCH{i:05d}" for i in range(args.charge_points)]
    tags = [f"TAG{i:05d}" for i in range(args.charge_points)]
    n = args.workers
    return [
        WorkerConfig(
            worker=w,
            url=url,
            charge_point_ids=tuple(ids[w::n]),
            id_tags=tuple(tags[w::n]),
            connect_concurrency=max(1, args.connect_concurrency // n),
            rate=args.rate / n,
            duration=args.duration,
            call_timeout=args.call_timeout,
            ramp_timeout=args.ramp_timeout,
            max_backlog=args.max_backlog,
            meter_values_per_transaction=args.meter_values_per_transaction,
            heartbeats_per_cycle=args.heartbeats_per_cycle,
            seed=args.seed + w,
            only=args.only,
            deadline=deadline,
        )
        for w in range(n)
    ]


@contextlib.contextmanager
def alarm(seconds: int) -> Iterator[None]:
    """The overall timeout: whatever hangs, the run ends (and cleans up) after `seconds`."""

    def expired(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"overall timeout of {seconds} s reached")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def wait_for_quiet_machine(seconds: float, threshold: float = 25.0) -> dict[str, Any]:
    """Wait (at most `seconds`) until the machine is nearly idle for 3 s: the benchmark shares
    the cores with whatever else runs, which skews every figure."""
    started = time.monotonic()
    quiet = 0
    busy_percent = 0.0
    previous = machine_jiffies()
    while time.monotonic() - started < seconds:
        time.sleep(1.0)
        current = machine_jiffies()
        total = max(1, current[1] - previous[1])
        busy_percent = 100 * (os.cpu_count() or 1) * (current[0] - previous[0]) / total
        previous = current
        quiet = quiet + 1 if busy_percent < threshold else 0
        if quiet >= 3:
            break
    return {"waited_seconds": round(time.monotonic() - started, 1),
            "busy_percent_last_second": round(busy_percent, 1)}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    overall = int(args.timeout or (args.startup_timeout + 600 + args.ramp_timeout + args.wait_quiet
                                   + args.duration + 3 * args.call_timeout + 120))  # fmt: skip
    deadline = time.time() + overall - 30  # workers give up a little before the alarm
    figures: dict[str, Any] = {
        "command": " ".join([".venv/bin/python", "bench/load.py", *sys.argv[1:]]),
        "config": {k: v for k, v in vars(args).items() if k not in ("json",)},
        "environment": {
            "python": platform.python_version(),
            "websockets": importlib.metadata.version("websockets"),
            "cpus": os.cpu_count(),
            "client_event_loop": "uvloop" if _has_uvloop() else "asyncio",
            "server_source": server_source(args),
        },
    }
    workdir = Path(tempfile.mkdtemp(prefix="csms-bench-"))
    pg_database: str | None = None
    server: Server | None = None
    workers: Workers | None = None
    token = secrets.token_hex(16)
    try:
        with alarm(overall):
            if args.wait_quiet:
                figures["quiet_wait"] = wait_for_quiet_machine(args.wait_quiet)
                log(f"waited for a quiet machine: {figures['quiet_wait']}")
            url, pg_database = database_url(args, workdir) if args.server == "csms" else ("", None)
            server = start_server(args, url, token, workdir)
            pid = server.process.pid
            log(f"server pid {pid} ready: OCPP port {server.ocpp_port}, API {server.http_port}")
            memory: dict[str, int] = {"rss_start_kb": rss_kb(pid)}
            if server.http_port and args.id_tags:
                tags = [f"TAG{i:05d}" for i in range(args.charge_points)]
                figures["id_tags"] = register_id_tags(server.http_port, token, tags)
                log(f"id tags: {figures['id_tags']}")
            time.sleep(1.0)  # let the allocator settle before the baseline
            memory["rss_before_kb"] = rss_kb(pid)
            configs = worker_configs(args, f"ws://127.0.0.1:{server.ocpp_port}/ocpp/", deadline)
            cpu0 = sample_cpu(pid, pg_database)
            workers = Workers(configs)
            log(f"{args.workers} client process(es) connecting {args.charge_points} charge points")
            ups = workers.gather("up", args.ramp_timeout + 60)
            cpu1 = sample_cpu(pid, pg_database)
            memory["rss_connected_kb"] = rss_kb(pid)
            figures["bring_up"] = bring_up_figures(ups, cpu_between(cpu0, cpu1))
            log(f"bring-up: {_short(figures['bring_up'])}")

            start_at = time.time() + 1.0
            workers.tell("mix", start_at)
            log(f"mix: {args.rate} msg/s target for {args.duration} s")
            time.sleep(max(0.0, start_at - time.time()))
            cpu2 = sample_cpu(pid, pg_database)
            profiler = start_profiler(args, pid)
            time.sleep(args.duration)
            cpu3 = sample_cpu(pid, pg_database)
            memory["rss_end_kb"] = rss_kb(pid)
            mixes = workers.gather("mixed", 3 * args.call_timeout + 60)
            memory["rss_peak_kb"] = rss_kb(pid, "VmHWM")
            connected = figures["bring_up"]["connected"]
            memory["kb_per_connected_charge_point"] = (
                round((memory["rss_connected_kb"] - memory["rss_before_kb"]) / connected, 1)
                if connected
                else 0
            )
            figures["server_memory"] = memory
            figures["mix"] = mix_figures(args, mixes, cpu_between(cpu2, cpu3))
            figures["server_cpu_seconds_total"] = round(cpu_seconds(pid), 1)
            if profiler is not None:
                figures["profile"] = finish_profiler(profiler)
            log("closing the connections")
            workers.tell("close")
            with contextlib.suppress(TimeoutError, RuntimeError):
                workers.gather("closed", 60)
            figures["server_shutdown"] = stop_server(server)
            figures["server_log_warnings"] = log_warnings(server.log_path)
    finally:
        if workers is not None:
            workers.stop()
        if server is not None:
            stop_server(server, timeout=30)
            if args.keep_log:
                shutil.copy(server.log_path, args.keep_log)
        if pg_database is not None:
            try:
                drop_database(args, pg_database)
            except Exception as exc:  # report, never hide the run's own error
                log(f"could not drop database {pg_database}: {exc}")
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def server_source(args: argparse.Namespace) -> str:
    """Which server code runs: --server-src, or this checkout's commit (+ local changes)."""
    if args.server in STAND_INS:
        return f"bench/{STAND_INS[args.server]} (stand-in, stores nothing)"
    if args.server_src:
        return str(Path(args.server_src).resolve())
    try:
        commit = subprocess.run(
            ["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        changes = subprocess.run(
            ["git", "-C", str(BENCH.parent), "status", "--porcelain", "--", "src"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}{' + uncommitted changes in src/' if changes else ''}"


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def _short(bring_up: dict[str, Any]) -> str:
    return (
        f"{bring_up['connected']} connected at {bring_up['connect_rate_per_second']}/s, "
        f"{bring_up['up']} booted in {bring_up['bring_up_seconds']} s"
    )


def bring_up_figures(ups: Sequence[dict[str, Any]], cpu: dict[str, float]) -> dict[str, Any]:
    handshakes = array("d")
    for up in ups:
        handshakes.extend(floats(up["handshake_ms"]))
    started = min(up["started_at"] for up in ups)
    connected_at = max(up["last_connected_at"] or started for up in ups)
    up_at = max(up["last_up_at"] or started for up in ups)
    connected = sum(up["connected"] for up in ups)
    errors: Counter[str] = Counter()
    for up in ups:
        errors.update(up["connect_errors"])
    brought_up = sum(up["up"] for up in ups)
    server_cpu = cpu["server_percent"] * cpu["seconds"] / 100
    # Handshake + admission + BootNotification + 3 StatusNotification, per charge point.
    cpu["server_cpu_ms_per_charge_point"] = (
        round(1000 * server_cpu / brought_up, 2) if brought_up else 0
    )
    return {
        "connected": connected,
        "up": brought_up,
        "unfinished": sum(up["unfinished"] for up in ups),
        "connect_errors": dict(errors),
        "connect_seconds": round(connected_at - started, 2),
        "connect_rate_per_second": round(connected / max(1e-9, connected_at - started), 1),
        "handshake_ms": percentiles(handshakes),
        "bring_up_seconds": round(up_at - started, 2),
        "messages": merge_stats([up["stats"] for up in ups], None),
        "cpu": cpu,
    }


def mix_figures(
    args: argparse.Namespace, mixes: Sequence[dict[str, Any]], cpu: dict[str, float]
) -> dict[str, Any]:
    stats = merge_stats([m["stats"] for m in mixes], args.duration)
    lags = array("d")
    for m in mixes:
        lags.extend(floats(m["send_lag_ms"]))
    server_calls: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()
    for m in mixes:
        server_calls.update(m["server_calls"])
        unexpected.update(m["unexpected"])
    client_cpu = sum(m["client_cpu_seconds"] for m in mixes)
    cpu["client_percent"] = round(100 * client_cpu / max(1e-9, cpu["seconds"]), 1)
    # Whatever else ran on the machine meanwhile (other people's tests...): it skews figures.
    cpu["other_percent"] = round(
        cpu["machine_busy_percent"]
        - cpu["server_percent"]
        - cpu["client_percent"]
        - cpu["postgres_backends_percent"],
        1,
    )
    answered = sum(sum(m["stats"]["in_window"].values()) for m in mixes)
    server_cpu = cpu["server_percent"] * cpu["seconds"] / 100
    # Robust to other load on the machine: CPU time per answered message, and the rate one
    # fully used core would give at that cost (the server is one Python process).
    cpu["server_cpu_us_per_message"] = round(1e6 * server_cpu / answered, 1) if answered else 0
    cpu["server_one_core_capacity_per_second"] = (
        round(answered / server_cpu) if server_cpu > 0 else 0
    )
    if answered:
        cpu["server_disk_write_bytes_per_message"] = round(
            cpu["server_disk_write_bytes"] / answered
        )
    timeline = [0] * (int(args.duration) + 1)
    for m in mixes:
        for second, count in enumerate(m["per_second"]):
            if second < len(timeline):
                timeline[second] += count
    timeline = timeline[: int(args.duration)]
    return {
        "target_per_second": args.rate,
        "slots": sum(m["slots"] for m in mixes),
        "delayed_slots": sum(m["delayed"] for m in mixes),
        "dropped_slots": sum(m["dropped"] for m in mixes),
        "unsent_backlog_at_end": sum(m["backlog_unsent"] for m in mixes),
        "delayed_send_lag_ms": percentiles(lags),
        **stats,
        "server_calls": dict(server_calls),
        "unexpected_frames": dict(unexpected),
        "answered_per_second": {
            "min": min(timeline, default=0),
            "median": sorted(timeline)[len(timeline) // 2] if timeline else 0,
            "max": max(timeline, default=0),
            "series": timeline,
        },
        "cpu": cpu,
    }


def log_warnings(path: Path) -> dict[str, int]:
    """The server's WARNING/ERROR lines and the exceptions in its tracebacks, counted by
    message with charge point ids and numbers blanked out."""
    counts: Counter[str] = Counter()
    level = re.compile(r" (WARNING|ERROR|CRITICAL) ([\w.]+): (.*)")
    exception = re.compile(r"^([\w.]+(?:Error|Exception|Timeout)\w*): (.*)")
    with contextlib.suppress(OSError), open(path, errors="replace") as lines:
        for line in lines:
            match = level.search(line)
            if match:
                text = f"{match[1]} {match[2]}: {match[3]}"
            elif match := exception.match(line):
                text = f"exception {match[1]}: {match[2]}"
            else:
                continue
            text = re.sub(r"\d+", "#", re.sub(r"BENCH\d+", "<cp>", text))
            counts[text[:160]] += 1
    return dict(counts.most_common(12))


# -- profiling (optional) ------------------------------------------------------------------


@dataclass(slots=True)
class Profiler:
    process: subprocess.Popen[bytes]
    output: Path


def start_profiler(args: argparse.Namespace, pid: int) -> Profiler | None:
    """py-spy record of the server during the mix window (--py-spy FILE)."""
    if not args.py_spy:
        return None
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        log("py-spy not found: .venv/bin/pip install py-spy")
        return None
    output = Path(args.py_spy).resolve()
    # --gil: only the thread holding the GIL is sampled, i.e. where the one core of Python
    # goes; without it, threads blocked in C (SQLite, queues) show up too.
    command = [py_spy, "record", "--pid", str(pid), "--duration", str(int(args.duration)),
               "--rate", "100", "--format", "raw", "--threads", "--nolineno",
               *(["--gil"] if args.py_spy_mode == "gil" else []),
               "--output", str(output)]  # fmt: skip
    return Profiler(subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL), output)  # fmt: skip


def finish_profiler(profiler: Profiler) -> dict[str, Any]:
    try:
        profiler.process.wait(60)
    except subprocess.TimeoutExpired:
        profiler.process.kill()
    if not profiler.output.exists():
        return {"problem": "py-spy wrote nothing"}
    return summarize_collapsed(profiler.output)


def _package(frame: str) -> str:
    """'ClauseList.__init__ (sqlalchemy/sql/elements.py)' -> 'sqlalchemy'; csms/x keeps x."""
    match = re.search(r"\(([^()]*)\)$", frame)
    if match is None:
        return "(native code, no Python frame)"
    parts = match[1].split("/")
    if parts[0] == "<string>":
        return "<string> (generated: fastjsonschema validators, dataclass __init__)"
    return "/".join(parts[:2]) if parts[0] == "csms" and len(parts) > 2 else parts[0]


def summarize_collapsed(path: Path, top: int = 25) -> dict[str, Any]:
    """Self and inclusive sample shares of functions in py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    ids: set[str] = set()
    packages: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        if frames and frames[0].startswith("thread"):
            # "thread (0x1f) (123): Thread-59 (_connection_worker_thread)" -> its kind
            ids.add(frames[0])
            name = frames[0].rpartition(": ")[2]
            threads[re.sub(r"^Thread-\d+ ", "", name)] += count
            frames = frames[1:]
        if frames:
            own[frames[-1]] += count
            packages[_package(frames[-1])] += count
        else:
            packages["(no Python frame: C code, GC)"] += count
        for frame in set(frames):
            inclusive[frame] += count

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / max(1, total), 1)) for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "file": str(path),
        "distinct_threads_seen": len(ids),
        "threads_percent": share(threads),
        "self_percent_by_package": share(packages),
        "self_percent": share(own),
        "inclusive_percent": share(inclusive),
    }


# -- output --------------------------------------------------------------------------------


def _lat(p: dict[str, float]) -> str:
    if not p.get("count"):
        return "-"
    return f"{p['p50']:>8.1f} {p['p90']:>8.1f} {p['p99']:>8.1f} {p['max']:>9.1f}"


def print_figures(f: dict[str, Any]) -> None:
    out: list[str] = [f"command: {f['command']}", f"environment: {f['environment']}"]
    if "id_tags" in f:
        out.append(f"id tags registered: {f['id_tags']}")
    b = f["bring_up"]
    out += [
        "",
        "BRING-UP (connect, BootNotification, StatusNotification x3 per charge point)",
        f"  connected charge points   {b['connected']} (booted and reported: {b['up']}, "
        f"unfinished: {b['unfinished']}, connect errors: {b['connect_errors'] or 0})",
        f"  connect rate              {b['connect_rate_per_second']} connections/s "
        f"({b['connected']} in {b['connect_seconds']} s)",
        f"  handshake ms p50/p90/p99/max  {_lat(b['handshake_ms'])}",
        f"  all booted after          {b['bring_up_seconds']} s; errors "
        f"{b['messages']['errors']} {b['messages']['errors_by_reason'] or ''}",
        f"  CPU %                     {b['cpu']}",
        "  latency ms                     p50      p90      p99       max",
    ]
    for kind, e in b["messages"]["per_action"].items():
        out.append(f"  {kind:<26} {_lat(e['latency_ms'])}")
    m = f["mix"]
    out += [
        "",
        f"MIX ({m['target_per_second']} msg/s target, {f['config']['duration']} s, open loop)",
        f"  messages/s achieved       {m['messages_per_second']} (answered in the window)",
        f"  slots {m['slots']}, sent {m['sent']}, answered {m['answered']}, "
        f"delayed {m['delayed_slots']}, dropped {m['dropped_slots']}, "
        f"unsent at end {m['unsent_backlog_at_end']}",
        f"  delayed-slot send lag ms  {_lat(m['delayed_send_lag_ms'])}",
        "  answered per 1-s bucket   min {min} / median {median} / max {max}".format(
            **m["answered_per_second"]
        ),
        f"  errors                    {m['errors']} {m['errors_by_reason'] or ''}",
        f"  answers                   {m['answers']}",
        f"  CPU %                     {m['cpu']}",
        "  action                      msg/s      p50      p90      p99       max   (ms)",
        f"  {'all':<24} {m['messages_per_second']:>8} {_lat(m['latency_ms'])}",
    ]
    for kind, e in m["per_action"].items():
        out.append(f"  {kind:<24} {e['messages_per_second']:>8} {_lat(e['latency_ms'])}")
    if m["cpu"]["other_percent"] > 20:
        out.append(
            f"  WARNING: other processes used {m['cpu']['other_percent']}% CPU during the mix;"
            " the figures are skewed"
        )
    if m["server_calls"] or m["unexpected_frames"]:
        out.append(f"  CALLs from the server: {m['server_calls']}; odd: {m['unexpected_frames']}")
    mem = f["server_memory"]
    out += [
        "",
        "SERVER",
        f"  RSS MB: start {mem['rss_start_kb'] / 1024:.1f}, before connections "
        f"{mem['rss_before_kb'] / 1024:.1f}, all connected {mem['rss_connected_kb'] / 1024:.1f}, "
        f"end {mem['rss_end_kb'] / 1024:.1f}, peak {mem['rss_peak_kb'] / 1024:.1f}",
        f"  memory per connected charge point: {mem['kb_per_connected_charge_point']} KB",
        f"  CPU seconds total: {f['server_cpu_seconds_total']}; shutdown: {f['server_shutdown']}",
        f"  log warnings/errors: {'' if f['server_log_warnings'] else 'none'}",
        *(f"    {n:>6} x {text}" for text, n in f["server_log_warnings"].items()),
    ]
    if "profile" in f:
        p = f["profile"]
        out += ["", f"PROFILE (py-spy, {p.get('samples')} samples, % of samples)"]
        out.append(f"  distinct threads sampled: {p.get('distinct_threads_seen')}")
        out += [f"  thread {n}: {s}%" for n, s in p.get("threads_percent", [])]
        out += [f"  package {s:>5}%  {n}" for n, s in p.get("self_percent_by_package", [])[:12]]
        out += [f"  self {s:>5}%  {n}" for n, s in p.get("self_percent", [])[:15]]
        out += [f"  incl {s:>5}%  {n}" for n, s in p.get("inclusive_percent", [])[:25]]
    print("\n".join(out))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Load benchmark of csms serve (prints figures).")
    p.add_argument("--charge-points", type=int, default=1000)
    p.add_argument("--rate", type=float, default=5000, help="target msg/s of the mix, in total")
    p.add_argument("--duration", type=float, default=60, help="seconds of the mix")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument(
        "--pg-admin-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="where to CREATE/DROP the run's database (127.0.0.1 only)",
    )
    p.add_argument(
        "--server",
        choices=("csms", *STAND_INS),
        default="csms",
        help="echo / ocpp-lib: stand-ins answering at once (bare websockets / PyPI ocpp)",
    )
    p.add_argument("--workers", type=int, default=1, help="client processes")
    p.add_argument(
        "--connect-concurrency",
        type=int,
        default=100,
        help="WebSocket handshakes in flight, in total",
    )
    p.add_argument(
        "--call-timeout",
        type=float,
        default=10.0,
        help="seconds without an answer before a CALL counts as an error",
    )
    p.add_argument(
        "--ramp-timeout",
        type=float,
        default=600.0,
        help="seconds allowed for connecting and booting everything",
    )
    p.add_argument(
        "--max-backlog",
        type=int,
        default=3,
        help="delayed slots queued per charge point before slots are dropped",
    )
    p.add_argument("--meter-values-per-transaction", type=int, default=10)
    p.add_argument("--heartbeats-per-cycle", type=int, default=3)
    p.add_argument(
        "--only",
        choices=sorted(ONLY_CYCLES),
        help="instead of the mix, only this message (StartStop: Start + Stop pairs)",
    )
    p.add_argument(
        "--id-tags",
        type=int,
        default=1,
        choices=(0, 1),
        help="1: register one Accepted id tag per charge point via the API first",
    )
    p.add_argument(
        "--server-src",
        metavar="DIR",
        help="run the server from this source tree (its src/ directory)",
    )
    p.add_argument("--heartbeat-interval", type=int, default=300)
    p.add_argument(
        "--message-log-days",
        type=int,
        help="the server's message log: days kept, 0 = off (default: the server's, on)",
    )
    p.add_argument("--server-log-level", default="INFO")
    p.add_argument("--startup-timeout", type=float, default=60.0)
    p.add_argument("--timeout", type=float, default=0, help="overall seconds (0: computed)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to SECONDS for other processes to leave the CPUs idle",
    )
    p.add_argument("--py-spy", metavar="FILE", help="py-spy record the server during the mix")
    p.add_argument(
        "--py-spy-mode",
        choices=("gil", "all"),
        default="gil",
        help="gil: sample the GIL holder only; all: every thread, idle or not",
    )
    p.add_argument("--server-cprofile", metavar="FILE", help="run the server under cProfile")
    p.add_argument("--keep-log", metavar="FILE", help="copy the server log here at the end")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = p.parse_args(argv)
    if args.charge_points < 1 or args.workers < 1 or args.rate <= 0 or args.duration <= 0:
        p.error("--charge-points, --workers, --rate and --duration must be positive")
    if args.charge_points > 18_000 * args.workers:
        p.error("at most 18000 charge points per client process (fd limit 20000)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    figures = run(args)
    if args.json:
        print(json.dumps(figures, default=str))
    else:
        print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
