"""/api/v1/transactions: charging sessions for billing, their meter values, an energy summary, and
ending a transaction whose StopTransaction is lost (docs/field-behaviour.md, "Transactions" and
"Energy you can bill"; the query: api/transaction_query.py).

    GET  /transactions                 a page in id order (the order received), filtered; the
                                       next page's cursor in the Link header (rel="next")
    GET  /transactions.csv             the same rows as CSV (also GET /transactions with
                                       Accept: text/csv): every page from the cursor, unless
                                       a limit is given
    GET  /transactions/summary         transactions and energy per local day or charge point
    GET  /transactions/{id}            one, with its meter values
    POST /transactions/{id}/end        end one the CSMS still believes running
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from csms.api.deps import services_of
from csms.api.models import Model, TransactionEndIn, TransactionOut
from csms.api.transaction_query import (
    FILTERS,
    MAX_LIMIT,
    PAGING,
    TransactionQuery,
    cursor_after,
    cursor_of,
    day_spans,
    known_parameters,
    refuse,
    transaction_query,
)
from csms.features.context import Services
from csms.features.core.energy import BillableEnergy
from csms.features.core.transaction_energy import energies, refresh_energy
from csms.storage import EnergyTotal, Transaction, TransactionEndedError, TransactionFilter

router = APIRouter(prefix="/transactions", tags=["transactions"])

DEFAULT_LIMIT = 100
Limit = Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="default 100 (JSON)")]
Query_ = Annotated[TransactionQuery, Depends(transaction_query)]


def energy_kwh(transaction: Transaction) -> float | None:
    """The billable energy in kWh where stored, else meterStop - meterStart (not negative); None
    while running (the console's figure)."""
    if transaction.energy_wh is not None:
        return transaction.energy_wh / 1000
    if transaction.meter_stop is None:
        return None
    return max(transaction.meter_stop - transaction.meter_start, 0) / 1000


def duration(transaction: Transaction, now: datetime) -> timedelta:
    end = transaction.stop_time or transaction.ended_at or now
    return max(end - transaction.start_time, timedelta(0))


def duration_s(transaction: Transaction, now: datetime) -> int:
    return int(duration(transaction, now).total_seconds())


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
    "energyWh",
    "energyFlags",
)
# Rows read per query while writing a CSV export.
CSV_CHUNK = 1000


def csv_row(t: Transaction, energy: BillableEnergy, now: datetime) -> tuple[Any, ...]:
    return (
        t.id,
        t.charge_point_id,
        t.connector_id,
        t.id_tag,
        t.start_time.isoformat(),
        t.stop_time.isoformat() if t.stop_time else "",
        t.meter_start,
        "" if t.meter_stop is None else t.meter_stop,
        f"{energy.wh / 1000:.3f}",
        duration_s(t, now),
        t.stop_reason or t.end_reason or "",
        "true" if t.active else "false",
        energy.wh,
        " ".join(energy.flags),
    )


