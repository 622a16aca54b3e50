"""SqlStore, the message log (docs/message-log.md): a mixin of SqlStore over its shared plumbing
(sql_base.py). Rows are appended fire-and-forget through the group-commit writer (they ride
along with the next batch, never delaying an answer), read newest first with a cursor, and
pruned by age in small transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.records import LoggedMessage, MessageLogCounts
from csms.storage.schema import message_log
from csms.storage.sql_base import SqlBase, aware

_log = message_log.c
# One statement object: the writer groups appended rows into an executemany per statement.
_INSERT = message_log.insert()


class MessageLogStore(SqlBase):
    def log_message(self, message: LoggedMessage) -> bool:
        aware(message.at)
        row = {
            "charge_point_id": message.charge_point_id,
            "at": message.at,
            "direction": message.direction,
            "message_type": message.message_type,
            "action": message.action,
            "unique_id": message.unique_id,
            "text": message.text,
            "truncated": message.truncated,
            "note": message.note,
        }
        return self._writer.append(_INSERT, row, len(message.text))

    async def flush_message_log(self) -> None:
        async def nothing(connection: AsyncConnection) -> None:
            return None

        await self._writer.run(nothing)

    def set_message_log_limit(self, rows: int) -> None:
        self._writer.append_limit = rows

    def message_log_counts(self) -> MessageLogCounts:
        writer = self._writer
        return MessageLogCounts(
            queued=writer.appends_queued,
            dropped=writer.appends_dropped,
            failed=writer.appends_failed,
        )

    async def message_log(
        self,
        charge_point_id: str,
        *,
        action: str | None = None,
        direction: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[LoggedMessage]:
        statement = select(message_log).where(_log.charge_point_id == charge_point_id)
        if action is not None:
            statement = statement.where(_log.action == action)
        if direction is not None:
            statement = statement.where(_log.direction == direction)
        if since is not None:
            statement = statement.where(_log.at >= aware(since))
        if until is not None:
            statement = statement.where(_log.at < aware(until))
        if before_id is not None:
            statement = statement.where(_log.id < before_id)
        rows = await self._read(statement.order_by(_log.id.desc()).limit(limit))
        return [_message(row) for row in rows]

    async def prune_message_log(self, before: datetime) -> int:
        return await self._prune(_log.id, _log.at, before)


def _message(row: Row[Any]) -> LoggedMessage:
    values = row._mapping
    return LoggedMessage(
        id=values["id"],
        charge_point_id=values["charge_point_id"],
        at=values["at"],
        direction=values["direction"],
        message_type=values["message_type"],
        action=values["action"],
        unique_id=values["unique_id"],
        text=values["text"],
        truncated=values["truncated"],
        note=values["note"],
    )
