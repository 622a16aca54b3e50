"""Local authorization lists (spec 3.5.2, 5.10, 5.15): the policies that choose which id tags
a charge point's list holds, what the CSMS believes each charge point holds, and the operator's
pushes.

    PUT  /local-list-policies/{name}                  {kind, idTags, description}
    PUT  /charge-points/{id}/local-list/policy        {policy}
    GET  /charge-points/{id}/local-list               version, entries, pending changes, ...
    POST /charge-points/{id}/local-list/send          {updateType, listVersion?} (?dryRun=true)
    POST /charge-points/{id}/local-list/version       GetLocalListVersion

What is sent is predictable: GET shows `nextVersion` and the `pendingChanges` a Differential
carries; `listVersion` in the send body fixes the version of the first message (a list longer
than SendLocalListMaxLength goes as a Full message and Differentials, one version up each), and
`dryRun` answers the messages without sending them. The generic command endpoint still sends any
schema-valid SendLocalList or GetLocalListVersion; their answers are recorded the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import Field, StringConstraints, model_validator

from csms.api.commands import answer
from csms.api.deps import known_charge_point, services_of
from csms.api.models import Model
from csms.features.context import Services
from csms.features.local_list import sync as local_auth_list
from csms.features.local_list.plan import (
    authorization_data,
    desired_entries,
    removal_data,
    shown_status,
)
from csms.features.local_list.sync import LocalListRefused, LocalListView
from csms.ocpp16 import UpdateType
from csms.ocppj import CallResult
from csms.storage import LocalListPolicy

router = APIRouter(tags=["local authorization list"])

ConnectTimeout = Annotated[
    float, Query(ge=0, le=600, description="Wait up to this many seconds for it to connect")
]
PolicyName = Annotated[str, Path(min_length=1, max_length=64)]
IdToken = Annotated[str, StringConstraints(min_length=1, max_length=20)]  # CiString20, 7.28


class LastUpdateOut(Model):
    update_type: str
    list_version: int
    status: str | None  # the charge point's answer; null: none came
    at: datetime


class LocalListOut(Model):
    """What the CSMS believes a charge point's local list holds, and what it would send."""

    charge_point_id: str
    policy: str | None
    # Unknown | InSync | PendingChanges (InSync, with pending changes) | Mismatch | Failed |
    # NotSupported
    status: str
    version: int | None
    reported_version: int | None
    reconciled_at: datetime | None
    last_update: LastUpdateOut | None
    error: str | None
    next_version: int
    full_update_due: bool
    local_auth_list_max_length: int | None
    send_local_list_max_length: int | None
    # The entries as SendLocalList carries them (AuthorizationData, spec 7.1).
    entries: list[dict[str, Any]]
    desired_count: int
    pending_changes: list[dict[str, Any]]

    @classmethod
    def of(cls, seen: LocalListView) -> LocalListOut:
        local_list = seen.local_list
        last = None
        if local_list.last_update_at is not None:
            assert local_list.last_update_type is not None
            assert local_list.last_update_version is not None
            last = LastUpdateOut(
                update_type=local_list.last_update_type,
                list_version=local_list.last_update_version,
                status=local_list.last_update_status,
                at=local_list.last_update_at,
            )
        pending = [removal_data(id_tag) for id_tag in seen.pending.removals]
        pending += [authorization_data(tag) for tag in seen.pending.upserts]
        return cls(
            charge_point_id=local_list.charge_point_id,
            policy=local_list.policy,
            status=shown_status(local_list.status, len(seen.pending)),
            version=local_list.version,
            reported_version=local_list.reported_version,
            reconciled_at=local_list.reconciled_at,
            last_update=last,
            error=local_list.error,
            next_version=seen.next_version,
            full_update_due=seen.full_update_due,
            local_auth_list_max_length=seen.local_auth_list_max_length,
            send_local_list_max_length=seen.send_local_list_max_length,
            entries=[_entry(tag) for tag in seen.entries],
            desired_count=seen.desired,
            pending_changes=pending,
        )


def _entry(tag: Any) -> dict[str, Any]:
    try:
        return authorization_data(tag)
    except ValueError:  # a status no AuthorizationStatus has (sent through the generic endpoint)
        return {"idTag": tag.id_tag, "idTagInfo": {"status": tag.status}}


class PolicyAssignmentIn(Model):
    policy: str | None = Field(description="The policy's name; null: no policy (not managed)")


class SendIn(Model):
    update_type: Literal["Full", "Differential"] = "Full"
    # The version of the first message; default: the list's nextVersion (errata 3.52: >= 1).
    list_version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class MessageOut(Model):
    request: dict[str, Any]  # the SendLocalList.req payload
    status: str | None  # the charge point's answer; null: none (see error) or a dry run
    error: str | None = None


class SendOut(Model):
    dry_run: bool
    messages: list[MessageOut]
    local_list: LocalListOut


class VersionOut(Model):
    list_version: int  # as the charge point answered (spec 6.28)
    local_list: LocalListOut


class PolicyIn(Model):
    kind: Literal["all", "parentIdTags", "idTags"]
    # parentIdTags: the group tags; idTags: the tags of the list; nothing for all.
    id_tags: list[IdToken] = Field(default_factory=list, max_length=100_000)
    description: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="after")
    def _tags_for_kind(self) -> PolicyIn:
        if self.kind == "all" and self.id_tags:
            raise ValueError("a policy of kind all names no idTags")
        return self


