"""Security profiles per charge point (whitepaper 2, A00, A01, A05; docs/security.md).

A connection reaches a level by what it shows: 3 = TLS with a valid client certificate whose
subject CN is the charge point id (A00.FR.405), issued by a trusted CA and not revoked; 2 = TLS
and the right Basic-auth password; 1 = the right password without TLS; 0 = nothing. A charge
point whose profile is higher than the level is refused (HTTP 401, reason logged) and a security
event recorded (A00.FR.408). A certificate with another CN or revoked is refused whatever the
profile: it is someone else's.

- Upgrade (A05, TC_083): ChangeConfiguration SecurityProfile, then Reset Hard. From the Accepted
  answer on the new profile is required, except that the old one is still let in until the
  charge point first connects with the new one (A05.FR.08: it may fall back); after that the
  old profile is refused. Never downward over OCPP (A00.FR.005): a lower profile is set by the
  operator's PUT only.
- AuthorizationKey (A01, TC_073): a new password is sent as the hex of its bytes; its hash is
  kept as pending before it is sent, so that when the answer is lost the charge point can still
  come back with it; once Accepted (or first used) it is the only password accepted. Neither the
  password nor its hex form is logged or stored (the configuration table and the message log
  hide the value).
"""

from __future__ import annotations

import asyncio
import http
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from csms.features import commands
from csms.features.commands import Sent
from csms.features.context import Services
from csms.features.security import events
from csms.features.security.authority import common_name
from csms.features.security.certificates import status_of
from csms.ocpp16 import Action, ResetType
from csms.ocpp16.certificate_hash import serial_hex
from csms.storage import ChargePoint
from csms.storage.security_records import ChargePointSecurity
from csms.transport import Peer, Refused
from csms.transport.basic_auth import VerifiedCache, hash_authorization_key, upgraded

log = logging.getLogger("csms.features.security")

AUTHORIZATION_KEY = "AuthorizationKey"
SECURITY_PROFILE = "SecurityProfile"
PROFILES = range(4)
# At most one stored security event of a kind per charge point within this interval.
EVENT_INTERVAL = timedelta(minutes=1)
MAX_REMEMBERED = 10_000
RECONNECT_PAUSE = 0.2


class ProfileChangeRefused(ValueError):
    """An upgrade the CSMS does not ask for; the message says why."""


@dataclass(frozen=True, slots=True)
class Level:
    """What a connection showed: its level and the serial of its client certificate."""

    level: int
    certificate_serial: str | None = None


