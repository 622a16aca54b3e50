"""Answered only after it is committed (storage/groupcommit.py, DESIGN 7): for every message a
charge point sends that writes, the CSMS sends its CALLRESULT only once the transaction holding
the write has committed.

Deterministic, with no crash and no timing luck: a listener on the store's write engine holds
each commit of the writer while the message is handled (SQLAlchemy's `commit` event runs before
the database commits; the listener suspends the writer there on an asyncio.Event, the event loop
running on), one after the other. While one is held the charge point receives nothing; the
answer comes after the release of a commit that wrote the message's table. On SQLite and
PostgreSQL. (Authorize and Heartbeat write nothing but a "last seen" touch, which is not
promised durable before the answer.)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from tests.harness import Harness, RawClient, csms

# Long enough for an answer set free by an early commit to reach the socket many times over;
# it only bounds how long the absence of an answer is watched.
QUIET = 0.3


@dataclass
class HeldCommit:
    statements: list[str]
    release: asyncio.Event = field(default_factory=asyncio.Event)


class CommitGate:
    """While armed, holds every commit of the store's writer before the database does it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.sync_engine
        self.armed = False
        self.held: asyncio.Queue[HeldCommit] = asyncio.Queue()
        self.all_held: list[HeldCommit] = []
        event.listen(self._engine, "before_cursor_execute", self._on_execute)
        event.listen(self._engine, "commit", self._on_commit)
        event.listen(self._engine, "rollback", self._on_rollback)

    def remove(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._on_execute)
        event.remove(self._engine, "commit", self._on_commit)
        event.remove(self._engine, "rollback", self._on_rollback)

    def _on_execute(self, connection: Any, *args: Any) -> None:
        statement: str = args[1]
        connection.info.setdefault("statements", []).append(statement)

    def _on_rollback(self, connection: Any) -> None:
        connection.info.pop("statements", None)

    def _on_commit(self, connection: Any) -> None:
        statements: list[str] = connection.info.pop("statements", [])
        if not self.armed:
            return
        held = HeldCommit(statements)
        self.held.put_nowait(held)
        self.all_held.append(held)
        # Runs inside the writer's greenlet: suspend it (not the event loop) until released.
        await_only(held.release.wait())


def writes_to(table: str, statements: list[str]) -> bool:
    writes = re.compile(rf'^\s*(insert\s+into|update|delete\s+from)\s+"?{table}"?[\s(]', re.I)
    return any(writes.match(statement) for statement in statements)


@contextlib.asynccontextmanager
async def gated(harness: Harness) -> AsyncIterator[CommitGate]:
    gate = CommitGate(harness.store._write_engine)
    try:
        yield gate
    finally:
        gate.armed = False
        for held in gate.all_held:  # a failed test must not leave the writer stuck
            held.release.set()
        gate.remove()


async def answered_after_commit(
    gate: CommitGate, client: RawClient, table: str, call: list[Any]
) -> dict[str, Any]:
    """Send `call` with every commit held in turn: while one is held, no answer may come; the
    answer comes after the commit of a transaction that wrote to `table`."""
    committed: list[str] = []
    gate.armed = True
    await client.send(call)
    answer = asyncio.ensure_future(client.receive(timeout=10))
    try:
        while True:
            next_commit = asyncio.ensure_future(gate.held.get())
            await asyncio.wait([answer, next_commit], return_when=asyncio.FIRST_COMPLETED)
            if not next_commit.done():
                next_commit.cancel()
                break
            held = next_commit.result()
            # The commit is held: nothing may leave for the charge point.
            await asyncio.wait([answer], timeout=QUIET)
            if answer.done():
                pytest.fail(f"{call[2]} answered before its commit: {answer.result()}")
            committed.extend(held.statements)
            held.release.set()
    finally:
        gate.armed = False
        answer.cancel()
    frame = answer.result()
    assert frame[0] == 3 and frame[1] == call[1], frame
    assert writes_to(table, committed), f"{call[2]}: no write to {table} committed before"
    result: dict[str, Any] = frame[2]
    return result


@pytest.fixture
async def harness(database_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    async with csms(database_url, data_dir=tmp_path / "data") as running:
        yield running


NOW = "2025-03-14T09:26:53Z"
BOOT = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}

# (the table its write goes to, action, payload); "{tx}" stands for an open transaction's id.
WRITING_MESSAGES = {
    "BootNotification": ("charge_points", BOOT),
    "StatusNotification": (
        "status_history",
        {"connectorId": 1, "errorCode": "NoError", "status": "Preparing", "timestamp": NOW},
    ),
    "StartTransaction": (
        "transactions",
        {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": NOW},
    ),
    "MeterValues": (
        "meter_values",
        {
            "connectorId": 1,
            "transactionId": "{tx}",
            "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "120"}]}],
        },
    ),
    "StopTransaction": (
        "transactions",
        {"transactionId": "{tx}", "idTag": "TAG1", "meterStop": 500, "timestamp": NOW},
    ),
    "DataTransfer": ("data_transfers", {"vendorId": "com.example", "messageId": "Hi", "data": "x"}),
    "FirmwareStatusNotification": ("notifications", {"status": "Downloading"}),
    "DiagnosticsStatusNotification": ("notifications", {"status": "Uploading"}),
}


@pytest.mark.parametrize("action", list(WRITING_MESSAGES))
async def test_a_writing_message_is_answered_only_after_its_commit(
    harness: Harness, action: str
) -> None:
    table, payload = WRITING_MESSAGES[action]
    await harness.api.put("/id-tags/TAG1", json={"status": "Accepted"})
    async with harness.raw("CP1") as client, gated(harness) as gate:
        if action != "BootNotification":
            assert (await client.exchange([2, "boot", "BootNotification", BOOT]))[0] == 3
        if payload.get("transactionId") == "{tx}":
            start = WRITING_MESSAGES["StartTransaction"][1]
            started = await client.exchange([2, "start", "StartTransaction", start])
            payload = {**payload, "transactionId": started[2]["transactionId"]}
        answer = await answered_after_commit(gate, client, table, [2, "m1", action, payload])
    if action == "BootNotification":
        assert answer["status"] == "Accepted"
    if action == "StartTransaction":
        assert answer["idTagInfo"]["status"] == "Accepted"
        assert await harness.store.get_transaction(answer["transactionId"]) is not None
    if action == "StopTransaction":
        stored = await harness.store.get_transaction(payload["transactionId"])
        assert stored is not None and stored.meter_stop == 500
