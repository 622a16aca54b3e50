"""The security whitepaper's tables on SQLite and PostgreSQL: profiles (with the fallback and
the pending AuthorizationKey), security events, issued certificates and revocation, installed
certificates replaced by a report and removed by a delete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from csms.storage import UnknownChargePointError
from csms.storage.security_records import InstalledCertificate, IssuedCertificate, SecurityEvent
from csms.storage.sql import SqlStore
from csms.transport.basic_auth import hash_password, verify_password
from tests.storage.conftest import NOW


async def test_profiles_and_the_pending_password(store: SqlStore, charge_point: str) -> None:
    assert await store.security_of(charge_point) is None
    pending = hash_password("new-password-0001")
    saved = await store.save_security(
        charge_point, security_profile=2, fallback_profile=1, pending_password_hash=pending, at=NOW
    )
    assert saved.minimum_profile == 1
    assert await store.security_of(charge_point) == saved
    await store.promote_password(charge_point, pending)
    after = await store.security_of(charge_point)
    assert after is not None and after.pending_password_hash is None
    stored = await store.get_charge_point(charge_point)  # the cache forgot the old password
    assert verify_password("new-password-0001", stored.password_hash)
    with pytest.raises(UnknownChargePointError):
        await store.save_security(
            "NOPE", security_profile=1, fallback_profile=None, pending_password_hash=None, at=NOW
        )


async def test_security_events_newest_first(store: SqlStore, charge_point: str) -> None:
    for number, kind in enumerate(
        ("StartupOfTheDevice", "InvalidMessages", "TamperDetectionActivated")
    ):
        event = await store.add_security_event(
            SecurityEvent(
                id=None,
                charge_point_id=charge_point,
                type=kind,
                timestamp=NOW + timedelta(seconds=number),
                tech_info=None if number else "boot",
                critical=kind != "InvalidMessages",
                origin="ChargePoint",
                received_at=NOW,
            )
        )
        assert event.id is not None
    found = await store.security_events(charge_point)
    assert [event.type for event in found] == [
        "TamperDetectionActivated",
        "InvalidMessages",
        "StartupOfTheDevice",
    ]
    older = await store.security_events(charge_point, before_id=found[0].id, limit=1)
    assert [event.type for event in older] == ["InvalidMessages"]


async def test_issued_certificates_and_revocation(store: SqlStore, charge_point: str) -> None:
    issued = await store.add_issued_certificate(
        IssuedCertificate(
            id=None,
            charge_point_id=charge_point,
            serial_number="1a2b",
            subject="CN=CP1",
            pem="-----BEGIN CERTIFICATE-----\n...\n",
            not_before=NOW,
            not_after=NOW + timedelta(days=365),
            issued_at=NOW,
        )
    )
    await store.set_certificate_delivery("1a2b", "Accepted")
    assert (await store.issued_certificate("1a2b")).delivery == "Accepted"
    revoked = await store.revoke_certificate("1a2b", at=NOW, reason="stolen")
    assert revoked is not None and revoked.revoked_at == NOW and revoked.id == issued.id
    again = await store.revoke_certificate("1a2b", at=NOW + timedelta(days=1), reason="again")
    assert again is not None and again.revoked_at == NOW and again.revocation_reason == "stolen"
    assert await store.revoke_certificate("ffff", at=NOW, reason=None) is None
    assert [c.serial_number for c in await store.issued_certificates(charge_point)] == ["1a2b"]


def _installed(charge_point: str, serial: str, pem: str | None = None) -> InstalledCertificate:
    return InstalledCertificate(
        id=None,
        charge_point_id=charge_point,
        certificate_type="CentralSystemRootCertificate",
        hash_algorithm="SHA256",
        issuer_name_hash="aa",
        issuer_key_hash="bb",
        serial_number=serial,
        pem=pem,
        subject="CN=root" if pem else None,
        recorded_at=NOW,
    )


async def test_installed_certificates_follow_the_reports(
    store: SqlStore, charge_point: str
) -> None:
    await store.add_installed_certificate(_installed(charge_point, "01", pem="PEM-01"))
    await store.add_installed_certificate(_installed(charge_point, "02"))
    # The report names 01 again (its PEM kept) and 03, no longer 02.
    await store.replace_installed_certificates(
        charge_point,
        "CentralSystemRootCertificate",
        [_installed(charge_point, "01"), _installed(charge_point, "03")],
    )
    kept = await store.installed_certificates(charge_point, "CentralSystemRootCertificate")
    assert [(row.serial_number, row.pem) for row in kept] == [("01", "PEM-01"), ("03", None)]
    assert await store.remove_installed_certificate(charge_point, "aa", "bb", "03") == 1
    assert [row.serial_number for row in await store.installed_certificates(charge_point)] == ["01"]
    assert await store.installed_certificates(charge_point, "ManufacturerRootCertificate") == []
