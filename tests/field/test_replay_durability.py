"""`csms serve` killed (SIGKILL) in the middle of a charge point's offline-queue replay, on SQLite
and PostgreSQL: every message it answered is stored after the restart, and the rest of the queue,
replayed to the restarted CSMS, completes every transaction."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from csms.simulator import QueuedCall, SimulatedChargePoint

READY = re.compile(
    rb"OCPP on ws://127\.0\.0\.1:(\d+)/ocpp/\{chargePointId\}, API on http://127\.0\.0\.1:(\d+)"
)
TOKEN = "tok"
SESSIONS = 40  # 4 messages each: StartTransaction, 2 MeterValues, StopTransaction
KILL_AFTER = 70  # answered messages


@asynccontextmanager
async def serve(database_url: str, data_dir: Path) -> AsyncIterator[tuple[Any, int, int]]:
    """`csms serve` as a process on free ports: (process, OCPP port, API port)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "csms", "serve",
        "--ocpp-port", "0", "--http-port", "0", "--ftp-port", "0",
        "--database", database_url, "--api-token", TOKEN, "--data-dir", str(data_dir),
        "--unknown-charge-points", "accept",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CSMS_LOG_LEVEL": "INFO"},
    )  # fmt: skip
    assert process.stderr is not None
    drain: asyncio.Task[bytes] | None = None
    try:
        while True:
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            assert line, "csms serve exited before it was ready"
            if match := READY.search(line):
                break
        drain = asyncio.create_task(process.stderr.read())  # never block on a full pipe
        yield process, int(match[1]), int(match[2])
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        if drain is not None:
            drain.cancel()


def queue_sessions(cp: SimulatedChargePoint) -> None:
    """SESSIONS whole sessions that happened offline, one after the other, two connectors."""
    start_of_day = (datetime.now(UTC) - timedelta(hours=SESSIONS)).replace(microsecond=0)
    for n in range(SESSIONS):
        connector_id = 1 + n % 2
        at = start_of_day + timedelta(hours=n)
        start = cp.offline.start_transaction(
            connector_id, f"TAG-{n}", meter_start=n * 1000, timestamp=at
        )
        for minute in (10, 20):
            cp.offline.meter_values(
                connector_id,
                transaction=start,
                timestamp=at + timedelta(minutes=minute),
                sampled_values=[{"value": str(n * 1000 + minute), "unit": "Wh"}],
            )
        cp.offline.stop_transaction(
            start, n * 1000 + 30, reason="Local", timestamp=at + timedelta(minutes=30)
        )


async def test_every_answered_replayed_message_survives_sigkill(
    database_url: str, tmp_path: Path
) -> None:
    answered: list[QueuedCall] = []
    async with serve(database_url, tmp_path / "data") as (process, ocpp_port, _):
        cp = SimulatedChargePoint("REPLAY-1", f"ws://127.0.0.1:{ocpp_port}/ocpp")
        await cp.connect()
        await cp.boot_and_report()
        await cp.drop()
        queue_sessions(cp)

        def kill_midway(message: QueuedCall) -> None:
            answered.append(message)
            if len(answered) == KILL_AFTER:
                process.send_signal(signal.SIGKILL)  # the next message is on its way

        with pytest.raises(ConnectionError):
            await cp.offline.replay(on_answered=kill_midway)
        await process.wait()
        await cp.close()
    assert process.returncode == -signal.SIGKILL
    assert KILL_AFTER <= len(answered) < 4 * SESSIONS
    assert len(cp.offline) == 4 * SESSIONS - len(answered)

    async with (
        serve(database_url, tmp_path / "data") as (_, ocpp_port, http_port),
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{http_port}/api/v1",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as api,
    ):
        await check_stored(api, answered)

        # The charge point comes back (no boot) and replays what is left.
        cp.url = f"ws://127.0.0.1:{ocpp_port}/ocpp"
        await cp.offline.replay()
        await cp.close()
        response = await api.get("/transactions", params={"charge_point_id": "REPLAY-1"})
        stored = response.json()
        assert len(stored) == SESSIONS
        assert [(t["idTag"], t["active"]) for t in stored] == [
            (f"TAG-{n}", False) for n in range(SESSIONS)
        ]
        assert [t["meterStop"] for t in stored] == [n * 1000 + 30 for n in range(SESSIONS)]


async def check_stored(api: httpx.AsyncClient, answered: list[QueuedCall]) -> None:
    """Every answered message is in the restarted CSMS's database."""
    samples = (await api.get("/charge-points/REPLAY-1/meter-values")).json()
    stored_values = {s["value"] for s in samples}  # unique per sample (queue_sessions)
    for message in answered:
        if message.action == "StartTransaction":
            assert message.transaction_id is not None
            response = await api.get(f"/transactions/{message.transaction_id}")
            assert response.status_code == 200, response.text
            stored = response.json()
            assert (stored["idTag"], stored["meterStart"]) == (
                message.payload["idTag"],
                message.payload["meterStart"],
            )
        elif message.action == "MeterValues":
            value = message.payload["meterValue"][0]["sampledValue"][0]["value"]
            assert value in stored_values
        else:
            assert message.action == "StopTransaction"
            response = await api.get(f"/transactions/{message.payload['transactionId']}")
            stored = response.json()
            assert (stored["active"], stored["meterStop"]) == (False, message.payload["meterStop"])
