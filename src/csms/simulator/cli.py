"""Run N simulated charge points concurrently, each through boot and charging sessions.

    python -m csms.simulator --url ws://127.0.0.1:9000/ocpp --count 10 --id-prefix SIM

Each charge point boots, reports its connectors, then per session: Preparing, Authorize,
StartTransaction, Charging, a few MeterValues, StopTransaction, Finishing, Available. One line is
printed per charge point and one with the totals; the exit status is 1 if anything failed.

Flags make the charge points misbehave as real ones do (docs/simulator-misbehaviours.md):
--reconnect-without-boot, --lose-answers, --offline-sessions (with --late-stops), --hard-reboot,
--clock-offset, --clock-1970, --meter-reset and --energy-unit kWh.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from csms.ocppj import Call, CallError, CallResult
from csms.simulator.charge_point import SimulatedChargePoint
from csms.simulator.clocks import EPOCH, since, skewed
from csms.simulator.offline import QueuedCall
from csms.simulator.remote import stay
from csms.simulator.stacks import PRESETS


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    url: str
    count: int
    id_prefix: str
    sessions: int
    password: str | None
    id_tag: str
    connectors: int
    meter_values: int
    response_timeout: float
    validate: bool
    # Seconds to stay connected after the sessions, answering the CSMS's CALLs (0 = leave).
    stay: float = 0.0
    # Misbehaviours (docs/simulator-misbehaviours.md).
    reconnect_without_boot: bool = False
    lose_answers: bool = False
    offline_sessions: bool = False
    late_stops: bool = False
    hard_reboot: bool = False
    clock_offset: float = 0.0
    clock_1970: bool = False
    meter_reset: bool = False
    energy_unit: str = "Wh"
    # The charger stack it acts like (stacks.py).
    stack: str = "plain"


@dataclass(slots=True, kw_only=True)
class Outcome:
    charge_point_id: str
    transactions: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, CALL -> answer
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        calls = f"calls={len(self.latencies)} transactions={self.transactions}"
        if self.latencies:
            p50 = statistics.median(self.latencies) * 1000
            worst = max(self.latencies) * 1000
            calls += f" p50={p50:.1f}ms max={worst:.1f}ms"
        if self.error is None:
            return f"{self.charge_point_id} ok {calls}"
        return f"{self.charge_point_id} FAILED {calls}: {self.error}"


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m csms.simulator", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--url", required=True, help="CSMS base URL, e.g. ws://127.0.0.1:9000/ocpp")
    parser.add_argument("--count", type=_positive, default=1, help="charge points (default 1)")
    parser.add_argument("--id-prefix", default="SIM", help="charge point id prefix (default SIM)")
    parser.add_argument("--sessions", type=_non_negative, default=1, help="sessions per CP")
    parser.add_argument("--password", default=None, help="HTTP Basic password (all CPs)")
    parser.add_argument(
        "--id-tag",
        default="SIMTAG",
        help="idTag to charge with (default SIMTAG); {id} and {n} are replaced by the charge "
        "point's id and number, for a tag per charge point (a CSMS may answer ConcurrentTx when "
        "one tag charges on several charge points at once)",
    )
    parser.add_argument("--connectors", type=_positive, default=2, help="connectors per CP (2)")
    parser.add_argument("--meter-values", type=_non_negative, default=3, help="per session (3)")
    parser.add_argument("--response-timeout", type=float, default=10.0, help="seconds (10)")
    parser.add_argument(
        "--no-validate", dest="validate", action="store_false", help="skip schema validation"
    )
    parser.add_argument(
        "--stay",
        type=float,
        default=0.0,
        help="seconds to stay connected after the sessions, answering the CSMS (default 0)",
    )
    misbehaviours = parser.add_argument_group("misbehaviours of real charge points")
    misbehaviours.add_argument(
        "--reconnect-without-boot",
        action="store_true",
        help="before every session but the first, lose the connection (no closing handshake) "
        "and connect again without a BootNotification",
    )
    misbehaviours.add_argument(
        "--lose-answers",
        action="store_true",
        help="the answers to StartTransaction and StopTransaction go missing: each is sent "
        "again with the same message id and payload on a new connection",
    )
    misbehaviours.add_argument(
        "--offline-sessions",
        action="store_true",
        help="the connection is lost after the boot; the sessions happen offline, queued "
        "with their own timestamps, and are replayed after connecting again",
    )
    misbehaviours.add_argument(
        "--late-stops",
        action="store_true",
        help="with --offline-sessions: each StopTransaction is replayed after the next "
        "session's StartTransaction",
    )
    misbehaviours.add_argument(
        "--hard-reboot",
        action="store_true",
        help="every session ends with a hard reboot while charging: the StopTransaction is "
        "lost, the charge point boots again",
    )
    misbehaviours.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="the charge points' clock is this many seconds ahead (behind if negative)",
    )
    misbehaviours.add_argument(
        "--clock-1970",
        action="store_true",
        help="the charge points' clock starts at 1970-01-01T00:00:00Z (no time kept)",
    )
    misbehaviours.add_argument(
        "--meter-reset",
        action="store_true",
        help="halfway through every session the energy register loses its state and counts "
        "on from 0 (the StopTransaction's meterStop is below its meterStart)",
    )
    misbehaviours.add_argument(
        "--energy-unit",
        choices=("Wh", "kWh"),
        default="Wh",
        help="the unit MeterValues read the energy register in (default Wh)",
    )
    misbehaviours.add_argument(
        "--stack",
        choices=sorted(PRESETS),
        default="plain",
        help="act like a charger stack (docs/simulator-misbehaviours.md): 32-bit dates, "
        "millisecond clock, TxDefaultProfile fallback, -1 limits, GetConfigurationMaxKeys",
    )
    args = parser.parse_args(argv)
    try:
        args.id_tag.format(id="", n=0)
    except (KeyError, IndexError, ValueError) as exc:
        parser.error(f"--id-tag: only {{id}} and {{n}} may be replaced: {exc!r}")
    if args.late_stops and not args.offline_sessions:
        parser.error("--late-stops needs --offline-sessions")
    if args.offline_sessions and (args.hard_reboot or args.lose_answers):
        parser.error("--offline-sessions goes with neither --hard-reboot nor --lose-answers")
    if args.clock_1970 and args.clock_offset:
        parser.error("--clock-1970 and --clock-offset exclude each other")
    return Options(
        url=args.url,
        count=args.count,
        id_prefix=args.id_prefix,
        sessions=args.sessions,
        password=args.password,
        id_tag=args.id_tag,
        connectors=args.connectors,
        meter_values=args.meter_values,
        response_timeout=args.response_timeout,
        validate=args.validate,
        stay=args.stay,
        reconnect_without_boot=args.reconnect_without_boot,
        lose_answers=args.lose_answers,
        offline_sessions=args.offline_sessions,
        late_stops=args.late_stops,
        hard_reboot=args.hard_reboot,
        clock_offset=args.clock_offset,
        clock_1970=args.clock_1970,
        meter_reset=args.meter_reset,
        energy_unit=args.energy_unit,
        stack=args.stack,
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def charge_point_ids(options: Options) -> list[tuple[int, str]]:
    """(number, id) of each charge point: SIM0001, SIM0002, ..."""
    width = max(4, len(str(options.count)))
    return [(n, f"{options.id_prefix}{n:0{width}d}") for n in range(1, options.count + 1)]


async def run_charge_point(number: int, charge_point_id: str, options: Options) -> Outcome:
    id_tag = options.id_tag.format(id=charge_point_id, n=number)
    outcome = Outcome(charge_point_id=charge_point_id)
    cp = SimulatedChargePoint(
        charge_point_id,
        options.url,
        connectors=options.connectors,
        password=options.password,
        response_timeout=options.response_timeout,
        validate=options.validate,
        clock=_clock(options),
        energy_unit=options.energy_unit,
        stack=options.stack,
    )
    try:
        async with cp:
            await cp.boot_and_report()
            if options.offline_sessions:
                outcome.transactions = await _charge_offline(cp, options, id_tag)
            meter = 0
            for session in range(0 if options.offline_sessions else options.sessions):
                if session > 0 and options.reconnect_without_boot:
                    await cp.drop_and_reconnect()
                connector_id = 1 + session % options.connectors
                meter = await _charge(cp, options, id_tag, connector_id, meter)
                outcome.transactions += 1
            if options.stay > 0:  # like a charger on the wall: online, answering the CSMS
                await stay(cp, options.stay)
    except Exception as exc:  # task boundary: one charge point's failure is its outcome
        outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.latencies = call_latencies(cp)
    return outcome


async def _charge(
    cp: SimulatedChargePoint, options: Options, id_tag: str, connector_id: int, meter: int
) -> int:
    """One charging session on a connector, identification first; returns the final meter."""
    await cp.status_notification(connector_id, "Preparing")
    authorized = await cp.authorize(id_tag)
    _require_accepted("Authorize", authorized)
    if options.lose_answers:
        cp.lose_next_answer(new_connection=True)
    started = await cp.start_transaction(connector_id, id_tag, meter_start=meter)
    transaction_id: int = started["transactionId"]
    if _status(started) != "Accepted":
        # StopTransactionOnInvalidId (spec 9.1.24): the charger ends what it just started.
        await cp.stop_transaction(transaction_id, meter, reason="DeAuthorized")
        await cp.status_notification(connector_id, "Available")
        _require_accepted("StartTransaction", started)
    await cp.status_notification(connector_id, "Charging")
    for n in range(options.meter_values):
        if options.meter_reset and n == options.meter_values // 2:
            meter = 0  # a crash: the register restarts (docs/simulator-misbehaviours.md)
            cp.reset_meter(connector_id)
        meter += 250
        await cp.meter_values(connector_id, transaction_id=transaction_id, energy_wh=meter)
    if options.hard_reboot:
        await cp.hard_reboot()  # the StopTransaction is never sent
        return meter
    if options.lose_answers:
        cp.lose_next_answer(new_connection=True)
    await cp.stop_transaction(transaction_id, meter, reason="Local", id_tag=id_tag)
    await cp.status_notification(connector_id, "Finishing")
    await cp.status_notification(connector_id, "Available")
    return meter


async def _charge_offline(cp: SimulatedChargePoint, options: Options, id_tag: str) -> int:
    """Every session offline (authorized locally, spec 3.5), queued; then the replay, each
    StopTransaction after the next StartTransaction with `late_stops`. Returns the number of
    transactions replayed: they happened already, whatever idTagInfo the CSMS answers now."""
    await cp.drop()
    meter = 0
    for session in range(options.sessions):
        connector_id = 1 + session % options.connectors
        cp.offline.status_notification(connector_id, "Preparing")
        start = cp.offline.start_transaction(connector_id, id_tag, meter_start=meter)
        cp.offline.status_notification(connector_id, "Charging")
        for _ in range(options.meter_values):
            meter += 250
            cp.offline.meter_values(connector_id, transaction=start, energy_wh=meter)
        cp.offline.stop_transaction(start, meter, reason="Local", id_tag=id_tag)
        cp.offline.status_notification(connector_id, "Finishing")
        cp.offline.status_notification(connector_id, "Available")
    order = list(cp.offline.queued)
    if options.late_stops:
        order = late_stops(order)
    replayed = await cp.offline.replay(order)
    return sum(message.action == "StartTransaction" for message in replayed)


def late_stops(order: list[QueuedCall]) -> list[QueuedCall]:
    """The same messages with each StopTransaction moved after the next StartTransaction (if
    there is one): the order of a charge point that sends its newest transaction first."""
    result: list[QueuedCall] = []
    held: list[QueuedCall] = []
    for message in order:
        if message.action == "StopTransaction":
            held.append(message)
            continue
        result.append(message)
        if message.action == "StartTransaction" and held:
            result.extend(held)
            held.clear()
    return result + held


def _clock(options: Options) -> Callable[[], datetime]:
    if options.clock_1970:
        return since(EPOCH)
    return skewed(options.clock_offset)


def _status(response: dict[str, object]) -> object:
    info = response.get("idTagInfo")
    return info.get("status") if isinstance(info, dict) else None


def _require_accepted(action: str, response: dict[str, object]) -> None:
    status = _status(response)
    if status != "Accepted":
        raise RuntimeError(f"{action} answered idTagInfo.status {status!r}")


def call_latencies(cp: SimulatedChargePoint) -> list[float]:
    """Seconds from each CALL of ours to its answer, from the frame log."""
    sent: dict[str, float] = {}
    latencies = []
    for logged in cp.log:
        frame = logged.frame
        if logged.direction == "sent" and isinstance(frame, Call):
            sent[frame.unique_id] = logged.time
        elif logged.direction == "received" and isinstance(frame, CallResult | CallError):
            started = sent.pop(frame.unique_id, None)
            if started is not None:
                latencies.append(logged.time - started)
    return latencies


async def run(options: Options, out: TextIO = sys.stdout) -> int:
    started = time.monotonic()
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(run_charge_point(number, charge_point_id, options))
            for number, charge_point_id in charge_point_ids(options)
        ]
    elapsed = time.monotonic() - started
    outcomes = [task.result() for task in tasks]
    for outcome in outcomes:
        print(outcome.summary(), file=out)
    failed = sum(not outcome.ok for outcome in outcomes)
    calls = sum(len(outcome.latencies) for outcome in outcomes)
    transactions = sum(outcome.transactions for outcome in outcomes)
    print(
        f"total: {len(outcomes)} charge points, {len(outcomes) - failed} ok, {failed} failed, "
        f"{calls} calls, {transactions} transactions in {elapsed:.2f} s "
        f"({calls / elapsed if elapsed > 0 else 0:.0f} calls/s)",
        file=out,
    )
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))
