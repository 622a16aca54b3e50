"""SQLite only: the write-ahead log copied into the database file by a task of its own, off the
writer's path (docs/architecture.md, "The message path").

Left to SQLite, the checkpoint runs inside the commit that fills the log past
`wal_autocheckpoint` pages: that commit, and every message waiting for it, waits while tens of
megabytes are copied and synced. A PASSIVE checkpoint from another connection does the same
work without blocking the writer, so the store runs one every CHECKPOINT_EVERY seconds on a
read connection (its own thread); `wal_autocheckpoint` (engine.py) stays as the backstop if
this task falls behind.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("csms.storage")

CHECKPOINT_EVERY: Final = 2.0  # seconds


async def checkpoint_forever(engine: AsyncEngine, every: float = CHECKPOINT_EVERY) -> None:
    """Run until cancelled (the store owns it)."""
    while True:
        await asyncio.sleep(every)
        try:
            await checkpoint(engine)
        except Exception:  # the backstop still checkpoints; try again next time
            log.exception("WAL checkpoint failed")


async def checkpoint(engine: AsyncEngine) -> tuple[int, int, int]:
    """One PASSIVE checkpoint: (busy, frames in the log, frames checkpointed)."""
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        busy, frames, copied = tuple(result.one())
        return int(busy), int(frames), int(copied)
