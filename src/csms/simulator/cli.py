"""Run N simulated charge points concurrently, each through boot and charging sessions.

    python -m csms.simulator --url ws://127.0.0.1:9000/ocpp --count 10 --id-prefix SIM

Each charge point boots, reports its connectors, then per session: Preparing, Authorize,
StartTransaction, Charging, a few MeterValues, StopTransaction, Finishing, Available. One line is
printed per charge point and one with the totals; the exit status is 1 if anything failed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from csms.ocppj import Call, CallError, CallResult
from csms.simulator.charge_point import SimulatedChargePoint


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
    args = parser.parse_args(argv)
    try:
        args.id_tag.format(id="", n=0)
    except (KeyError, IndexError, ValueError) as exc:
        parser.error(f"--id-tag: only {{id}} and {{n}} may be replaced: {exc!r}")
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
    )
    try:
        async with cp:
            await cp.boot_and_report()
            meter = 0
            for session in range(options.sessions):
                connector_id = 1 + session % options.connectors
                meter = await _charge(cp, options, id_tag, connector_id, meter)
                outcome.transactions += 1
            if options.stay > 0:  # like a charger on the wall: online, answering the CSMS
                await asyncio.sleep(options.stay)
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
    started = await cp.start_transaction(connector_id, id_tag, meter_start=meter)
    transaction_id: int = started["transactionId"]
    if _status(started) != "Accepted":
        # StopTransactionOnInvalidId (spec 9.1.24): the charger ends what it just started.
        await cp.stop_transaction(transaction_id, meter, reason="DeAuthorized")
        await cp.status_notification(connector_id, "Available")
        _require_accepted("StartTransaction", started)
    await cp.status_notification(connector_id, "Charging")
    for _ in range(options.meter_values):
        meter += 250
        await cp.meter_values(connector_id, transaction_id=transaction_id, energy_wh=meter)
    await cp.stop_transaction(transaction_id, meter, reason="Local", id_tag=id_tag)
    await cp.status_notification(connector_id, "Finishing")
    await cp.status_notification(connector_id, "Available")
    return meter


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
