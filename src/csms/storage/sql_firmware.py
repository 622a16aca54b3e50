"""SqlStore, firmware and diagnostics (spec 5.9, 5.19, 8): hosted firmware images, the jobs that
follow an UpdateFirmware or a GetDiagnostics, their events, and the uploaded diagnostics files.
A mixin of SqlStore over its shared plumbing (sql_base.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.event_records import OutboxEvent
from csms.storage.records import (
    DiagnosticsFile,
    FileJob,
    FileJobChange,
    FileJobEvent,
    FirmwareImage,
    NewFileJob,
)
from csms.storage.schema import diagnostics_files, file_job_events, file_jobs, firmware_images
from csms.storage.sql_alerts import AlertsStore, alert_event
from csms.storage.sql_base import as_row, aware, upsert
from csms.storage.sql_outbox import outbox_rows

_JOB_FIELDS = tuple(field.name for field in dataclasses.fields(FileJob))
# What a change may write; the identity of a job and its request stay as they were.
_CHANGEABLE = (
    "location",
    "file_name",
    "status",
    "outcome",
    "reason",
    "updated_at",
    "deadline",
    "finished_at",
)


class FirmwareStore(AlertsStore):
    # -- firmware images -----------------------------------------------------------------------

    async def add_firmware_image(
        self,
        *,
        file_name: str,
        size: int,
        sha256: str,
        description: str | None,
        uploaded_at: datetime,
        signing_certificate: str | None = None,
        signature: str | None = None,
    ) -> FirmwareImage:
        aware(uploaded_at)
        values = {
            "file_name": file_name,
            "size": size,
            "sha256": sha256,
            "description": description,
            "uploaded_at": uploaded_at,
            "signing_certificate": signing_certificate,
            "signature": signature,
        }
        statement = firmware_images.insert().returning(*firmware_images.c)

        async def work(connection: AsyncConnection) -> FirmwareImage:
            return _image((await connection.execute(statement, values)).one())

        return await self._writer.run(work)

    async def get_firmware_image(self, image_id: int) -> FirmwareImage | None:
        rows = await self._read(select(firmware_images).where(firmware_images.c.id == image_id))
        return _image(rows[0]) if rows else None

    async def list_firmware_images(self) -> list[FirmwareImage]:
        rows = await self._read(select(firmware_images).order_by(firmware_images.c.id))
        return [_image(row) for row in rows]

    async def delete_firmware_image(self, image_id: int) -> bool:
        """Jobs that used it keep their location; their image_id becomes None."""
        statement = delete(firmware_images).where(firmware_images.c.id == image_id)

        async def work(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        return await self._writer.run(work)

    # -- jobs ----------------------------------------------------------------------------------

    async def create_file_job(
        self, job: NewFileJob, *, locate: Callable[[int], str] | None = None
    ) -> FileJob:
        aware(job.requested_at, job.deadline)
        values = {
            **as_row(job),
            "updated_at": job.requested_at,
            "file_name": None,
            "outcome": None,
            "reason": None,
            "finished_at": None,
        }
        insert = file_jobs.insert().returning(file_jobs.c.id)
        select_job = select(file_jobs).where(file_jobs.c.id == bindparam("b_id"))

        own_request_id = job.variant is not None and job.request_id is None

        async def work(connection: AsyncConnection) -> FileJob:
            job_id = (await connection.execute(insert, values)).scalar_one()
            named: dict[str, Any] = {}
            if locate is not None:
                named["location"] = locate(job_id)
            if own_request_id:
                named["request_id"] = job_id
            if named:
                await connection.execute(
                    update(file_jobs).where(file_jobs.c.id == job_id).values(named)
                )
            rows = await connection.execute(select_job, {"b_id": job_id})
            return _job(rows.one())

        return await self._writer.run(work)

    async def get_file_job(self, job_id: int) -> FileJob | None:
        rows = await self._read(select(file_jobs).where(file_jobs.c.id == job_id))
        return _job(rows[0]) if rows else None

    async def list_file_jobs(
        self,
        charge_point_id: str,
        kind: str,
        *,
        limit: int = 100,
        variants: Collection[str | None] = (None,),
    ) -> list[FileJob]:
        rows = await self._read(
            select(file_jobs)
            .where(
                file_jobs.c.charge_point_id == charge_point_id,
                file_jobs.c.kind == kind,
                _of_variants(variants),
            )
            .order_by(file_jobs.c.id.desc())
            .limit(limit)
        )
        return [_job(row) for row in rows]

    async def find_file_job(
        self, charge_point_id: str, kind: str, request_id: int
    ) -> FileJob | None:
        rows = await self._read(
            select(file_jobs)
            .where(
                file_jobs.c.charge_point_id == charge_point_id,
                file_jobs.c.kind == kind,
                file_jobs.c.variant.is_not(None),
                file_jobs.c.request_id == request_id,
            )
            .order_by(file_jobs.c.id.desc())
            .limit(1)
        )
        return _job(rows[0]) if rows else None

    async def change_file_job(self, job_id: int, change: FileJobChange) -> FileJob | None:
        statement = select(file_jobs).where(file_jobs.c.id == job_id)
        return await self._writer.run(lambda connection: self._apply(connection, statement, change))

    async def change_latest_file_job(
        self,
        charge_point_id: str,
        kind: str,
        change: FileJobChange,
        *,
        variants: Collection[str | None] = (None,),
    ) -> FileJob | None:
        statement = (
            select(file_jobs)
            .where(
                file_jobs.c.charge_point_id == charge_point_id,
                file_jobs.c.kind == kind,
                _of_variants(variants),
            )
            .order_by(file_jobs.c.id.desc())
            .limit(1)
        )
        return await self._writer.run(lambda connection: self._apply(connection, statement, change))

    async def add_file_job_event(self, event: FileJobEvent) -> None:
        aware(event.at)
        row = as_row(event)

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(file_job_events.insert(), row)

        await self._writer.run(work)

    async def file_job_events(self, job_id: int) -> list[FileJobEvent]:
        rows = await self._read(
            select(file_job_events)
            .where(file_job_events.c.job_id == job_id)
            .order_by(file_job_events.c.id)
        )
        return [
            FileJobEvent(job_id=row.job_id, at=row.at, event=row.event, detail=row.detail)
            for row in rows
        ]

    async def overdue_file_jobs(self, now: datetime) -> list[FileJob]:
        aware(now)
        rows = await self._read(
            select(file_jobs)
            .where(file_jobs.c.deadline < now, file_jobs.c.outcome.is_(None))
            .order_by(file_jobs.c.id)
        )
        return [_job(row) for row in rows]

    # -- diagnostics files ---------------------------------------------------------------------

    async def record_diagnostics_file(self, file: DiagnosticsFile) -> None:
        aware(file.received_at)
        statement = upsert(
            self._dialect,
            diagnostics_files,
            ("job_id", "file_name"),
            ("size", "complete", "protocol", "received_at"),
        )
        row = as_row(file)

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(statement, row)

        await self._writer.run(work)

    async def diagnostics_files(self, job_id: int) -> list[DiagnosticsFile]:
        rows = await self._read(
            select(diagnostics_files)
            .where(diagnostics_files.c.job_id == job_id)
            .order_by(diagnostics_files.c.received_at, diagnostics_files.c.file_name)
        )
        return [
            DiagnosticsFile(
                job_id=row.job_id,
                file_name=row.file_name,
                size=row.size,
                complete=bool(row.complete),
                protocol=row.protocol,
                received_at=row.received_at,
            )
            for row in rows
        ]

    async def _apply(
        self, connection: AsyncConnection, statement: Any, change: FileJobChange
    ) -> FileJob | None:
        rows = (await connection.execute(statement)).all()
        if not rows:
            return None
        job = _job(rows[0])
        changed = change(job)
        if changed is None:
            return job
        new, events = changed
        if new.id != job.id:
            raise ValueError("a job change must not change the job's id")
        values = {name: getattr(new, name) for name in _CHANGEABLE}
        aware(new.updated_at, new.deadline)
        await connection.execute(update(file_jobs).where(file_jobs.c.id == job.id).values(values))
        if events:
            await connection.execute(file_job_events.insert(), [as_row(event) for event in events])
        if new.outcome is not None and new.outcome != job.outcome:
            await self._job_finished(connection, new)
        return new

    async def _job_finished(self, connection: AsyncConnection, job: FileJob) -> None:
        """In the job's transaction: its `<kind>.finished` event; a failed (or timed out) job
        raises a job.failed alert for its charge point and kind, a succeeded one clears it
        (docs/events-and-webhooks.md, "Alerts")."""
        at = job.finished_at or job.updated_at
        events = [OutboxEvent(f"{job.kind}.finished", job.charge_point_id, at, job_json(job))]
        key = ("job.failed", job.charge_point_id, job.kind)
        if job.outcome == "Succeeded":
            cleared = await self.clear_in(connection, key, at, f"{job.kind} job {job.id} succeeded")
            if cleared is not None:
                events.append(alert_event("alert.cleared", cleared, at))
        else:
            message = f"{job.kind} job {job.id} {str(job.outcome).lower()}: {job.reason}"
            raised = await self.raise_in(connection, key, message, at, {"jobId": job.id})
            if raised is not None:
                events.append(alert_event("alert.raised", raised, at))
        rows = outbox_rows(events)
        await connection.execute(rows.statement, rows.rows)


def job_json(job: FileJob) -> dict[str, Any]:
    """A firmware or diagnostics job as its finished event shows it."""
    return {
        "jobId": job.id,
        "kind": job.kind,
        "outcome": job.outcome,
        "status": job.status,
        "reason": job.reason,
        "location": job.location,
        "fileName": job.file_name,
        "requestedAt": job.requested_at.isoformat().replace("+00:00", "Z"),
        "finishedAt": None
        if job.finished_at is None
        else job.finished_at.isoformat().replace("+00:00", "Z"),
    }


def _of_variants(variants: Collection[str | None]) -> ColumnElement[bool]:
    named = [variant for variant in variants if variant is not None]
    conditions: list[ColumnElement[bool]] = []
    if named:
        conditions.append(file_jobs.c.variant.in_(named))
    if None in variants:
        conditions.append(file_jobs.c.variant.is_(None))
    return or_(*conditions) if conditions else file_jobs.c.id.is_(None)


def _job(row: Row[Any]) -> FileJob:
    values = row._mapping
    return FileJob(**{name: values[name] for name in _JOB_FIELDS})


def _image(row: Row[Any]) -> FirmwareImage:
    return FirmwareImage(
        id=row.id,
        file_name=row.file_name,
        size=row.size,
        sha256=row.sha256,
        description=row.description,
        uploaded_at=row.uploaded_at,
        signing_certificate=row.signing_certificate,
        signature=row.signature,
    )
