"""The client side of the load benchmark: one process driving many simulated charge points.

Deliberately lean (the machine has two cores and the server needs one): `websockets` asyncio
client without compression or keepalive, `json.loads` for answers and pre-built %-templates for
requests, no OCPP library. Each charge point keeps at most one CALL in flight (OCPP-J 4.1.1).

`run_worker(config, pipe)` is the entry point of a worker process; `load.py` coordinates the
workers over the pipe: bring-up -> report "up" -> "mix" -> report "mixed" -> "close".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Subprotocol

OCPP16 = Subprotocol("ocpp1.6")

BOOT = "BootNotification"
STATUS = "StatusNotification"
HEARTBEAT = "Heartbeat"
AUTHORIZE = "Authorize"
START = "StartTransaction"
METER = "MeterValues"
STOP = "StopTransaction"

# Requests as %-templates: formatting one costs about a microsecond, json.dumps several.
_BOOT = (
    '[2,"%s","BootNotification",{"chargePointVendor":"BenchVendor","chargePointModel":'
    '"BenchAC22","chargePointSerialNumber":"%s","firmwareVersion":"1.0.0",'
    '"meterType":"BenchMeter 3P"}]'
)
_STATUS = (
    '[2,"%s","StatusNotification",{"connectorId":%d,"errorCode":"NoError","status":"%s",'
    '"timestamp":"%s"}]'
)
_HEARTBEAT = '[2,"%s","Heartbeat",{}]'
_AUTHORIZE = '[2,"%s","Authorize",{"idTag":"%s"}]'
_START = (
    '[2,"%s","StartTransaction",{"connectorId":%d,"idTag":"%s","meterStart":%d,"timestamp":"%s"}]'
)
_STOP = (
    '[2,"%s","StopTransaction",{"transactionId":%d,"idTag":"%s","meterStop":%d,'
    '"timestamp":"%s","reason":"Local"}]'
)


def _sample(measurand: str, unit: str, phase: str | None = None, location: str = "Outlet") -> str:
    phase_field = f',"phase":"{phase}"' if phase else ""
    return (
        '{"value":"%s","context":"Sample.Periodic","format":"Raw",'
        f'"measurand":"{measurand}"{phase_field},"location":"{location}","unit":"{unit}"}}'
    )


# Ten sampled values, like a three-phase AC charger with an ISO 15118 / SoC-reporting EV:
# energy register, active power, current and voltage per phase, offered current, SoC.
_SAMPLES = ",".join(
    [
        _sample("Energy.Active.Import.Register", "Wh"),
        _sample("Power.Active.Import", "W"),
        *(_sample("Current.Import", "A", phase) for phase in ("L1", "L2", "L3")),
        *(_sample("Voltage", "V", phase) for phase in ("L1-N", "L2-N", "L3-N")),
        _sample("Current.Offered", "A"),
        _sample("SoC", "Percent", location="EV"),
    ]
)
_METER_TX = (
    '[2,"%s","MeterValues",{"connectorId":%d,"transactionId":%d,"meterValue":[{"timestamp":'
    f'"%s","sampledValue":[{_SAMPLES}]}}]}}]'
)
_METER_NO_TX = (
    '[2,"%s","MeterValues",{"connectorId":%d,"meterValue":[{"timestamp":'
    f'"%s","sampledValue":[{_SAMPLES}]}}]}}]'
)
# Answers to CALLs the CSMS may send on its own (a CSMS often configures a charge point after
# its boot); anything else gets a CALLERROR NotSupported.
_ANSWERS: dict[str, str] = {
    "GetConfiguration": '{"configurationKey":[],"unknownKey":[]}',
    "ChangeConfiguration": '{"status":"Accepted"}',
    "TriggerMessage": '{"status":"Rejected"}',
    "ClearCache": '{"status":"Accepted"}',
    "DataTransfer": '{"status":"UnknownVendorId"}',
    "SetChargingProfile": '{"status":"Accepted"}',
    "ClearChargingProfile": '{"status":"Unknown"}',
    "GetLocalListVersion": '{"listVersion":0}',
}

# Watts / amperes / volts of a 22 kW three-phase session; one MeterValues per simulated minute.
_POWER_W = 11_040.0
_WH_PER_SAMPLE = 184


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerConfig:
    """What one worker process does; picklable (sent to a spawned process)."""

    worker: int
    url: str  # ws://127.0.0.1:PORT/ocpp/
    charge_point_ids: tuple[str, ...]
    id_tags: tuple[str, ...]  # one per charge point, same order
    connect_concurrency: int
    rate: float  # this worker's share of the target msg/s
    duration: float
    call_timeout: float
    ramp_timeout: float
    max_backlog: int
    meter_values_per_transaction: int
    heartbeats_per_cycle: int
    seed: int
    only: str | None  # None: the realistic mix; else one key of ONLY_CYCLES
    deadline: float  # time.time() after which the worker gives up whatever it is doing


@dataclass(slots=True)
class Stats:
    """What one phase measured. Latencies in ms, per action."""

    window_start: float = 0.0  # perf_counter; answers inside the window count for msg/s
    window_end: float = float("inf")
    latency: dict[str, array[float]] = field(default_factory=dict)
    in_window: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)  # idTagInfo statuses etc.
    per_second: Counter[int] = field(default_factory=Counter)  # answers per 1-s bucket

    def ok(self, kind: str, sent_at: float, now: float) -> None:
        lat = self.latency.get(kind)
        if lat is None:
            lat = self.latency[kind] = array("d")
        lat.append((now - sent_at) * 1000.0)
        if self.window_start <= now <= self.window_end:
            self.in_window[kind] += 1
            self.per_second[int(now - self.window_start)] += 1

    def export(self) -> dict[str, Any]:
        return {
            "latency": {k: v.tobytes() for k, v in self.latency.items()},
            "in_window": dict(self.in_window),
            "sent": dict(self.sent),
            "errors": dict(self.errors),
            "answers": dict(self.answers),
        }


class ChargePoint:
    """One simulated charge point: its socket, its one pending CALL, its session script."""

    __slots__ = (
        "backlog",
        "charge_point_id",
        "connector",
        "dead",
        "id_tag",
        "pending_id",
        "pending_kind",
        "pending_stats",
        "position",
        "prefix",
        "samples",
        "sent_at",
        "transaction_id",
        "waiter",
        "watt_hours",
        "ws",
    )

    def __init__(self, charge_point_id: str, id_tag: str, position: int, prefix: list[str]):
        self.charge_point_id = charge_point_id
        self.id_tag = id_tag
        self.ws: ClientConnection | None = None
        self.dead = False
        self.pending_id: str | None = None
        self.pending_kind = ""
        self.pending_stats: Stats | None = None
        self.sent_at = 0.0
        self.waiter: asyncio.Future[bool] | None = None
        self.backlog: list[float] = []  # scheduled times of delayed slots
        self.position = position  # in the session cycle
        self.prefix = prefix  # messages to send before resuming the cycle
        self.connector = 1
        self.transaction_id: int | None = None
        self.watt_hours = 1_000_000
        self.samples = 0


# `--only`: one kind of message, to measure its cost alone. The charge points still keep the
# session state consistent (MeterValues belong to a transaction started at the beginning).
ONLY_CYCLES: dict[str, list[str]] = {
    HEARTBEAT: [HEARTBEAT],
    STATUS: ["S:Available", "S:Available"],
    AUTHORIZE: [AUTHORIZE],
    METER: [METER],
    "StartStop": [START, STOP],
}


def session_cycle(meter_values: int, heartbeats: int, only: str | None = None) -> list[str]:
    """One charging session then some idle time, plug-in first (spec 3.6 / 4.9 statuses)."""
    if only is not None:
        return ONLY_CYCLES[only]
    return [
        "S:Preparing",
        AUTHORIZE,
        START,
        "S:Charging",
        *[METER] * meter_values,
        STOP,
        "S:Finishing",
        "S:Available",
        *[HEARTBEAT] * heartbeats,
    ]


class Worker:
    def __init__(self, config: WorkerConfig, pipe: Connection) -> None:
        self.config = config
        self.pipe = pipe
        self.rng = random.Random(config.seed)
        self.cycle = session_cycle(
            config.meter_values_per_transaction, config.heartbeats_per_cycle, config.only
        )
        start_index = self.cycle.index(START) if START in self.cycle else len(self.cycle)
        stop_index = self.cycle.index(STOP) if STOP in self.cycle else -1
        self.charge_points: list[ChargePoint] = []
        for charge_point_id, id_tag in zip(config.charge_point_ids, config.id_tags, strict=True):
            # A random phase of the cycle, so the mix is steady from the first second; a phase
            # inside a session starts with its Authorize + StartTransaction.
            position = self.rng.randrange(len(self.cycle))
            prefix = [AUTHORIZE, START] if start_index < position <= stop_index else []
            if config.only == METER:
                prefix = [START]
            self.charge_points.append(ChargePoint(charge_point_id, id_tag, position, prefix))
        self.next_id = 0
        self.bringup = Stats()
        self.mix = Stats()
        self.tasks: set[asyncio.Task[None]] = set()
        self.handshake_ms = array("d")
        self.connect_errors: Counter[str] = Counter()
        self.server_calls: Counter[str] = Counter()
        self.unexpected: Counter[str] = Counter()
        self.delayed = 0
        self.dropped = 0
        self.send_lag_ms = array("d")
        self.last_connected_at = 0.0
        self.last_up_at = 0.0
        self._ts_second = -1
        self._ts = ""

    # -- plumbing -------------------------------------------------------------------------

    def timestamp(self) -> str:
        second = int(time.time())
        if second != self._ts_second:
            self._ts_second = second
            self._ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        return self._ts

    def message_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def build(self, cp: ChargePoint, token: str) -> tuple[str, str, str]:
        """The next request of `cp` for script token `token`: (action, message id, text)."""
        mid = self.message_id()
        if token.startswith("S:"):
            status = token[2:]
            if status == "Preparing":
                cp.connector = 3 - cp.connector  # sessions alternate between connectors 1, 2
            return STATUS, mid, _STATUS % (mid, cp.connector, status, self.timestamp())
        if token == METER:
            cp.samples += 1
            cp.watt_hours += _WH_PER_SAMPLE
            n = cp.samples
            amps = 16.0 - (n % 7) * 0.1
            values = (
                cp.watt_hours,
                f"{_POWER_W - (n % 7) * 69:.1f}",
                f"{amps:.1f}",
                f"{amps + 0.1:.1f}",
                f"{amps - 0.1:.1f}",
                f"{230.0 + n % 5:.1f}",
                f"{231.0 - n % 3:.1f}",
                f"{229.5 + n % 4:.1f}",
                "16.0",
                min(100, 20 + n % 80),
            )
            if cp.transaction_id is None:  # its StartTransaction failed: a connector sample
                return METER, mid, _METER_NO_TX % (mid, cp.connector, self.timestamp(), *values)
            return (
                METER,
                mid,
                _METER_TX % (mid, cp.connector, cp.transaction_id, self.timestamp(), *values),
            )
        if token == HEARTBEAT:
            return HEARTBEAT, mid, _HEARTBEAT % mid
        if token == AUTHORIZE:
            return AUTHORIZE, mid, _AUTHORIZE % (mid, cp.id_tag)
        if token == START:
            cp.transaction_id = None
            return (
                START,
                mid,
                _START % (mid, cp.connector, cp.id_tag, cp.watt_hours, self.timestamp()),
            )
        if token == STOP:
            if cp.transaction_id is None:  # nothing to stop: idle instead
                return HEARTBEAT, mid, _HEARTBEAT % mid
            text = _STOP % (mid, cp.transaction_id, cp.id_tag, cp.watt_hours, self.timestamp())
            cp.transaction_id = None
            return STOP, mid, text
        raise ValueError(token)

    def next_token(self, cp: ChargePoint) -> str:
        if cp.prefix:
            return cp.prefix.pop(0)
        token = self.cycle[cp.position]
        cp.position = (cp.position + 1) % len(self.cycle)
        return token

    async def send(self, cp: ChargePoint, kind: str, mid: str, text: str, stats: Stats) -> None:
        """Send one CALL; the answer is handled by the charge point's reader."""
        assert cp.ws is not None and cp.pending_id is None
        cp.pending_id = mid
        cp.pending_kind = kind
        cp.pending_stats = stats
        cp.sent_at = time.perf_counter()
        stats.sent[kind] += 1
        try:
            # Never blocks here: one CALL in flight per socket stays far below write_limit.
            await cp.ws.send(text)
        except ConnectionClosed:
            self.fail(cp, "connection closed")

    def fail(self, cp: ChargePoint, reason: str) -> None:
        """The pending CALL failed (CALLERROR, timeout, closed socket, bad answer)."""
        if cp.pending_id is None:
            return
        stats = cp.pending_stats
        assert stats is not None
        stats.errors[f"{cp.pending_kind}: {reason}"] += 1
        self.finish(cp, ok=False)

    def finish(self, cp: ChargePoint, *, ok: bool) -> None:
        cp.pending_id = None
        cp.pending_stats = None
        if cp.waiter is not None and not cp.waiter.done():
            cp.waiter.set_result(ok)

    async def call(self, cp: ChargePoint, kind: str, mid: str, text: str) -> bool:
        """Bring-up: send and wait for the answer (the sweeper enforces the timeout)."""
        cp.waiter = asyncio.get_running_loop().create_future()
        await self.send(cp, kind, mid, text, self.bringup)
        try:
            return await cp.waiter
        finally:
            cp.waiter = None

    # -- answers --------------------------------------------------------------------------

    async def reader(self, cp: ChargePoint) -> None:
        assert cp.ws is not None
        try:
            async for raw in cp.ws:
                now = time.perf_counter()
                try:
                    frame = json.loads(raw)
                    message_type = frame[0]
                except (ValueError, TypeError, IndexError, KeyError):
                    self.unexpected["unparsable frame"] += 1
                    continue
                if message_type == 2:
                    await self.answer_server_call(cp, frame)
                    continue
                if cp.pending_id is None or frame[1] != cp.pending_id:
                    self.unexpected["answer to no pending CALL (late after a timeout?)"] += 1
                    continue
                if message_type == 3:
                    self.check(cp, frame[2] if len(frame) > 2 else None, now)
                elif message_type == 4:
                    self.fail(cp, f"CALLERROR {frame[2] if len(frame) > 2 else '?'}")
                else:
                    self.fail(cp, f"unknown message type {message_type!r}")
                if cp.backlog:
                    await self.send_backlog(cp)
        except ConnectionClosed:
            pass
        finally:
            cp.dead = True
            self.fail(cp, "connection closed")

    async def send_backlog(self, cp: ChargePoint) -> None:
        """Send the oldest delayed slot of `cp` now that its previous CALL is answered."""
        if cp.backlog and cp.pending_id is None and not cp.dead:
            scheduled = cp.backlog.pop(0)
            self.send_lag_ms.append((time.perf_counter() - scheduled) * 1000.0)
            kind, mid, text = self.build(cp, self.next_token(cp))
            await self.send(cp, kind, mid, text, self.mix)

    # One branch per action's .conf (spec chapter 6), read top to bottom like the spec; a bench
    # oracle kept in one piece so that it is checked against the spec at a glance.
    def check(self, cp: ChargePoint, payload: Any, now: float) -> None:  # noqa: C901
        """Check a CALLRESULT against what the action's .conf must contain (spec chapter 6)."""
        kind = cp.pending_kind
        stats = cp.pending_stats
        assert stats is not None
        if not isinstance(payload, dict):
            self.fail(cp, "CALLRESULT payload is not an object")
            return
        problem: str | None = None
        if kind == BOOT:
            status = payload.get("status")
            if status != "Accepted":
                problem = f"status {status!r}"
            elif not isinstance(payload.get("interval"), int) or "currentTime" not in payload:
                problem = "no interval or currentTime"
        elif kind == HEARTBEAT:
            if not isinstance(payload.get("currentTime"), str):
                problem = "no currentTime"
        elif kind in (AUTHORIZE, START):
            info = payload.get("idTagInfo")
            if not isinstance(info, dict) or not isinstance(info.get("status"), str):
                problem = "no idTagInfo.status"
            else:
                stats.answers[f"{kind} idTagInfo.status={info['status']}"] += 1
            if kind == START:
                transaction_id = payload.get("transactionId")
                if isinstance(transaction_id, int) and not isinstance(transaction_id, bool):
                    cp.transaction_id = transaction_id
                else:
                    problem = "no transactionId"
        elif kind == STOP:
            info = payload.get("idTagInfo")
            if info is not None and not isinstance(info, dict):
                problem = "bad idTagInfo"
        elif payload:  # StatusNotification.conf and MeterValues.conf are empty objects
            problem = "non-empty payload"
        if problem is not None:
            self.fail(cp, problem)
            return
        stats.ok(kind, cp.sent_at, now)
        self.finish(cp, ok=True)

    async def answer_server_call(self, cp: ChargePoint, frame: list[Any]) -> None:
        action = str(frame[2]) if len(frame) > 2 else "?"
        self.server_calls[action] += 1
        mid = json.dumps(frame[1])
        answer = _ANSWERS.get(action)
        if answer is None:
            text = f'[4,{mid},"NotSupported","benchmark charge point",{{}}]'
        else:
            text = f"[3,{mid},{answer}]"
        assert cp.ws is not None
        with contextlib.suppress(ConnectionClosed):
            await cp.ws.send(text)

    async def sweeper(self) -> None:
        """Fail CALLs unanswered after call_timeout (the OCPP response timeout)."""
        timeout = self.config.call_timeout
        while True:
            await asyncio.sleep(0.5)
            limit = time.perf_counter() - timeout
            for cp in self.charge_points:
                if cp.pending_id is not None and cp.sent_at < limit:
                    self.fail(cp, "timeout")
                    if cp.backlog:
                        self.spawn(self.send_backlog(cp))

    # -- phases ---------------------------------------------------------------------------

    def spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def bring_up_one(self, cp: ChargePoint, gate: asyncio.Semaphore) -> bool:
        """Connect (at most connect_concurrency handshakes in flight), boot, report connectors
        0..2 Available (spec 4.2, 4.9)."""
        async with gate:
            started = time.perf_counter()
            try:
                cp.ws = await connect(
                    self.config.url + cp.charge_point_id,
                    subprotocols=[OCPP16],
                    compression=None,
                    proxy=None,  # never a proxy: only 127.0.0.1 is contacted
                    open_timeout=self.config.call_timeout,
                    ping_interval=None,  # the CSMS pings; answering needs no task here
                    close_timeout=5,
                    user_agent_header=None,
                    max_queue=4,
                )
            except (OSError, TimeoutError, WebSocketException) as exc:
                self.connect_errors[type(exc).__name__] += 1
                cp.dead = True
                return False
            self.handshake_ms.append((time.perf_counter() - started) * 1000.0)
            self.last_connected_at = time.time()
        self.spawn(self.reader(cp))
        if not await self.call(cp, BOOT, *self._boot(cp)):
            return False
        for connector in (0, 1, 2):
            mid = self.message_id()
            text = _STATUS % (mid, connector, "Available", self.timestamp())
            if not await self.call(cp, STATUS, mid, text):
                return False
        self.last_up_at = time.time()
        return True

    def _boot(self, cp: ChargePoint) -> tuple[str, str]:
        mid = self.message_id()
        return mid, _BOOT % (mid, "SN-" + cp.charge_point_id)

    async def bring_up(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(self.config.connect_concurrency)
        self.bringup.window_start = started = time.perf_counter()
        started_at = time.time()
        jobs = [asyncio.ensure_future(self.bring_up_one(cp, gate)) for cp in self.charge_points]
        done, pending = await asyncio.wait(jobs, timeout=self.config.ramp_timeout)
        for job in pending:
            job.cancel()
        up = [job.result() for job in done if not job.cancelled() and job.exception() is None]
        connected = sum(1 for cp in self.charge_points if cp.ws is not None and not cp.dead)
        return {
            "connected": connected,
            "up": sum(up),
            "unfinished": len(pending),
            "handshake_ms": self.handshake_ms.tobytes(),
            "connect_errors": dict(self.connect_errors),
            "seconds": time.perf_counter() - started,
            "started_at": started_at,
            "last_connected_at": self.last_connected_at,
            "last_up_at": self.last_up_at,
            "stats": self.bringup.export(),
        }

    async def run_mix(self, start_at: float) -> dict[str, Any]:
        """Open loop: slot k of this worker is due at start + k / rate, for the charge points
        in turn (shuffled order). A slot whose charge point still waits for an answer is
        delayed (queued on it, at most max_backlog) or, past that, dropped."""
        config = self.config
        ready = [cp for cp in self.charge_points if not cp.dead and cp.ws is not None]
        self.rng.shuffle(ready)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        rate, duration = config.rate, config.duration
        cpu_start = time.process_time()
        t0 = time.perf_counter()
        self.mix.window_start, self.mix.window_end = t0, t0 + duration
        total_slots = int(rate * duration)
        issued = 0
        index = 0
        while issued < total_slots and ready:
            now = time.perf_counter()
            if now - t0 >= duration:
                break
            due = min(total_slots, int((now - t0) * rate) + 1)
            while issued < due:
                cp = ready[index]
                index = (index + 1) % len(ready)
                issued += 1
                if cp.dead:
                    self.dropped += 1
                elif cp.pending_id is not None or cp.backlog:
                    self.delayed += 1
                    if len(cp.backlog) < config.max_backlog:
                        cp.backlog.append(t0 + (issued - 1) / rate)
                    else:
                        self.dropped += 1
                else:
                    kind, mid, text = self.build(cp, self.next_token(cp))
                    await self.send(cp, kind, mid, text, self.mix)
            await asyncio.sleep(0.004)
        elapsed = time.perf_counter() - t0
        backlog_left = 0
        for cp in ready:  # slots still queued when the window closed are not sent
            backlog_left += len(cp.backlog)
            cp.backlog.clear()
        # Drain: wait (bounded) for the answers still in flight; they count for latency only.
        for _ in range(int((config.call_timeout + 1.0) / 0.05)):
            if all(cp.pending_id is None for cp in ready):
                break
            await asyncio.sleep(0.05)
        cpu = time.process_time() - cpu_start
        return {
            "slots": issued,
            "elapsed": elapsed,
            "delayed": self.delayed,
            "dropped": self.dropped,
            "backlog_unsent": backlog_left,
            "send_lag_ms": self.send_lag_ms.tobytes(),
            "per_second": [self.mix.per_second[i] for i in range(int(duration) + 1)],
            "client_cpu_seconds": cpu,
            "stats": self.mix.export(),
            "server_calls": dict(self.server_calls),
            "unexpected": dict(self.unexpected),
        }

    async def close_all(self) -> None:
        async def close(cp: ChargePoint) -> None:
            if cp.ws is not None:
                with contextlib.suppress(Exception):
                    await cp.ws.close()

        gate = asyncio.Semaphore(500)

        async def bounded(cp: ChargePoint) -> None:
            async with gate:
                await close(cp)

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(20):
                await asyncio.gather(*(bounded(cp) for cp in self.charge_points))

    async def command(self, timeout: float) -> tuple[str, Any]:
        """The next command from load.py (blocking pipe read in a thread, bounded)."""

        until = time.monotonic() + timeout
        while not self.pipe.poll():
            if time.monotonic() > until:
                return ("timeout", None)
            await asyncio.sleep(0.05)
        message: tuple[str, Any] = self.pipe.recv()
        return message

    async def run(self) -> None:
        remaining = max(1.0, self.config.deadline - time.time())
        async with asyncio.timeout(remaining):
            sweeper = asyncio.ensure_future(self.sweeper())
            try:
                self.pipe.send(("up", await self.bring_up()))
                command, argument = await self.command(self.config.deadline - time.time())
                if command == "mix":
                    self.pipe.send(("mixed", await self.run_mix(float(argument))))
                    command, argument = await self.command(self.config.deadline - time.time())
                await self.close_all()
                self.pipe.send(("closed", None))
            finally:
                sweeper.cancel()
                for task in list(self.tasks):
                    task.cancel()


def run_worker(config: WorkerConfig, pipe: Connection) -> None:
    """Entry point of a worker process."""
    try:
        import uvloop  # optional: a faster event loop for the client, if installed

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        runner(Worker(config, pipe).run())
    except TimeoutError:
        with contextlib.suppress(OSError):
            pipe.send(("error", "worker deadline reached"))
    except Exception as exc:
        with contextlib.suppress(OSError):
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
