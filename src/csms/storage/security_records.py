"""Records of the security whitepaper's data (features/security/, docs/security.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargePointSecurity:
    """How a charge point must connect (whitepaper 2)."""

    charge_point_id: str
    security_profile: int  # 0-3
    # A lower profile still allowed until the charge point first connects with
    # security_profile (after an upgrade, TC_083); None once it has.
    fallback_profile: int | None
    # The hash of an AuthorizationKey sent (TC_073) whose answer was not Accepted yet.
    pending_password_hash: str | None
    updated_at: datetime

    @property
    def minimum_profile(self) -> int:
        """The lowest profile a connection may have now."""
        if self.fallback_profile is None:
            return self.security_profile
        return min(self.security_profile, self.fallback_profile)


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEvent:
    id: int | None
    charge_point_id: str
    type: str
    timestamp: datetime
    tech_info: str | None
    critical: bool
    origin: str  # "ChargePoint" or "CentralSystem"
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedCertificate:
    """A charge point certificate the CSMS's CA signed (never its private key: the CSMS never
    has it)."""

    id: int | None
    charge_point_id: str
    serial_number: str  # hex, upper case
    subject: str
    pem: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    delivery: str | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InstalledCertificate:
    """A root certificate installed on a charge point, by its OCPP hash data."""

    id: int | None
    charge_point_id: str
    certificate_type: str
    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    pem: str | None
    subject: str | None
    recorded_at: datetime
