"""Local Auth List Management profile (spec 3.5.2, 5.10, 5.15; errata 3.52).

The CSMS owns each charge point's list: a policy (local_list_plan.PolicyKind) chooses which of
its id tags the list holds, and the CSMS remembers per charge point the version and entries it
believes installed, the highest version it sent, and what GetLocalListVersion last reported.
What a Differential update would carry (the pending changes) is the difference between the
believed entries and what the policy selects now, so a change to an id tag is pending for every
charge point concerned as soon as it is stored.

Outside certification mode the CSMS acts on its own (switch: Settings.sync_local_lists): after a
change to an id tag or a policy it sends the Differential update to each charge point concerned;
after an Accepted boot it reads the list version and sends a Full list when the version is not
the one it believes (or its Differential when it is); after a Failed or VersionMismatch answer it
sends the Full list again (spec 5.15), at most FULL_RESENDS times per delivery. In certification
mode it sends nothing on its own (catalogue 2.6-1): the operator API shows what is pending or
mismatched and pushes it.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass
from typing import Any, Final

from csms.features import commands
from csms.features.commands import CommandFailed, Sent, on_result
from csms.features.context import Context, Services
from csms.features.local_list_plan import (
    LOCAL_AUTH_LIST_MAX_LENGTH,
    SEND_LOCAL_LIST_MAX_LENGTH,
    Changes,
    ListStatus,
    Payload,
    changes,
    configured_limit,
    desired_entries,
    differential_update,
    full_update,
    next_version,
    per_message_limit,
    read_update,
    selects,
    too_long,
)
from csms.ocpp16 import Action, UpdateStatus, UpdateType
from csms.ocppj import CallResult
from csms.storage import IdTag, LocalList, LocalListUpdate

log = logging.getLogger("csms.features.local_auth_list")

# Full lists sent again after an update failed, per delivery (spec 5.15 "SHOULD retry").
FULL_RESENDS: Final = 2

# Set while the CSMS itself brings a list up to date: the answer hooks then leave the follow-up
# (a Full after a failure or a mismatch) to it instead of asking for another round.
_converging: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "csms_local_list_converging", default=False
)


class LocalListRefused(Exception):
    """An update the CSMS will not send (nothing was sent); the message says why."""


def automatic(services: Services) -> bool:
    settings = services.settings
    return not settings.certification_mode and settings.sync_local_lists


# -- what the answers change ------------------------------------------------------------------

_STATUS_AFTER: Final = {
    UpdateStatus.ACCEPTED: ListStatus.IN_SYNC,
    UpdateStatus.FAILED: ListStatus.FAILED,
    UpdateStatus.VERSION_MISMATCH: ListStatus.FAILED,
    UpdateStatus.NOT_SUPPORTED: ListStatus.NOT_SUPPORTED,
}


@on_result(Action.SEND_LOCAL_LIST)
async def _local_list_sent(services: Services, sent: Sent) -> dict[str, Any]:
    """Spec 5.15: an Accepted update is what the charge point now holds; after a Failed or
    VersionMismatch the CSMS no longer knows, and sends the Full list (when it acts on its
    own). Any SendLocalList counts, the generic command endpoint's too."""
    assert isinstance(sent.response, CallResult)
    answer = UpdateStatus(sent.response.payload["status"])
    update = read_update(sent.request)
    status = _STATUS_AFTER[answer]
    await services.store.record_local_list_update(
        LocalListUpdate(
            charge_point_id=sent.charge_point_id,
            update_type=update.update_type,
            list_version=update.list_version,
            answer=answer,
            status=status,
            at=services.clock.now(),
            applied=answer == UpdateStatus.ACCEPTED,
            entries=update.entries,
            removals=update.removals,
        )
    )
    if status == ListStatus.FAILED and automatic(services) and not _converging.get():
        services.local_lists.request(sent.charge_point_id)
    return {"localListStatus": status}


