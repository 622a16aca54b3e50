"""A stand-in CSMS on the PyPI `ocpp` library: what many Python CSMSs are built on.

Not a CSMS: its `ChargePoint` (ocpp.v16) with a handler for each Core message the load sends,
answering at once and storing nothing, one per connection on `websockets`, the way the
library's own examples run it. `load.py --server ocpp-lib` measures it with the same load as
`csms serve`, so that the two can be compared in one run (bench/compare.py). The library
validates every message against the OCPP 1.6 schemas, as `csms serve` does.

    python bench/ocpp_lib_server.py [--port 0]

prints the same ready line as `csms serve` on stderr and runs until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import time
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from echo_server import serve_until_stopped

_TRANSACTION_IDS = itertools.count(1)
_ACCEPTED = {"status": AuthorizationStatus.accepted}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class StandIn(ChargePoint):  # type: ignore[misc]
    """The library's charge point session, from the Central System's side (no handler may
    be named like a ChargePoint method: `start` is its message loop)."""

    @on(Action.boot_notification)
    def boot(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    def heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def status(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def authorize(self, **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=_ACCEPTED)

    @on(Action.start_transaction)
    def start_transaction(self, **_: Any) -> call_result.StartTransaction:
        return call_result.StartTransaction(
            transaction_id=next(_TRANSACTION_IDS), id_tag_info=_ACCEPTED
        )

    @on(Action.meter_values)
    def meter_values(self, **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def stop_transaction(self, **_: Any) -> call_result.StopTransaction:
        return call_result.StopTransaction(id_tag_info=_ACCEPTED)


async def _handle(websocket: ServerConnection) -> None:
    charge_point_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
    with contextlib.suppress(ConnectionClosed):
        await StandIn(charge_point_id, websocket).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    # The library logs every message at INFO: as quiet as `csms serve` at its default.
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve_until_stopped(_handle, args.host, args.port))


if __name__ == "__main__":
    main()