class SecurityProfiles:
    """The admission step of the security profiles (features/admission.py calls it)."""

    def __init__(self, services: Services, verified: VerifiedCache | None = None) -> None:
        self._services = services
        self._verified = verified or VerifiedCache()
        self._last_event: dict[tuple[str, str], datetime] = {}

    async def admit(
        self, charge_point: ChargePoint, credentials: tuple[str, str] | None, peer: Peer
    ) -> Level | Refused:
        store = self._services.store
        security = await store.security_of(charge_point.id)
        required = security.minimum_profile if security else 0
        level = await self._certificate_level(charge_point.id, peer)
        if isinstance(level, Refused):
            return level
        if level.level < 3:
            password = await self._password_level(charge_point, security, credentials, peer)
            # A refused password is below the profile too when no password would have been
            # enough (profile 3, or 2 without TLS): recorded as such.
            if isinstance(password, Refused) and required <= (2 if peer.tls else 1):
                return password
            level = password if isinstance(password, Level) else Level(0)
        if level.level < required:
            reason = f"security profile {required} required, connection has level {level.level}"
            await self._refused(charge_point.id, events.CONNECTION_REFUSED, reason)
            return Refused(http.HTTPStatus.UNAUTHORIZED, f"Security profile {required} required")
        raised = security is not None and security.fallback_profile is not None
        if raised and security is not None and level.level >= security.security_profile:
            # The first connection with the raised profile: the old one is refused from now.
            await _save(self._services, security, fallback_profile=None)
            log.info("%s: connected with profile %d", charge_point.id, level.level)
        return level

    async def _certificate_level(self, charge_point_id: str, peer: Peer) -> Level | Refused:
        if not peer.tls or not peer.certificate:
            return Level(0)
        try:
            certificate = x509.load_der_x509_certificate(peer.certificate)
        except ValueError:  # passed OpenSSL's checks but not cryptography's stricter parser
            reason = "client certificate not readable"
            await self._refused(charge_point_id, events.CLIENT_CERTIFICATE_REFUSED, reason)
            return Refused(http.HTTPStatus.UNAUTHORIZED, "Client certificate not readable")
        serial = serial_hex(certificate)
        name = common_name(certificate)
        if name != charge_point_id:
            reason = f"client certificate CN {name!r} is not the charge point id"
            await self._refused(charge_point_id, events.CLIENT_CERTIFICATE_REFUSED, reason)
            return Refused(http.HTTPStatus.UNAUTHORIZED, "Client certificate of another id")
        issued = await self._services.store.issued_certificate(serial)
        if issued is not None and issued.revoked_at is not None:
            reason = f"client certificate serial {serial} was revoked"
            await self._refused(charge_point_id, events.CLIENT_CERTIFICATE_REFUSED, reason)
            return Refused(http.HTTPStatus.UNAUTHORIZED, "Client certificate revoked")
        return Level(3, serial)

    async def _password_level(
        self,
        charge_point: ChargePoint,
        security: ChargePointSecurity | None,
        credentials: tuple[str, str] | None,
        peer: Peer,
    ) -> Level | Refused:
        if charge_point.password_hash is None:
            return Level(0)
        if credentials is None:
            return Refused(http.HTTPStatus.UNAUTHORIZED, "Credentials required")
        username, password = credentials
        if username != charge_point.id:
            return Refused(http.HTTPStatus.UNAUTHORIZED, "Invalid credentials")
        if not await self._verified.verify(charge_point.id, password, charge_point.password_hash):
            pending = security.pending_password_hash if security else None
            if pending is None or not await self._verified.verify(
                charge_point.id, password, pending
            ):
                return Refused(http.HTTPStatus.UNAUTHORIZED, "Invalid credentials")
            # The new AuthorizationKey is in use although its answer never came (TC_073).
            await self._services.store.promote_password(charge_point.id, pending)
            log.info("%s: the new AuthorizationKey is in use", charge_point.id)
        elif (faster := upgraded(password, charge_point.password_hash)) is not None:
            # An earlier version's slow hash: its fast form from now on (docs/field-behaviour.md,
            # "Reconnect storms"), unless the operator changed the password meanwhile.
            await self._services.store.replace_password_hash(
                charge_point.id, charge_point.password_hash, faster
            )
        return Level(2 if peer.tls else 1)

    async def _refused(self, charge_point_id: str, event_type: str, reason: str) -> None:
        log.warning("%s: connection refused: %s", charge_point_id, reason)
        # A charge point retrying every few seconds below its profile: one event a minute of
        # each kind is stored, every refusal is logged (bounded storage).
        now = self._services.clock.now()
        last = self._last_event.get((charge_point_id, event_type))
        if last is not None and now - last < EVENT_INTERVAL:
            return
        self._last_event[(charge_point_id, event_type)] = now
        if len(self._last_event) > MAX_REMEMBERED:
            self._last_event.clear()
        await events.record(
            self._services,
            charge_point_id,
            event_type,
            timestamp=self._services.clock.now(),
            tech_info=reason,
            origin=events.CENTRAL_SYSTEM,
        )


async def _save(
    services: Services,
    security: ChargePointSecurity | None,
    *,
    charge_point_id: str | None = None,
    **changes: Any,
) -> ChargePointSecurity:
    values: dict[str, Any] = {
        "security_profile": security.security_profile if security else 0,
        "fallback_profile": security.fallback_profile if security else None,
        "pending_password_hash": security.pending_password_hash if security else None,
    }
    values.update(changes)
    cp_id = security.charge_point_id if security else charge_point_id
    assert cp_id is not None
    return await services.store.save_security(cp_id, at=services.clock.now(), **values)


async def set_profile(services: Services, charge_point_id: str, profile: int) -> None:
    """The operator sets the profile (PUT, any direction): in force at once, no fallback."""
    security = await services.store.security_of(charge_point_id)
    await _save(
        services,
        security,
        charge_point_id=charge_point_id,
        security_profile=profile,
        fallback_profile=None,
    )
    log.info("%s: security profile set to %d", charge_point_id, profile)


async def profile_of(services: Services, charge_point_id: str) -> int:
    security = await services.store.security_of(charge_point_id)
    return security.security_profile if security else 0


# -- upgrade (TC_083) -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upgrade:
    change_configuration: Sent
    reset: Sent | None


