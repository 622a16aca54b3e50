"""Load management on the wire: the profiles it sends and how.

SetChargingProfile (spec 5.16) goes through the charge point's one CALL in flight (J 4.1.1) and
is recorded in the profile store before that slot is released, as `commands.send` and the smart
charging hook do, so that what the CSMS keeps follows the order of the charge point's answers.
The difference: the record is written together with the others answered at the same time
(Store.record_load_profile), since an allocation sends up to a profile per transaction and one
write per answer would make the single writer the bottleneck. A charge point that left its
group is cleared of our profiles with ClearChargingProfile (spec 5.5), through `commands.send`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from csms.features import commands
from csms.features.context import Services
from csms.features.load_management.model import CpState, TxState
from csms.features.load_management.state import PROFILE_ID_BASE
from csms.ocpp16 import (
    Action,
    ChargingProfileStatus,
    ClearChargingProfileStatus,
    RegistrationStatus,
    validate_request,
    validate_response,
)
from csms.ocppj import CallError, CallResult
from csms.storage import InstalledChargingProfile
from csms.transport import NotConnected

log = logging.getLogger("csms.features.load_management")

_TENTH = Decimal("0.1")

# Outcomes that are no answer of the charge point: its limit is unknown until it is heard from.
OFFLINE, TIMEOUT, NOT_ALLOWED, INVALID = "Offline", "Timeout", "NotAllowed", "InvalidAnswer"
UNANSWERED = frozenset({OFFLINE, TIMEOUT, NOT_ALLOWED, INVALID})
# Sent, and no answer that tells: the charge point may have applied the profile.
MAYBE_APPLIED = frozenset({TIMEOUT, INVALID})


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


def stack_levels(services: Services, cp: CpState) -> tuple[int, int]:
    """(TxProfile, TxDefaultProfile) stack levels on this charge point."""
    level = services.settings.load_stack_level
    if cp.max_stack_level is not None:
        level = min(level, cp.max_stack_level)
    level = max(level, 0)
    return level, max(level - 1, 0)


def profile_of(
    services: Services, cp: CpState, tx: TxState | None, amps: Decimal
) -> dict[str, Any]:
    """csChargingProfiles of a transaction's TxProfile (or, without one, of the charge point's
    fallback TxDefaultProfile): one Relative period of indefinite duration (spec 7.8, 7.13),
    in A per phase with numberPhases (in W where the charge point takes Power only)."""
    tx_level, default_level = stack_levels(services, cp)
    phases = cp.member.phases
    limit, unit = amps, "A"
    if cp.power_only:  # ChargingScheduleAllowedChargingRateUnit: Power (spec 9.4.2)
        group = services.load.groups.get(cp.member.group_id)
        voltage = group.voltage if group is not None else Decimal(230)
        limit = (amps * voltage * phases).quantize(_TENTH, ROUND_FLOOR)
        unit = "W"
    profile: dict[str, Any] = {
        "chargingProfileId": PROFILE_ID_BASE + (0 if tx is None else tx.connector_id),
        "stackLevel": default_level if tx is None else tx_level,
        "chargingProfilePurpose": "TxDefaultProfile" if tx is None else "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit, "numberPhases": phases}],
        },
    }
    if tx is not None:
        profile["transactionId"] = tx.transaction_id
    return profile


async def clear_departed(services: Services) -> None:
    """Clear our profiles from the charge points that left their group (when connected)."""
    model = services.load
    try:
        while model.departed_due:
            charge_point_id = model.departed_due.pop()
            ids = model.departed.get(charge_point_id, set())
            for profile_id in sorted(ids):
                try:
                    sent = await commands.send(
                        services,
                        charge_point_id,
                        Action.CLEAR_CHARGING_PROFILE,
                        {"id": profile_id},
                    )
                except commands.CommandFailed as exc:
                    log.info("%s: load profiles not cleared yet: %s", charge_point_id, exc)
                    break
                response = sent.response
                if isinstance(response, CallResult) and response.payload.get("status") in (
                    ClearChargingProfileStatus.ACCEPTED,
                    ClearChargingProfileStatus.UNKNOWN,
                ):
                    ids.discard(profile_id)
            if not ids:
                model.departed.pop(charge_point_id, None)
    except Exception:  # task boundary
        log.exception("clearing load profiles failed")
    finally:
        model.clearing = False
        model.check_idle()
