"""The Store's part for the security whitepaper (features/security/): profiles, security
events, issued and installed certificates. Store (store.py) includes this protocol."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from csms.storage.security_records import (
    ChargePointSecurity,
    InstalledCertificate,
    IssuedCertificate,
    SecurityEvent,
)


class SecurityStore(Protocol):
    # -- security profiles ---------------------------------------------------------------------

    async def security_of(self, charge_point_id: str) -> ChargePointSecurity | None:
        """None: no row, profile 0."""

    async def save_security(
        self,
        charge_point_id: str,
        *,
        security_profile: int,
        fallback_profile: int | None,
        pending_password_hash: str | None,
        at: datetime,
    ) -> ChargePointSecurity:
        """Insert or replace the charge point's row (UnknownChargePointError if unknown)."""

    async def promote_password(self, charge_point_id: str, password_hash: str) -> None:
        """The AuthorizationKey whose hash is given is in force: it becomes the charge point's
        password and no other is accepted (the pending one is cleared)."""

    # -- security events -----------------------------------------------------------------------

    async def add_security_event(self, event: SecurityEvent) -> SecurityEvent:
        """Stored (with its id) once committed."""

    async def security_events(
        self, charge_point_id: str, *, limit: int = 100, before_id: int | None = None
    ) -> list[SecurityEvent]:
        """Newest first; `before_id` pages back."""

    # -- certificates --------------------------------------------------------------------------

    async def add_issued_certificate(self, certificate: IssuedCertificate) -> IssuedCertificate:
        """Stored with its id."""

    async def issued_certificates(self, charge_point_id: str) -> list[IssuedCertificate]:
        """Newest first."""

    async def issued_certificate(self, serial_number: str) -> IssuedCertificate | None: ...

    async def set_certificate_delivery(self, serial_number: str, delivery: str) -> None:
        """The charge point's answer to the CertificateSigned carrying it."""

    async def revoke_certificate(
        self, serial_number: str, *, at: datetime, reason: str | None
    ) -> IssuedCertificate | None:
        """Revoked from `at` on (kept as first revoked when revoked again); None if unknown."""

    async def installed_certificates(
        self, charge_point_id: str, certificate_type: str | None = None
    ) -> list[InstalledCertificate]: ...

    async def replace_installed_certificates(
        self,
        charge_point_id: str,
        certificate_type: str,
        certificates: Sequence[InstalledCertificate],
    ) -> None:
        """What the charge point reported for one type replaces what was kept; a row the CSMS
        installed keeps its PEM when the report names it again."""

    async def add_installed_certificate(self, certificate: InstalledCertificate) -> None: ...

    async def remove_installed_certificate(
        self, charge_point_id: str, issuer_name_hash: str, issuer_key_hash: str, serial: str
    ) -> int:
        """Rows removed (DeleteCertificate Accepted)."""
