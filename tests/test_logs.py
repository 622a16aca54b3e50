"""Logs of `csms serve` (logs.py): --log-format json gives one JSON object a line, with the
charge point id and the CALL where known, and no third-party lines at INFO."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from csms.simulator import SimulatedChargePoint

READY = re.compile(
    r"OCPP on ws://127\.0\.0\.1:(\d+)/ocpp/\{chargePointId\}, API on http://127\.0\.0\.1:(\d+)"
)


async def serve_session(tmp_path: Path, *args: str) -> list[bytes]:
    """Run `csms serve`, boot and charge a session, send a command, stop; its log lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        "serve",
        *("--ocpp-port", "0", "--http-port", "0", "--ftp-port", "0"),
        *("--database", f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}"),
        *("--api-token", "tok", "--data-dir", str(tmp_path / "data")),
        *("--unknown-charge-points", "accept"),
        *args,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CSMS_LOG_LEVEL": "INFO"},
    )
    assert process.stderr is not None
    lines: list[bytes] = []
    try:
        while True:
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            assert line, b"".join(lines).decode()
            lines.append(line)
            if match := READY.search(line.decode()):
                break
        ocpp_port, http_port = int(match[1]), int(match[2])
        async with SimulatedChargePoint("LOG1", f"ws://127.0.0.1:{ocpp_port}/ocpp") as cp:
            await cp.boot()
            started = await cp.start_transaction(1, "TAG", meter_start=100)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{http_port}",
                headers={"Authorization": "Bearer tok"},
            ) as api:
                answer = await api.post(
                    "/api/v1/charge-points/LOG1/commands/Reset", json={"type": "Soft"}
                )
                assert answer.status_code == 200
                refused = await api.get(
                    "/api/v1/charge-points", headers={"Authorization": "Bearer wrong"}
                )
                assert refused.status_code == 401
            await cp.stop_transaction(started["transactionId"], 350)
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return lines + rest.splitlines(keepends=True)


def with_message(entries: list[dict[str, Any]], pattern: str) -> list[dict[str, Any]]:
    return [entry for entry in entries if re.search(pattern, entry["message"])]


async def test_json_lines_carry_the_charge_point_and_the_call(tmp_path: Path) -> None:
    lines = await serve_session(tmp_path, "--log-format", "json")
    entries = [json.loads(line) for line in lines if line.strip()]
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
    (boot,) = with_message(entries, r"^boot Accepted")
    assert boot["charge_point_id"] == "LOG1"
    assert boot["action"] == "BootNotification"
    assert boot["level"] == "INFO"
    assert "unique_id" in boot
    (start,) = with_message(entries, r"^transaction \d+ started")
    assert start["charge_point_id"] == "LOG1" and "meterStart 100" in start["message"]
    (stop,) = with_message(entries, r"^transaction \d+ stopped")
    assert "250 Wh" in stop["message"]
    (command,) = with_message(entries, r"^command Reset")
    assert command["charge_point_id"] == "LOG1"
    assert " by " in command["message"]
    assert command["message"].endswith("Accepted")
    (access,) = [
        e
        for e in entries
        if e["logger"] == "csms.access" and e.get("path", "").endswith("/commands/Reset")
    ]
    assert access["method"] == "POST" and access["status"] == 200
    assert access["principal"] and access["duration_ms"] >= 0
    # Refused requests are logged too, without a principal.
    (refused,) = [
        e for e in entries if e["logger"] == "csms.access" and e["path"] == "/api/v1/charge-points"
    ]
    assert refused["status"] == 401 and "principal" not in refused
    # No third-party chatter at INFO: not alembic's migration lines, not websockets' or
    # uvicorn's per-connection lines.
    noisy = [
        e for e in entries if e["logger"].split(".")[0] in ("alembic", "websockets", "uvicorn")
    ]
    assert noisy == []


async def test_text_is_the_default(tmp_path: Path) -> None:
    lines = await serve_session(tmp_path)
    text = b"".join(lines).decode()
    assert not text.lstrip().startswith("{")
    assert re.search(r"INFO csms.activity: boot Accepted", text)
    assert "alembic" not in text


async def test_an_unknown_log_format_is_refused(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        "serve",
        *("--database", f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}"),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CSMS_LOG_FORMAT": "xml"},
    )
    _, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert b"log format 'xml'" in errors
