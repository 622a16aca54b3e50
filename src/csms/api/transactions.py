"""/api/v1/transactions: charging sessions and their meter values; ending a transaction whose
StopTransaction is lost (docs/field-behaviour.md, "Transactions")."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from csms.api.deps import services_of
from csms.api.models import TransactionEndIn, TransactionOut
from csms.storage import TransactionEndedError

router = APIRouter(prefix="/transactions", tags=["transactions"])


@router.get("")
async def list_transactions(
    request: Request, charge_point_id: str | None = None, active: bool | None = None
) -> list[TransactionOut]:
    """Oldest first."""
    store = services_of(request).store
    transactions = await store.list_transactions(charge_point_id=charge_point_id, active=active)
    return [TransactionOut.of(t) for t in transactions]


@router.get("/{transaction_id}")
async def get_transaction(request: Request, transaction_id: int) -> TransactionOut:
    store = services_of(request).store
    transaction = await store.get_transaction(transaction_id)
    if transaction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown transaction {transaction_id}")
    return TransactionOut.of(transaction, await store.meter_values(transaction_id))


@router.post(
    "/{transaction_id}/end",
    responses={404: {"description": "Unknown transaction"}, 409: {"description": "Over already"}},
)
async def end_transaction(
    request: Request, transaction_id: int, body: TransactionEndIn | None = None
) -> TransactionOut:
    """End a transaction the CSMS still believes running (its StopTransaction lost): it no
    longer counts against its idTag. Nothing is sent to the charge point; a StopTransaction
    arriving later still fills in the charge point's values."""
    store = services_of(request).store
    try:
        transaction = await store.end_transaction(
            transaction_id, ended_by="operator", reason=body.reason if body else None
        )
    except TransactionEndedError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if transaction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown transaction {transaction_id}")
    return TransactionOut.of(transaction)
