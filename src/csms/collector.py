"""The server process's garbage collection (bench/README.md, "Garbage collection").

Python's cyclic collector walks every object it tracks in a full collection; a loaded server
with 500 charge points paused 150 ms for each, several times a minute, 8% of its CPU. At
start-up (`settle`), what start-up built (modules, schemas, compiled validators and
statements) is frozen out of the collector's sight, and young collections are made rarer: most
objects of a message die young, freed by reference counting without the collector.

Not done, measured: a periodic full collection that unfreezes, collects and freezes again (so
that later long-lived objects would be frozen too) took seconds at 10,000 charge points,
because it walks what start-up built as well; and freezing later objects without that would
never free a reference cycle among them.
"""

from __future__ import annotations

import gc
from typing import Final

# gc.set_threshold: young collections every 10,000 net allocations instead of 700; the older
# generations at the default ratios.
THRESHOLDS: Final = (10_000, 10, 10)


def settle() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
