"""A write that returned survives the process being killed right after."""

from __future__ import annotations

import asyncio
import signal
import sys

from csms.storage.sql import open_store

WRITER = """
import asyncio, sys
from datetime import UTC, datetime
from csms.storage import TransactionStart
from csms.storage.sql import open_store

async def main(url):
    store = await open_store(url)
    await store.save_charge_point(
        "CP1", registration_status="Accepted", password_hash=None, description=None
    )
    now = datetime.now(UTC)
    transactions = await asyncio.gather(*(
        store.start_transaction(TransactionStart(
            charge_point_id="CP1", connector_id=i, id_tag="T", meter_start=0, timestamp=now,
            reservation_id=None, id_tag_status="Accepted",
        ))
        for i in range(50)
    ))
    print(" ".join(str(t.id) for t in transactions), flush=True)
    await asyncio.Event().wait()  # until killed

asyncio.run(main(sys.argv[1]))
"""


async def test_committed_transactions_survive_sigkill(database_url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, database_url, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    assert process.returncode == -signal.SIGKILL
    ids = [int(word) for word in line.split()]
    assert len(ids) == 50

    async with await open_store(database_url) as store:
        for transaction_id in ids:
            transaction = await store.get_transaction(transaction_id)
            assert transaction is not None
            assert transaction.charge_point_id == "CP1"
