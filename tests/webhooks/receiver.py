"""A real webhook receiver for tests: an HTTP/1.1 server on 127.0.0.1 (asyncio streams, keep-alive)
that records every request and answers as told: a status, or a delay (a receiver that hangs)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from csms.webhooks import verify


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event

    def verified(self, secret: str, *, now: float | None = None) -> bool:
        return verify(
            secret,
            self.headers["x-csms-timestamp"],
            self.body,
            self.headers["x-csms-signature"],
            now=time.time() if now is None else now,
            tolerance=10**9 if now is None else 300,
        )


# What to do with the n-th request (0-based): (status, seconds to wait before answering).
Behaviour = Callable[[int], tuple[int, float]]


class Receiver:
    def __init__(self, behaviour: Behaviour = lambda n: (200, 0.0)) -> None:
        self.behaviour = behaviour
        self.received: list[Received] = []
        self.answered: list[tuple[int, int]] = []  # (event id, status) of answers sent
        self.port = 0
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):  # Server.close_clients() is Python 3.13+
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Receiver:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def delivered_ids(self) -> list[int]:
        """Event ids answered 2xx, in the order answered."""
        return [event_id for event_id, status in self.answered if 200 <= status < 300]

    async def wait_for(self, done: Callable[[Receiver], bool], timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while not done(self):
                self._changed.clear()
                await self._changed.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, RuntimeError):
            try:
                while await self._one(reader, writer):
                    pass
            finally:
                self._writers.discard(writer)
                writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request_line = await reader.readline()
        if not request_line:
            return False
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        received = Received(headers, body)
        number = len(self.received)
        self.received.append(received)
        self._changed.set()
        status, delay = self.behaviour(number)
        if delay:
            await asyncio.sleep(delay)
        head = f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\n"
        writer.write(head.encode() + b"ok")
        await writer.drain()
        self.answered.append((int(headers.get("x-csms-event-id", "0")), status))
        self._changed.set()
        return True
