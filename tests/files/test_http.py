"""The HTTP file endpoints charge points use (files/http.py) and the operator API of images and
uploaded files: signed links work without the operator token until they expire; tampered or
expired ones are refused with 403, the reason given and recorded on the job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from csms.simulator import SimulatedChargePoint
from tests.harness import Harness, csms

CP = "HTTP-CP"
IMAGE = b"\x00\x01firmware image" * 500


@pytest.fixture
async def cp(harness: Harness) -> AsyncIterator[SimulatedChargePoint]:
    async with harness.charge_point(CP) as charge_point:
        await charge_point.boot()
        yield charge_point


@pytest.fixture
async def expired(tmp_path: Path) -> AsyncIterator[Harness]:
    """A CSMS whose links are expired from the start."""
    async with csms(tmp_path / "expired.db", file_link_ttl=-60) as running:
        yield running


async def upload(harness: Harness, content: bytes = IMAGE, name: str = "fw.bin") -> dict[str, Any]:
    response = await harness.api.post(
        "/firmware", files={"file": (name, content)}, data={"description": "test image"}
    )
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()
    return image


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until `check()` holds, up to `timeout` s: for what the CSMS does on its own after a
    peer vanished, which nothing on the wire announces."""
    for _ in range(int(timeout / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout} s: {check.__doc__ or check}")


def tampered(url: str, part: str) -> str:
    """`url` with one part of its path changed: the signature, the expiry or the file name."""
    head, expires, signature, name = url.rsplit("/", 3)
    if part == "signature":
        signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    elif part == "expires":
        expires = str(int(expires) + 3600)
    else:
        name = "other.bin"
    return "/".join((head, expires, signature, name))


async def test_hosted_images_and_their_links(harness: Harness) -> None:
    image = await upload(harness)
    assert (image["fileName"], image["size"], image["description"]) == (
        "fw.bin",
        len(IMAGE),
        "test image",
    )
    assert len(image["sha256"]) == 64
    link = image["downloadUrl"]
    assert link.startswith(
        f"http://127.0.0.1:{harness.app.http_port}/files/firmware/{image['id']}/"
    )

    async with httpx.AsyncClient() as charge_point:  # no operator token
        download = await charge_point.get(link)
        assert download.status_code == 200 and download.content == IMAGE
        head = await charge_point.head(link)
        assert head.status_code == 200 and int(head.headers["content-length"]) == len(IMAGE)
        # A download is resumable (spec 8.1).
        part = await charge_point.get(link, headers={"Range": "bytes=100-"})
        assert part.status_code == 206 and part.content == IMAGE[100:]
        for what in ("signature", "expires", "name"):
            refused = await charge_point.get(tampered(link, what))
            assert refused.status_code == 403, what
            assert refused.json() == {"detail": "invalid link: the signature does not match"}

    listed = await harness.api.get("/firmware")
    assert [i["id"] for i in listed.json()] == [image["id"]]
    one = await harness.api.get(f"/firmware/{image['id']}")
    assert one.status_code == 200 and one.json()["sha256"] == image["sha256"]

    assert (await harness.api.delete(f"/firmware/{image['id']}")).status_code == 204
    assert (await harness.api.get(f"/firmware/{image['id']}")).status_code == 404
    assert (await harness.api.delete(f"/firmware/{image['id']}")).status_code == 404
    async with httpx.AsyncClient() as charge_point:
        assert (await charge_point.get(link)).status_code == 404
    # Uploading needs the operator token, and a file with a name.
    async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as anonymous:
        denied = await anonymous.post("/firmware", files={"file": ("x.bin", b"x")})
        assert denied.status_code == 401
    nameless = await harness.api.post("/firmware", files={"file": ("..", b"x")})
    assert nameless.status_code == 422


async def test_an_expired_image_link_is_refused(expired: Harness) -> None:
    image = await upload(expired)
    async with httpx.AsyncClient() as charge_point:
        refused = await charge_point.get(image["downloadUrl"])
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("link expired at ")


async def update_firmware(harness: Harness, cp: SimulatedChargePoint) -> dict[str, Any]:
    image = await upload(harness)
    response = await harness.api.post(
        f"/charge-points/{CP}/update-firmware", json={"firmwareId": image["id"]}
    )
    assert response.status_code == 200, response.text
    await cp.expect_call("UpdateFirmware")
    job: dict[str, Any] = response.json()
    return job


async def test_the_job_link_serves_the_image_and_records_the_download(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    job = await update_firmware(harness, cp)
    assert urlsplit(job["location"]).path.startswith(f"/files/firmware-jobs/{job['id']}/")
    async with httpx.AsyncClient() as charge_point:
        assert (await charge_point.get(job["location"])).content == IMAGE
        refused = await charge_point.get(tampered(job["location"], "signature"))
    assert refused.status_code == 403

    stored = (await harness.api.get(f"/firmware-jobs/{job['id']}")).json()
    # A tampered link says nothing about the job: noted, the job goes on.
    assert (stored["outcome"], stored["reason"]) == (None, None)
    events = [(e["event"], e["detail"]) for e in stored["events"]]
    assert ("Download", "by 127.0.0.1") in events
    assert ("DownloadRefused", "invalid link: the signature does not match") in events


async def test_an_expired_job_link_fails_the_job_with_the_reason(expired: Harness) -> None:
    async with expired.charge_point(CP) as cp:
        await cp.boot()
        job = await update_firmware(expired, cp)
        async with httpx.AsyncClient() as charge_point:
            refused = await charge_point.get(job["location"])
        assert refused.status_code == 403
        reason = refused.json()["detail"]
        assert reason.startswith("link expired at ")

        stored = (await expired.api.get(f"/firmware-jobs/{job['id']}")).json()
        assert stored["outcome"] == "Failed"
        assert stored["reason"] == f"download refused: {reason}"
        # The charge point's DownloadFailed that follows keeps the CSMS's reason.
        await cp.firmware_status("DownloadFailed")
        stored = (await expired.api.get(f"/firmware-jobs/{job['id']}")).json()
        assert (stored["status"], stored["reason"]) == (
            "DownloadFailed",
            f"download refused: {reason}",
        )


async def diagnostics_over_http(harness: Harness, cp: SimulatedChargePoint) -> dict[str, Any]:
    response = await harness.api.post(
        f"/charge-points/{CP}/get-diagnostics", json={"protocol": "http"}
    )
    assert response.status_code == 200, response.text
    await cp.expect_call("GetDiagnostics")
    job: dict[str, Any] = response.json()
    assert job["location"].endswith("/")
    assert f"/files/diagnostics/{job['id']}/" in job["location"]
    return job


async def test_diagnostics_uploads_over_http(harness: Harness, cp: SimulatedChargePoint) -> None:
    job = await diagnostics_over_http(harness, cp)
    location = job["location"]
    async with httpx.AsyncClient() as charge_point:
        put = await charge_point.put(location + "diag.zip", content=b"P" * 3000)
        assert put.status_code == 201 and put.json() == {"fileName": "diag.zip", "size": 3000}
        form = await charge_point.post(location, files={"file": ("form.log", b"F" * 10)})
        assert form.status_code == 201 and form.json()["fileName"] == "form.log"
        # The body itself, named by Content-Disposition.
        named = await charge_point.post(
            location,
            content=b"D",
            headers={"Content-Disposition": 'attachment; filename="named.txt"'},
        )
        assert named.status_code == 201 and named.json()["fileName"] == "named.txt"
        # No name at all: the one announced in GetDiagnostics.conf.
        bare = await charge_point.put(location, content=b"B")
        assert bare.json()["fileName"] == f"diagnostics-{CP}.zip"
        # A name with directories keeps only its last part; slashes never reach the handler.
        sneaky = await charge_point.put(location + "..%5C..%5Cescape.txt", content=b"E")
        assert sneaky.status_code == 201 and sneaky.json()["fileName"] == "escape.txt"
        slashed = await charge_point.put(location + "..%2F..%2Fescape.txt", content=b"E")
        assert slashed.status_code == 404
        refused = await charge_point.put(tampered(location + "x.zip", "signature"), content=b"x")
        assert refused.status_code == 403

    stored = (await harness.api.get(f"/diagnostics-jobs/{job['id']}")).json()
    assert sorted((f["fileName"], f["size"], f["complete"]) for f in stored["files"]) == [
        ("diag.zip", 3000, True),
        (f"diagnostics-{CP}.zip", 1, True),
        ("escape.txt", 1, True),
        ("form.log", 10, True),
        ("named.txt", 1, True),
    ]
    assert all(f["protocol"] == "http" for f in stored["files"])
    assert "UploadRefused" in [e["event"] for e in stored["events"]]
    directory = harness.app.services.files.diagnostics_dir(job["id"])
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        f["fileName"] for f in stored["files"]
    )
    # Downloadable through the operator API (with its token only).
    download = await harness.api.get(f"/diagnostics-jobs/{job['id']}/files/diag.zip")
    assert download.status_code == 200 and download.content == b"P" * 3000
    missing = await harness.api.get(f"/diagnostics-jobs/{job['id']}/files/link-secret")
    assert missing.status_code == 404
    async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as anonymous:
        denied = await anonymous.get(f"/diagnostics-jobs/{job['id']}/files/diag.zip")
        assert denied.status_code == 401

    await cp.diagnostics_status("Uploaded")
    done = (await harness.api.get(f"/diagnostics-jobs/{job['id']}")).json()
    assert (done["status"], done["outcome"]) == ("Uploaded", "Succeeded")
    async with httpx.AsyncClient() as charge_point:
        late = await charge_point.put(location + "late.zip", content=b"L")
    assert late.status_code == 404  # the job is done: no more uploads


async def test_an_http_upload_that_breaks_off(harness: Harness, cp: SimulatedChargePoint) -> None:
    job = await diagnostics_over_http(harness, cp)
    url = urlsplit(job["location"] + "diag.zip")
    _, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(
        f"PUT {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: 1000\r\n\r\n".encode()
        + b"x" * 400
    )
    await writer.drain()
    writer.close()  # the connection is lost after 400 of the 1000 bytes
    await writer.wait_closed()

    async def failed() -> bool:
        stored = await harness.store.get_file_job(job["id"])
        return bool(stored.outcome == "Failed")

    await until(failed)
    stored = await harness.store.get_file_job(job["id"])
    assert stored.reason.startswith("upload incomplete: the HTTP transfer of diag.zip")
    [file] = await harness.store.diagnostics_files(job["id"])
    assert (file.complete, file.size <= 400) == (False, True)
    # The charge point's UploadFailed keeps the reason.
    await cp.diagnostics_status("UploadFailed")
    final = await harness.store.get_file_job(job["id"])
    assert (final.status, final.reason) == ("UploadFailed", stored.reason)


async def test_an_expired_upload_link_fails_the_job(expired: Harness) -> None:
    async with expired.charge_point(CP) as cp:
        await cp.boot()
        job = await diagnostics_over_http(expired, cp)
        async with httpx.AsyncClient() as charge_point:
            refused = await charge_point.put(job["location"] + "d.zip", content=b"d")
        assert refused.status_code == 403
        stored = await expired.store.get_file_job(job["id"])
        assert stored.outcome == "Failed"
        assert stored.reason.startswith("upload refused: link expired at ")
        assert await expired.store.diagnostics_files(job["id"]) == []
