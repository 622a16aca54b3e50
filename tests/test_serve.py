"""`csms serve` as a real process: start-up from flags, Ctrl-C / SIGTERM shut-down, and that a
SIGKILL right after an answered StartTransaction loses nothing."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from csms.simulator import SimulatedChargePoint

READY = re.compile(
    rb"OCPP on ws://127\.0\.0\.1:(\d+)/ocpp/\{chargePointId\}, API on http://127\.0\.0\.1:(\d+)"
)


@asynccontextmanager
async def serve(database: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, int, int]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        "serve",
        "--ocpp-port",
        "0",
        "--http-port",
        "0",
        "--database",
        f"sqlite+aiosqlite:///{database}",
        "--api-token",
        "tok",
        "--ftp-port",
        "0",
        "--data-dir",
        str(database.parent / "data"),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CSMS_LOG_LEVEL": "INFO"},
    )
    assert process.stderr is not None
    try:
        while True:
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            assert line, "csms serve exited before it was ready"
            if match := READY.search(line):
                break
        # Keep draining the log so the process never blocks on a full pipe.
        drain = asyncio.create_task(process.stderr.read())
        yield process, int(match[1]), int(match[2])
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        drain.cancel()


async def test_sigkill_after_answered_start_transaction_loses_nothing(tmp_path: Path) -> None:
    database = tmp_path / "csms.db"
    async with serve(database) as (process, ocpp_port, _):
        cp = SimulatedChargePoint("KILL1", f"ws://127.0.0.1:{ocpp_port}/ocpp")
        async with cp:
            await cp.boot()
            answer = await cp.start_transaction(1, "ANYTAG", meter_start=77)
            process.send_signal(signal.SIGKILL)
            await process.wait()
    transaction_id = answer["transactionId"]
    async with serve(database) as (_, _, http_port), httpx.AsyncClient() as client:
        response = await client.get(
            f"http://127.0.0.1:{http_port}/api/v1/transactions/{transaction_id}",
            headers={"Authorization": "Bearer tok"},
        )
    assert response.status_code == 200
    assert response.json()["meterStart"] == 77
    assert response.json()["chargePointId"] == "KILL1"


async def test_sigterm_and_ctrl_c_shut_down_cleanly(tmp_path: Path) -> None:
    for stop in (signal.SIGTERM, signal.SIGINT):
        async with serve(tmp_path / f"{stop.name}.db") as (process, ocpp_port, _):
            async with SimulatedChargePoint("STOP", f"ws://127.0.0.1:{ocpp_port}/ocpp") as cp:
                await cp.boot()
            process.send_signal(stop)
            assert await asyncio.wait_for(process.wait(), 30) == 0
