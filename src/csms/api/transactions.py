"""/api/v1/transactions: charging sessions and their meter values."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from csms.api.deps import services_of
from csms.api.models import TransactionOut

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
