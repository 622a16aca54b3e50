"""A write-through cache of one kind of read per charge point, for the reads on the message path
whose table only this store writes and rarely (docs/architecture.md, "The message path"): the
connector availability every StatusNotification consults, the operator's configuration every
BootNotification answers from, the reservations every StartTransaction may end.

A write forgets the key once it has committed (`forget` in a `finally` after awaiting the
writer), and bumps the generation: a read that was in flight meanwhile is returned to its
caller but not remembered, so the cache never keeps what was read before a write committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Entries kept at most; past that the cache starts again empty (unknown ids could fill it).
LIMIT = 100_000


class ReadCache(Generic[K, V]):
    def __init__(self, limit: int = LIMIT) -> None:
        self._values: dict[K, V] = {}
        self._generation = 0
        self._limit = limit

    async def get(self, key: K, read: Callable[[], Awaitable[V]]) -> V:
        """The cached value of `key`, else `read()` (remembered unless a write committed while
        it ran). Callers must not change the value they get."""
        try:
            return self._values[key]
        except KeyError:
            pass
        generation = self._generation
        value = await read()
        if generation == self._generation:
            if len(self._values) >= self._limit:
                self._values.clear()
            self._values[key] = value
        return value

    def forget(self, key: K | None = None) -> None:
        """After a write of `key` (None: of any key) committed, or failed."""
        self._generation += 1
        if key is None:
            self._values.clear()
        else:
            self._values.pop(key, None)
