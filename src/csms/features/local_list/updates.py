"""Local list updates (spec 5.10, 5.15): what the answers to SendLocalList and
GetLocalListVersion change, the updates the CSMS plans from a charge point's policy, and how
they are sent (in order, stopping at the first not Accepted; outside certification mode the
Full list again after a failure, at most FULL_RESENDS times). See sync.py.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass
from typing import Any, Final

from csms.features import commands
from csms.features.commands import CommandFailed, Sent, on_result
from csms.features.context import Services
from csms.features.local_list.plan import (
    ListStatus,
    Payload,
    changes,
    desired_entries,
    differential_update,
    full_update,
    next_version,
    per_message_limit,
    read_update,
    shown_status,
    too_long,
)
from csms.ocpp16 import Action, UpdateStatus, UpdateType
from csms.ocppj import CallResult, ErrorCode
from csms.storage import IdTag, LocalList, LocalListUpdate

log = logging.getLogger("csms.features.local_auth_list")

# Full lists sent again after an update failed, per delivery (spec 5.15 "SHOULD retry").
FULL_RESENDS: Final = 2

# Set while the CSMS itself brings a list up to date: the answer hooks then leave the follow-up
# (a Full after a failure or a mismatch) to it instead of asking for another round.
converging: contextvars.ContextVar[bool] = contextvars.ContextVar(
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
    if status == ListStatus.FAILED and automatic(services) and not converging.get():
        services.local_lists.request(sent.charge_point_id)
    return {"localListStatus": await _shown(services, sent.charge_point_id, status)}


async def _shown(services: Services, charge_point_id: str, status: str) -> str:
    """The status recomputed against the policy: PendingChanges when InSync is not all."""
    if status != ListStatus.IN_SYNC:
        return status
    store = services.store
    local_list = await store.local_list_of(charge_point_id)
    if local_list.policy is None:
        return status
    desired = await desired_list(services, local_list)
    pending = changes(await store.local_list_entries(charge_point_id), desired)
    return shown_status(status, len(pending))


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
    if status == ListStatus.MISMATCH and automatic(services) and not converging.get():
        services.local_lists.request(sent.charge_point_id)
    return {"localListStatus": await _shown(services, sent.charge_point_id, status)}


async def desired_list(services: Services, local_list: LocalList) -> dict[str, IdTag]:
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
    desired = await desired_list(services, local_list)
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
        return await deliver(
            services,
            charge_point_id,
            messages,
            connect_timeout=connect_timeout,
            resend=automatic(services),
        )


async def deliver(
    services: Services,
    charge_point_id: str,
    messages: list[Payload],
    *,
    connect_timeout: float,
    resend: bool,
) -> list[Exchange]:
    token = converging.set(True)
    try:
        return await _deliver_resending(
            services, charge_point_id, messages, connect_timeout=connect_timeout, resend=resend
        )
    finally:
        converging.reset(token)


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
            await _record_unanswered(services, charge_point_id, payload, ListStatus.FAILED)
            break
        if not isinstance(sent.response, CallResult):
            error = f"CALLERROR {sent.response.error_code}: {sent.response.error_description}"
            # J 4.2.3: NotImplemented / NotSupported: the charge point has no local list.
            if sent.response.error_code in _UNSUPPORTED:
                exchanges.append(
                    Exchange(request=payload, answer=UpdateStatus.NOT_SUPPORTED, error=error)
                )
                status = ListStatus.NOT_SUPPORTED
            else:
                exchanges.append(Exchange(request=payload, answer=None, error=error))
                status = ListStatus.FAILED
            await _record_unanswered(services, charge_point_id, payload, status)
            break
        answer = UpdateStatus(sent.response.payload["status"])
        exchanges.append(Exchange(request=payload, answer=answer))
        if answer != UpdateStatus.ACCEPTED:
            break
    return exchanges


_UNSUPPORTED: Final = frozenset({ErrorCode.NOT_IMPLEMENTED, ErrorCode.NOT_SUPPORTED})


async def _record_unanswered(
    services: Services, charge_point_id: str, payload: Payload, status: ListStatus
) -> None:
    """No answer (the charge point may or may not have installed it: Failed, the CSMS no
    longer knows) or a CALLERROR."""
    await services.store.record_local_list_update(
        LocalListUpdate(
            charge_point_id=charge_point_id,
            update_type=payload["updateType"],
            list_version=payload["listVersion"],
            answer=None,
            status=status,
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
