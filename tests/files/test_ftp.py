"""The diagnostics FTP server (files/ftp.py) with a real FTP client (aioftp): per-job users,
confined to their own directory, upload only; uploads recorded whole or broken off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aioftp
import pytest

from csms.simulator import SimulatedChargePoint
from tests.harness import Harness

CP = "FTP-CP"


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    async with harness.charge_point(CP) as charge_point:
        await charge_point.boot()
        yield charge_point


async def diagnostics_job(harness: Harness, cp: SimulatedChargePoint) -> dict[str, Any]:
    response = await harness.api.post(f"/charge-points/{CP}/get-diagnostics", json={})
    assert response.status_code == 200, response.text
    await cp.expect_call("GetDiagnostics")
    job: dict[str, Any] = response.json()
    return job


def credentials(job: dict[str, Any]) -> tuple[str, int, str, str]:
    url = urlsplit(job["location"])
    assert url.scheme == "ftp" and url.path == "/"
    assert url.hostname and url.port and url.username and url.password
    return url.hostname, url.port, url.username, url.password


def client() -> aioftp.Client:
    return aioftp.Client(socket_timeout=5)


async def login(
    job: dict[str, Any], *, user: str | None = None, password: str | None = None
) -> aioftp.Client:
    host, port, job_user, job_password = credentials(job)
    ftp = client()
    await ftp.connect(host, port)
    await ftp.login(user or job_user, password or job_password)
    return ftp


async def refused_login(job: dict[str, Any], user: str, password: str) -> None:
    with pytest.raises(aioftp.StatusCodeError) as refused:
        ftp = await login(job, user=user, password=password)
        ftp.close()
    assert "530" in str(refused.value.received_codes)


async def test_upload_with_the_job_credentials(harness: Harness, cp: SimulatedChargePoint) -> None:
    job = await diagnostics_job(harness, cp)
    ftp = await login(job)
    try:
        async with ftp.upload_stream("/diag.zip") as stream:
            await stream.write(b"log line\n" * 1000)
        # A charge point may also store relative to the current directory.
        async with ftp.upload_stream("second.log") as stream:
            await stream.write(b"x")
    finally:
        await ftp.quit()

    files = {f.file_name: f for f in await harness.store.diagnostics_files(job["id"])}
    assert set(files) == {"diag.zip", "second.log"}
    assert (files["diag.zip"].size, files["diag.zip"].complete, files["diag.zip"].protocol) == (
        9000,
        True,
        "ftp",
    )
    stored = harness.app.services.files.diagnostics_dir(job["id"]) / "diag.zip"
    assert stored.read_bytes() == b"log line\n" * 1000
    events = await harness.store.file_job_events(job["id"])
    assert [e.event for e in events if e.event == "Received"] == ["Received", "Received"]


async def test_wrong_credentials_are_refused(harness: Harness, cp: SimulatedChargePoint) -> None:
    first = await diagnostics_job(harness, cp)
    second = await diagnostics_job(harness, cp)
    _, _, first_user, first_password = credentials(first)
    _, _, second_user, second_password = credentials(second)
    assert first_password != second_password

    await refused_login(first, first_user, "wrong-password")
    await refused_login(first, first_user, second_password)  # another job's password
    await refused_login(first, second_user, first_password)
    await refused_login(first, "diag999999", first_password)  # no such job
    await refused_login(first, "anonymous", "anon@")


async def test_a_job_user_is_confined_to_its_directory_and_may_only_upload(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    mine = await diagnostics_job(harness, cp)
    other = await diagnostics_job(harness, cp)
    # The other job's directory exists, with a file in it.
    ftp = await login(other)
    async with ftp.upload_stream("/theirs.zip") as stream:
        await stream.write(b"secret diagnostics")
    await ftp.quit()

    ftp = await login(mine)
    try:
        for path in (f"../{other['id']}/evil.zip", f"/../{other['id']}/evil.zip", "/sub/evil.zip"):
            with pytest.raises(aioftp.StatusCodeError) as refused:
                async with ftp.upload_stream(path) as stream:
                    await stream.write(b"evil")
            assert "553" in str(refused.value.received_codes) or "550" in str(
                refused.value.received_codes
            )
        # Nothing to read, list, delete or rename, here or there.
        for command in (
            f"RETR /../{other['id']}/theirs.zip",
            "RETR /theirs.zip",
            "LIST /",
            "MLSD /",
            "DELE /theirs.zip",
            "MKD /sub",
            "RNFR /theirs.zip",
        ):
            with pytest.raises(aioftp.StatusCodeError) as refused:
                await ftp.command(command, "1xx")
            assert "502" in str(refused.value.received_codes), command
        async with ftp.upload_stream("/mine.zip") as stream:
            await stream.write(b"mine")
    finally:
        await ftp.quit()

    files = harness.app.services.files
    assert sorted(p.name for p in files.diagnostics_dir(other["id"]).iterdir()) == ["theirs.zip"]
    assert (files.diagnostics_dir(other["id"]) / "theirs.zip").read_bytes() == b"secret diagnostics"
    assert sorted(p.name for p in files.diagnostics_dir(mine["id"]).iterdir()) == ["mine.zip"]
    assert [f.file_name for f in await harness.store.diagnostics_files(mine["id"])] == ["mine.zip"]


async def test_a_transfer_that_breaks_off_fails_the_job_until_a_retry_arrives_whole(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    job = await diagnostics_job(harness, cp)
    ftp = await login(job)
    try:
        stream = await ftp.upload_stream("/diag.zip")
        await stream.write(b"a" * 1000)
        await ftp.abort()  # answered (426, 226) once the server recorded the upload
        stream.close()

        [partial] = await harness.store.diagnostics_files(job["id"])
        assert partial.complete is False and partial.size <= 1000
        broken = await harness.store.get_file_job(job["id"])
        assert broken.outcome == "Failed"
        assert broken.reason.startswith("upload incomplete: the FTP transfer of diag.zip")

        # The charge point retries (spec 6.25 retries): this time it arrives whole.
        async with ftp.upload_stream("/diag.zip") as stream:
            await stream.write(b"b" * 2000)
    finally:
        await ftp.quit()
    revived = await harness.store.get_file_job(job["id"])
    assert (revived.outcome, revived.reason) == (None, None)
    [whole] = await harness.store.diagnostics_files(job["id"])
    assert (whole.size, whole.complete) == (2000, True)

    await cp.diagnostics_status("Uploaded")
    done = await harness.store.get_file_job(job["id"])
    assert (done.status, done.outcome) == ("Uploaded", "Succeeded")
    # A job that is done takes no more uploads.
    await refused_login(job, *credentials(job)[2:])
