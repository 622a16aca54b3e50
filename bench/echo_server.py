"""A stand-in CSMS that answers every OCPP 1.6 CALL at once, storing nothing.

Not a CSMS: it calibrates the load generator (`load.py --server echo`). What the benchmark
reaches against it is the ceiling of the client processes and of `websockets` on this machine,
so a figure of the real server well below it is the server's, not the client's.

    python bench/echo_server.py [--port 0]

prints the same ready line as `csms serve` on stderr and runs until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

_TRANSACTION_IDS = itertools.count(1)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _answer(action: str) -> str:
    if action == "BootNotification":
        return f'{{"status":"Accepted","currentTime":"{_now()}","interval":300}}'
    if action == "Heartbeat":
        return f'{{"currentTime":"{_now()}"}}'
    if action == "Authorize":
        return '{"idTagInfo":{"status":"Accepted"}}'
    if action == "StartTransaction":
        return f'{{"transactionId":{next(_TRANSACTION_IDS)},"idTagInfo":{{"status":"Accepted"}}}}'
    return "{}"


async def _handle(websocket: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for raw in websocket:
            frame = json.loads(raw)
            if frame[0] == 2:
                await websocket.send(f"[3,{json.dumps(frame[1])},{_answer(frame[2])}]")


async def serve_until_stopped(
    handler: Callable[[ServerConnection], Awaitable[None]], host: str, port: int
) -> None:
    """Serve OCPP 1.6 WebSockets with `handler`, print `csms serve`'s ready line, run until
    SIGTERM or SIGINT. Shared by the stand-ins (ocpp_lib_server.py)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with serve(
        handler,
        host,
        port,
        subprotocols=[Subprotocol("ocpp1.6")],
        compression=None,
        ping_interval=None,
        backlog=4096,
    ) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(
            f"OCPP on ws://{host}:{bound}/ocpp/{{chargePointId}}, API on http://{host}:0/api/v1",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve_until_stopped(_handle, args.host, args.port))


if __name__ == "__main__":
    main()
