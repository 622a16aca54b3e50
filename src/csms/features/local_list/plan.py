"""The local authorization list as data (spec 3.5.2, 5.15, 6.41, 7.1; errata 3.52): which id
tags a policy selects, the changes between two lists, and the SendLocalList messages that carry
a list or its changes within a charge point's limits. Pure: no I/O, no asyncio.

Versions. errata 3.52: a listVersion is never 0 or -1. Spec 7.47: a Differential whose version
is not greater than the installed one is answered VersionMismatch. So a list longer than
SendLocalListMaxLength (spec 9.2.3) goes as one Full message with the first entries, then
Differential messages with the rest, the versions counting up one per message (v, v+1, ...):
each Differential is newer than what the message before it installed, and the charge point ends
at the last version. (Every chunk with the same version would be refused by a charge point that
follows 7.47.) Versions the CSMS picks only ever grow: the next one is above every version it
believes installed, was told by the charge point, or has sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final

from csms.ocpp16 import (
    AuthorizationData,
    AuthorizationStatus,
    IdTagInfo,
    UpdateType,
    format_timestamp,
    from_payload,
    parse_timestamp,
    to_payload,
)
from csms.storage import Configuration, IdTag, LocalList, LocalListPolicy

LOCAL_AUTH_LIST_MAX_LENGTH: Final = "LocalAuthListMaxLength"  # spec 9.2.2
SEND_LOCAL_LIST_MAX_LENGTH: Final = "SendLocalListMaxLength"  # spec 9.2.3

Payload = dict[str, Any]


class PolicyKind(StrEnum):
    """Which of the CSMS's id tags go into the lists of the charge points of a policy."""

    ALL = "all"  # every id tag
    # The members of these groups (parentIdTag among `id_tags`) and the group tags themselves.
    PARENT_ID_TAGS = "parentIdTags"
    ID_TAGS = "idTags"  # exactly these tags (those the CSMS knows)


class ListStatus(StrEnum):
    """What the CSMS knows of the list a charge point holds."""

    UNKNOWN = "Unknown"  # never learned: no update accepted, no version read
    IN_SYNC = "InSync"  # it holds the version (and so the entries) the CSMS believes
    MISMATCH = "Mismatch"  # GetLocalListVersion reported another version: a Full is due
    FAILED = "Failed"  # the last update failed (Failed, VersionMismatch, no answer): Full due
    NOT_SUPPORTED = "NotSupported"  # SendLocalList NotSupported, or version -1 (spec 5.10)
    # Shown, never stored: InSync, but the policy selects changes not sent yet (after an
    # operator's change, or a SendLocalList through the generic endpoint that left some out).
    PENDING_CHANGES = "PendingChanges"


def shown_status(status: str, pending: int) -> str:
    """The status the operator sees: never InSync next to pending changes."""
    return ListStatus.PENDING_CHANGES if status == ListStatus.IN_SYNC and pending else status


def tag_key(id_tag: str) -> str:
    """IdToken is a CiString20 (spec 7.28): tags compare case-insensitively."""
    return id_tag.lower()


def as_entry(tag: IdTag) -> IdTag:
    """The tag as a list entry carries it: an expiryDate at the wire's millisecond precision,
    so that an entry read back from a message compares equal to the one planned."""
    if tag.expiry_date is None:
        return tag
    expiry = parse_timestamp(format_timestamp(tag.expiry_date))
    return replace(tag, expiry_date=expiry)


def selects(policy: LocalListPolicy, tag: IdTag) -> bool:
    kind = PolicyKind(policy.kind)
    if kind == PolicyKind.ALL:
        return True
    named = {tag_key(id_tag) for id_tag in policy.id_tags}
    if kind == PolicyKind.ID_TAGS:
        return tag_key(tag.id_tag) in named
    parent = tag.parent_id_tag
    return tag_key(tag.id_tag) in named or (parent is not None and tag_key(parent) in named)


