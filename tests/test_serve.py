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


# Each running server's log lines, after the ready line (keyed by process id).
LOGS: dict[int, asyncio.Queue[bytes]] = {}


def _ignore_sigint() -> None:
    # As a shell does for a background job (or nohup, some supervisors).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


async def _log_line(process: asyncio.subprocess.Process, pattern: bytes) -> bytes:
    while True:
        line = await asyncio.wait_for(LOGS[process.pid].get(), 30)
        assert line, "csms serve exited"
        if pattern in line:
            return line


@asynccontextmanager
async def serve(
    database: Path, *, ignore_sigint: bool = False, args: tuple[str, ...] = ()
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int, int]]:
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
        "--unknown-charge-points",
        "accept",
        *args,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CSMS_LOG_LEVEL": "INFO"},
        preexec_fn=_ignore_sigint if ignore_sigint else None,
    )
    assert process.stderr is not None
    try:
        while True:
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            assert line, "csms serve exited before it was ready"
            if match := READY.search(line):
                break
        # Keep draining the log so the process never blocks on a full pipe.
        lines = LOGS[process.pid] = asyncio.Queue()

        async def read_lines(stderr: asyncio.StreamReader) -> None:
            while line := await stderr.readline():
                lines.put_nowait(line)
            lines.put_nowait(b"")

        drain = asyncio.create_task(read_lines(process.stderr))
        yield process, int(match[1]), int(match[2])
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        drain.cancel()
        LOGS.pop(process.pid, None)


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


async def test_ctrl_c_works_when_started_with_sigint_ignored(tmp_path: Path) -> None:
    async with serve(tmp_path / "csms.db", ignore_sigint=True) as (process, _, _):
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_shutdown_does_not_wait_for_an_abandoned_api_command(tmp_path: Path) -> None:
    async with (
        serve(tmp_path / "csms.db") as (process, _, http_port),
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{http_port}/api/v1",
            headers={"Authorization": "Bearer tok"},
            timeout=None,
        ) as client,
    ):
        assert (await client.put("/charge-points/GONE", json={})).status_code == 200
        # A command for a charge point that is not connected, allowed to wait 600 s for it,
        # whose client then goes away.
        command = asyncio.create_task(
            client.post(
                "/charge-points/GONE/commands/Reset",
                params={"connect_timeout": 600},
                json={"type": "Soft"},
            )
        )
        await _log_line(process, b"GONE: waiting up to 600 s")
        command.cancel()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_shutdown_ends_open_event_streams(tmp_path: Path) -> None:
    # Were the stream left open, the HTTP server would wait the whole grace period for it.
    async with (
        serve(tmp_path / "csms.db", args=("--shutdown-grace", "600")) as (process, _, http_port),
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{http_port}/api/v1",
            headers={"Authorization": "Bearer tok"},
            timeout=None,
        ) as client,
        client.stream("GET", "/events") as stream,
    ):
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith("retry: ")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        rest = [line async for line in lines]  # the stream ended cleanly, not cut off
        assert all(line == "" or line.startswith(":") for line in rest)
