"""Who may charge: the IdTagInfo the CSMS answers for an idTag (spec 3.5, 7.27; errata 3.73-3.75).

Shared by Authorize, StartTransaction and StopTransaction (core) and by the local authorization
list, which carries the same IdTagInfo to the charge point.
"""

from __future__ import annotations

from datetime import datetime

from csms.ocpp16 import AuthorizationStatus, IdTagInfo
from csms.storage import IdTag, Store


def tag_info(tag: IdTag | None, now: datetime) -> IdTagInfo:
    """The IdTagInfo of a stored tag: unknown tags are Invalid, expired ones Expired."""
    if tag is None:
        return IdTagInfo(status=AuthorizationStatus.INVALID)
    status = AuthorizationStatus(tag.status)
    if (
        status == AuthorizationStatus.ACCEPTED
        and tag.expiry_date is not None
        and tag.expiry_date <= now
    ):
        status = AuthorizationStatus.EXPIRED
    return IdTagInfo(status=status, expiry_date=tag.expiry_date, parent_id_tag=tag.parent_id_tag)


async def authorize(store: Store, id_tag: str, now: datetime) -> IdTagInfo:
    return tag_info(await store.get_id_tag(id_tag), now)