class PolicyOut(Model):
    name: str
    kind: str
    id_tags: list[str]
    description: str | None
    charge_points: list[str]  # the charge points it is assigned to
    size: int  # the id tags it selects now

    @classmethod
    async def of(cls, services: Services, policy: LocalListPolicy) -> PolicyOut:
        assigned = await services.store.list_local_lists(policy.name)
        selected = desired_entries(policy, await services.store.list_id_tags())
        return cls(
            name=policy.name,
            kind=policy.kind,
            id_tags=list(policy.id_tags),
            description=policy.description,
            charge_points=[local_list.charge_point_id for local_list in assigned],
            size=len(selected),
        )


async def _local_list(services: Services, charge_point_id: str) -> LocalListOut:
    return LocalListOut.of(await local_auth_list.view(services, charge_point_id))


# -- a charge point's list ----------------------------------------------------------------------


@router.get("/charge-points/{charge_point_id}/local-list")
async def get_local_list(request: Request, charge_point_id: str) -> LocalListOut:
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    return await _local_list(services, charge_point_id)


@router.put("/charge-points/{charge_point_id}/local-list/policy")
async def assign_policy(
    request: Request, charge_point_id: str, body: PolicyAssignmentIn
) -> LocalListOut:
    """Outside certification mode the charge point then gets its list."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    if body.policy is not None and await services.store.get_local_list_policy(body.policy) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"Unknown local list policy {body.policy!r}"
        )
    await services.store.assign_local_list_policy(charge_point_id, body.policy)
    local_auth_list.policy_assigned(services, charge_point_id)
    return await _local_list(services, charge_point_id)


@router.post(
    "/charge-points/{charge_point_id}/local-list/send",
    responses={
        409: {"description": "Not connected, or the CSMS will not send it (see detail)"},
    },
)
async def send_local_list(
    request: Request,
    charge_point_id: str,
    body: SendIn,
    connect_timeout: ConnectTimeout = 0.0,
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
) -> SendOut:
    """SendLocalList (spec 5.15): the Full list the policy selects, or a Differential of the
    pending changes (none pending: nothing is sent). Refused with 409 and the reason, nothing
    sent, when the list is longer than the charge point's LocalAuthListMaxLength, when it has
    no policy, or for a Differential when the CSMS does not know what it holds."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    update_type = UpdateType(body.update_type)
    try:
        if dry_run:
            payloads = await local_auth_list.plan(
                services, charge_point_id, update_type, list_version=body.list_version
            )
            messages = [MessageOut(request=payload, status=None) for payload in payloads]
        else:
            exchanges = await local_auth_list.send_update(
                services,
                charge_point_id,
                update_type,
                list_version=body.list_version,
                connect_timeout=connect_timeout,
            )
            messages = [
                MessageOut(request=e.request, status=e.answer, error=e.error) for e in exchanges
            ]
    except LocalListRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return SendOut(
        dry_run=dry_run,
        messages=messages,
        local_list=await _local_list(services, charge_point_id),
    )


@router.post("/charge-points/{charge_point_id}/local-list/version", response_model=VersionOut)
async def get_local_list_version(
    request: Request, charge_point_id: str, connect_timeout: ConnectTimeout = 0.0
) -> JSONResponse:
    """GetLocalListVersion (spec 5.10), compared with the version the CSMS believes installed
    (`localList.status` Mismatch: a Full list is due)."""
    services = services_of(request)
    await known_charge_point(services, charge_point_id)
    sent = await local_auth_list.read_version(
        services, charge_point_id, connect_timeout=connect_timeout
    )
    if not isinstance(sent.response, CallResult):
        return answer(sent)
    out = VersionOut(
        list_version=sent.response.payload["listVersion"],
        local_list=await _local_list(services, charge_point_id),
    )
    return JSONResponse(out.model_dump(mode="json", by_alias=True))


# -- policies ----------------------------------------------------------------------------------


@router.get("/local-list-policies")
async def list_policies(request: Request) -> list[PolicyOut]:
    services = services_of(request)
    return [
        await PolicyOut.of(services, policy)
        for policy in await services.store.list_local_list_policies()
    ]


@router.get("/local-list-policies/{name}")
async def get_policy(request: Request, name: PolicyName) -> PolicyOut:
    services = services_of(request)
    policy = await services.store.get_local_list_policy(name)
    if policy is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown local list policy {name!r}")
    return await PolicyOut.of(services, policy)


@router.put("/local-list-policies/{name}")
async def put_policy(request: Request, name: PolicyName, body: PolicyIn) -> PolicyOut:
    """Create or replace; outside certification mode its charge points get the change."""
    services = services_of(request)
    policy = LocalListPolicy(
        name=name, kind=body.kind, id_tags=tuple(body.id_tags), description=body.description
    )
    await services.store.put_local_list_policy(policy)
    await local_auth_list.policy_changed(services, name)
    return await PolicyOut.of(services, policy)


@router.delete(
    "/local-list-policies/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "Charge points are still assigned to it"}},
)
async def delete_policy(request: Request, name: PolicyName) -> Response:
    services = services_of(request)
    assigned = await services.store.list_local_lists(name)
    if assigned:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"local list policy {name!r} is assigned to "
            + ", ".join(local_list.charge_point_id for local_list in assigned),
        )
    if not await services.store.delete_local_list_policy(name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown local list policy {name!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
