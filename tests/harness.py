"""A real CSMS on loopback ports for tests: the server, an API client, simulated charge points."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from csms.app import Running, running
from csms.settings import Settings, UnknownChargePoints
from csms.simulator import SimulatedChargePoint

API_TOKEN = "test-token"
# Seconds an API call of a test may take before it fails.
API_TIMEOUT = 60.0


@dataclass
class Harness:
    app: Running
    api: httpx.AsyncClient

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.app.ocpp_port}/ocpp"

    @property
    def store(self) -> Any:
        return self.app.services.store

    def charge_point(
        self, charge_point_id: str = "CP1", url: str | None = None, **options: Any
    ) -> SimulatedChargePoint:
        return SimulatedChargePoint(charge_point_id, url or self.url, **options)

    @contextlib.asynccontextmanager
    async def raw(
        self, charge_point_id: str = "CP1", subprotocols: list[str] | None = None
    ) -> AsyncIterator[RawClient]:
        """A bare WebSocket client, for frames no well-behaved charge point would send."""
        async with connect(
            f"{self.url}/{charge_point_id}",
            subprotocols=subprotocols or ["ocpp1.6"],  # type: ignore[list-item]
        ) as websocket:
            yield RawClient(websocket)


@dataclass
class RawClient:
    websocket: ClientConnection

    async def send(self, message: Any) -> None:
        await self.websocket.send(message if isinstance(message, str) else json.dumps(message))

    async def receive(self, timeout: float = 5.0) -> Any:
        import asyncio

        return json.loads(await asyncio.wait_for(self.websocket.recv(), timeout))

    async def exchange(self, message: Any, timeout: float = 5.0) -> Any:
        await self.send(message)
        return await self.receive(timeout)


@contextlib.asynccontextmanager
async def csms(database: str | Path, **settings: Any) -> AsyncIterator[Harness]:
    url = database if isinstance(database, str) else f"sqlite+aiosqlite:///{database}"
    config = Settings(
        host="127.0.0.1",
        ocpp_port=0,
        http_port=0,
        database=url,
        api_token=API_TOKEN,
        # Like the OCA test tool: the CSMS sends nothing but operator commands. Tests of the
        # automation switch it off.
        certification_mode=True,
        # Files next to the database (a temporary directory for a database URL); the
        # diagnostics FTP server on a free port.
        data_dir=database.parent / "data"
        if isinstance(database, Path)
        else Path(tempfile.mkdtemp(prefix="csms-data-")),
        ftp_port=0,
        # The tests register the charge points they use by connecting them.
        unknown_charge_points=UnknownChargePoints.ACCEPT,
    ).replace(**settings)
    async with (
        running(config) as app,
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{app.http_port}/api/v1",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            # Not a latency check (tests never assert on wall-clock speed): httpx's default of
            # 5 s failed API calls when CI's four workers and a browser test shared two cores.
            timeout=API_TIMEOUT,
        ) as api,
    ):
        yield Harness(app, api)
