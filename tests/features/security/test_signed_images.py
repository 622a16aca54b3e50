"""Signed firmware images on upload (features/security/firmware_signatures.py, api/
signatures.py): the signature is checked over the whole file with the signing certificate's key
(ECDSA, RSA PKCS #1 v1.5 or PSS, SHA-256); a bad one is a 422 naming the field and nothing is
kept; a SignedUpdateFirmware with a malformed certificate or signature is refused the same way,
before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.firmware_signing import FirmwareSigner, make_signer
from tests.harness import Harness

IMAGE = b"\x00firmware image\n" * 1000


async def upload(harness: Harness, **fields: str) -> Any:
    return await harness.api.post(
        "/firmware", files={"file": ("fw.bin", IMAGE)}, data=fields or None
    )


def field_of(response: Any) -> tuple[str, str]:
    [error] = response.json()["detail"]
    return error["loc"][-1], error["msg"]


@pytest.mark.parametrize("kind", ["ec", "rsa", "rsa-pss"])
async def test_a_well_signed_image_is_kept_with_its_certificate_and_signature(
    harness: Harness, kind: Any
) -> None:
    signer = make_signer(kind)
    signature = signer.sign(IMAGE)
    response = await upload(harness, signingCertificate=signer.certificate_pem, signature=signature)
    assert response.status_code == 201, response.text
    image = response.json()
    assert (image["signingCertificate"], image["signature"]) == (signer.certificate_pem, signature)
    stored = await harness.store.get_firmware_image(image["id"])
    assert (stored.signing_certificate, stored.signature) == (signer.certificate_pem, signature)


def _other_signature(signer: FirmwareSigner) -> dict[str, str]:
    return {"signingCertificate": signer.certificate_pem, "signature": signer.sign(b"other")}


def _other_key(signer: FirmwareSigner) -> dict[str, str]:
    return {
        "signingCertificate": make_signer("ec").certificate_pem,
        "signature": signer.sign(IMAGE),
    }


def _not_pem(signer: FirmwareSigner) -> dict[str, str]:
    return {"signingCertificate": "MIIBIjANBgkqhkiG9w0B", "signature": signer.sign(IMAGE)}


def _broken_pem(signer: FirmwareSigner) -> dict[str, str]:
    broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    return {"signingCertificate": broken, "signature": signer.sign(IMAGE)}


def _not_base64(signer: FirmwareSigner) -> dict[str, str]:
    return {"signingCertificate": signer.certificate_pem, "signature": "not base64 at all!"}


def _certificate_only(signer: FirmwareSigner) -> dict[str, str]:
    return {"signingCertificate": signer.certificate_pem}


def _signature_only(signer: FirmwareSigner) -> dict[str, str]:
    return {"signature": signer.sign(IMAGE)}


@pytest.mark.parametrize(
    ("make", "field", "why"),
    [
        (_other_signature, "signature", "does not verify"),
        (_other_key, "signature", "does not verify"),
        (_not_pem, "signingCertificate", "not a PEM encoded X.509 certificate"),
        (_broken_pem, "signingCertificate", "not a readable X.509 certificate"),
        (_not_base64, "signature", "not Base64"),
        (_certificate_only, "signature", "a signed image needs both"),
        (_signature_only, "signingCertificate", "a signed image needs both"),
    ],
)
async def test_a_bad_signature_or_certificate_is_a_422_naming_it(
    harness: Harness, make: Any, field: str, why: str
) -> None:
    response = await upload(harness, **make(make_signer("ec")))
    assert response.status_code == 422, response.text
    named, message = field_of(response)
    assert named == field and why in message, message
    assert await harness.store.list_firmware_images() == []


@pytest.mark.parametrize(
    ("signer", "why"),
    [
        (lambda: make_signer("rsa-1024"), "RSA key of 1024 bits, under 2048"),
        (
            lambda: make_signer("ec", not_before=datetime.now(UTC) - timedelta(days=30), days=10),
            "expired at",
        ),
        (
            lambda: make_signer("ec", not_before=datetime.now(UTC) + timedelta(days=1)),
            "not valid before",
        ),
    ],
)
async def test_a_certificate_the_whitepaper_does_not_allow_is_refused(
    harness: Harness, signer: Any, why: str
) -> None:
    made = signer()
    response = await upload(
        harness, signingCertificate=made.certificate_pem, signature=made.sign(IMAGE)
    )
    assert response.status_code == 422, response.text
    assert field_of(response)[0] == "signingCertificate" and why in field_of(response)[1]


async def test_too_long_fields_are_refused_before_reading(harness: Harness) -> None:
    response = await upload(harness, signingCertificate="A" * 5501, signature="AAAA")
    assert response.status_code == 422
    assert "signingCertificate" in response.text


async def test_signed_update_firmware_refuses_what_is_malformed_or_unsigned(
    harness: Harness,
) -> None:
    signer = make_signer("ec")
    async with harness.charge_point("SIG-CP") as cp:
        await cp.boot()
        path = "/charge-points/SIG-CP/signed-update-firmware"
        location = {"location": "https://example.com/fw.bin"}
        bad_certificate = {**location, "signingCertificate": "junk", "signature": "AAAA"}
        response = await harness.api.post(path, json=bad_certificate)
        assert response.status_code == 422 and field_of(response)[0] == "signingCertificate"
        bad_signature = {
            **location,
            "signingCertificate": signer.certificate_pem,
            "signature": "@@",
        }
        response = await harness.api.post(path, json=bad_signature)
        assert response.status_code == 422 and field_of(response)[0] == "signature"
        response = await harness.api.post(path, json=location)
        assert response.status_code == 422
        unsigned = (await upload(harness)).json()
        response = await harness.api.post(path, json={"firmwareId": unsigned["id"]})
        assert response.status_code == 409 and "is not signed" in response.text
        response = await harness.api.post(path, json={"firmwareId": 9999})
        assert response.status_code == 404
        # Nothing went out, and no job was left behind.
        assert (await harness.api.get("/charge-points/SIG-CP/signed-firmware-jobs")).json() == []
        cp.no_unexpected_calls()
