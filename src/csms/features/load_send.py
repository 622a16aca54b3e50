"""Load management's SetChargingProfile (spec 5.16): through the charge point's one CALL in
flight (J 4.1.1), and recorded in the profile store before that slot is released, as
`commands.send` and the smart charging hook do, so that what the CSMS keeps follows the order
of the charge point's answers. The difference: the record is written together with the others
answered at the same time (Store.record_load_profile), since an allocation sends up to a
profile per transaction and one write per answer would make the single writer the bottleneck.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from csms.features.context import Services
from csms.ocpp16 import (
    Action,
    ChargingProfileStatus,
    RegistrationStatus,
    validate_request,
    validate_response,
)
from csms.ocppj import CallError
from csms.storage import InstalledChargingProfile
from csms.transport import NotConnected

log = logging.getLogger("csms.features.load_management")

# Outcomes that are no answer of the charge point: its limit is unknown until it is heard from.
OFFLINE, TIMEOUT, NOT_ALLOWED, INVALID = "Offline", "Timeout", "NotAllowed", "InvalidAnswer"
UNANSWERED = frozenset({OFFLINE, TIMEOUT, NOT_ALLOWED, INVALID})


async def set_profile(
    services: Services, charge_point_id: str, connector_id: int, profile: Mapping[str, Any]
) -> str:
    """Send the profile; the answer's status (Accepted, Rejected, NotSupported), a CALLERROR's
    code, or one of UNANSWERED. An Accepted profile is recorded as installed."""
    action = Action.SET_CHARGING_PROFILE
    wire = dict(profile)
    payload: dict[str, Any] = {"connectorId": connector_id, "csChargingProfiles": wire}
    violation = validate_request(action, payload)
    if violation is not None:  # our bug: never send a schema-invalid frame
        raise ValueError(f"invalid load management profile: {violation.description}")
    connection = services.registry.get(charge_point_id)
    if connection is None:
        return OFFLINE
    if connection.registration == RegistrationStatus.REJECTED:
        return NOT_ALLOWED  # spec 4.2: the CSMS sends a Rejected charge point nothing
    async with connection.exclusive() as call:
        try:
            response = await call(action, payload)
        except TimeoutError:
            return TIMEOUT
        except NotConnected:
            return OFFLINE
        if isinstance(response, CallError):
            return str(response.error_code)
        violation = validate_response(action, response.payload)
        if violation is not None:
            log.warning("%s: invalid SetChargingProfile answer: %s", charge_point_id, violation)
            return INVALID
        status = str(response.payload["status"])
        if status == ChargingProfileStatus.ACCEPTED:
            await services.store.record_load_profile(
                InstalledChargingProfile(
                    charge_point_id=charge_point_id,
                    connector_id=connector_id,
                    charging_profile_id=profile["chargingProfileId"],
                    stack_level=profile["stackLevel"],
                    purpose=profile["chargingProfilePurpose"],
                    transaction_id=profile.get("transactionId"),
                    remote_start_id_tag=None,
                    profile=wire,
                    installed_at=services.clock.now(),
                )
            )
        return status