async def csv_chunks(
    services: Services, which: TransactionFilter, *, after_id: int = 0, limit: int | None = None
) -> AsyncIterator[str]:
    """The CSV (RFC 4180) of the matching transactions in id order, a chunk of rows at a time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    now = services.clock.now()
    left = limit
    while True:
        size = CSV_CHUNK if left is None else min(left, CSV_CHUNK)
        found = await services.store.transactions_after(which, after_id=after_id, limit=size)
        energy = await energies(services.store, found)
        writer.writerows(csv_row(t, energy[t.id], now) for t in found)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if left is not None:
            left -= len(found)
        if len(found) < size or left == 0:
            return
        after_id = found[-1].id


async def transactions_csv(services: Services, filters: dict[str, Any]) -> str:
    """Every matching transaction as CSV, in one string (the console's export)."""
    return "".join([chunk async for chunk in csv_chunks(services, TransactionFilter(**filters))])


def csv_response(text: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8", headers=_CSV_HEADERS)


_CSV_HEADERS = {"Content-Disposition": 'attachment; filename="transactions.csv"'}


@router.get(
    ".csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "In id order"}},
)
async def export_transactions(
    request: Request, query: Query_, cursor: str | None = None, limit: Limit = None
) -> Response:
    """The transactions of GET /transactions as CSV: energy in Wh and kWh, its flags, duration
    in seconds, the stop reason."""
    known_parameters(request, FILTERS | PAGING)
    chunks = csv_chunks(
        services_of(request), query.which, after_id=cursor_after(cursor), limit=limit
    )
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=_CSV_HEADERS)


@router.get("", responses={200: {"content": {"text/csv": {}}}})
async def list_transactions(
    request: Request,
    response: Response,
    query: Query_,
    cursor: Annotated[str | None, Query(description="from the Link header")] = None,
    limit: Limit = None,
) -> list[TransactionOut]:
    """A page in id order (oldest first); `Link: <...>; rel="next"` (and `X-Next-Cursor`) when
    more may follow. With `Accept: text/csv`: the CSV export (GET /transactions.csv)."""
    if "text/csv" in request.headers.get("accept", ""):
        return await export_transactions(request, query, cursor, limit)  # type: ignore[return-value]
    known_parameters(request, FILTERS | PAGING)
    services = services_of(request)
    size = limit or DEFAULT_LIMIT
    found = await services.store.transactions_after(
        query.which, after_id=cursor_after(cursor), limit=size + 1
    )
    if len(found) > size:
        found = found[:size]
        following = cursor_of(found[-1].id)
        response.headers["Link"] = (
            f'<{request.url.include_query_params(cursor=following)}>; rel="next"'
        )
        response.headers["X-Next-Cursor"] = following
    return await _out(services, found)


class EnergyGroup(Model):
    # The day (YYYY-MM-DD, local in tz) or the charge point id.
    key: str
    transactions: int
    # The billable energy of those stopped or ended; running ones add nothing (counted in
    # `active`).
    energy_wh: int
    active: int
    # groupBy=day: the day's span (UTC), cut to [from, to).
    start: datetime | None = None
    end: datetime | None = None


class EnergySummary(Model):
    group_by: Literal["day", "chargePoint"]
    timezone: str
    groups: list[EnergyGroup]
    total: EnergyGroup


@router.get("/summary")
async def energy_summary(
    request: Request,
    query: Query_,
    group_by: Annotated[Literal["day", "chargePoint"], Query(alias="groupBy")] = "day",
) -> EnergySummary:
    """Transactions and their energy per local day of `tz` (from and to required; at most 1000
    days) or per charge point, of those started in [from, to) that match the filters."""
    known_parameters(request, FILTERS | {"groupBy"})
    which = query.which
    store = services_of(request).store
    groups: Sequence[EnergyTotal]
    if group_by == "day":
        if which.since is None or which.until is None:
            refuse("from" if which.since is None else "to", "required with groupBy=day")
        spans = day_spans(which.since, which.until, query.zone)
        groups = await store.energy_by_day(which, spans)
        out = [
            EnergyGroup(**_counts(g), start=start, end=end)
            for g, (_, start, end) in zip(groups, spans, strict=True)
        ]
    else:
        groups = await store.energy_by_charge_point(which)
        out = [EnergyGroup(**_counts(g)) for g in groups]
    total = EnergyGroup(
        key="total",
        transactions=sum(g.transactions for g in groups),
        energy_wh=sum(g.energy_wh for g in groups),
        active=sum(g.active for g in groups),
        start=which.since,
        end=which.until,
    )
    return EnergySummary(group_by=group_by, timezone=str(query.zone), groups=out, total=total)


def _counts(total: EnergyTotal) -> dict[str, Any]:
    return {
        "key": total.key,
        "transactions": total.transactions,
        "energy_wh": total.energy_wh,
        "active": total.active,
    }


@router.get("/{transaction_id}")
async def get_transaction(request: Request, transaction_id: int) -> TransactionOut:
    services = services_of(request)
    transaction = await services.store.get_transaction(transaction_id)
    if transaction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown transaction {transaction_id}")
    samples = await services.store.meter_values(transaction_id)
    return (await _out(services, [transaction], samples))[0]


@router.post(
    "/{transaction_id}/end",
    responses={404: {"description": "Unknown transaction"}, 409: {"description": "Over already"}},
)
async def end_transaction(
    request: Request, transaction_id: int, body: TransactionEndIn | None = None
) -> TransactionOut:
    """End a transaction the CSMS still believes running (its StopTransaction lost): it no
    longer counts against its idTag, its energy is kept up to its last sample. Nothing is sent
    to the charge point; a StopTransaction arriving later still fills in the charge point's
    values (and its energy)."""
    services = services_of(request)
    store = services.store
    try:
        transaction = await store.end_transaction(
            transaction_id, ended_by="operator", reason=body.reason if body else None
        )
    except TransactionEndedError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if transaction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown transaction {transaction_id}")
    energy = await refresh_energy(store, transaction)
    now = services.clock.now()
    return TransactionOut.of(transaction, energy=energy, duration_s=duration_s(transaction, now))


async def _out(
    services: Services, found: list[Transaction], samples: Any = None
) -> list[TransactionOut]:
    energy = await energies(services.store, found)
    now = services.clock.now()
    return [
        TransactionOut.of(t, samples, energy=energy[t.id], duration_s=duration_s(t, now))
        for t in found
    ]
