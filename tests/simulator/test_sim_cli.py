"""`python -m csms.simulator` end to end against the peer CSMS, as a separate process."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

from tests.simulator.peer import PeerCSMS

TIMEOUT = 60.0


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms.simulator",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(TIMEOUT):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_charge_points_boot_charge_and_report(peer: PeerCSMS) -> None:
    code, out, err = await run_cli(
        "--url", peer.url, "--count", "3", "--id-prefix", "CLI", "--sessions", "2",
        "--password", "pass-word-1234567",
    )  # fmt: skip

    assert code == 0, out + err
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [
        ["CLI0001", "ok"],
        ["CLI0002", "ok"],
        ["CLI0003", "ok"],
    ]
    assert "transactions=2" in lines[0]
    assert lines[3].startswith("total: 3 charge points, 3 ok, 0 failed")
    assert sorted(request.path for request in peer.requests) == [
        "/ocpp/CLI0001",
        "/ocpp/CLI0002",
        "/ocpp/CLI0003",
    ]
    assert all("Authorization" in request.headers for request in peer.requests)
    received = Counter(
        text.split(",")[2].strip('"') for direction, text in peer.frames if direction == "received"
    )
    assert received["BootNotification"] == 3
    assert received["Authorize"] == 6
    assert received["StartTransaction"] == 6
    assert received["MeterValues"] == 18
    assert received["StopTransaction"] == 6
    # Per CP: 3 boot reports + per session Preparing, Charging, Finishing, Available.
    assert received["StatusNotification"] == 3 * (3 + 2 * 4)


async def test_a_refused_id_tag_fails_the_run(peer: PeerCSMS) -> None:
    peer.answers["Authorize"] = {"idTagInfo": {"status": "Invalid"}}

    code, out, err = await run_cli("--url", peer.url, "--count", "2", "--id-tag", "NOPE")

    assert code == 1, out + err
    assert "SIM0001 FAILED" in out
    assert "Authorize answered idTagInfo.status 'Invalid'" in out
    assert "total: 2 charge points, 0 ok, 2 failed" in out


async def test_a_refused_start_is_stopped_and_fails_the_run(peer: PeerCSMS) -> None:
    peer.answers["StartTransaction"] = {"transactionId": 7, "idTagInfo": {"status": "ConcurrentTx"}}

    code, out, err = await run_cli("--url", peer.url, "--count", "2", "--id-tag", "T-{n}-{id}")

    assert code == 1, out + err
    assert "StartTransaction answered idTagInfo.status 'ConcurrentTx'" in out
    calls = [json.loads(text) for direction, text in peer.frames if direction == "received"]
    tags = sorted(call[3]["idTag"] for call in calls if call[2] == "Authorize")
    assert tags == ["T-1-SIM0001", "T-2-SIM0002"]
    stops = [call[3] for call in calls if call[2] == "StopTransaction"]
    assert [(stop["transactionId"], stop["reason"]) for stop in stops] == [(7, "DeAuthorized")] * 2


async def test_a_bad_id_tag_template_is_a_usage_error() -> None:
    code, _, err = await run_cli("--url", "ws://127.0.0.1:1/ocpp", "--id-tag", "{nope}")

    assert code == 2
    assert "--id-tag" in err


async def test_an_unreachable_csms_fails_the_run() -> None:
    # A port nobody listens on: bind one, then close it.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()

    code, out, _ = await run_cli("--url", f"ws://127.0.0.1:{port}/ocpp", "--response-timeout", "5")

    assert code == 1
    assert "SIM0001 FAILED" in out
