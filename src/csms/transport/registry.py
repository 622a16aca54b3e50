"""Which charge points are connected, and on which connection.

A new connection from the same charge point replaces the old one; the late close of the old
socket never evicts the new one (catalogue R-CONN-05). At shutdown `close` wakes everybody
waiting for a charge point to connect: none will any more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from csms.transport.connection import OcppConnection

log = logging.getLogger("csms.transport")


class Registry:
    def __init__(self) -> None:
        self._connections: dict[str, OcppConnection] = {}
        self._arrivals: dict[str, asyncio.Event] = {}
        self._closed = False

    def __len__(self) -> int:
        return len(self._connections)

    def __iter__(self) -> Iterator[OcppConnection]:
        return iter(list(self._connections.values()))

    def get(self, charge_point_id: str) -> OcppConnection | None:
        return self._connections.get(charge_point_id)

    def add(self, connection: OcppConnection) -> OcppConnection | None:
        """Make `connection` the charge point's current one; returns the one it replaces."""
        previous = self._connections.get(connection.charge_point_id)
        self._connections[connection.charge_point_id] = connection
        arrival = self._arrivals.pop(connection.charge_point_id, None)
        if arrival is not None:
            arrival.set()
        return previous

    def remove(self, connection: OcppConnection) -> None:
        """Forget `connection`, unless it has been replaced already."""
        if self._connections.get(connection.charge_point_id) is connection:
            del self._connections[connection.charge_point_id]

    async def wait_for(self, charge_point_id: str, timeout: float) -> OcppConnection | None:
        """The charge point's connection, waiting up to `timeout` s for it to connect."""
        connection = self._connections.get(charge_point_id)
        if connection is not None or timeout <= 0 or self._closed:
            return connection
        log.info("%s: waiting up to %g s for it to connect", charge_point_id, timeout)
        arrival = self._arrivals.setdefault(charge_point_id, asyncio.Event())
        try:
            await asyncio.wait_for(arrival.wait(), timeout)
        except TimeoutError:
            return None
        return self._connections.get(charge_point_id)

    def close(self) -> None:
        """Shutdown: wake every wait_for (they return None) and let no new one wait."""
        self._closed = True
        for arrival in self._arrivals.values():
            arrival.set()
        self._arrivals.clear()
