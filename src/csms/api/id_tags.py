"""/api/v1/id-tags: who may charge (spec 3.5, 7.27)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from csms.api.bulk import rows_of
from csms.api.deps import services_of
from csms.api.models import IdTagImport, IdTagIn, IdTagOut, ImportResult
from csms.features.local_list import sync as local_auth_list
from csms.storage import IdTag

router = APIRouter(prefix="/id-tags", tags=["id tags"])

# IdToken is a CiString20 (spec 7.28).
IdTagPath = Annotated[str, Path(min_length=1, max_length=20)]


@router.get("")
async def list_id_tags(request: Request) -> list[IdTagOut]:
    return [IdTagOut.of(t) for t in await services_of(request).store.list_id_tags()]


@router.post("/import")
async def import_id_tags(request: Request) -> ImportResult:
    """Many id tags in one transaction: a JSON array of rows (`idTag` and the fields of PUT
    /id-tags/{idTag}) or a CSV file with a header line (api/bulk.py). Each row replaces the tag
    as PUT does; the charge points whose local list is concerned get their update once."""
    rows = await rows_of(request, IdTagImport, lambda row: row.id_tag, "idTag")
    tags = [_tag(row.id_tag, row) for row in rows]
    services = services_of(request)
    created, updated = await services.store.put_id_tags(tags)
    await local_auth_list.id_tags_imported(services)
    return ImportResult(created=created, updated=updated)


@router.get("/{id_tag}")
async def get_id_tag(request: Request, id_tag: IdTagPath) -> IdTagOut:
    tag = await services_of(request).store.get_id_tag(id_tag)
    if tag is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown id tag {id_tag!r}")
    return IdTagOut.of(tag)


@router.put("/{id_tag}")
async def put_id_tag(request: Request, id_tag: IdTagPath, body: IdTagIn) -> IdTagOut:
    tag = _tag(id_tag, body)
    services = services_of(request)
    previous = await services.store.get_id_tag(id_tag)
    stored = await services.store.put_id_tag(tag)
    # Spec 3.5.2: the charge points whose local list holds it get the change.
    await local_auth_list.id_tag_changed(services, stored.id_tag, previous)
    return IdTagOut.of(stored)


@router.delete("/{id_tag}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_id_tag(request: Request, id_tag: IdTagPath) -> Response:
    services = services_of(request)
    previous = await services.store.get_id_tag(id_tag)
    if not await services.store.delete_id_tag(id_tag):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown id tag {id_tag!r}")
    await local_auth_list.id_tag_changed(services, id_tag, previous)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _tag(id_tag: str, body: IdTagIn) -> IdTag:
    return IdTag(
        id_tag=id_tag,
        status=body.status,
        expiry_date=body.expiry_date,
        parent_id_tag=body.parent_id_tag,
        max_active_transactions=body.max_active_transactions,
    )
