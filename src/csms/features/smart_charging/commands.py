"""Smart Charging profile (spec 3.13, 5.5, 5.7, 5.16): the charging profiles the CSMS believes
installed on each charge point, the checks before it sends one, and the composite schedule it
computes next to the one the charge point reports.

What is installed is learnt only from the charge point's answers (hooks run by
`commands.send`, whichever endpoint sent the request): an Accepted SetChargingProfile installs
(replacing per 3.13.2/5.16.3), an Accepted or Unknown ClearChargingProfile clears (Unknown: the
charge point has none that match, so neither may the CSMS), and an Accepted
RemoteStartTransaction with a chargingProfile installs a TxProfile waiting for its
StartTransaction (5.16.2). Core calls `transaction_profiles_started` and
`transaction_profiles_ended`: a
TxProfile belongs to one transaction and ceases with it (7.10).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csms import smart_charging as sc
from csms.features import commands
from csms.features.commands import InvalidCommand, Sent, on_result
from csms.features.context import Context, Services
from csms.features.smart_charging.comparison import (
    Difference,
    Judge,
    differences,
    local_limit_in,
)
from csms.features.smart_charging.profiles import (
    Composite,
    ProfileRefused,
    capabilities_of,
    check_profile,
    composite_of,
)
from csms.ocpp16 import (
    Action,
    ChargingProfileStatus,
    ClearChargingProfileStatus,
    GetCompositeScheduleResponse,
    GetCompositeScheduleStatus,
    RemoteStartStopStatus,
    from_payload,
    validate_request,
)
from csms.ocppj import CallResult
from csms.storage import InstalledChargingProfile, Transaction

log = logging.getLogger("csms.features.smart_charging")


def _status(sent: Sent) -> str | None:
    if not isinstance(sent.response, CallResult):
        return None
    status = sent.response.payload.get("status")
    return status if isinstance(status, str) else None


async def active_transaction(
    services: Services, charge_point_id: str, connector_id: int
) -> Transaction | None:
    """The transaction the CSMS knows to be running on the connector (the latest started)."""
    if connector_id <= 0:
        return None
    running = [
        transaction
        for transaction in await services.store.list_transactions(
            charge_point_id=charge_point_id, active=True
        )
        if transaction.connector_id == connector_id
    ]
    return running[-1] if running else None


# -- what the answers change ------------------------------------------------------------------


@on_result(Action.SET_CHARGING_PROFILE)
async def _profile_set(services: Services, sent: Sent) -> dict[str, Any] | None:
    """Spec 5.16: an Accepted profile is installed, replacing per 3.13.2 / 5.16.3."""
    if _status(sent) != ChargingProfileStatus.ACCEPTED:
        return None
    connector_id: int = sent.request["connectorId"]
    wire: dict[str, Any] = sent.request["csChargingProfiles"]
    transaction_id: int | None = None
    if wire["chargingProfilePurpose"] == sc.ChargingProfilePurpose.TX_PROFILE:
        # Without a transactionId it is the connector's current transaction's (5.16.3).
        transaction_id = wire.get("transactionId")
        if transaction_id is None:
            running = await active_transaction(services, sent.charge_point_id, connector_id)
            transaction_id = running.id if running else None
    replaced = await services.store.install_charging_profile(
        InstalledChargingProfile(
            charge_point_id=sent.charge_point_id,
            connector_id=connector_id,
            charging_profile_id=wire["chargingProfileId"],
            stack_level=wire["stackLevel"],
            purpose=wire["chargingProfilePurpose"],
            transaction_id=transaction_id,
            remote_start_id_tag=None,
            profile=wire,
            installed_at=services.clock.now(),
        )
    )
    return {"replacedChargingProfileIds": replaced}


@on_result(Action.CLEAR_CHARGING_PROFILE)
async def _profiles_cleared(services: Services, sent: Sent) -> dict[str, Any] | None:
    """Spec 5.5 with errata 3.25/3.26 (the store applies the matching rules)."""
    if _status(sent) not in (
        ClearChargingProfileStatus.ACCEPTED,
        ClearChargingProfileStatus.UNKNOWN,
    ):
        return None
    request = sent.request
    cleared = await services.store.clear_charging_profiles(
        sent.charge_point_id,
        charging_profile_id=request.get("id"),
        connector_id=request.get("connectorId"),
        purpose=request.get("chargingProfilePurpose"),
        stack_level=request.get("stackLevel"),
    )
    return {"clearedChargingProfileIds": cleared}


@on_result(Action.REMOTE_START_TRANSACTION)
async def _remote_start_profile(services: Services, sent: Sent) -> dict[str, Any] | None:
    """Spec 5.16.2: the profile of an Accepted RemoteStartTransaction applies to the transaction
    it starts; installed now, it belongs to that transaction once its StartTransaction comes."""
    wire: dict[str, Any] | None = sent.request.get("chargingProfile")
    if wire is None or _status(sent) != RemoteStartStopStatus.ACCEPTED:
        return None
    connector_id: int | None = sent.request.get("connectorId")
    charge_point_id, id_tag = sent.charge_point_id, sent.request["idTag"]
    if connector_id is None:
        # The charge point chooses the connector: the CSMS cannot tell where it is installed.
        log.warning("%s: remote start profile without connectorId not recorded", charge_point_id)
        return None
    store = services.store
    await store.install_charging_profile(
        InstalledChargingProfile(
            charge_point_id=charge_point_id,
            connector_id=connector_id,
            charging_profile_id=wire["chargingProfileId"],
            stack_level=wire["stackLevel"],
            purpose=wire["chargingProfilePurpose"],
            transaction_id=None,
            remote_start_id_tag=id_tag,
            profile=wire,
            installed_at=services.clock.now(),
        )
    )
    # The StartTransaction may have been handled before this answer: bind to it now. (If it is
    # handled after the install above, `transaction_profiles_started` binds it.) Only to the
    # transaction this remote start led to: a transaction of the same tag that was running on
    # the connector before (its StopTransaction lost) is not it, and the new start ends it.
    started = sent.transaction_started
    if started is not None and started.done() and not started.cancelled():
        transaction = started.result()
        await store.bind_transaction_profiles(
            charge_point_id, transaction.connector_id, transaction.id, id_tag
        )
    return None


async def transaction_profiles_started(ctx: Context, transaction: Transaction) -> None:
    """Spec 5.16.2: a RemoteStartTransaction's profile now belongs to this transaction."""
    await ctx.store.bind_transaction_profiles(
        transaction.charge_point_id, transaction.connector_id, transaction.id, transaction.id_tag
    )


