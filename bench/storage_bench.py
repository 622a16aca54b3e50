"""Storage write throughput with group commit: not a test, a measurement.

    .venv/bin/python bench/storage_bench.py [--ops 20000] [--concurrency 1000] [--workload all]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test | --postgres none]

Each of `concurrency` tasks plays a charge point, and notes it was heard from (touch) after each
write, as the server does. Workloads: "mixed" does StatusNotification, MeterValues (4 sampled
values), StartTransaction and StopTransaction in turn; "status", "meter" and "start/stop" do
only those. Each call is one durable write of the store, `ops` of them in all. Prints writes/s,
commits, writes per commit and call latency, per workload and backend (SQLite in a temporary
directory; PostgreSQL in a temporary database on the server at --postgres, dropped afterwards).
Then the latency of a single write on an idle store, against the same write as a plain
transaction without the writer task.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from csms.storage import ConnectorStatus, MeterSample, TransactionStart, TransactionStop
from csms.storage.schema import status_history
from csms.storage.sql import SqlStore, open_store

MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "SoC")


WORKLOADS = {"mixed": (0, 1, 2, 3), "status": (0,), "meter": (1,), "start/stop": (2, 3)}


async def charge_point(
    store: SqlStore, index: int, ops: int, kinds: tuple[int, ...], latencies: list[float]
) -> None:
    charge_point_id = f"CP{index:05d}"
    transaction_id: int | None = None
    meter = 0
    for step in range(ops):
        now = datetime.now(UTC)
        started = time.perf_counter()
        kind = kinds[step % len(kinds)]
        if kind == 0:
            await store.record_status(
                ConnectorStatus(
                    charge_point_id=charge_point_id,
                    connector_id=1,
                    status="Charging",
                    error_code="NoError",
                    timestamp=now,
                    received_at=now,
                )
            )
        elif kind == 1:
            meter += 10
            await store.add_meter_values(
                [
                    MeterSample(
                        charge_point_id=charge_point_id,
                        connector_id=1,
                        transaction_id=transaction_id,
                        timestamp=now,
                        value=str(meter),
                        measurand=measurand,
                    )
                    for measurand in MEASURANDS
                ]
            )
        elif kind == 2:
            transaction = await store.start_transaction(
                TransactionStart(
                    charge_point_id=charge_point_id,
                    connector_id=1,
                    id_tag=f"TAG{index}",
                    meter_start=meter,
                    timestamp=now,
                    reservation_id=None,
                    id_tag_status="Accepted",
                )
            )
            transaction_id = transaction.id
        else:
            assert transaction_id is not None
            await store.stop_transaction(
                TransactionStop(
                    charge_point_id=charge_point_id,
                    transaction_id=transaction_id,
                    meter_stop=meter,
                    timestamp=now,
                    reason="Local",
                    id_tag=None,
                )
            )
        store.touch(charge_point_id, now)
        latencies.append(time.perf_counter() - started)


async def throughput(url: str, workload: str, ops: int, concurrency: int) -> None:
    async with await open_store(url) as store:
        await asyncio.gather(
            *(
                store.save_charge_point(
                    f"CP{index:05d}",
                    registration_status="Accepted",
                    password_hash=None,
                    description=None,
                )
                for index in range(concurrency)
            )
        )
        commits_before = store.commits
        latencies: list[float] = []
        per_task, extra = divmod(ops, concurrency)
        started = time.perf_counter()
        cpu_started = time.process_time()
        async with asyncio.TaskGroup() as group:
            for index in range(concurrency):
                count = per_task + (index < extra)
                group.create_task(charge_point(store, index, count, WORKLOADS[workload], latencies))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        commits = store.commits - commits_before
    latencies.sort()
    print(
        f"  {workload:>10}: {len(latencies)} writes, {concurrency} tasks, {elapsed:.2f} s: "
        f"{len(latencies) / elapsed:,.0f} writes/s, {commits} commits "
        f"({len(latencies) / max(commits, 1):.0f} writes/commit); latency p50 "
        f"{_ms(latencies[len(latencies) // 2])}, p99 {_ms(latencies[int(len(latencies) * 0.99)])}; "
        f"process CPU {cpu / len(latencies) * 1e6:.0f} us/write (load generator included)"
    )


async def idle_latency(url: str, samples: int = 300) -> None:
    """One write at a time: the group-commit path against a bare transaction."""
    async with await open_store(url) as store:
        await store.save_charge_point(
            "CP1", registration_status="Accepted", password_hash=None, description=None
        )
        now = datetime.now(UTC)
        status = ConnectorStatus(
            charge_point_id="CP1",
            connector_id=1,
            status="Available",
            error_code="NoError",
            timestamp=now,
            received_at=now,
        )
        row = {field: getattr(status, field) for field in ConnectorStatus.__dataclass_fields__}
        store_times, bare_times = [], []
        for _ in range(samples):
            started = time.perf_counter()
            await store.record_status(status)
            store_times.append(time.perf_counter() - started)
            # The same commit without the writer: the history insert alone (the store also
            # upserts the current status).
            started = time.perf_counter()
            async with store._write_engine.begin() as connection:
                await connection.execute(status_history.insert(), row)
            bare_times.append(time.perf_counter() - started)
    print(
        f"  idle, one write at a time: store {_ms(statistics.median(store_times))} "
        f"(insert + upsert via the writer task), bare transaction "
        f"{_ms(statistics.median(bare_times))} (insert only), medians of {samples}"
    )


@contextlib.asynccontextmanager
async def temporary_postgres(admin_url: str) -> AsyncIterator[str]:
    admin = make_url(admin_url)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"csms_bench_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument(
        "--postgres",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help="a server to make a temporary database on, or 'none'",
    )
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
    args = parser.parse_args()
    workloads = list(WORKLOADS) if args.workload == "all" else [args.workload]

    with tempfile.TemporaryDirectory() as directory:
        print("SQLite (WAL, synchronous=FULL):")
        for number, workload in enumerate(workloads):
            url = f"sqlite+aiosqlite:///{Path(directory) / f'bench{number}.db'}"
            await throughput(url, workload, args.ops, args.concurrency)
        await idle_latency(f"sqlite+aiosqlite:///{Path(directory) / 'idle.db'}")

    if args.postgres != "none":
        try:
            print("PostgreSQL (synchronous_commit as configured on the server):")
            for workload in workloads:
                async with temporary_postgres(args.postgres) as url:
                    await throughput(url, workload, args.ops, args.concurrency)
            async with temporary_postgres(args.postgres) as url:
                await idle_latency(url)
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"PostgreSQL skipped: {exc!r}", file=sys.stderr)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


if __name__ == "__main__":
    asyncio.run(main())