@on_result(Action.GET_LOCAL_LIST_VERSION)
async def _local_list_version_read(services: Services, sent: Sent) -> dict[str, Any]:
    """Spec 5.10: -1 = no local list support, 0 = empty list. Another version than the CSMS
    believes installed means it no longer knows the list: a Full update is due."""
    assert isinstance(sent.response, CallResult)
    reported = int(sent.response.payload["listVersion"])
    believed = await services.store.local_list_of(sent.charge_point_id)
    empty = False
    if reported == -1:
        status = ListStatus.NOT_SUPPORTED
    elif reported == 0 and believed.version in (None, 0):
        status, empty = ListStatus.IN_SYNC, True
    elif reported == believed.version:
        status = ListStatus.IN_SYNC
    else:
        status = ListStatus.MISMATCH
    await services.store.record_local_list_version(
        sent.charge_point_id, reported, status=status, at=services.clock.now(), empty=empty
    )
    if status == ListStatus.MISMATCH and automatic(services) and not _converging.get():
        services.local_lists.request(sent.charge_point_id)
    return {"localListStatus": status}


# -- what the operator sees -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalListView:
    """A charge point's list as the CSMS knows it, and what it would send next."""

    local_list: LocalList
    entries: list[IdTag]  # believed installed
    desired: int  # entries the policy selects now
    pending: Changes  # what a Differential would carry
    next_version: int
    local_auth_list_max_length: int | None
    send_local_list_max_length: int | None

    @property
    def full_update_due(self) -> bool:
        """The CSMS does not know what the charge point holds: only a Full list helps."""
        return self.local_list.status != ListStatus.IN_SYNC or self.local_list.version is None


async def view(services: Services, charge_point_id: str) -> LocalListView:
    store = services.store
    local_list = await store.local_list_of(charge_point_id)
    entries = await store.local_list_entries(charge_point_id)
    desired = await _desired(services, local_list)
    configuration = await store.configuration_of(charge_point_id)
    return LocalListView(
        local_list=local_list,
        entries=entries,
        desired=len(desired),
        pending=changes(entries, desired) if local_list.policy is not None else Changes(),
        next_version=next_version(local_list),
        local_auth_list_max_length=configured_limit(configuration, LOCAL_AUTH_LIST_MAX_LENGTH),
        send_local_list_max_length=configured_limit(configuration, SEND_LOCAL_LIST_MAX_LENGTH),
    )


async def _desired(services: Services, local_list: LocalList) -> dict[str, IdTag]:
    if local_list.policy is None:
        return {}
    policy = await services.store.get_local_list_policy(local_list.policy)
    return desired_entries(policy, await services.store.list_id_tags())