async def transaction_profiles_ended(ctx: Context, transaction: Transaction) -> None:
    """Spec 7.10: a TxProfile ceases to be valid when its transaction terminates."""
    await ctx.store.drop_transaction_profiles(
        transaction.charge_point_id, transaction.connector_id, transaction.id
    )


# -- sending profiles -------------------------------------------------------------------------


async def check_set_charging_profile(
    services: Services, charge_point_id: str, payload: Mapping[str, Any]
) -> None:
    """Raise InvalidCommand (schema) or ProfileRefused (what the charge point declared, the
    spec's rules) for a SetChargingProfile.req payload; nothing is sent."""
    _schema_valid(Action.SET_CHARGING_PROFILE, payload)
    connector_id: int = payload["connectorId"]
    store = services.store
    check_profile(
        payload["csChargingProfiles"],
        connector_id=connector_id,
        capabilities=capabilities_of(await store.configuration_of(charge_point_id)),
        installed=await store.charging_profiles_of(charge_point_id),
        transaction=await active_transaction(services, charge_point_id, connector_id),
    )


async def check_remote_start(
    services: Services, charge_point_id: str, payload: Mapping[str, Any]
) -> None:
    """The same for a RemoteStartTransaction.req payload with a chargingProfile (5.16.2)."""
    wire = payload.get("chargingProfile")
    if wire is None:
        return
    _schema_valid(Action.REMOTE_START_TRANSACTION, payload)
    connector_id: int | None = payload.get("connectorId")
    if connector_id is None:
        raise ProfileRefused(
            "a RemoteStartTransaction with a chargingProfile needs a connectorId: the profile "
            "is recorded on that connector for the transaction it starts"
        )
    store = services.store
    check_profile(
        wire,
        connector_id=connector_id,
        capabilities=capabilities_of(await store.configuration_of(charge_point_id)),
        installed=await store.charging_profiles_of(charge_point_id),
        transaction=None,
        remote_start=True,
    )


def _schema_valid(action: Action, payload: Mapping[str, Any]) -> None:
    violation = validate_request(action, dict(payload))
    if violation is not None:
        raise InvalidCommand(f"{violation.error_code}: {violation.description}")


async def set_charging_profile(
    services: Services,
    charge_point_id: str,
    connector_id: int,
    profile: Mapping[str, Any],
    *,
    connect_timeout: float = 0.0,
) -> Sent:
    """Check, send SetChargingProfile (spec 5.16) and, when Accepted, record it installed."""
    payload = {"connectorId": connector_id, "csChargingProfiles": dict(profile)}
    await check_set_charging_profile(services, charge_point_id, payload)
    return await commands.send(
        services,
        charge_point_id,
        Action.SET_CHARGING_PROFILE,
        payload,
        connect_timeout=connect_timeout,
    )


