"""The server process's garbage collection (bench/README.md, "Garbage collection").

Python's cyclic collector walks every object it tracks in a full collection. A server holding
thousands of connections tracks millions, and a full collection then paused it for 150 ms (500
charge points) to 400 ms (10,000), several times a minute. So:

- `settle` at start-up: what start-up built (modules, schemas, compiled validators and
  statements) is frozen out of the collector's sight, and young collections are made rarer
  (most objects of a message die young, by reference counting, without the collector);
- `collect_periodically`: every FULL_EVERY seconds, one full collection of everything (what
  was frozen included, so a reference cycle that became garbage is freed within that time),
  after which the survivors are frozen again. Automatic collections then see only what was
  made since, and stay short.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Final

log = logging.getLogger("csms")

# gc.set_threshold: young collections every 10,000 net allocations instead of 700; the older
# generations at the default ratios.
THRESHOLDS: Final = (10_000, 10, 10)
FULL_EVERY: Final = 60.0  # seconds


def settle() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


async def collect_periodically(every: float = FULL_EVERY) -> None:
    """Run until cancelled (app.py owns it)."""
    while True:
        await asyncio.sleep(every)
        started = time.perf_counter()
        gc.unfreeze()
        freed = gc.collect()
        gc.freeze()
        log.debug(
            "full garbage collection: %d freed, %d kept, %.0f ms",
            freed,
            gc.get_freeze_count(),
            (time.perf_counter() - started) * 1000,
        )
