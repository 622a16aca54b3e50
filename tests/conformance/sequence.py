"""The conformance suite run the way the OCA test tool runs a certification session
(docs/conformance-sequence.md): one CSMS for the whole session, the cases in file order, the
test charge point booted once at the start and reconnecting between cases without a new boot.

    CSMS_CONFORMANCE_MODE=sequence python -m pytest -p no:xdist tests/conformance

The CSMS runs on its own event loop in a thread of its own, for the whole session, the way the
CSMS under test runs beside the tool: every case talks to it over its sockets only (OCPP and
the operator API), from the case's own event loop. What a case reads from the store directly
(`harness.store`) is run on the CSMS's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from csms.app import Running
from tests.conformance.octt import (
    CHARGE_POINT_ID,
    CONNECTORS,
    HEARTBEAT_INTERVAL,
    MODEL,
    VENDOR,
    IdTags,
    booted,
    provision_id_tags,
    register,
)
from tests.db import run_in_thread
from tests.harness import API_TOKEN, Harness, csms

MODE_ENV = "CSMS_CONFORMANCE_MODE"
SEQUENCE = "sequence"

T = TypeVar("T")


def sequence_mode() -> bool:
    """Whether this run is a certification-style session (CSMS_CONFORMANCE_MODE=sequence)."""
    return os.environ.get(MODE_ENV, "").strip().lower() == SEQUENCE


class BackgroundCsms:
    """A CSMS in certification mode running in a thread on its own event loop until stop()."""

    def __init__(self, database: Path, **settings: Any) -> None:
        self.database = database
        self.settings = settings
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._app: Running | None = None
        self._error: BaseException | None = None

    @property
    def app(self) -> Running:
        assert self._app is not None, "the CSMS is not running"
        return self._app

    def start(self, timeout: float = 30.0) -> None:
        self._thread = threading.Thread(target=self._run, name="conformance csms", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the CSMS did not start within {timeout} s")
        if self._error is not None:
            raise self._error

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    async def on_csms_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await `coroutine` run on the CSMS's loop (its store belongs to that loop)."""
        assert self._loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    @contextlib.asynccontextmanager
    async def harness(self) -> AsyncIterator[Harness]:
        """A Harness for one case, on the case's loop: an API client of its own, and the
        transactions of the test charge point so far (the earlier cases' ones)."""
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.app.http_port}/api/v1",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        ) as api:
            response = await api.get("/transactions", params={"charge_point_id": CHARGE_POINT_ID})
            assert response.status_code == 200, response.text
            earlier = frozenset(transaction["id"] for transaction in response.json())
            yield SharedHarness(self.app, api, background=self, earlier_transactions=earlier)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # thread boundary: handed to start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with csms(self.database, **self.settings) as running:
            self._app = running.app
            self._ready.set()
            await self._stop.wait()


@dataclass
class SharedHarness(Harness):
    """The Harness of a case in sequence mode: the session's CSMS seen from the case's loop."""

    background: BackgroundCsms | None = None
    # Transactions of the test charge point before the case began (earlier cases' ones).
    earlier_transactions: frozenset[int] = field(default_factory=frozenset)

    @property
    def store(self) -> Any:
        assert self.background is not None
        return _StoreOnLoop(self.app.services.store, self.background)


class _StoreOnLoop:
    """The CSMS's store, each method awaited on the CSMS's own loop."""

    def __init__(self, store: Any, background: BackgroundCsms) -> None:
        self._store = store
        self._background = background

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute
        method: Callable[..., Any] = attribute

        async def on_loop(*args: Any, **kwargs: Any) -> Any:
            return await self._background.on_csms_loop(method(*args, **kwargs))

        return on_loop


@dataclass
class Session:
    """The certification session: the CSMS, the tags provisioned and the identity booted once."""

    csms: BackgroundCsms
    id_tags: IdTags


async def open_session(background: BackgroundCsms) -> IdTags:
    """The tester's preparation before the first case: the test id tags and the charge point
    identity provisioned, then the charge point booted once (reusable state Booted)."""
    async with background.harness() as harness:
        id_tags = await provision_id_tags(harness)
        await register(harness, CHARGE_POINT_ID)
        async with harness.charge_point(
            CHARGE_POINT_ID, connectors=CONNECTORS, vendor=VENDOR, model=MODEL
        ) as cp:
            await booted(cp)
    return id_tags


def start_session(directory: Path) -> Session:
    background = BackgroundCsms(directory / "csms.db", heartbeat_interval=HEARTBEAT_INTERVAL)
    background.start()
    try:
        id_tags = run_in_thread(open_session(background))
    except BaseException:
        background.stop()
        raise
    return Session(background, id_tags)
