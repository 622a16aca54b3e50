"""The README's "Using it" demo as processes: `csms serve`, the `csms` client commands (finding
the API from CSMS_HTTP_PORT, as the server does), and the simulator staying on the wall
(simulator/remote.py): a remote start gives a transactionId and an active transaction, a remote
stop ends it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from tests.test_serve import READY


async def _csms(env: dict[str, str], *args: str) -> Any:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "csms", *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, (args, out)
    return json.loads(out)


async def test_readme_demo_remote_start_and_stop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSMS_")}
    env["CSMS_API_TOKEN"] = "secret"
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "csms", "serve", "--ocpp-port", "0", "--http-port", "0",
        "--ftp-port", "off", "--database", f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}",
        "--data-dir", str(tmp_path / "data"),
        env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    simulator = None
    assert server.stderr is not None
    try:
        while not (match := READY.search(await asyncio.wait_for(server.stderr.readline(), 30))):
            pass
        drain = asyncio.create_task(server.stderr.read())
        ocpp_port, http_port = match[1].decode(), match[2].decode()
        env["CSMS_HTTP_PORT"] = http_port  # the client finds the API as the server does
        registered = await _csms(env, "register", "SIM0001", "--status", "Accepted")
        assert registered["registrationStatus"] == "Accepted"
        await _csms(env, "id-tag", "add", "CARD01")
        simulator = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "csms.simulator", "--url", f"ws://127.0.0.1:{ocpp_port}/ocpp",
            "--id-tag", "CARD01", "--sessions", "0", "--stay", "600",
            env=env, stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(300):  # until the simulator has booted
            shown = await _csms(env, "charge-points", "SIM0001")
            if shown["connected"] and shown["lastBootAt"]:
                break
            await asyncio.sleep(0.1)
        started = await _csms(env, "remote-start", "SIM0001", "CARD01", "--connector", "1",
                              "--wait", "30")  # fmt: skip
        assert started["status"] == "Accepted"
        transaction_id = started["transactionId"]
        assert isinstance(transaction_id, int)
        active = await _csms(env, "transactions", "--active")
        assert [(t["id"], t["connectorId"]) for t in active] == [(transaction_id, 1)]
        stopped = await _csms(
            env, "call", "SIM0001", "RemoteStopTransaction",
            json.dumps({"transactionId": transaction_id}),
        )  # fmt: skip
        assert "Accepted" in json.dumps(stopped)
        for _ in range(100):  # the StopTransaction follows the answer
            shown = await _csms(env, "transactions", str(transaction_id))
            if not shown["active"]:
                break
            await asyncio.sleep(0.1)
        assert (shown["active"], shown["stopReason"]) == (False, "Remote")
    finally:
        for process in (simulator, server):
            if process is not None and process.returncode is None:
                process.terminate()
                await process.wait()
        drain.cancel()