def desired_entries(policy: LocalListPolicy | None, tags: Iterable[IdTag]) -> dict[str, IdTag]:
    """The list a charge point with `policy` should hold, by tag key, in key order. The entry
    of a tag is its stored status, expiryDate and parentIdTag: the charge point judges expiry
    itself (spec 3.5.4), so the list does not change with the time of day."""
    if policy is None:
        return {}
    chosen = {tag_key(tag.id_tag): as_entry(tag) for tag in tags if selects(policy, tag)}
    return dict(sorted(chosen.items()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Changes:
    """What a Differential update carries: entries to add or update, idTags to remove."""

    upserts: tuple[IdTag, ...] = ()
    removals: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.upserts) + len(self.removals)


def _same(a: IdTag, b: IdTag) -> bool:
    return (a.status, a.expiry_date, a.parent_id_tag) == (b.status, b.expiry_date, b.parent_id_tag)


def changes(installed: Iterable[IdTag], desired: Mapping[str, IdTag]) -> Changes:
    """The changes that turn the `installed` list into `desired` (keyed by tag_key)."""
    held = {tag_key(tag.id_tag): as_entry(tag) for tag in installed}
    upserts = tuple(
        tag for key, tag in desired.items() if key not in held or not _same(held[key], tag)
    )
    removals = tuple(held[key].id_tag for key in sorted(held) if key not in desired)
    return Changes(upserts=upserts, removals=removals)


# -- messages ---------------------------------------------------------------------------------


def authorization_data(tag: IdTag) -> Payload:
    """An entry with its idTagInfo (spec 7.1): added or updated (Full: every entry has one)."""
    info = IdTagInfo(
        status=AuthorizationStatus(tag.status),
        expiry_date=tag.expiry_date,
        parent_id_tag=tag.parent_id_tag,
    )
    return to_payload(AuthorizationData(id_tag=tag.id_tag, id_tag_info=info))


def removal_data(id_tag: str) -> Payload:
    """A Differential entry without idTagInfo: the charge point deletes the tag (spec 7.1)."""
    return {"idTag": id_tag}


def _chunks(items: Sequence[Payload], size: int | None) -> list[Sequence[Payload]]:
    if size is None or size >= len(items):
        return [items]
    return [items[start : start + size] for start in range(0, len(items), size)]


def full_update(
    entries: Sequence[IdTag], first_version: int, per_message: int | None
) -> list[Payload]:
    """SendLocalList payloads installing exactly `entries`: a Full message (an empty list
    empties the charge point's, spec 6.41), then Differentials for what did not fit."""
    data = [authorization_data(tag) for tag in entries]
    return [
        {
            "listVersion": first_version + index,
            "updateType": UpdateType.FULL if index == 0 else UpdateType.DIFFERENTIAL,
            "localAuthorizationList": list(chunk),
        }
        for index, chunk in enumerate(_chunks(data, per_message))
    ]


def differential_update(
    pending: Changes, first_version: int, per_message: int | None
) -> list[Payload]:
    """SendLocalList Differential payloads applying `pending`: removals first, so that the list
    never grows past its final length on the way."""
    data = [removal_data(id_tag) for id_tag in pending.removals]
    data += [authorization_data(tag) for tag in pending.upserts]
    if not data:
        return []
    return [
        {
            "listVersion": first_version + index,
            "updateType": UpdateType.DIFFERENTIAL,
            "localAuthorizationList": list(chunk),
        }
        for index, chunk in enumerate(_chunks(data, per_message))
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Update:
    """A SendLocalList payload read back: its entries with idTagInfo, and the idTags it
    removes (Differential entries without idTagInfo)."""

    update_type: UpdateType
    list_version: int
    entries: tuple[IdTag, ...]
    removals: tuple[str, ...]


def read_update(payload: Mapping[str, Any]) -> Update:
    """A schema-valid SendLocalList.req payload (any sender: the generic command endpoint too).
    A Full entry without idTagInfo installs nothing (spec 7.1 requires one there)."""
    entries: list[IdTag] = []
    removals: list[str] = []
    for item in payload.get("localAuthorizationList") or []:
        data = from_payload(AuthorizationData, item)
        info = data.id_tag_info
        if info is None:
            removals.append(data.id_tag)
        else:
            entries.append(
                IdTag(
                    id_tag=data.id_tag,
                    status=str(info.status),
                    expiry_date=info.expiry_date,
                    parent_id_tag=info.parent_id_tag,
                )
            )
    update_type = UpdateType(payload["updateType"])
    return Update(
        update_type=update_type,
        list_version=int(payload["listVersion"]),
        entries=tuple(entries),
        removals=tuple(removals) if update_type == UpdateType.DIFFERENTIAL else (),
    )


# -- versions and limits ----------------------------------------------------------------------


def next_version(local_list: LocalList) -> int:
    """Above every version installed, reported or sent; at least 1 (errata 3.52)."""
    known = (local_list.version, local_list.reported_version, local_list.sent_version)
    return max([0, *(version for version in known if version is not None)]) + 1


def configured_limit(configuration: Configuration, key: str) -> int | None:
    """An integer key of the charge point's configuration snapshot; None if not known."""
    for entry in configuration.entries:
        if entry.key == key and entry.value is not None:
            try:
                value = int(entry.value.strip())
            except ValueError:
                return None
            return value if value >= 0 else None
    return None


def per_message_limit(configuration: Configuration) -> int | None:
    """SendLocalListMaxLength; None (one message) when unknown or unusable (0)."""
    limit = configured_limit(configuration, SEND_LOCAL_LIST_MAX_LENGTH)
    return limit if limit else None


def too_long(count: int, configuration: Configuration) -> str | None:
    """Why a list of `count` entries cannot be installed (LocalAuthListMaxLength); None if it
    can, or if the charge point's limit is not known."""
    limit = configured_limit(configuration, LOCAL_AUTH_LIST_MAX_LENGTH)
    if limit is not None and count > limit:
        return (
            f"the list has {count} entries, more than the charge point's "
            f"{LOCAL_AUTH_LIST_MAX_LENGTH} of {limit}"
        )
    return None
