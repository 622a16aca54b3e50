"""Pruning by age (docs/architecture.md rule 4, owned tasks): the message log
(--message-log-days) and the audit log (--audit-log-days) each have one task, started and
cancelled by app.py, that deletes what is older than its retention at start and then every
PRUNE_EVERY seconds. "Older" is measured on the injectable clock (Services.clock)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0


async def prune_by_age(
    what: str,
    prune: Callable[[datetime], Awaitable[int]],
    days: int,
    clock: Callable[[], datetime],
    every: float = PRUNE_EVERY,
) -> None:
    """Run `prune(now - days)` now and every `every` seconds until cancelled; a failed round
    is logged and the next one tries again."""
    while True:
        try:
            deleted = await prune(clock() - timedelta(days=days))
            if deleted:
                log.info("pruned %d %s rows older than %d days", deleted, what, days)
        except Exception:  # task boundary: the next round tries again
            log.exception("pruning the %s failed", what)
        await asyncio.sleep(every)