# -- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One SendLocalList: the request, the charge point's answer (None: none came), and why
    not (a CALLERROR, a timeout, ...)."""

    request: Payload
    answer: UpdateStatus | None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.answer in (None, UpdateStatus.FAILED, UpdateStatus.VERSION_MISMATCH)


async def plan(
    services: Services,
    charge_point_id: str,
    update_type: UpdateType,
    *,
    list_version: int | None = None,
) -> list[Payload]:
    """The SendLocalList payloads that bring the charge point's list to what its policy
    selects: a Full list, or a Differential of the pending changes ([] if none). Raises
    LocalListRefused when the CSMS cannot send it."""
    store = services.store
    local_list = await store.local_list_of(charge_point_id)
    if local_list.policy is None:
        raise LocalListRefused(
            f"{charge_point_id} has no local list policy: assign one first (a policy of "
            "kind idTags without tags empties the list)"
        )
    desired = await _desired(services, local_list)
    configuration = await store.configuration_of(charge_point_id)
    reason = too_long(len(desired), configuration)
    if reason is not None:
        raise LocalListRefused(reason)
    per_message = per_message_limit(configuration)
    version = next_version(local_list) if list_version is None else list_version
    if update_type == UpdateType.FULL:
        return full_update(list(desired.values()), version, per_message)
    if local_list.status != ListStatus.IN_SYNC or local_list.version is None:
        raise LocalListRefused(
            f"the CSMS does not know what the list of {charge_point_id} holds (status "
            f"{local_list.status}): send a Full list"
        )
    if version <= local_list.version:
        raise LocalListRefused(
            f"a Differential needs a listVersion above the installed {local_list.version} "
            "(spec 7.47: VersionMismatch)"
        )
    pending = changes(await store.local_list_entries(charge_point_id), desired)
    return differential_update(pending, version, per_message)


async def send_update(
    services: Services,
    charge_point_id: str,
    update_type: UpdateType,
    *,
    list_version: int | None = None,
    connect_timeout: float = 0.0,
) -> list[Exchange]:
    """The operator's update (spec 5.15): plan it, send it, and outside certification mode
    resend the Full list after a failure. CommandFailed if nothing could be sent."""
    async with services.local_lists.lock(charge_point_id):
        messages = await plan(services, charge_point_id, update_type, list_version=list_version)
        return await _deliver(
            services,
            charge_point_id,
            messages,
            connect_timeout=connect_timeout,
            resend=automatic(services),
        )


async def _deliver(
    services: Services,
    charge_point_id: str,
    messages: list[Payload],
    *,
    connect_timeout: float,
    resend: bool,
) -> list[Exchange]:
    token = _converging.set(True)
    try:
        return await _deliver_resending(
            services, charge_point_id, messages, connect_timeout=connect_timeout, resend=resend
        )
    finally:
        _converging.reset(token)


async def _deliver_resending(
    services: Services,
    charge_point_id: str,
    messages: list[Payload],
    *,
    connect_timeout: float,
    resend: bool,
) -> list[Exchange]:
    exchanges = await _send_all(
        services, charge_point_id, messages, connect_timeout=connect_timeout, first=True
    )
    resends = 0
    while resend and exchanges and exchanges[-1].answer != UpdateStatus.ACCEPTED:
        if not exchanges[-1].failed or resends == FULL_RESENDS:
            break
        resends += 1
        try:
            messages = await plan(services, charge_point_id, UpdateType.FULL)
        except LocalListRefused as exc:
            await services.store.record_local_list_error(charge_point_id, str(exc))
            break
        exchanges += await _send_all(
            services, charge_point_id, messages, connect_timeout=0.0, first=False
        )
    return exchanges


async def _send_all(
    services: Services,
    charge_point_id: str,
    messages: list[Payload],
    *,
    connect_timeout: float,
    first: bool,
) -> list[Exchange]:
    """Send the messages in order, up to the first one not Accepted. A message that got no
    answer leaves the list uncertain (Failed). If the very first cannot be sent at all the
    CommandFailed is raised (nothing was sent)."""
    exchanges: list[Exchange] = []
    for index, payload in enumerate(messages):
        try:
            sent = await commands.send(
                services,
                charge_point_id,
                Action.SEND_LOCAL_LIST,
                payload,
                connect_timeout=connect_timeout if index == 0 else 0.0,
            )
        except CommandFailed as exc:
            if first and index == 0 and isinstance(exc, commands.ChargePointOffline):
                raise
            exchanges.append(Exchange(request=payload, answer=None, error=str(exc)))
            await _record_unanswered(services, charge_point_id, payload)
            break
        if not isinstance(sent.response, CallResult):
            error = f"CALLERROR {sent.response.error_code}: {sent.response.error_description}"
            exchanges.append(Exchange(request=payload, answer=None, error=error))
            await _record_unanswered(services, charge_point_id, payload)
            break
        answer = UpdateStatus(sent.response.payload["status"])
        exchanges.append(Exchange(request=payload, answer=answer))
        if answer != UpdateStatus.ACCEPTED:
            break
    return exchanges


async def _record_unanswered(services: Services, charge_point_id: str, payload: Payload) -> None:
    """The charge point may or may not have installed it: the CSMS no longer knows (Failed)."""
    await services.store.record_local_list_update(
        LocalListUpdate(
            charge_point_id=charge_point_id,
            update_type=payload["updateType"],
            list_version=payload["listVersion"],
            answer=None,
            status=ListStatus.FAILED,
            at=services.clock.now(),
        )
    )


async def read_version(
    services: Services, charge_point_id: str, *, connect_timeout: float = 0.0
) -> Sent:
    """GetLocalListVersion (spec 5.10); the answer hook records it and compares."""
    return await commands.send(
        services,
        charge_point_id,
        Action.GET_LOCAL_LIST_VERSION,
        {},
        connect_timeout=connect_timeout,
    )


# -- acting on its own (outside certification mode) -------------------------------------------


async def converge(services: Services, charge_point_id: str, *, reconcile: bool = False) -> None:
    """Bring one charge point's list to what its policy selects: read its version first if
    `reconcile`; a Full list when the CSMS does not know what it holds, else the pending
    Differential. Charge points without a policy are left alone."""
    local_list = await services.store.local_list_of(charge_point_id)
    if local_list.policy is None:
        return
    token = _converging.set(True)
    try:
        async with services.local_lists.lock(charge_point_id):
            if reconcile:
                await read_version(services, charge_point_id)
                local_list = await services.store.local_list_of(charge_point_id)
            if local_list.status == ListStatus.NOT_SUPPORTED:
                return
            in_sync = local_list.status == ListStatus.IN_SYNC and local_list.version is not None
            update_type = UpdateType.DIFFERENTIAL if in_sync else UpdateType.FULL
            try:
                messages = await plan(services, charge_point_id, update_type)
            except LocalListRefused as exc:
                await services.store.record_local_list_error(charge_point_id, str(exc))
                return
            if messages:
                await _deliver(
                    services, charge_point_id, messages, connect_timeout=0.0, resend=True
                )
    except CommandFailed as exc:
        log.info("%s: local list not brought up to date: %s", charge_point_id, exc)
    finally:
        _converging.reset(token)


async def run_local_list_sync(services: Services) -> None:
    """The owned task of the automation (app.py runs it for the life of the server)."""

    async def work(charge_point_id: str, reconcile: bool) -> None:
        await converge(services, charge_point_id, reconcile=reconcile)

    await services.local_lists.run(work)


async def id_tag_changed(services: Services, id_tag: str) -> None:
    """After an id tag was stored or deleted: the charge points that hold it, and those whose
    policy selects it now, get their Differential update. In certification mode the change
    only stays pending (it is part of each list's pending changes already)."""
    if not automatic(services):
        return
    store = services.store
    concerned = set(await store.local_list_holders(id_tag))
    tag = await store.get_id_tag(id_tag)
    if tag is not None:
        for policy in await store.list_local_list_policies():
            if selects(policy, tag):
                concerned.update(
                    cp.charge_point_id for cp in await store.list_local_lists(policy.name)
                )
    for charge_point_id in sorted(concerned):
        services.local_lists.request(charge_point_id)


async def policy_changed(services: Services, name: str) -> None:
    """After a policy was changed: each of its charge points gets its update."""
    if automatic(services):
        for local_list in await services.store.list_local_lists(name):
            services.local_lists.request(local_list.charge_point_id)


def policy_assigned(services: Services, charge_point_id: str) -> None:
    if automatic(services):
        services.local_lists.request(charge_point_id)


def after_accepted_boot(ctx: Context) -> None:
    """Once the BootNotification is answered: read the list version and bring the list up to
    date (spec 5.10; charge points without a policy are left alone)."""
    if not automatic(ctx.services):
        return
    services, charge_point_id = ctx.services, ctx.charge_point_id

    async def reconcile() -> None:
        services.local_lists.request(charge_point_id, reconcile=True)

    ctx.after_reply(reconcile)
