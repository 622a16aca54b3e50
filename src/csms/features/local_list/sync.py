"""Local Auth List Management profile (spec 3.5.2, 5.10, 5.15; errata 3.52).

The CSMS owns each charge point's list: a policy (plan.PolicyKind) chooses which of
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

import logging
from dataclasses import dataclass

from csms.features.commands import CommandFailed
from csms.features.context import Context, Services
from csms.features.local_list.plan import (
    LOCAL_AUTH_LIST_MAX_LENGTH,
    SEND_LOCAL_LIST_MAX_LENGTH,
    Changes,
    ListStatus,
    changes,
    configured_limit,
    next_version,
    selects,
)
from csms.features.local_list.updates import (
    FULL_RESENDS,
    Exchange,
    LocalListRefused,
    automatic,
    converging,
    deliver,
    desired_list,
    plan,
    read_version,
    send_update,
)
from csms.ocpp16 import ChargePointErrorCode, UpdateType
from csms.ocppj import CallResult
from csms.storage import IdTag, LocalList

__all__ = [
    "FULL_RESENDS",
    "Exchange",
    "LocalListRefused",
    "LocalListView",
    "after_accepted_boot",
    "converge",
    "id_tag_changed",
    "id_tags_imported",
    "plan",
    "policy_assigned",
    "policy_changed",
    "read_version",
    "run_local_list_sync",
    "send_update",
    "status_reported",
    "view",
]

log = logging.getLogger("csms.features.local_auth_list")


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
    desired = await desired_list(services, local_list)
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


# -- acting on its own (outside certification mode) -------------------------------------------


async def converge(services: Services, charge_point_id: str, *, reconcile: bool = False) -> None:
    """Bring one charge point's list to what its policy selects: read its version first if
    `reconcile`; a Full list when the CSMS does not know what it holds, else the pending
    Differential. Charge points without a policy are left alone."""
    local_list = await services.store.local_list_of(charge_point_id)
    if local_list.policy is None:
        return
    token = converging.set(True)
    try:
        async with services.local_lists.lock(charge_point_id):
            if reconcile:
                sent = await read_version(services, charge_point_id)
                if not isinstance(sent.response, CallResult):
                    log.info("%s: GetLocalListVersion: %s", charge_point_id, sent.response)
                    return
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
                await deliver(services, charge_point_id, messages, connect_timeout=0.0, resend=True)
            elif local_list.error is not None:
                await services.store.record_local_list_error(charge_point_id, None)
    except CommandFailed as exc:
        log.info("%s: local list not brought up to date: %s", charge_point_id, exc)
    finally:
        converging.reset(token)


async def run_local_list_sync(services: Services) -> None:
    """The owned task of the automation (app.py runs it for the life of the server)."""

    async def work(charge_point_id: str, reconcile: bool) -> None:
        await converge(services, charge_point_id, reconcile=reconcile)

    await services.local_lists.run(work)


async def id_tag_changed(services: Services, id_tag: str, previous: IdTag | None) -> None:
    """After an id tag was stored or deleted (`previous`: as it was before, if it was): the
    charge points that hold it, and those whose policy selected it before or selects it now,
    get their Differential update. In certification mode the change only stays pending (it is
    part of each list's pending changes already)."""
    if not automatic(services):
        return
    store = services.store
    concerned = set(await store.local_list_holders(id_tag))
    versions = (previous, await store.get_id_tag(id_tag))
    for tag in (version for version in versions if version is not None):
        for policy in await store.list_local_list_policies():
            if selects(policy, tag):
                concerned.update(
                    cp.charge_point_id for cp in await store.list_local_lists(policy.name)
                )
    for charge_point_id in sorted(concerned):
        services.local_lists.request(charge_point_id)


async def id_tags_imported(services: Services) -> None:
    """After a bulk import of id tags: every charge point that holds a list or whose list a
    policy selects gets its update, once (those with nothing pending send nothing)."""
    if not automatic(services):
        return
    store = services.store
    concerned = set(await store.local_list_holders_of_any())
    for policy in await store.list_local_list_policies():
        concerned.update(cp.charge_point_id for cp in await store.list_local_lists(policy.name))
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


def status_reported(ctx: Context, error_code: str) -> None:
    """Spec 3.5.2: a StatusNotification with errorCode LocalListConflict (on connector 0) says
    the charge point's list disagrees with what the CSMS answered: outside certification mode
    the CSMS no longer trusts what it believes installed and sends its Full list (after the
    answer). In certification mode the reported status is all there is."""
    if error_code != ChargePointErrorCode.LOCAL_LIST_CONFLICT or not automatic(ctx.services):
        return
    services, charge_point_id = ctx.services, ctx.charge_point_id

    async def resend() -> None:
        if (await services.store.local_list_of(charge_point_id)).policy is None:
            return
        await services.store.record_local_list_error(
            charge_point_id,
            "the charge point reported a LocalListConflict",
            status=ListStatus.FAILED,
        )
        services.local_lists.request(charge_point_id)

    ctx.after_reply(resend)


def after_accepted_boot(ctx: Context) -> None:
    """Once the BootNotification is answered: read the list version and bring the list up to
    date (spec 5.10; charge points without a policy are left alone)."""
    if not automatic(ctx.services):
        return
    services, charge_point_id = ctx.services, ctx.charge_point_id

    async def reconcile() -> None:
        services.local_lists.request(charge_point_id, reconcile=True)

    ctx.after_reply(reconcile)
