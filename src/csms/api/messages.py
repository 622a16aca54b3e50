"""/api/v1/charge-points/{id}/messages: the message log, every OCPP-J frame in and out of a
charge point, newest first, a page at a time; /api/v1/message-log: the log's queue
(docs/message-log.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from csms.api.deps import known_charge_point, services_of
from csms.api.models import Model
from csms.storage import LoggedMessage

router = APIRouter(tags=["message log"])


class MessageOut(Model):
    id: int
    charge_point_id: str
    # When the CSMS received or sent it.
    time: datetime
    direction: Literal["in", "out"]
    message_type: str
    action: str | None
    unique_id: str | None
    # The frame's text as on the wire (cut to 64 KiB when `truncated`).
    text: str
    truncated: bool
    note: str | None

    @classmethod
    def of(cls, message: LoggedMessage) -> MessageOut:
        assert message.id is not None
        return cls(
            id=message.id,
            charge_point_id=message.charge_point_id,
            time=message.at,
            direction="in" if message.direction == "in" else "out",
            message_type=message.message_type,
            action=message.action,
            unique_id=message.unique_id,
            text=message.text,
            truncated=message.truncated,
            note=message.note,
        )


class MessagePage(Model):
    messages: list[MessageOut]
    # Pass as `before` for the next (older) page; None: this is the last one.
    next_before: int | None


class MessageLogStatus(Model):
    enabled: bool
    days: int
    # Rows waiting to be written, and rows lost so far (queue full, or refused by the database).
    queued: int
    dropped: int
    failed: int


@router.get("/charge-points/{charge_point_id}/messages")
async def list_messages(
    request: Request,
    charge_point_id: str,
    action: str | None = None,
    direction: Literal["in", "out"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> MessagePage:
    """Newest first. `since` (inclusive) and `until` (exclusive) bound the CSMS's time (without
    a time zone: UTC); `before` is the `nextBefore` of the previous page."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    messages = await services.store.message_log(
        charge_point_id,
        action=action,
        direction=direction,
        since=_utc(since),
        until=_utc(until),
        before_id=before,
        limit=limit,
    )
    last = messages[-1].id if len(messages) == limit else None
    return MessagePage(messages=[MessageOut.of(m) for m in messages], next_before=last)


@router.get("/message-log")
async def message_log_status(request: Request) -> MessageLogStatus:
    services = services_of(request)
    counts = services.store.message_log_counts()
    days = services.settings.message_log_days
    return MessageLogStatus(
        enabled=days > 0,
        days=days,
        queued=counts.queued,
        dropped=counts.dropped,
        failed=counts.failed,
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.utcoffset() is not None:
        return value
    return value.replace(tzinfo=UTC)
