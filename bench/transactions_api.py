"""Response times of the transactions API for billing (api/transactions.py) on a large table.
Prints figures; asserts nothing.

    .venv/bin/python bench/transactions_api.py --transactions 100000
    .venv/bin/python bench/transactions_api.py --database postgresql+asyncpg://postgres@127.0.0.1/bench

A CSMS runs in this process on free loopback ports with a new SQLite file (or the database
given, which should be empty). The table is filled in bulk (not through the message path):
`--transactions` transactions of `--charge-points` charge points (2 connectors each), one every
5 minutes back from now, the newest on each connector running; 3 register samples each. Then
each request is made `--repeat` times over HTTP with the API token.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from console import in_process_settings
from csms.app import running
from csms.storage.schema import charge_points, meter_values, transactions

CHUNK = 5000


def transaction_rows(count: int, stations: int, now: datetime) -> list[dict[str, Any]]:
    rows = []
    running_from = count - 2 * stations  # the newest on each connector is running
    for n in range(count):
        start = now - timedelta(minutes=5 * (count - n))
        stopped = n < running_from
        rows.append(
            {
                "charge_point_id": f"BENCH{n % stations:04d}",
                "connector_id": 1 + (n // stations) % 2,
                "id_tag": f"TAG{n % 1000:05d}",
                "id_tag_status": "Accepted",
                "meter_start": 1000 * n,
                "start_time": start,
                "stop_time": start + timedelta(minutes=40) if stopped else None,
                "meter_stop": 1000 * n + 7000 if stopped else None,
                "stop_reason": "Local" if stopped else None,
                "energy_wh": 7000 if stopped else None,
                "energy_flags": "from_samples" if stopped else "",
            }
        )
    return rows


def sample_rows(count: int, stations: int, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        start = now - timedelta(minutes=5 * (count - n))
        for k in range(1, 4):
            rows.append(
                {
                    "charge_point_id": f"BENCH{n % stations:04d}",
                    "connector_id": 1 + (n // stations) % 2,
                    "transaction_id": n + 1,
                    "timestamp": start + timedelta(minutes=10 * k),
                    "value": str(1000 * n + 2000 * k),
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                }
            )
    return rows


async def fill(store: Any, count: int, stations: int) -> None:
    """In one transaction of the store's writer (other writes wait for it)."""
    now = datetime.now(UTC)

    async def work(connection: Any) -> None:
        await connection.execute(
            charge_points.insert(),
            [
                {"id": f"BENCH{n:04d}", "registration_status": "Accepted", "created_at": now}
                for n in range(stations)
            ],
        )
        for table, rows in (
            (transactions, transaction_rows(count, stations, now)),
            (meter_values, sample_rows(count, stations, now)),
        ):
            for start in range(0, len(rows), CHUNK):
                await connection.execute(table.insert(), rows[start : start + CHUNK])

    await store.writer.run(work)


def requests(now: datetime) -> list[tuple[str, dict[str, Any]]]:
    week = {
        "from": (now - timedelta(days=100)).isoformat(),
        "to": (now - timedelta(days=93)).isoformat(),
    }
    return [
        ("/transactions", {"limit": 100}),
        ("/transactions", {"limit": 1000}),
        ("/transactions", {"limit": 100, "cursor": "dDkwMDAw"}),  # after id 90000
        ("/transactions", {"limit": 100, "chargePointId": "BENCH0042"}),
        ("/transactions", {"limit": 100, "idTag": "tag00042"}),
        ("/transactions", {"limit": 100, **week}),
        ("/transactions", {"limit": 1000, "active": "true"}),
        ("/transactions.csv", {}),
        (
            "/transactions/summary",
            {
                "groupBy": "day",
                "from": (now - timedelta(days=366)).date().isoformat(),
                "to": (now + timedelta(days=1)).date().isoformat(),
                "tz": "Europe/Berlin",
            },
        ),
        ("/transactions/summary", {"groupBy": "day", **week, "tz": "Europe/Berlin"}),
        ("/transactions/summary", {"groupBy": "chargePoint"}),
        ("/transactions/summary", {"groupBy": "chargePoint", **week}),
    ]


async def measure(client: httpx.AsyncClient, repeat: int) -> None:
    print(f"{'request':78} {'median ms':>10} {'max ms':>8} {'bytes':>10}")
    for path, params in requests(datetime.now(UTC)):
        times = []
        size = 0
        for _ in range(repeat):
            started = time.perf_counter()
            response = await client.get(path, params=params)
            times.append((time.perf_counter() - started) * 1000)
            size = len(response.content)
            if response.status_code != 200:
                print(f"{path}: HTTP {response.status_code} {response.text[:200]}")
                break
        shown = path + ("?" + "&".join(f"{k}={str(v)[:10]}" for k, v in params.items()))
        print(f"{shown:78} {statistics.median(times):10.1f} {max(times):8.1f} {size:10d}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--charge-points", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    settings = in_process_settings(args.database, "csms-transactions-bench-")
    database = settings.database
    async with running(settings) as app:
        began = time.perf_counter()
        await fill(app.services.store, args.transactions, args.charge_points)
        print(
            f"filled {args.transactions} transactions of {args.charge_points} charge points, "
            f"{3 * args.transactions} samples in {time.perf_counter() - began:.1f} s "
            f"({database.split(':')[0]})"
        )
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{app.http_port}/api/v1",
            headers={"Authorization": "Bearer bench-token"},
            timeout=300,
        ) as client:
            await measure(client, args.repeat)


if __name__ == "__main__":
    asyncio.run(main())
