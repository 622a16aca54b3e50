"""Hosted firmware images: stored as uploaded, under the data directory (host.py)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from csms.files.host import FileHost
from csms.storage import FirmwareImage, Store


async def save_image(
    store: Store,
    host: FileHost,
    *,
    file_name: str,
    chunks: AsyncIterator[bytes],
    description: str | None,
    at: datetime,
    signing_certificate: str | None = None,
    signature: str | None = None,
    verify: Callable[[bytes], object] | None = None,
) -> FirmwareImage:
    """Write the image whole under a temporary name, record it, then move it to its place
    (which is named after the new record's id). A signed image is recorded only if `verify`,
    given the file's SHA-256 digest, does not raise (features/security/firmware_signatures)."""
    incoming = host.incoming_dir()
    incoming.mkdir(parents=True, exist_ok=True)
    temporary = incoming / secrets.token_hex(12)
    digest = hashlib.sha256()
    size = 0
    try:
        with temporary.open("wb") as file:
            async for chunk in chunks:
                file.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            file.flush()
            os.fsync(file.fileno())
        if verify is not None:
            verify(digest.digest())
        image = await store.add_firmware_image(
            file_name=file_name,
            size=size,
            sha256=digest.hexdigest(),
            description=description,
            uploaded_at=at,
            signing_certificate=signing_certificate,
            signature=signature,
        )
        target = host.firmware_path(image.id, file_name)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.replace(target)
        return image
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


async def delete_image(store: Store, host: FileHost, image: FirmwareImage) -> bool:
    deleted = await store.delete_firmware_image(image.id)
    path = host.firmware_path(image.id, image.file_name)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()
    return deleted