# -- composite schedules ----------------------------------------------------------------------


async def csms_composite(
    services: Services,
    charge_point_id: str,
    *,
    connector_id: int,
    duration: int,
    start: datetime,
    charging_rate_unit: sc.ChargingRateUnit | None = None,
    tx_default_fallback: bool = False,
) -> Composite:
    """The composite schedule of the profiles the CSMS believes installed (spec 3.13.3, 5.7),
    for the transaction running on the connector, if any (`tx_default_fallback`: in the other
    reading of 3.13.1, smart_charging/composite.py)."""
    running = await active_transaction(services, charge_point_id, connector_id)
    try:
        return composite_of(
            await services.store.charging_profiles_of(charge_point_id),
            connector_id=connector_id,
            duration=duration,
            start=start,
            charging_rate_unit=charging_rate_unit,
            transaction=running,
            tx_default_fallback=tx_default_fallback,
        )
    except ValueError as exc:
        raise InvalidCommand(str(exc)) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """The CSMS's composite schedule next to the charge point's GetCompositeSchedule answer."""

    csms: Composite
    sent: Sent
    agree: bool
    differences: tuple[Difference, ...]
    # Why nothing could be compared (a Rejected answer, no schedule, a CALLERROR).
    reason: str | None = None
    # The charge point's reading of the TxProfile/TxDefaultProfile rule where it shows:
    # "txDefaultFallback" when every difference is that reading's value; and whether its
    # charger profile says it reads it so.
    charge_point_reading: str | None = None
    expected_reading: str | None = None


async def compare_composite(
    services: Services,
    charge_point_id: str,
    *,
    connector_id: int,
    duration: int,
    charging_rate_unit: sc.ChargingRateUnit | None = None,
    connect_timeout: float = 0.0,
) -> Comparison:
    """Ask the charge point for its composite schedule (spec 5.7) and compare it with the
    CSMS's, computed from the same start (the reported scheduleStart) in the reported unit
    (comparison.py: what agrees)."""
    payload: dict[str, Any] = {"connectorId": connector_id, "duration": duration}
    if charging_rate_unit is not None:
        payload["chargingRateUnit"] = str(charging_rate_unit)
    asked_at = services.clock.now()
    sent = await commands.send(
        services,
        charge_point_id,
        Action.GET_COMPOSITE_SCHEDULE,
        payload,
        connect_timeout=connect_timeout,
    )

    async def ours(
        start: datetime, unit: sc.ChargingRateUnit | None, fallback: bool = False
    ) -> Composite:
        return await csms_composite(
            services,
            charge_point_id,
            connector_id=connector_id,
            duration=duration,
            start=start,
            charging_rate_unit=unit,
            tx_default_fallback=fallback,
        )

    reason = _nothing_to_compare(sent)
    if reason is not None:
        return Comparison(
            csms=await ours(asked_at, charging_rate_unit),
            sent=sent,
            agree=False,
            differences=(),
            reason=reason,
        )
    assert isinstance(sent.response, CallResult)
    answer = from_payload(GetCompositeScheduleResponse, sent.response.payload)
    reported = answer.charging_schedule
    assert reported is not None
    # Errata 3.57: the periods are relative to scheduleStart (startSchedule omitted; a charger
    # from before the errata may give only that).
    start = answer.schedule_start or reported.start_schedule or asked_at
    unit = sc.ChargingRateUnit(reported.charging_rate_unit)
    rules = await services.charger_profiles.rules(services, charge_point_id)
    judge = Judge(
        local_limit=local_limit_in(rules.local_limit_amps, unit),
        sub_second=start.microsecond != 0,
    )
    csms = await ours(start, unit)
    fallback = (await ours(start, unit, fallback=True)).schedule
    found = tuple(differences(csms.schedule, reported, judge=judge, fallback=fallback))
    return Comparison(
        csms=csms,
        sent=sent,
        agree=not found,
        differences=found,
        charge_point_reading=(
            _TX_DEFAULT_FALLBACK if found and all(d.tx_default_fallback for d in found) else None
        ),
        expected_reading=_TX_DEFAULT_FALLBACK if rules.tx_default_fallback else None,
    )


_TX_DEFAULT_FALLBACK = "txDefaultFallback"


def _nothing_to_compare(sent: Sent) -> str | None:
    if not isinstance(sent.response, CallResult):
        return f"the charge point answered with a CALLERROR ({sent.response.error_code})"
    answer = from_payload(GetCompositeScheduleResponse, sent.response.payload)
    if answer.status != GetCompositeScheduleStatus.ACCEPTED:
        return f"the charge point answered {answer.status}"
    if answer.charging_schedule is None:
        return "the charge point reported no schedule"
    return None
