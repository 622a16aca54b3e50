"""Smart charging endpoints (spec 3.13, 5.5, 5.7, 5.16): the profiles the CSMS believes
installed, SetChargingProfile and ClearChargingProfile typed, and the composite schedule the
CSMS computes, side by side with the charge point's own on request.

SetChargingProfile here is checked first against what the charge point declared (spec 9.4) and
the spec's rules: 422 with the reason, and nothing sent. The generic command endpoint
(`.../commands/SetChargingProfile`) still sends any schema-valid profile.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field

from csms import smart_charging as sc
from csms.api.commands import answer
from csms.api.deps import known_charge_point, services_of
from csms.api.models import Model
from csms.features import commands
from csms.features.smart_charging import commands as smart_charging
from csms.features.smart_charging.profiles import Composite
from csms.ocpp16 import Action
from csms.ocppj import CallResult
from csms.storage import InstalledChargingProfile

router = APIRouter(prefix="/charge-points/{charge_point_id}", tags=["smart charging"])

ConnectTimeout = Annotated[
    float, Query(ge=0, le=600, description="Wait up to this many seconds for it to connect")
]
Purpose = Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]
Unit = Literal["A", "W"]
# A month of seconds: more than any charge point is asked for in practice.
_MAX_DURATION = 31 * 86400


class SetChargingProfileIn(Model):
    """SetChargingProfile.req (spec 6.43) as on the wire."""

    connector_id: int = Field(ge=0)
    cs_charging_profiles: dict[str, Any]


class ChargingProfileOut(Model):
    charging_profile_id: int
    stack_level: int
    charging_profile_purpose: str
    # A TxProfile's transaction (its transactionId, or the one its remote start started).
    transaction_id: int | None
    # The idTag of the RemoteStartTransaction it came with, while its transaction has not
    # started yet.
    remote_start_id_tag: str | None
    installed_at: datetime
    # csChargingProfiles as sent.
    cs_charging_profiles: dict[str, Any]

    @classmethod
    def of(cls, record: InstalledChargingProfile) -> ChargingProfileOut:
        return cls(
            charging_profile_id=record.charging_profile_id,
            stack_level=record.stack_level,
            charging_profile_purpose=record.purpose,
            transaction_id=record.transaction_id,
            remote_start_id_tag=record.remote_start_id_tag,
            installed_at=record.installed_at,
            cs_charging_profiles=dict(record.profile),
        )


class ConnectorProfilesOut(Model):
    connector_id: int
    charging_profiles: list[ChargingProfileOut]


class ChargingProfilesOut(Model):
    """What the CSMS believes installed, from the charge point's Accepted answers."""

    charge_point_id: str
    connectors: list[ConnectorProfilesOut]


class PeriodOut(Model):
    start_period: int
    # None: no profile limits charging then (the charge point's own maximum applies).
    limit: float | None
    number_phases: int | None


class IgnoredOut(Model):
    charging_profile_id: int
    connector_id: int
    reason: str


class DifferenceOut(Model):
    """Seconds [startPeriod, endPeriod) where the two composite limits differ (null: no limit,
    or for the charge point with `covered` false a time its schedule does not cover);
    `txDefaultFallback`: the charge point's value is the TxDefaultProfile fallback reading's
    (docs/charger-compatibility.md)."""

    start_period: int
    end_period: int
    csms: float | None
    charge_point: float | None
    covered: bool
    tx_default_fallback: bool


class CompositeOut(Model):
    """The CSMS's composite schedule (spec 3.13.3); with `compare`, the charge point's
    GetCompositeSchedule answer, whether they agree, and where not."""

    connector_id: int
    schedule_start: datetime
    duration: int
    charging_rate_unit: str
    charging_schedule_period: list[PeriodOut]
    min_charging_rate: float | None
    ignored_profiles: list[IgnoredOut]
    charge_point: dict[str, Any] | None = None
    agree: bool | None = None
    differences: list[DifferenceOut] | None = None
    reason: str | None = None
    # The charge point's reading of the TxProfile/TxDefaultProfile rule where its answer shows
    # it, and the one its charger profile states ("txDefaultFallback" or null).
    charge_point_reading: str | None = None
    expected_reading: str | None = None


def _with_details(sent: commands.Sent) -> JSONResponse:
    if not isinstance(sent.response, CallResult):
        return answer(sent)
    return JSONResponse({**sent.response.payload, **sent.details})


@router.get("/charging-profiles", response_model=ChargingProfilesOut)
async def charging_profiles(
    request: Request,
    charge_point_id: str,
    connector_id: Annotated[int | None, Query(alias="connectorId", ge=0)] = None,
) -> ChargingProfilesOut:
    """The charging profiles the CSMS believes installed, per connector."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    records = await services.store.charging_profiles_of(charge_point_id, connector_id)
    connectors: dict[int, list[ChargingProfileOut]] = {}
    for record in records:
        connectors.setdefault(record.connector_id, []).append(ChargingProfileOut.of(record))
    return ChargingProfilesOut(
        charge_point_id=charge_point_id,
        connectors=[
            ConnectorProfilesOut(connector_id=connector, charging_profiles=profiles)
            for connector, profiles in connectors.items()
        ],
    )


@router.post(
    "/charging-profiles",
    responses={422: {"description": "Refused before sending: the reason names the rule"}},
)
async def set_charging_profile(
    request: Request,
    charge_point_id: str,
    body: SetChargingProfileIn,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """SetChargingProfile (spec 5.16), checked against the charge point's smart charging
    configuration keys (9.4) and its transactions; when Accepted, recorded as installed
    (`replacedChargingProfileIds`: the profiles it replaced)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    sent = await smart_charging.set_charging_profile(
        services,
        charge_point_id,
        body.connector_id,
        body.cs_charging_profiles,
        connect_timeout=connect_timeout,
    )
    return _with_details(sent)


