"""Which charge points may open a WebSocket (J 3.2, errata 3.68, whitepaper 2.3).

Unknown ids are registered as Pending (policy pending, the default: its BootNotification is
answered Pending, spec 4.2, and its other CALLs refused, J errata 3.10, until an operator sets
it Accepted), registered as Accepted (policy accept) or refused with HTTP 404 (policy reject).
A charge point with a stored password must present it with HTTP Basic auth, username = its id,
unless it shows a client certificate of its own; its security profile decides what is enough
(features/security/profiles.py).

Under the pending and accept policies a new id that differs from a known one only by case,
compatibility form or surrounding space (transport/ids.py lookalike_key) is refused with HTTP
404 and logged: it is more likely a misconfiguration or an impostor than a new charge point. The
registration itself is written once the WebSocket is open (Admitted.on_open), never for a failed
handshake (docs/field-behaviour.md, "Input limits and ids").
"""

from __future__ import annotations

import asyncio
import http
import logging
import math
import time

from csms.features.security.profiles import SecurityProfiles
from csms.features.unknown_charge_points import UnknownChargePoints as RefusedChargePoints
from csms.ocpp16 import RegistrationStatus
from csms.settings import UnknownChargePoints
from csms.storage import ChargePoint, Store
from csms.transport import Admitted, Peer, Refused
from csms.transport.ids import lookalike_key

log = logging.getLogger("csms.features.admission")

# Seconds the index of known ids used against lookalikes may be old.
LOOKALIKES_MAX_AGE = 1.0


class ChargePointAdmission:
    def __init__(
        self,
        store: Store,
        unknown: UnknownChargePoints,
        refused: RefusedChargePoints | None = None,
        *,
        profiles: SecurityProfiles,
    ) -> None:
        self._store = store
        # The security profiles (features/security/profiles.py): the password, the client
        # certificate and the profile each charge point must connect with.
        self._profiles = profiles
        self._unknown = unknown
        # Where refused unknown ids are noted, for the operator to approve.
        self._refused = refused
        # lookalike_key -> a known id; read again from the store at most once a second, so
        # that ids the operator API added are seen without a full read per new charge point.
        self._lookalike_index: dict[str, str] = {}
        self._lookalikes_read_at = -math.inf
        self._lookalikes_lock = asyncio.Lock()

    async def _lookalikes(self) -> dict[str, str]:
        async with self._lookalikes_lock:
            if time.monotonic() - self._lookalikes_read_at >= LOOKALIKES_MAX_AGE:
                index: dict[str, str] = {}
                for charge_point in await self._store.list_charge_points():
                    index.setdefault(lookalike_key(charge_point.id), charge_point.id)
                self._lookalike_index = index
                self._lookalikes_read_at = time.monotonic()
        return self._lookalike_index

    async def admit(
        self, charge_point_id: str, credentials: tuple[str, str] | None, peer: Peer | None = None
    ) -> Admitted | Refused:
        peer = peer or Peer()
        charge_point = await self._store.get_charge_point(charge_point_id)
        if charge_point is None:
            return await self._admit_unknown(charge_point_id)
        level = await self._profiles.admit(charge_point, credentials, peer)
        if isinstance(level, Refused):
            return level
        return Admitted(
            accepted=_accepted(charge_point), client_certificate_serial=level.certificate_serial
        )

    async def _admit_unknown(self, charge_point_id: str) -> Admitted | Refused:
        """By the policy for unknown charge points; lookalikes of known ids are refused."""
        if self._unknown == UnknownChargePoints.REJECT:
            if self._refused is not None:
                self._refused.refused(charge_point_id, "unknown")
            return Refused(http.HTTPStatus.NOT_FOUND, "Unknown charge point")
        known = (await self._lookalikes()).get(lookalike_key(charge_point_id))
        if known is not None and known != charge_point_id:
            log.warning("refused %a: looks like the known charge point %a", charge_point_id, known)
            if self._refused is not None:
                self._refused.refused(charge_point_id, f"looks like {known}")
            return Refused(http.HTTPStatus.NOT_FOUND, "Unknown charge point")

        # The pending policy records it for an operator to approve (spec 4.2: Pending boots).
        status = (
            RegistrationStatus.ACCEPTED
            if self._unknown == UnknownChargePoints.ACCEPT
            else RegistrationStatus.PENDING
        )

        async def register() -> None:
            if await self._store.get_charge_point(charge_point_id) is None:
                await self._store.save_charge_point(
                    charge_point_id,
                    registration_status=status,
                    password_hash=None,
                    description=None,
                )
            self._lookalike_index.setdefault(lookalike_key(charge_point_id), charge_point_id)

        return Admitted(accepted=False, on_open=register)


def _accepted(charge_point: ChargePoint) -> bool:
    # J 5.4: a charge point accepted before may reconnect without booting again.
    return (
        charge_point.registration_status == RegistrationStatus.ACCEPTED
        and charge_point.last_boot_at is not None
    )
