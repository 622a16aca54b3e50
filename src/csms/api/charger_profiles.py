"""/api/v1/charger-profiles: what the CSMS knows about charge point models and firmware, and
the rules that adapt what it sends them (docs/charger-compatibility.md). The built-in profiles
are listed and cannot be changed; operators add, replace and delete their own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import ConfigDict, Field

from csms.api.deps import known_charge_point, services_of
from csms.api.models import Model
from csms.features.charger_profiles import profile_of
from csms.quirks import ChargerProfile
from csms.quirks.profiles import HEARTBEAT_INTERVAL_RANGE
from csms.storage import ChargerProfileRecord

router = APIRouter(tags=["charger profiles"])

ProfileName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Pattern = Annotated[str, Field(min_length=1, max_length=200)]


class RulesIn(Model):
    """Each rule is off (or unset) unless given (docs/charger-compatibility.md); an unknown
    one is refused."""

    model_config = Model.model_config | ConfigDict(extra="forbid")

    cap_dates: bool = False
    start_schedule: bool = False
    max_keys: Annotated[int, Field(ge=1, le=1000)] | None = None
    tx_default_fallback: bool = False
    local_limit_amps: Annotated[float, Field(gt=0, le=10_000)] | None = None
    # Seconds, a whole JSON number: no true, 30.0 or "30" (strict).
    heartbeat_interval: (
        Annotated[
            int,
            Field(strict=True, ge=HEARTBEAT_INTERVAL_RANGE[0], le=HEARTBEAT_INTERVAL_RANGE[1]),
        ]
        | None
    ) = None


class ChargerProfileIn(Model):
    """Regular expressions (matched in full, ignoring case) on the BootNotification's
    chargePointVendor, chargePointModel and firmwareVersion, and/or charge point ids."""

    model_config = Model.model_config | ConfigDict(extra="forbid")

    description: Annotated[str, Field(max_length=500)] = ""
    vendor: Pattern | None = None
    model: Pattern | None = None
    firmware_version: Pattern | None = None
    charge_point_ids: Annotated[
        list[Annotated[str, Field(max_length=48)]], Field(max_length=1000)
    ] = []
    rules: RulesIn = RulesIn()


class ChargerProfileOut(Model):
    name: str
    description: str
    vendor: str | None
    model: str | None
    firmware_version: str | None
    charge_point_ids: list[str]
    rules: dict[str, Any]
    builtin: bool

    @classmethod
    def of(cls, profile: ChargerProfile) -> ChargerProfileOut:
        return cls(
            name=profile.name,
            description=profile.description,
            vendor=profile.vendor,
            model=profile.model,
            firmware_version=profile.firmware_version,
            charge_point_ids=list(profile.charge_point_ids),
            rules=profile.rules.as_json(),
            builtin=profile.builtin,
        )


class AdaptationOut(Model):
    rule: str
    action: str
    detail: str


class ChargePointProfilesOut(Model):
    """The profiles that describe a charge point (by its last BootNotification), the rules in
    force (with the server's cap_dates setting) and the adaptations made since start-up."""

    charge_point_id: str
    vendor: str | None
    model: str | None
    firmware_version: str | None
    profiles: list[str]
    rules: dict[str, Any]
    adaptations: list[AdaptationOut]


@router.get("/charger-profiles")
async def list_charger_profiles(request: Request) -> list[ChargerProfileOut]:
    services = services_of(request)
    return [ChargerProfileOut.of(p) for p in await services.charger_profiles.all(services.store)]


@router.put("/charger-profiles/{name}")
async def put_charger_profile(
    request: Request, name: ProfileName, body: ChargerProfileIn, response: Response
) -> ChargerProfileOut:
    """Add or replace an operator's profile. 409 for a built-in name; 422 naming the field
    for a pattern that is not a regular expression or a profile that matches nothing."""
    services = services_of(request)
    profiles = services.charger_profiles
    if any(p.builtin and p.name == name for p in await profiles.all(services.store)):
        raise HTTPException(status.HTTP_409_CONFLICT, f"{name!r} is a built-in profile")
    record = ChargerProfileRecord(
        name=name,
        description=body.description,
        vendor=body.vendor,
        model=body.model,
        firmware_version=body.firmware_version,
        charge_point_ids=tuple(body.charge_point_ids),
        rules=body.rules.model_dump(by_alias=True, exclude_defaults=True),
        updated_at=services.clock.now(),
    )
    profile = _checked(record)
    created = await services.store.save_charger_profile(record)
    profiles.changed()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return ChargerProfileOut.of(profile)


def _checked(record: ChargerProfileRecord) -> ChargerProfile:
    if not (record.vendor or record.model or record.firmware_version or record.charge_point_ids):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "a profile needs vendor, model, firmwareVersion or chargePointIds: it would "
            "match no charge point",
        )
    try:
        return profile_of(record)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.delete("/charger-profiles/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_charger_profile(request: Request, name: ProfileName) -> Response:
    services = services_of(request)
    profiles = services.charger_profiles
    if any(p.builtin and p.name == name for p in await profiles.all(services.store)):
        raise HTTPException(status.HTTP_409_CONFLICT, f"{name!r} is a built-in profile")
    if not await services.store.delete_charger_profile(name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown charger profile {name!r}")
    profiles.changed()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/charge-points/{charge_point_id}/charger-profile")
async def charger_profile_of(request: Request, charge_point_id: str) -> ChargePointProfilesOut:
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    described = await services.charger_profiles.describe(services, charge_point_id)
    return ChargePointProfilesOut(
        charge_point_id=charge_point_id,
        vendor=described.vendor,
        model=described.model,
        firmware_version=described.firmware_version,
        profiles=[p.name for p in described.profiles],
        rules=described.rules.as_json(),
        adaptations=[
            AdaptationOut(rule=a.rule, action=a.action, detail=a.detail)
            for a in services.charger_profiles.adaptations(charge_point_id)
        ],
    )
