"""A charge point we did not write: the npm `ocpp-rpc` RPCClient with `strictMode: true` (every
CALL and CALLRESULT validated both ways against the OCPP 1.6 JSON schemas, dates included) runs
a whole Core session against the real server, then answers every Core command the operator API
sends it; and, in a second scenario, loses its connection after a StartTransaction, reconnects
without a boot and sends the StartTransaction again. The client is `node/charge_point.mjs`; it
writes one JSON object per line (see there).

Node.js is needed: without `node` the test is skipped (with the reason); with `node`, the pinned
package is installed once per session (`npm ci`) if `node/node_modules` is missing or stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness import Harness

NODE_DIR = Path(__file__).parent / "node"
NPM_CI_TIMEOUT = 300.0
LINE_TIMEOUT = 15.0
SCRIPT_TIMEOUT = 120  # the script's own watchdog, seconds


def pinned_version() -> str:
    package = json.loads((NODE_DIR / "package.json").read_text())
    version: str = package["dependencies"]["ocpp-rpc"]
    return version


def installed_version() -> str | None:
    manifest = NODE_DIR / "node_modules" / "ocpp-rpc" / "package.json"
    if not manifest.is_file():
        return None
    version: str = json.loads(manifest.read_text())["version"]
    return version


@pytest.fixture(scope="session")
def node() -> str:
    """The `node` executable, with the pinned ocpp-rpc installed in NODE_DIR."""
    executable = shutil.which("node")
    if executable is None:
        pytest.skip(
            "Node.js is not installed (no `node` on PATH): the ocpp-rpc interop test needs "
            "Node.js >= 17.3 and npm"
        )
    if installed_version() != pinned_version():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                f"`node` is installed but `npm` is not, and {NODE_DIR / 'node_modules'} does not "
                f"hold ocpp-rpc {pinned_version()}: cannot install it"
            )
        try:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=NODE_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"`npm ci` in {NODE_DIR} took longer than {NPM_CI_TIMEOUT} s")
        if result.returncode != 0:
            pytest.fail(
                f"`npm ci` in {NODE_DIR} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        assert installed_version() == pinned_version(), "npm ci did not install ocpp-rpc"
    return executable


class NodeChargePoint:
    """The running script: its stdout lines in order, and its stdin for "quit"."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._stderr: list[str] = []
        self._tasks = [
            asyncio.create_task(self._read_stdout()),
            asyncio.create_task(self._read_stderr()),
        ]

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            text = raw.decode().strip()
            if not text:
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError:
                line = {"error": "not a JSON line", "text": text}
            self.lines.append(line)
            await self._queue.put(line)
        await self._queue.put(None)

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self._stderr.append(raw.decode())

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    async def next(self) -> dict[str, Any]:
        """The next line; an error line or the end of output fails the test with the details."""
        try:
            line = await asyncio.wait_for(self._queue.get(), LINE_TIMEOUT)
        except TimeoutError:
            pytest.fail(f"no line from charge_point.mjs within {LINE_TIMEOUT} s; {self.stderr}")
        if line is None:
            await self._queue.put(None)
            pytest.fail(f"charge_point.mjs ended early:\n{self.stderr}")
        if "error" in line:
            pytest.fail(f"charge_point.mjs reported {json.dumps(line)}\n{self.stderr}")
        return line

    async def answer(self, action: str) -> dict[str, Any]:
        """The next line, which must be the answer to our `action` request."""
        line = await self.next()
        assert line.get("action") == action, line
        response: dict[str, Any] = line["response"]
        return response

    async def command(self, action: str) -> dict[str, Any]:
        """The next line, which must be the CSMS's `action` command (with our answer)."""
        line = await self.next()
        assert line.get("command") == action, line
        return line

    async def quit(self) -> int:
        assert self.process.stdin is not None
        with contextlib.suppress(ConnectionError):
            self.process.stdin.write(b"quit\n")
            await self.process.stdin.drain()
            self.process.stdin.close()
        try:
            returncode = await asyncio.wait_for(self.process.wait(), LINE_TIMEOUT)
        finally:
            await asyncio.gather(*self._tasks)
        return returncode

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def node_charge_point(
    node: str, url: str, charge_point_id: str, id_tag: str, scenario: str = "core"
) -> AsyncIterator[NodeChargePoint]:
    process = await asyncio.create_subprocess_exec(
        node,
        "charge_point.mjs",
        url,
        charge_point_id,
        id_tag,
        "--timeout",
        str(SCRIPT_TIMEOUT),
        "--scenario",
        scenario,
        cwd=NODE_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    charge_point = NodeChargePoint(process)
    try:
        yield charge_point
    finally:
        await charge_point.kill()


async def test_ocpp_rpc_strict_client_runs_a_core_session_and_answers_every_core_command(
    node: str, harness: Harness
) -> None:
    cp_id, tag = "NODE1", "NODETAG"
    provisioned = await harness.api.put(f"/id-tags/{tag}", json={"status": "Accepted"})
    assert provisioned.status_code in (200, 201), provisioned.text
    sent: list[tuple[str, dict[str, Any]]] = []  # what the API sent, in order

    async def command(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send through the operator API; the client must have got exactly this, answered that."""
        response = await harness.api.post(f"/charge-points/{cp_id}/commands/{action}", json=payload)
        assert response.status_code == 200, (action, payload, response.status_code, response.text)
        sent.append((action, payload))
        answer: dict[str, Any] = response.json()
        line = await cp.command(action)
        assert line["request"] == payload
        assert line["response"] == answer
        return answer

    async with node_charge_point(node, harness.url, cp_id, tag) as cp:
        # --- the charge point's own session -------------------------------------------------
        boot = await cp.answer("BootNotification")
        assert boot["status"] == "Accepted"
        assert type(boot["interval"]) is int and boot["interval"] > 0
        assert (await cp.answer("Heartbeat"))["currentTime"]
        for _ in range(3):  # connectors 0, 1, 2
            assert await cp.answer("StatusNotification") == {}
        assert (await cp.answer("Authorize"))["idTagInfo"]["status"] == "Accepted"
        assert await cp.answer("StatusNotification") == {}  # Preparing
        start = await cp.answer("StartTransaction")
        assert start["idTagInfo"]["status"] == "Accepted"
        transaction_id = start["transactionId"]
        assert type(transaction_id) is int and transaction_id > 0
        assert await cp.answer("StatusNotification") == {}  # Charging
        assert await cp.answer("MeterValues") == {}
        assert await cp.answer("MeterValues") == {}
        stop = await cp.answer("StopTransaction")
        assert stop["idTagInfo"]["status"] == "Accepted"  # the idTag was sent
        assert await cp.answer("StatusNotification") == {}  # Finishing
        assert await cp.answer("StatusNotification") == {}  # Available
        assert await cp.answer("DataTransfer") == {"status": "UnknownVendorId"}
        assert await cp.next() == {"ready": True, "transactionId": transaction_id}

        # --- every Core command through the operator API ------------------------------------
        assert await command("Reset", {"type": "Soft"}) == {"status": "Accepted"}
        assert await command(
            "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}
        ) == {"status": "Accepted"}
        assert await command(
            "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "3"}
        ) == {"status": "Rejected"}
        assert await command("GetConfiguration", {"key": ["HeartbeatInterval", "NoSuchKey"]}) == {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
            "unknownKey": ["NoSuchKey"],
        }
        everything = await command("GetConfiguration", {})
        keys = {entry["key"]: entry for entry in everything["configurationKey"]}
        assert keys["NumberOfConnectors"] == {
            "key": "NumberOfConnectors",
            "readonly": True,
            "value": "2",
        }
        assert keys["SupportedFeatureProfiles"]["value"] == "Core"
        assert "unknownKey" not in everything

        assert await command("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"}) == {
            "status": "Accepted"
        }
        assert await cp.answer("StatusNotification") == {}  # connector 2 Unavailable
        connectors = (await harness.api.get(f"/charge-points/{cp_id}")).json()["connectors"]
        assert [(c["connectorId"], c["status"]) for c in connectors] == [
            (0, "Available"),
            (1, "Available"),
            (2, "Unavailable"),
        ]
        assert await command("ChangeAvailability", {"connectorId": 2, "type": "Operative"}) == {
            "status": "Accepted"
        }
        assert await cp.answer("StatusNotification") == {}  # connector 2 Available
        assert await command("ClearCache", {}) == {"status": "Accepted"}

        assert await command("RemoteStartTransaction", {"connectorId": 1, "idTag": tag}) == {
            "status": "Accepted"
        }
        assert await cp.answer("StatusNotification") == {}  # Preparing
        remote = await cp.answer("StartTransaction")
        assert remote["idTagInfo"]["status"] == "Accepted"
        remote_id = remote["transactionId"]
        assert type(remote_id) is int and remote_id > transaction_id
        assert await cp.answer("StatusNotification") == {}  # Charging
        assert await cp.answer("MeterValues") == {}
        assert await command("RemoteStopTransaction", {"transactionId": remote_id}) == {
            "status": "Accepted"
        }
        assert "idTagInfo" not in await cp.answer("StopTransaction")  # no idTag was sent
        assert await cp.answer("StatusNotification") == {}  # Finishing
        assert await cp.answer("StatusNotification") == {}  # Available

        assert await command("UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
        assert await command(
            "DataTransfer",
            {"vendorId": "org.example.interop", "messageId": "Echo", "data": "ping"},
        ) == {"status": "Accepted", "data": "ping"}
        assert await command("DataTransfer", {"vendorId": "com.other.vendor"}) == {
            "status": "UnknownVendorId"
        }

        returncode = await cp.quit()
        assert returncode == 0, cp.stderr
        assert not [line for line in cp.lines if "error" in line], cp.lines
        # Exactly the requests the API sent, in order, nothing else.
        received = [(line["command"], line["request"]) for line in cp.lines if "command" in line]
        assert received == sent

    # --- what the CSMS stored --------------------------------------------------------------
    local = (await harness.api.get(f"/transactions/{transaction_id}")).json()
    assert local["chargePointId"] == cp_id and local["connectorId"] == 1
    assert local["idTag"] == tag and local["stopIdTag"] == tag
    assert local["meterStart"] == 1000 and local["meterStop"] == 4000
    assert local["stopReason"] == "Local" and local["active"] is False
    samples = [
        (v["measurand"], v["value"], v["unit"], v["phase"], v["context"])
        for v in local["meterValues"]
    ]
    per_sample = [
        ("Current.Import", "16.1", "A", "L1", "Sample.Periodic"),
        ("Voltage", "230.4", "V", "L1-N", "Sample.Periodic"),
        ("Power.Active.Import", "3.7", "kW", None, "Sample.Periodic"),
        ("SoC", "57", "Percent", None, "Sample.Periodic"),
    ]
    assert samples == [
        ("Energy.Active.Import.Register", "2500", "Wh", None, "Sample.Periodic"),
        *per_sample,
        ("Energy.Active.Import.Register", "4000", "Wh", None, "Sample.Periodic"),
        *per_sample,
        # StopTransaction's transactionData
        ("Energy.Active.Import.Register", "4000", "Wh", None, "Transaction.End"),
    ]

    remote_tx = (await harness.api.get(f"/transactions/{remote_id}")).json()
    assert remote_tx["idTag"] == tag and remote_tx["connectorId"] == 1
    assert remote_tx["meterStart"] == 4000 and remote_tx["meterStop"] == 5500
    assert remote_tx["stopReason"] == "Remote" and remote_tx["stopIdTag"] is None
    assert [
        (v["measurand"], v["value"], v["context"])
        for v in remote_tx["meterValues"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ] == [
        ("Energy.Active.Import.Register", "5500", "Sample.Periodic"),
        ("Energy.Active.Import.Register", "5500", "Transaction.End"),
    ]

    charge_point = (await harness.api.get(f"/charge-points/{cp_id}")).json()
    assert charge_point["boot"]["chargePointVendor"] == "ocpp-rpc"
    assert charge_point["boot"]["chargePointModel"] == "Interop-Node"
    assert charge_point["boot"]["chargePointSerialNumber"] == f"SN-{cp_id}"
    assert [c["status"] for c in charge_point["connectors"]] == ["Available"] * 3


async def test_ocpp_rpc_client_reconnects_without_boot_and_resends_a_lost_start(
    node: str, harness: Harness
) -> None:
    """The connection drops after StartTransaction: the client takes the answer as lost,
    reconnects without a BootNotification (J 5.4) and sends the same StartTransaction again
    (same payload, a new message id). The CSMS answers it as the first time, with the same
    transaction, and serves the rest of the session on the new connection."""
    cp_id, tag = "NODE2", "NODETAG2"
    provisioned = await harness.api.put(f"/id-tags/{tag}", json={"status": "Accepted"})
    assert provisioned.status_code in (200, 201), provisioned.text

    async with node_charge_point(node, harness.url, cp_id, tag, scenario="replay") as cp:
        assert (await cp.answer("BootNotification"))["status"] == "Accepted"
        for _ in range(3):  # connectors 0, 1, 2
            assert await cp.answer("StatusNotification") == {}
        assert (await cp.answer("Authorize"))["idTagInfo"]["status"] == "Accepted"
        assert await cp.answer("StatusNotification") == {}  # Preparing
        lost = await cp.next()
        assert lost.get("lost") == "StartTransaction", lost
        assert await cp.next() == {"reconnected": True}
        start = await cp.answer("StartTransaction")
        assert start == lost["response"]  # the same transactionId and idTagInfo
        transaction_id = start["transactionId"]
        assert await cp.answer("StatusNotification") == {}  # Charging
        assert await cp.answer("MeterValues") == {}
        assert (await cp.answer("StopTransaction"))["idTagInfo"]["status"] == "Accepted"
        assert await cp.answer("StatusNotification") == {}  # Finishing
        assert await cp.answer("StatusNotification") == {}  # Available
        assert await cp.next() == {"ready": True, "transactionId": transaction_id}

        # Still served on the new connection: an operator command reaches it.
        response = await harness.api.post(f"/charge-points/{cp_id}/commands/ClearCache", json={})
        assert (response.status_code, response.json()) == (200, {"status": "Accepted"})
        assert (await cp.command("ClearCache"))["response"] == {"status": "Accepted"}

        returncode = await cp.quit()
        assert returncode == 0, cp.stderr
        requests = [line["action"] for line in cp.lines if "action" in line]
        assert requests.count("BootNotification") == 1

    stored = (await harness.api.get("/transactions", params={"charge_point_id": cp_id})).json()
    assert [(t["id"], t["active"], t["meterStop"]) for t in stored] == [
        (transaction_id, False, lost["request"]["meterStart"] + 1500)
    ]
