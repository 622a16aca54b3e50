"""/api/v1/events: the live event bus (events.py) as Server-Sent Events (docs/live-events.md).

Each event is `id: <n>`, `event: <type>`, `data: <JSON>`; a client that reconnects sends the
last id it saw in `Last-Event-ID` (browsers' EventSource does this by itself; `lastEventId` as a
query parameter does the same) and gets exactly the events it missed, or a `reset` event first
when they are no longer kept. A comment every HEARTBEAT seconds keeps proxies from closing an
idle stream. The stream ends when the CSMS shuts down. Authentication is the API's (request
headers are not needed: a session cookie works as well as the bearer token).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from csms.api.deps import services_of
from csms.events import Event, EventBus

router = APIRouter(tags=["events"])

HEARTBEAT = 15.0
# What a browser waits before reconnecting (milliseconds), sent first.
RETRY_MS = 3000


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId")] = None,
    types: Annotated[str | None, Query(description="comma-separated: status,transaction")] = None,
    last_event_id: Annotated[str | None, Query(alias="lastEventId")] = None,
) -> StreamingResponse:
    """Types: connected, disconnected, booted, status, transaction (.started, .stopped), meter,
    command (.sent, .answered), and message (every frame; only when asked for by name)."""
    bus = services_of(request).events
    resume = request.headers.get("last-event-id") or last_event_id
    wanted = None if types is None else {t.strip() for t in types.split(",") if t.strip()}
    return StreamingResponse(
        _stream(bus, charge_point_id, wanted, _event_id(resume)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    bus: EventBus, charge_point_id: str | None, types: set[str] | None, resume: int | None
) -> AsyncIterator[str]:
    # Subscribed once the response starts: a stream never started holds no subscription.
    with bus.subscribe(charge_point_id=charge_point_id, types=types, last_event_id=resume) as sub:
        yield f"retry: {RETRY_MS}\n\n"
        while True:
            events = await sub.next(HEARTBEAT)
            if events is None:
                return
            if not events:
                yield ": heartbeat\n\n"
                continue
            yield "".join(map(_format, events))


def _format(event: Event) -> str:
    return f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.to_json())}\n\n"


def _event_id(text: str | None) -> int | None:
    """None: none given; -1 (never an id of this run): one that cannot be ours."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 19 else -1
