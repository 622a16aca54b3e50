"""The charge points whose local authorization list the CSMS is to bring up to date, and the
one owned task that works them off (no fire-and-forget: docs/architecture.md, "Dependency
rules").

Requests are coalesced per charge point; a charge point is never worked on twice at once, and a
request that comes while it is being worked on runs once that work ends. The work itself
(sync.converge) is handed to `run`, so that this module imports nothing of
the features (Services holds the queue).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("csms.features.local_auth_list")

# (charge_point_id, reconcile first with GetLocalListVersion) -> done
Work = Callable[[str, bool], Awaitable[None]]


class LocalListQueue:
    def __init__(self, concurrency: int = 32) -> None:
        self._due: dict[str, bool] = {}
        self._busy: set[str] = set()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._concurrency = concurrency
        self._locks: dict[str, asyncio.Lock] = {}

    def request(self, charge_point_id: str, *, reconcile: bool = False) -> None:
        """Bring this charge point's list up to date (reading its version first if
        `reconcile`), as soon as the worker gets to it."""
        self._due[charge_point_id] = self._due.get(charge_point_id, False) or reconcile
        self._idle.clear()
        self._wakeup.set()

    def lock(self, charge_point_id: str) -> asyncio.Lock:
        """Held while the CSMS plans and sends a list update to this charge point: versions are
        picked from what the previous update left."""
        lock = self._locks.get(charge_point_id)
        if lock is None:
            lock = self._locks[charge_point_id] = asyncio.Lock()
        return lock

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until nothing is due or being worked on (for tests and orderly shutdowns)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def run(self, work: Work) -> None:
        """Work off requests until cancelled."""
        limit = asyncio.Semaphore(self._concurrency)
        async with asyncio.TaskGroup() as group:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                for charge_point_id in [cp for cp in self._due if cp not in self._busy]:
                    reconcile = self._due.pop(charge_point_id)
                    self._busy.add(charge_point_id)
                    group.create_task(self._one(work, limit, charge_point_id, reconcile))
                self._check_idle()

    async def _one(
        self, work: Work, limit: asyncio.Semaphore, charge_point_id: str, reconcile: bool
    ) -> None:
        try:
            async with limit:
                await work(charge_point_id, reconcile)
        except Exception:  # task boundary: one charge point's failure must not stop the others
            log.exception("%s: local list not brought up to date", charge_point_id)
        finally:
            self._busy.discard(charge_point_id)
            if charge_point_id in self._due:
                self._wakeup.set()
            self._check_idle()

    def _check_idle(self) -> None:
        if not self._due and not self._busy:
            self._idle.set()
