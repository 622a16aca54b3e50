"""Which charge points may open a WebSocket (J 3.2, errata 3.68, whitepaper 2.3).

Unknown ids are registered (policy accept) or refused with HTTP 404 (policy reject). A charge
point with a stored password must present it with HTTP Basic auth, username = its id.
"""

from __future__ import annotations

import http

from csms.ocpp16 import RegistrationStatus
from csms.settings import UnknownChargePoints
from csms.storage import Store
from csms.transport import Admitted, Refused
from csms.transport.basic_auth import VerifiedCache


class ChargePointAdmission:
    def __init__(self, store: Store, unknown: UnknownChargePoints) -> None:
        self._store = store
        self._unknown = unknown
        self._verified = VerifiedCache()

    async def admit(
        self, charge_point_id: str, credentials: tuple[str, str] | None
    ) -> Admitted | Refused:
        charge_point = await self._store.get_charge_point(charge_point_id)
        if charge_point is None:
            if self._unknown == UnknownChargePoints.REJECT:
                return Refused(http.HTTPStatus.NOT_FOUND, "Unknown charge point")
            await self._store.save_charge_point(
                charge_point_id,
                registration_status=RegistrationStatus.ACCEPTED,
                password_hash=None,
                description=None,
            )
            return Admitted(accepted=False)
        if charge_point.password_hash is not None:
            if credentials is None:
                return Refused(http.HTTPStatus.UNAUTHORIZED, "Credentials required")
            username, password = credentials
            if username != charge_point_id or not await self._verified.verify(
                charge_point_id, password, charge_point.password_hash
            ):
                return Refused(http.HTTPStatus.UNAUTHORIZED, "Invalid credentials")
        # J 5.4: a charge point accepted before may reconnect without booting again.
        accepted = (
            charge_point.registration_status == RegistrationStatus.ACCEPTED
            and charge_point.last_boot_at is not None
        )
        return Admitted(accepted=accepted)
