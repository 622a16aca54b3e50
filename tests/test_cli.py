"""The `csms` CLI's operator commands, as a user runs them against a running server."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from tests.harness import API_TOKEN, Harness


async def csms(harness: Harness, *args: str, token: str | None = API_TOKEN) -> tuple[int, Any]:
    env = {**os.environ, "CSMS_API_URL": str(harness.api.base_url)}
    env.pop("CSMS_API_TOKEN", None)
    if token is not None:
        env["CSMS_API_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, json.loads(stdout) if stdout.strip() else None


async def test_register_tags_call_and_list(harness: Harness) -> None:
    code, registered = await csms(
        harness, "register", "CLI1", "--status", "Accepted", "--description", "Car park"
    )
    assert code == 0 and registered["id"] == "CLI1" and registered["description"] == "Car park"
    code, tag = await csms(harness, "id-tag", "add", "CLITAG", "--parent-id-tag", "FLEET")
    assert code == 0 and tag == {
        "idTag": "CLITAG",
        "status": "Accepted",
        "expiryDate": None,
        "parentIdTag": "FLEET",
        "maxActiveTransactions": 1,
    }
    code, tags = await csms(harness, "id-tags")
    assert [t["idTag"] for t in tags] == ["CLITAG"]

    async with harness.charge_point("CLI1") as cp:
        await cp.boot()
        code, answer = await csms(harness, "call", "CLI1", "Reset", '{"type": "Soft"}')
        assert code == 0 and answer == {"status": "Accepted"}
        assert (await cp.expect_call("Reset")).payload == {"type": "Soft"}
        transaction_id = (await cp.start_transaction(1, "CLITAG"))["transactionId"]

    code, listed = await csms(harness, "transactions", "--charge-point", "CLI1", "--active")
    assert code == 0 and [t["id"] for t in listed] == [transaction_id]
    code, shown = await csms(harness, "charge-points", "CLI1")
    assert code == 0 and shown["boot"]["chargePointVendor"] == "SimVendor"


async def test_errors_exit_non_zero_with_the_reason(harness: Harness) -> None:
    code, body = await csms(harness, "call", "NOPE", "Reset", '{"type": "Soft"}')
    assert code == 1 and "Unknown charge point" in body["detail"]
    code, _ = await csms(harness, "id-tags", token=None)
    assert code == 2
    code, body = await csms(harness, "id-tags", token="wrong")
    assert code == 1 and body["detail"]


async def test_import_id_tags_from_csv_and_charge_points_from_json(
    harness: Harness, tmp_path: Path
) -> None:
    tags = tmp_path / "tags.csv"
    tags.write_text("idTag,status\nCSV-1,Accepted\nCSV-2,Blocked\n", encoding="utf-8")
    code, result = await csms(harness, "import", "id-tags", str(tags))
    assert (code, result) == (0, {"created": 2, "updated": 0})
    assert (await harness.store.get_id_tag("csv-2")).status == "Blocked"

    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps([{"chargePointId": "J-1", "description": "bay 1"}]))
    code, result = await csms(harness, "import", "charge-points", str(fleet))
    assert (code, result) == (0, {"created": 1, "updated": 0})
    assert (await harness.store.get_charge_point("J-1")).description == "bay 1"

    # A bad row: the server's answer, exit 1, nothing stored; a missing file: exit 2.
    tags.write_text("idTag,status\nCSV-3,Maybe\n", encoding="utf-8")
    code, body = await csms(harness, "import", "id-tags", str(tags))
    assert code == 1 and body["detail"][0]["loc"] == ["body", 0, "status"]
    assert await harness.store.get_id_tag("CSV-3") is None
    code, _ = await csms(harness, "import", "id-tags", str(tmp_path / "missing.csv"))
    assert code == 2
