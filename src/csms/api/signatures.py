"""Signed firmware at the API edge (docs/signed-firmware.md): the check of an uploaded image's
signing certificate and signature, and the 422 that names the field refused."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, status

from csms.features.context import Services
from csms.features.security.firmware_signatures import (
    SignatureRefused,
    check_certificate,
    decode_signature,
    verify_firmware,
)


def refused(exc: SignatureRefused, where: str = "body") -> HTTPException:
    """422 in FastAPI's validation shape: the field (as the API names it) and why."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": [where, exc.field], "msg": exc.reason, "type": "value_error"}],
    )


def signed_image_check(
    services: Services, signing_certificate: str | None, signature: str | None
) -> Callable[[bytes], object] | None:
    """The check of an image's SHA-256 digest against its certificate and signature (both or
    neither: 422 otherwise); None for an unsigned image."""
    if signing_certificate is None and signature is None:
        return None
    if signing_certificate is None or signature is None:
        missing = "signingCertificate" if signing_certificate is None else "signature"
        raise refused(SignatureRefused(missing, "a signed image needs both"))
    certificate, signed = signing_certificate, signature
    now = services.clock.now()
    # The certificate alone is checked before the file is read: a bad one costs no upload.
    try:
        check_certificate(certificate, now)
        decode_signature(signed)
    except SignatureRefused as exc:
        raise refused(exc) from None

    def verify(digest: bytes) -> object:
        return verify_firmware(digest, certificate, signed, now)

    return verify
