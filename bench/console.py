"""Render times of the console's main pages with many charge points registered
(docs/console.md). Prints figures; asserts nothing.

    .venv/bin/python bench/console.py --charge-points 10000 --transactions 2000
    .venv/bin/python bench/console.py --database postgresql+asyncpg://postgres@127.0.0.1/bench

A CSMS runs in this process on free loopback ports with a new SQLite file (or the database
given, which should be empty); charge points and transactions are written through the store,
then each page is fetched `--repeat` times by a signed-in viewer over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from csms.app import running
from csms.settings import Settings
from csms.storage import BootInfo, TransactionStart

PASSWORD = "bench password 1234"
PAGES = (
    "/",
    "/charge-points",
    "/charge-points?page=150&size=50",
    "/charge-points?q=model-7&size=50",
    "/charge-points?sort=last_seen&desc=true",
    "/charge-points/BENCH00042",
    "/charge-points/BENCH00042/messages",
    "/transactions",
    "/transactions?tag=TAG00042",
    "/transactions.csv",
    "/transactions/1",
    # What the Overview's script reads again after each event that may change a figure.
    "/api/v1/overview",
    "/reservations",
    "/local-lists",
    "/firmware",
)


async def fill(store: object, charge_points: int, transactions: int) -> None:
    now = datetime.now(UTC)

    async def one(n: int) -> None:
        cp = f"BENCH{n:05d}"
        await store.save_charge_point(  # type: ignore[attr-defined]
            cp, registration_status="Accepted", password_hash=None, description=f"site {n % 97}"
        )
        await store.record_boot(  # type: ignore[attr-defined]
            cp,
            BootInfo(
                charge_point_vendor="Bench",
                charge_point_model=f"model-{n % 10}",
                firmware_version=f"1.{n % 5}",
            ),
            now,
        )

    for start in range(0, charge_points, 500):
        await asyncio.gather(*(one(n) for n in range(start, min(start + 500, charge_points))))
    for n in range(transactions):
        await store.start_transaction(  # type: ignore[attr-defined]
            TransactionStart(
                charge_point_id=f"BENCH{n % charge_points:05d}",
                connector_id=1 + n // charge_points,
                id_tag=f"TAG{n % 1000:05d}",
                meter_start=0,
                timestamp=now - timedelta(minutes=n),
                reservation_id=None,
                id_tag_status="Accepted",
            )
        )


def in_process_settings(database: str | None, prefix: str) -> Settings:
    """An in-process CSMS on free loopback ports: `database`, or SQLite in a new temporary
    directory (also bench/transactions_api.py's)."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    return Settings(
        host="127.0.0.1",
        ocpp_port=0,
        http_port=0,
        database=database or f"sqlite+aiosqlite:///{directory / 'csms.db'}",
        api_token="bench-token",
        data_dir=directory / "data",
        ftp_port=0,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--charge-points", type=int, default=10_000)
    parser.add_argument("--transactions", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    settings = in_process_settings(args.database, "csms-console-bench-")
    database = settings.database
    async with running(settings) as app:
        began = time.perf_counter()
        await fill(app.services.store, args.charge_points, args.transactions)
        print(
            f"filled {args.charge_points} charge points, {args.transactions} transactions "
            f"in {time.perf_counter() - began:.1f} s ({database.split(':')[0]})"
        )
        base = f"http://127.0.0.1:{app.http_port}"
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            made = await client.post(
                "/api/v1/users",
                json={"name": "bench", "role": "viewer", "password": PASSWORD},
                headers={"Authorization": "Bearer bench-token"},
            )
            made.raise_for_status()
            form = await client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            signed = await client.post(
                "/login",
                data={"name": "bench", "password": PASSWORD, "csrf_token": token.group(1)},
            )
            assert signed.status_code == 303, signed.text
            print(f"{'page':45} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'bytes':>8}")
            for path in PAGES:
                times = []
                size = 0
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    response = await client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    size = len(response.content)
                    if response.status_code != 200:
                        print(f"{path}: HTTP {response.status_code}")
                        break
                times.sort()
                p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                print(
                    f"{path:45} {statistics.median(times):10.1f} {p95:8.1f} "
                    f"{times[-1]:8.1f} {size:8d}"
                )


if __name__ == "__main__":
    asyncio.run(main())