async def upgrade_profile(
    services: Services, charge_point_id: str, profile: int, *, reconnect_timeout: float = 30.0
) -> Upgrade:
    """ChangeConfiguration SecurityProfile, then (Accepted) Reset Hard (A05, TC_083)."""
    current = await profile_of(services, charge_point_id)
    if profile not in PROFILES or profile <= current:
        raise ProfileChangeRefused(
            f"the profile can only be raised over OCPP (A00.FR.005): {current} -> {profile}"
        )
    if profile >= 2 and services.settings.tls_cert is None:
        raise ProfileChangeRefused(f"profile {profile} needs TLS: start the CSMS with --tls-cert")
    charge_point = await services.store.get_charge_point(charge_point_id)
    if profile in (1, 2) and (charge_point is None or charge_point.password_hash is None):
        raise ProfileChangeRefused(f"profile {profile} needs a password (AuthorizationKey)")
    changed = await commands.send(
        services,
        charge_point_id,
        Action.CHANGE_CONFIGURATION,
        {"key": SECURITY_PROFILE, "value": str(profile)},
    )
    if status_of(changed) != "Accepted":
        return Upgrade(changed, None)
    # A05.FR.06: the charge point may drop the connection at once; the Reset waits for it, and
    # one that went out on the connection as it closed is sent again on the new one.
    reset_type = {"type": str(ResetType.HARD)}
    try:
        reset = await commands.send(
            services, charge_point_id, Action.RESET, reset_type, connect_timeout=reconnect_timeout
        )
    except commands.ChargePointOffline:
        await asyncio.sleep(RECONNECT_PAUSE)  # the closed connection leaves the registry
        reset = await commands.send(
            services, charge_point_id, Action.RESET, reset_type, connect_timeout=reconnect_timeout
        )
    return Upgrade(changed, reset)


async def security_profile_accepted(services: Services, charge_point_id: str, value: str) -> None:
    """ChangeConfiguration SecurityProfile answered Accepted (through any endpoint)."""
    try:
        profile = int(value)
    except ValueError:
        return
    security = await services.store.security_of(charge_point_id)
    current = security.security_profile if security else 0
    if profile not in PROFILES or profile <= current:
        return
    await _save(
        services,
        security,
        charge_point_id=charge_point_id,
        security_profile=profile,
        fallback_profile=current,
    )
    log.info("%s: security profile raised %d -> %d", charge_point_id, current, profile)


# -- AuthorizationKey (TC_073) ------------------------------------------------------------------


def new_password() -> str:
    """20 printable ASCII characters (the whitepaper's 16-20 bytes; valid header text)."""
    return secrets.token_urlsafe(15)


async def change_authorization_key(
    services: Services, charge_point_id: str, password: str | None = None
) -> Sent:
    """Send a new AuthorizationKey (the hex of the password's bytes, A00.FR.205). Its hash is
    pending until Accepted (or used), dropped when refused."""
    password = password or new_password()
    password_hash = hash_authorization_key(password)
    security = await services.store.security_of(charge_point_id)
    security = await _save(
        services,
        security,
        charge_point_id=charge_point_id,
        pending_password_hash=password_hash,
    )
    try:
        sent = await commands.send(
            services,
            charge_point_id,
            Action.CHANGE_CONFIGURATION,
            {"key": AUTHORIZATION_KEY, "value": password.encode("utf-8").hex()},
        )
    except (commands.ChargePointOffline, commands.NotAllowedNow, commands.InvalidCommand):
        await _save(services, security, pending_password_hash=None)
        raise
    status = status_of(sent)
    if status is not None and status != "Accepted":
        await _save(services, security, pending_password_hash=None)
    # Accepted: the ChangeConfiguration result hook made it the password already. No answer
    # (a timeout raises): it stays pending until the charge point comes back with it.
    return sent


async def authorization_key_accepted(services: Services, charge_point_id: str, value: str) -> None:
    """ChangeConfiguration AuthorizationKey answered Accepted: the new password, and only it."""
    try:
        password = bytes.fromhex(value).decode("utf-8", "surrogateescape")
    except ValueError:
        log.warning("%s: an AuthorizationKey that is not hex was accepted", charge_point_id)
        return
    await services.store.promote_password(charge_point_id, hash_authorization_key(password))
    log.info("%s: AuthorizationKey changed; the old one is no longer accepted", charge_point_id)


async def configuration_changed(
    services: Services, charge_point_id: str, key: str, value: str
) -> bool:
    """Called by the ChangeConfiguration result hook (features/core) for an Accepted change;
    True when the key is a security one (its value is then not kept in the configuration)."""
    if key == AUTHORIZATION_KEY:
        await authorization_key_accepted(services, charge_point_id, value)
        return True
    if key == SECURITY_PROFILE:
        await security_profile_accepted(services, charge_point_id, value)
    return False