@router.delete("/charging-profiles")
async def clear_charging_profile(
    request: Request,
    charge_point_id: str,
    id: Annotated[int | None, Query(description="Clears this profile; the rest is ignored")] = None,
    connector_id: Annotated[int | None, Query(alias="connectorId", ge=0)] = None,
    charging_profile_purpose: Annotated[
        Purpose | None, Query(alias="chargingProfilePurpose")
    ] = None,
    stack_level: Annotated[int | None, Query(alias="stackLevel", ge=0)] = None,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """ClearChargingProfile (spec 5.5) with exactly the filters given (none: every profile;
    errata 3.25/3.26). When Accepted (or Unknown: none matched on the charge point), the CSMS
    clears the same (`clearedChargingProfileIds`)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    filters = {
        "id": id,
        "connectorId": connector_id,
        "chargingProfilePurpose": charging_profile_purpose,
        "stackLevel": stack_level,
    }
    payload = {name: value for name, value in filters.items() if value is not None}
    sent = await commands.send(
        services,
        charge_point_id,
        Action.CLEAR_CHARGING_PROFILE,
        payload,
        connect_timeout=connect_timeout,
    )
    return _with_details(sent)


@router.get("/composite-schedule", response_model=CompositeOut)
async def composite_schedule(
    request: Request,
    charge_point_id: str,
    connector_id: Annotated[int, Query(alias="connectorId", ge=0)],
    duration: Annotated[int, Query(ge=0, le=_MAX_DURATION, description="Seconds")],
    charging_rate_unit: Annotated[Unit | None, Query(alias="chargingRateUnit")] = None,
    start: Annotated[
        AwareDatetime | None, Query(description="Default now; not with `compare`")
    ] = None,
    compare: Annotated[
        bool, Query(description="Also ask the charge point (GetCompositeSchedule) and compare")
    ] = False,
    connect_timeout: ConnectTimeout = 0.0,
) -> JSONResponse:
    """The composite schedule the CSMS computes from the profiles it believes installed
    (spec 3.13.3, 5.7). With `compare=true` it sends GetCompositeSchedule with connectorId,
    duration and chargingRateUnit as given, computes its own from the reported scheduleStart in
    the reported unit, and tells whether they agree: "no limit" against a limit differs unless
    the limit is the charge point's own maximum by its charger profile; -1 is no limit; edges
    within a second compared at the charge point's resolution; the TxDefaultProfile fallback
    reading named (docs/charger-compatibility.md)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    unit = sc.ChargingRateUnit(charging_rate_unit) if charging_rate_unit else None
    if not compare:
        composite = await smart_charging.csms_composite(
            services,
            charge_point_id,
            connector_id=connector_id,
            duration=duration,
            start=start or services.clock.now(),
            charging_rate_unit=unit,
        )
        plain = _composite_out(composite).model_dump(
            mode="json",
            by_alias=True,
            exclude={
                "charge_point",
                "agree",
                "differences",
                "reason",
                "charge_point_reading",
                "expected_reading",
            },
        )
        return JSONResponse(plain)
    if start is not None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "start cannot be given with compare: the charge point's schedule starts when it "
            "receives the request (spec 5.7)",
        )
    comparison = await smart_charging.compare_composite(
        services,
        charge_point_id,
        connector_id=connector_id,
        duration=duration,
        charging_rate_unit=unit,
        connect_timeout=connect_timeout,
    )
    response = comparison.sent.response
    if not isinstance(response, CallResult):
        return answer(comparison.sent)
    out = _composite_out(comparison.csms).model_copy(
        update={
            "charge_point": response.payload,
            "agree": comparison.agree,
            "differences": [
                DifferenceOut(
                    start_period=d.start_period,
                    end_period=d.end_period,
                    csms=_float(d.csms),
                    charge_point=_float(d.charge_point),
                    covered=d.covered,
                    tx_default_fallback=d.tx_default_fallback,
                )
                for d in comparison.differences
            ],
            "reason": comparison.reason,
            "charge_point_reading": comparison.charge_point_reading,
            "expected_reading": comparison.expected_reading,
        }
    )
    return JSONResponse(out.model_dump(mode="json", by_alias=True))


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _composite_out(composite: Composite) -> CompositeOut:
    schedule = composite.schedule
    return CompositeOut(
        connector_id=schedule.connector_id,
        schedule_start=schedule.schedule_start,
        duration=schedule.duration,
        charging_rate_unit=str(schedule.charging_rate_unit),
        charging_schedule_period=[
            PeriodOut(
                start_period=period.start_period,
                limit=_float(period.limit),
                number_phases=period.number_phases,
            )
            for period in schedule.charging_schedule_period
        ],
        min_charging_rate=_float(schedule.min_charging_rate),
        ignored_profiles=[
            IgnoredOut(
                charging_profile_id=item.charging_profile_id,
                connector_id=item.connector_id,
                reason=item.reason,
            )
            for item in composite.ignored
        ],
    )
