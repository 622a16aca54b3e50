"""The console's pages for reservations, local list policies, firmware images and charger
profiles (docs/console.md): the records, and for operators the forms that change them.

The forms are sent by the page's script (console/static/console.js, `form.api`) to the operator
API's own routes, as JSON (multipart for an upload) with the session's CSRF token: the same
validation, the same roles (RequestGuard: a viewer gets 403), the same audit log entries as any
API client. The page shows the API's answer, or its 4xx message naming the field.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from csms.api.deps import services_of
from csms.console.auth import User
from csms.console.pages import _events_from, _page, table_of
from csms.quirks.profiles import rule_fields
from csms.storage import ACTIVE_RESERVATION_STATES
from csms.storage.records import LocalList

router = APIRouter(include_in_schema=False, dependencies=[Depends(_events_from)])

# Charge point ids offered to the forms' id fields (a datalist: any id may be typed).
SUGGESTED_CHARGE_POINTS = 200


async def _charge_point_ids(request: Request) -> list[str]:
    found, _ = await services_of(request).store.charge_point_page(limit=SUGGESTED_CHARGE_POINTS)
    return [cp.id for cp in found]


@router.get("/reservations")
async def reservations_page(request: Request, principal: User) -> Response:
    reservations = await services_of(request).store.list_reservations()
    active = {str(state) for state in ACTIVE_RESERVATION_STATES}
    return _page(
        request,
        "reservations.html",
        principal,
        reservations=reservations,
        active_states=active,
        charge_points=await _charge_point_ids(request),
    )


@router.get("/local-lists")
async def local_lists_page(request: Request, principal: User) -> Response:
    store = services_of(request).store
    policies = await store.list_local_list_policies()
    lists: list[LocalList] = await store.list_local_lists()
    return _page(
        request,
        "local_lists.html",
        principal,
        policies=policies,
        lists=lists,
        lists_table=table_of(lists),
        charge_points=await _charge_point_ids(request),
    )


@router.get("/firmware")
async def firmware_page(request: Request, principal: User) -> Response:
    images = await services_of(request).store.list_firmware_images()
    return _page(
        request,
        "firmware.html",
        principal,
        images=images,
        charge_points=await _charge_point_ids(request),
    )


# What each rule does, in a word (docs/charger-compatibility.md has the whole).
RULE_HINTS = {
    "capDates": "dates after 2037 sent as 2037-12-31T23:59:59Z",
    "startSchedule": "Absolute profiles always carry startSchedule",
    "maxKeys": "GetConfiguration keys per request",
    "txDefaultFallback": "falls back to its TxDefaultProfile",
    "localLimitAmps": "its own maximum, A per phase",
    "heartbeatInterval": "seconds answered at boot (1-86400)",
}


@router.get("/charger-profiles")
async def charger_profiles_page(request: Request, principal: User) -> Response:
    """The built-in profiles (read-only) and the operators' (forms to the API's
    PUT/DELETE /api/v1/charger-profiles/{name}: docs/charger-compatibility.md)."""
    services = services_of(request)
    profiles = await services.charger_profiles.all(services.store)
    return _page(
        request,
        "charger_profiles.html",
        principal,
        profiles=profiles,
        operators=[p for p in profiles if not p.builtin],
        rule_fields=[(*field, RULE_HINTS.get(field[0], "")) for field in rule_fields()],
    )
