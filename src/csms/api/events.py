"""/api/v1/events: the live event bus (events.py) as Server-Sent Events (docs/live-events.md).

Each event is `id: <n>`, `event: <type>`, `data: <JSON>`; a client that reconnects sends the
last id it saw in `Last-Event-ID` (browsers' EventSource does this by itself; `lastEventId` as a
query parameter does the same) and gets exactly the events it missed, or a `reset` event first
when they are no longer kept. A comment every HEARTBEAT seconds keeps proxies from closing an
idle stream. The stream ends when the CSMS shuts down. Authentication is the API's (request
headers are not needed: a session cookie works as well as the bearer token).

With `durable=true` the stream is the durable outbox's instead (docs/events-and-webhooks.md,
"The stream from the outbox"): its kinds and ids, committed events only, and `Last-Event-ID`
resumes across restarts for as long as the events are kept (event_retention_days).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse

from csms.api.deps import services_of
from csms.events import RESET, TYPES, Event, EventBus
from csms.features import outbox
from csms.storage import Store, StoredEvent
from csms.storage.sql_outbox import matches

router = APIRouter(tags=["events"])

HEARTBEAT = 15.0
# What a browser waits before reconnecting (milliseconds), sent first.
RETRY_MS = 3000
# A durable stream reads the outbox when the live bus has news, and at least this often.
OUTBOX_POLL = 0.5


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        422: {"description": "Unknown event types"},
    },
)
async def stream_events(
    request: Request,
    charge_point_id: Annotated[str | None, Query(alias="chargePointId")] = None,
    types: Annotated[str | None, Query(description="comma-separated: status,transaction")] = None,
    last_event_id: Annotated[str | None, Query(alias="lastEventId")] = None,
    durable: bool = False,
) -> StreamingResponse:
    """Types: connected, disconnected, booted, status, transaction (.started, .stopped), meter,
    command (.sent, .answered), and message (every frame; only when asked for by name).
    `durable=true`: the outbox's events instead (their kinds: docs/events-and-webhooks.md)."""
    services = services_of(request)
    bus = services.events
    resume = request.headers.get("last-event-id") or last_event_id
    wanted = None if types is None else {t.strip() for t in types.split(",") if t.strip()}
    known = outbox.TYPES if durable else TYPES
    unknown = sorted((wanted or set()) - known)
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown event types {', '.join(unknown)}; known: {', '.join(sorted(known))}",
        )
    stream = (
        _durable_stream(services.store, bus, charge_point_id, wanted, _event_id(resume))
        if durable
        else _stream(bus, charge_point_id, wanted, _event_id(resume))
    )
    return StreamingResponse(
        stream,
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


async def _durable_stream(
    store: Store,
    bus: EventBus,
    charge_point_id: str | None,
    types: set[str] | None,
    resume: int | None,
) -> AsyncIterator[str]:
    """The outbox after `resume` (None: from now), then as it grows; a `reset` first when the
    events after `resume` are no longer kept (pruned, or an id of another database)."""
    oldest, newest = await store.event_id_range()
    cursor = newest if resume is None else resume
    kinds = None if types is None else tuple(types)
    # Woken by the live bus (most outbox events are published there right after their commit).
    with bus.subscribe(types=None) as wakeup:
        yield f"retry: {RETRY_MS}\n\n"
        if resume is not None and not (oldest - 1 <= resume <= newest) and (oldest or resume):
            yield _format_reset(newest, resume)
            cursor = newest
        quiet = 0.0
        while True:
            events = await store.events_after(cursor, limit=500, charge_point_id=charge_point_id)
            if events:
                cursor = events[-1].id
                chosen = [e for e in events if matches(kinds, e.kind)]
                if chosen:
                    quiet = 0.0
                    yield "".join(map(_format_stored, chosen))
                if len(events) == 500:
                    continue
            news = await wakeup.next(OUTBOX_POLL)
            if news is None:
                return
            quiet += OUTBOX_POLL if not news else 0.0
            if quiet >= HEARTBEAT:
                quiet = 0.0
                yield ": heartbeat\n\n"


def _format_stored(event: StoredEvent) -> str:
    return f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.to_json())}\n\n"


def _format_reset(newest: int, resume: int) -> str:
    data = {"lastEventId": resume, "reason": "events since lastEventId are not kept"}
    body = {"id": newest, "type": RESET, "chargePointId": None, "time": None, "data": data}
    return f"id: {newest}\nevent: {RESET}\ndata: {json.dumps(body)}\n\n"


def _format(event: Event) -> str:
    return f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.to_json())}\n\n"


def _event_id(text: str | None) -> int | None:
    """None: none given; -1 (never an id of this run): one that cannot be ours."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 19 else -1
