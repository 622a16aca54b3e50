"""Storage of firmware images, firmware/diagnostics jobs, their events and diagnostics files."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from csms.storage import DiagnosticsFile, FileJob, FileJobChange, FileJobEvent, NewFileJob
from csms.storage.sql import SqlStore
from tests.storage.conftest import NOW


def _new(charge_point_id: str, kind: str = "firmware", **fields: object) -> NewFileJob:
    values: dict[str, object] = {
        "kind": kind,
        "charge_point_id": charge_point_id,
        "location": "http://example.com/fw.bin",
        "status": "Requested",
        "requested_at": NOW,
        "deadline": NOW + timedelta(hours=1),
        **fields,
    }
    return NewFileJob(**values)  # type: ignore[arg-type]


async def test_firmware_images(store: SqlStore) -> None:
    first = await store.add_firmware_image(
        file_name="fw-1.0.bin", size=3, sha256="ab" * 32, description="v1", uploaded_at=NOW
    )
    second = await store.add_firmware_image(
        file_name="fw-2.0.bin", size=5, sha256="cd" * 32, description=None, uploaded_at=NOW
    )
    assert first.id != second.id
    assert await store.get_firmware_image(first.id) == first
    assert await store.list_firmware_images() == [first, second]
    assert await store.delete_firmware_image(first.id) is True
    assert await store.delete_firmware_image(first.id) is False
    assert await store.get_firmware_image(first.id) is None
    assert await store.list_firmware_images() == [second]


async def test_create_job_with_a_location_naming_it(store: SqlStore, charge_point: str) -> None:
    image = await store.add_firmware_image(
        file_name="fw.bin", size=1, sha256="00" * 32, description=None, uploaded_at=NOW
    )
    job = await store.create_file_job(
        _new(charge_point, retries=3, retry_interval=60, retrieve_date=NOW, image_id=image.id),
        locate=lambda job_id: f"http://csms/files/{job_id}/fw.bin",
    )
    assert job.location == f"http://csms/files/{job.id}/fw.bin"
    assert (job.status, job.outcome, job.reason, job.finished_at) == ("Requested", None, None, None)
    assert (job.retries, job.retry_interval, job.retrieve_date) == (3, 60, NOW)
    assert job.updated_at == NOW and job.image_id == image.id
    assert await store.get_file_job(job.id) == job

    # Deleting the image keeps the job.
    await store.delete_firmware_image(image.id)
    kept = await store.get_file_job(job.id)
    assert kept is not None and kept.image_id is None


async def test_jobs_listed_newest_first_per_kind(store: SqlStore, charge_point: str) -> None:
    await store.save_charge_point(
        "CP2", registration_status="Accepted", password_hash=None, description=None
    )
    firmware = [await store.create_file_job(_new(charge_point)) for _ in range(3)]
    diagnostics = await store.create_file_job(
        _new(charge_point, "diagnostics", start_time=NOW, stop_time=NOW + timedelta(1))
    )
    await store.create_file_job(_new("CP2"))

    assert await store.list_file_jobs(charge_point, "firmware") == firmware[::-1]
    assert await store.list_file_jobs(charge_point, "firmware", limit=1) == [firmware[-1]]
    assert await store.list_file_jobs(charge_point, "diagnostics") == [diagnostics]
    assert diagnostics.stop_time == NOW + timedelta(1)


def _progress(status: str, at_offset: int) -> FileJobChange:
    def change(job: FileJob) -> tuple[FileJob, list[FileJobEvent]] | None:
        if job.outcome is not None:
            return None
        at = NOW + timedelta(seconds=at_offset)
        outcome = "Succeeded" if status == "Installed" else None
        new = dataclasses.replace(
            job, status=status, outcome=outcome, updated_at=at, finished_at=at if outcome else None
        )
        return new, [FileJobEvent(job_id=job.id, at=at, event=status, detail="reported")]

    return change


async def test_change_a_job_and_record_its_events(store: SqlStore, charge_point: str) -> None:
    job = await store.create_file_job(_new(charge_point))
    changed = await store.change_file_job(job.id, _progress("Downloading", 1))
    assert changed is not None and changed.status == "Downloading"
    assert await store.get_file_job(job.id) == changed

    # The latest job of the kind is the one the next notification concerns.
    newer = await store.create_file_job(_new(charge_point))
    latest = await store.change_latest_file_job(charge_point, "firmware", _progress("Installed", 2))
    assert latest is not None and latest.id == newer.id
    assert (latest.status, latest.outcome, latest.finished_at) == (
        "Installed",
        "Succeeded",
        NOW + timedelta(seconds=2),
    )
    # A change that declines leaves the job as it is and records nothing.
    unchanged = await store.change_file_job(newer.id, _progress("Downloading", 3))
    assert unchanged == latest
    assert [e.event for e in await store.file_job_events(newer.id)] == ["Installed"]
    assert await store.file_job_events(job.id) == [
        FileJobEvent(
            job_id=job.id, at=NOW + timedelta(seconds=1), event="Downloading", detail="reported"
        )
    ]
    # No such job / no job of that kind.
    assert await store.change_file_job(10_000, _progress("Installed", 1)) is None
    none = await store.change_latest_file_job(charge_point, "diagnostics", _progress("Uploaded", 1))
    assert none is None


async def test_concurrent_changes_are_serialised(store: SqlStore, charge_point: str) -> None:
    """Each change sees the job as the previous one left it: nothing is lost."""
    job = await store.create_file_job(_new(charge_point, retries=0))

    def bump(current: FileJob) -> tuple[FileJob, list[FileJobEvent]]:
        count = int(current.status) if current.status.isdigit() else 0
        return dataclasses.replace(current, status=str(count + 1), retries=99), []

    await asyncio.gather(*(store.change_file_job(job.id, bump) for _ in range(20)))
    final = await store.get_file_job(job.id)
    # The request stays as it was sent (`retries` is not changeable).
    assert final is not None and final.status == "20" and final.retries == 0


async def test_events_and_overdue_jobs(store: SqlStore, charge_point: str) -> None:
    soon = await store.create_file_job(_new(charge_point, deadline=NOW + timedelta(seconds=10)))
    late = await store.create_file_job(_new(charge_point, deadline=NOW + timedelta(hours=2)))
    done = await store.create_file_job(_new(charge_point, deadline=NOW + timedelta(seconds=5)))
    await store.change_file_job(done.id, _progress("Installed", 1))
    await store.add_file_job_event(FileJobEvent(job_id=soon.id, at=NOW, event="refused"))

    assert await store.overdue_file_jobs(NOW) == []
    assert [j.id for j in await store.overdue_file_jobs(NOW + timedelta(minutes=1))] == [soon.id]
    overdue = await store.overdue_file_jobs(NOW + timedelta(hours=3))
    assert [j.id for j in overdue] == [soon.id, late.id]
    assert await store.file_job_events(soon.id) == [
        FileJobEvent(job_id=soon.id, at=NOW, event="refused", detail=None)
    ]


async def test_diagnostics_files(store: SqlStore, charge_point: str) -> None:
    job = await store.create_file_job(_new(charge_point, "diagnostics"))
    partial = DiagnosticsFile(
        job_id=job.id,
        file_name="diag.zip",
        size=10,
        complete=False,
        protocol="ftp",
        received_at=NOW,
    )
    await store.record_diagnostics_file(partial)
    assert await store.diagnostics_files(job.id) == [partial]
    # A retry of the same file replaces the record.
    whole = dataclasses.replace(partial, size=99, complete=True, received_at=NOW + timedelta(1))
    other = dataclasses.replace(partial, file_name="more.log", protocol="http")
    await store.record_diagnostics_file(whole)
    await store.record_diagnostics_file(other)
    assert await store.diagnostics_files(job.id) == [other, whole]


async def test_deleting_the_charge_point_deletes_its_jobs(
    store: SqlStore, charge_point: str
) -> None:
    job = await store.create_file_job(_new(charge_point, "diagnostics"))
    await store.add_file_job_event(FileJobEvent(job_id=job.id, at=NOW, event="x"))
    await store.record_diagnostics_file(
        DiagnosticsFile(
            job_id=job.id, file_name="d", size=1, complete=True, protocol="ftp", received_at=NOW
        )
    )
    assert await store.delete_charge_point(charge_point)
    assert await store.get_file_job(job.id) is None
    assert await store.file_job_events(job.id) == []
    assert await store.diagnostics_files(job.id) == []


async def test_a_signed_image_keeps_its_certificate_and_signature(store: SqlStore) -> None:
    image = await store.add_firmware_image(
        file_name="fw-3.0.bin",
        size=7,
        sha256="ef" * 32,
        description=None,
        uploaded_at=NOW,
        signing_certificate="-----BEGIN CERTIFICATE-----\n...",
        signature="c2lnbmF0dXJl",
    )
    assert await store.get_firmware_image(image.id) == image
    assert (image.signing_certificate, image.signature) == (
        "-----BEGIN CERTIFICATE-----\n...",
        "c2lnbmF0dXJl",
    )


async def test_variants_with_request_ids(store: SqlStore, charge_point: str) -> None:
    """A whitepaper job gets its own id as request id unless given one; the plain listings and
    the latest-job changes see only the variants asked for; a job is found by its request id."""
    plain = await store.create_file_job(_new(charge_point))
    signed = await store.create_file_job(_new(charge_point, variant="SignedUpdateFirmware"))
    generic = await store.create_file_job(
        _new(charge_point, variant="SignedUpdateFirmware", request_id=signed.id)
    )
    log = await store.create_file_job(_new(charge_point, "diagnostics", variant="SecurityLog"))
    assert (plain.variant, plain.request_id) == (None, None)
    assert (signed.variant, signed.request_id) == ("SignedUpdateFirmware", signed.id)
    assert generic.request_id == signed.id
    assert log.request_id == log.id

    assert await store.list_file_jobs(charge_point, "firmware") == [plain]
    assert await store.list_file_jobs(
        charge_point, "firmware", variants=("SignedUpdateFirmware",)
    ) == [generic, signed]
    assert await store.list_file_jobs(
        charge_point, "firmware", variants=(None, "SignedUpdateFirmware")
    ) == [generic, signed, plain]
    assert await store.list_file_jobs(charge_point, "diagnostics") == []
    assert await store.list_file_jobs(charge_point, "firmware", variants=()) == []

    # The newest of that request id (a generic command reusing one); plain jobs are never found.
    assert await store.find_file_job(charge_point, "firmware", signed.id) == generic
    assert await store.find_file_job(charge_point, "diagnostics", log.id) == log
    assert await store.find_file_job(charge_point, "firmware", log.id) is None
    assert await store.find_file_job(charge_point, "firmware", plain.id) is None

    changed = await store.change_latest_file_job(
        charge_point, "firmware", _progress("Installing", 1)
    )
    assert changed is not None and changed.id == plain.id
    changed = await store.change_latest_file_job(
        charge_point, "firmware", _progress("Downloading", 1), variants=("SignedUpdateFirmware",)
    )
    assert changed is not None and changed.id == generic.id
