"""The message log (docs/message-log.md): every frame in and out of a charge point, as the
operator reads it from the API, against a real server."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.harness import Harness, RawClient, csms

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


async def _messages(harness: Harness, charge_point_id: str = "CP1", **params: Any) -> Any:
    await harness.store.flush_message_log()
    response = await harness.api.get(f"/charge-points/{charge_point_id}/messages", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _answer_next_call(raw: RawClient, answer: Any) -> list[Any]:
    call = await raw.receive()
    await raw.send(answer(call))
    return list(call)


async def test_frames_in_and_out_are_logged_in_order(harness: Harness) -> None:
    async with harness.raw("CP1") as raw:
        boot = await raw.exchange([2, "b1", "BootNotification", BOOT])
        await raw.exchange([2, "h1", "Heartbeat", {}])
        await raw.send("not json \x00 at all")  # ignored: no answer (J 4.1.3)
        formation = await raw.exchange([2, "x1", "Heartbeat", "not an object"])
        unknown = await raw.exchange([2, "u1", "NoSuchAction", {}])
        # Commands: one answered with a CALLERROR, one with a CALLRESULT.
        refused = asyncio.create_task(
            harness.api.post("/charge-points/CP1/commands/Reset", json={"type": "Soft"})
        )
        reset = await _answer_next_call(raw, lambda c: [4, c[1], "NotSupported", "no", {}])
        assert (await refused).status_code == 502  # the charge point refused it
        accepted = asyncio.create_task(
            harness.api.post("/charge-points/CP1/commands/ClearCache", json={})
        )
        clear = await _answer_next_call(raw, lambda c: [3, c[1], {"status": "Accepted"}])
        assert (await accepted).status_code == 200

    page = await _messages(harness)
    rows = list(reversed(page["messages"]))  # oldest first
    assert [(m["direction"], m["messageType"], m["action"], m["uniqueId"]) for m in rows] == [
        ("in", "CALL", "BootNotification", "b1"),
        ("out", "CALLRESULT", "BootNotification", "b1"),
        ("in", "CALL", "Heartbeat", "h1"),
        ("out", "CALLRESULT", "Heartbeat", "h1"),
        ("in", "MALFORMED", None, None),
        ("in", "MALFORMED", None, "x1"),
        ("out", "CALLERROR", None, "x1"),
        ("in", "CALL", "NoSuchAction", "u1"),
        ("out", "CALLERROR", "NoSuchAction", "u1"),
        ("out", "CALL", "Reset", reset[1]),
        ("in", "CALLERROR", "Reset", reset[1]),
        ("out", "CALL", "ClearCache", clear[1]),
        ("in", "CALLRESULT", "ClearCache", clear[1]),
    ]
    assert page["nextBefore"] is None
    # The whole text, as on the wire.
    assert json.loads(rows[0]["text"]) == [2, "b1", "BootNotification", BOOT]
    assert json.loads(rows[1]["text"]) == boot
    assert rows[4]["text"] == "not json \ufffd at all"  # NUL: no database column holds it
    assert rows[4]["note"].startswith("not JSON")
    assert json.loads(rows[6]["text"]) == formation
    assert json.loads(rows[8]["text"]) == unknown
    assert json.loads(rows[9]["text"]) == reset
    assert json.loads(rows[10]["text"]) == [4, reset[1], "NotSupported", "no", {}]
    assert all(m["chargePointId"] == "CP1" and not m["truncated"] for m in rows)
    times = [m["time"] for m in rows]
    assert times == sorted(times)

    assert (await harness.api.get("/charge-points/NOPE/messages")).status_code == 404


async def test_filters_and_pages(harness: Harness) -> None:
    async with harness.raw("CP1") as raw:
        await raw.exchange([2, "b1", "BootNotification", BOOT])
        for n in range(5):
            await raw.exchange([2, f"h{n}", "Heartbeat", {}])
    async with harness.raw("CP2") as raw:
        await raw.exchange([2, "other", "Heartbeat", {}])

    heartbeats_in = await _messages(harness, action="Heartbeat", direction="in")
    assert [m["uniqueId"] for m in heartbeats_in["messages"]] == ["h4", "h3", "h2", "h1", "h0"]
    assert {m["chargePointId"] for m in heartbeats_in["messages"]} == {"CP1"}

    pages: list[list[str]] = []
    before = None
    while True:
        params: dict[str, Any] = {"action": "Heartbeat", "direction": "out", "limit": 2}
        if before is not None:
            params["before"] = before
        page = await _messages(harness, **params)
        pages.append([m["uniqueId"] for m in page["messages"]])
        before = page["nextBefore"]
        if before is None:
            break
    assert pages == [["h4", "h3"], ["h2", "h1"], ["h0"]]

    everything = (await _messages(harness))["messages"]
    middle = [m for m in everything if m["uniqueId"] == "h2"]
    since = min(m["time"] for m in middle)
    until = min(m["time"] for m in everything if m["uniqueId"] == "h3")
    window = await _messages(harness, since=since, until=until)
    assert [m["uniqueId"] for m in window["messages"]] == ["h2", "h2"]
    assert (await _messages(harness, action="Nope"))["messages"] == []

    bad = await harness.api.get("/charge-points/CP1/messages", params={"direction": "up"})
    assert bad.status_code == 422
    bad = await harness.api.get("/charge-points/CP1/messages", params={"limit": 0})
    assert bad.status_code == 422


async def test_long_frames_are_cut(harness: Harness) -> None:
    data = "é" * 40_000  # 80,000 bytes of UTF-8
    async with harness.raw("CP1") as raw:
        await raw.exchange([2, "b1", "BootNotification", BOOT])
        frame = [2, "d1", "DataTransfer", {"vendorId": "X", "data": data}]
        await raw.exchange(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
    (row,) = (await _messages(harness, action="DataTransfer", direction="in"))["messages"]
    assert row["truncated"] is True
    assert len(row["text"].encode()) <= 64 * 1024
    assert row["text"].startswith('[2,"d1","DataTransfer",{"vendorId":"X","data":"éé')


async def test_log_off_with_zero_days(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db", message_log_days=0) as harness:
        async with harness.raw("CP1") as raw:
            await raw.exchange([2, "b1", "BootNotification", BOOT])
        assert (await _messages(harness))["messages"] == []
        status = (await harness.api.get("/message-log")).json()
        assert status == {"enabled": False, "days": 0, "queued": 0, "dropped": 0, "failed": 0}


async def test_a_full_queue_drops_rows_without_holding_up_answers(tmp_path: Path) -> None:
    database = tmp_path / "csms.db"
    async with csms(database, message_log_queue=5) as harness:
        async with harness.raw("CP1") as raw:
            await raw.exchange([2, "b1", "BootNotification", BOOT])
            await harness.store.flush_message_log()
            # Another process holds the database's write lock: the writer cannot write.
            blocker = sqlite3.connect(database, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            try:
                for n in range(20):  # answered all the same (a heartbeat waits for no write)
                    answer = await raw.exchange([2, f"h{n}", "Heartbeat", {}])
                    assert answer[:2] == [3, f"h{n}"]
                status = (await harness.api.get("/message-log")).json()
            finally:
                blocker.execute("COMMIT")
                blocker.close()
        # 40 frames; at most 5 queued plus the ones the blocked writer holds.
        assert status["enabled"] is True
        assert status["queued"] <= 5
        assert status["dropped"] >= 40 - 5 - 5
        logged = (await _messages(harness, action="Heartbeat", limit=1000))["messages"]
        assert len(logged) == 40 - status["dropped"]
        after = (await harness.api.get("/message-log")).json()
        assert after["queued"] == 0 and after["dropped"] == status["dropped"]
