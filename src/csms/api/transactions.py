"""/api/v1/transactions: charging sessions and their meter values; ending a transaction whose
StopTransaction is lost (docs/field-behaviour.md, "Transactions")."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from csms.api.deps import services_of
from csms.api.models import TransactionEndIn, TransactionOut
from csms.features.context import Services
from csms.storage import Transaction, TransactionEndedError

router = APIRouter(prefix="/transactions", tags=["transactions"])


def energy_kwh(transaction: Transaction) -> float | None:
    if transaction.meter_stop is None:
        return None
    return (transaction.meter_stop - transaction.meter_start) / 1000


def duration(transaction: Transaction, now: datetime) -> timedelta:
    end = transaction.stop_time or transaction.ended_at or now
    return max(end - transaction.start_time, timedelta(0))


CSV_COLUMNS = (
    "id",
    "chargePointId",
    "connectorId",
    "idTag",
    "startTime",
    "stopTime",
    "meterStart",
    "meterStop",
    "energyKWh",
    "durationS",
    "stopReason",
    "active",
)
# Rows fetched per query while writing a CSV export.
CSV_CHUNK = 1000


async def transactions_csv(services: Services, filters: dict[str, Any]) -> str:
    """Every matching transaction, newest first, as CSV (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    now = services.clock.now()
    offset = 0
    while True:
        found, _ = await services.store.transaction_page(**filters, offset=offset, limit=CSV_CHUNK)
        for t in found:
            energy = energy_kwh(t)
            writer.writerow(
                (
                    t.id,
                    t.charge_point_id,
                    t.connector_id,
                    t.id_tag,
                    t.start_time.isoformat(),
                    t.stop_time.isoformat() if t.stop_time else "",
                    t.meter_start,
                    "" if t.meter_stop is None else t.meter_stop,
                    "" if energy is None else f"{energy:.3f}",
                    int(duration(t, now).total_seconds()),
                    t.stop_reason or t.end_reason or "",
                    "true" if t.active else "false",
                )
            )
        if len(found) < CSV_CHUNK:
            return out.getvalue()
        offset += CSV_CHUNK


def csv_response(text: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
    )


@router.get(
    ".csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Newest first"}},
)
async def export_transactions(
    request: Request,
    charge_point_id: str | None = None,
    id_tag: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    active: bool | None = None,
) -> Response:
    """The transactions as CSV (also GET /transactions with `Accept: text/csv`): energy in
    kWh, duration in seconds, the stop reason."""
    filters = {
        "charge_point_id": charge_point_id,
        "id_tag": id_tag,
        "since": since,
        "until": until,
        "active": active,
    }
    return csv_response(await transactions_csv(services_of(request), filters))


@router.get("")
async def list_transactions(
    request: Request, charge_point_id: str | None = None, active: bool | None = None
) -> list[TransactionOut]:
    """Oldest first. With `Accept: text/csv`: the CSV export (GET /transactions.csv)."""
    if "text/csv" in request.headers.get("accept", ""):
        filters = {"charge_point_id": charge_point_id, "active": active}
        return csv_response(await transactions_csv(services_of(request), filters))  # type: ignore[return-value]
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
