"""The console's operator pages (docs/console.md): Overview, Charge points (paged and filtered
by the database), a charge point (its operations: console/operations.py), its message log,
Transactions (CSV export), a transaction with its meter chart, id tags, load groups and unknown
charge points (reservations, local lists and firmware: console/manage.py).

Pages read through the Store methods the API uses; form posts carry the session's CSRF token
and those that change something need the operator role (console/auth.py).

Over 400 lines: each page is a short read-and-render; split further they would share more
imports than code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from csms.accounts import Principal
from csms.api.deps import services_of
from csms.api.overview import overview_figures
from csms.api.transactions import csv_response, duration, energy_kwh, transactions_csv
from csms.console.auth import OperatorPost, User
from csms.console.charts import bar_chart, line_chart, step_chart
from csms.features import outbox, smart_charging
from csms.features.charger_profiles import heartbeat_interval_at_boot
from csms.features.context import Services
from csms.features.firmware import JobKind
from csms.features.live import latest_power_energy
from csms.features.local_list import sync as local_auth_list
from csms.ocpp16 import MeterValue, SampledValue
from csms.storage import ConnectorStatus, IdTag, MeterSample, Role
from csms.transport.basic_auth import hash_authorization_key


async def _events_from(request: Request) -> None:
    """The live event id a page is rendered from (before anything is read for it): its script
    resumes the event stream there, so that nothing that happens while it loads is missed."""
    request.state.events_from = services_of(request).events.last_id


router = APIRouter(include_in_schema=False, dependencies=[Depends(_events_from)])

PAGE_SIZES = (25, 50, 100)
SORTS = ("id", "last_seen", "model", "firmware", "status")


def _page(
    request: Request, template: str, principal: Principal, code: int = 200, **context: Any
) -> HTMLResponse:
    from csms.console import page  # the layout lives with the skeleton

    return page(
        request,
        template,
        principal,
        code,
        may_operate=principal.role.allows(Role.OPERATOR),
        events_from=getattr(request.state, "events_from", None),
        **context,
    )


# -- Overview ------------------------------------------------------------------------------------


# The Overview's figures: (label, field of OverviewOut); the page's script updates each from
# GET /api/v1/overview when an event says it may have changed.
FIGURES = (
    ("Registered", "registered"),
    ("Connected", "connected"),
    ("Offline", "offline"),
    ("Charging", "charging"),
    ("Faulted", "faulted"),
    ("Active transactions", "activeTransactions"),
    ("Unknown, waiting", "unknownWaiting"),
)


@router.get("/")
async def overview(request: Request, principal: User) -> Response:
    services = services_of(request)
    figures = (await overview_figures(services)).model_dump(by_alias=True)
    active, _ = await services.store.transaction_page(active=True, limit=10)
    alerts = [
        d
        for d in await _recent_alerts(services)
        if d.get("status") == "Faulted" or d.get("errorCode") not in (None, "NoError")
    ]
    return _page(
        request,
        "overview.html",
        principal,
        figures=[(label, name, figures[name]) for label, name in FIGURES],
        energy_today_kwh=figures["energyTodayKwh"],
        active=active,
        alerts=alerts[:20],
    )


async def _recent_alerts(services: Services) -> list[dict[str, Any]]:
    """Faults among the status reports still in the live event buffer, newest first."""
    events = services.events.recent(types={"status"})
    found = []
    for event in reversed(events):
        if event.kind == "status":
            found.append({"chargePointId": event.charge_point_id, **event.data})
    return found


# -- Charge points -------------------------------------------------------------------------------


@router.get("/charge-points")
async def charge_points_page(
    request: Request,
    principal: User,
    q: Annotated[str, Query(max_length=100)] = "",
    sort: Annotated[str, Query(max_length=20)] = "id",
    desc: bool = False,
    page_no: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    services = services_of(request)
    sort = sort if sort in SORTS else "id"
    found, total = await services.store.charge_point_page(
        search=q.strip() or None,
        sort=sort,
        descending=desc,
        offset=(page_no - 1) * size,
        limit=size,
    )
    rows = [(cp, services.registry.get(cp.id) is not None) for cp in found]
    return _page(
        request,
        "charge_points.html",
        principal,
        rows=rows,
        total=total,
        q=q,
        sort=sort,
        desc=desc,
        page_no=page_no,
        size=size,
        pages=max(1, -(-total // size)),
    )


# -- One charge point ----------------------------------------------------------------------------

OPERATIONS = (
    "remote-start",
    "remote-stop",
    "reset",
    "unlock",
    "change-availability",
    "change-configuration",
    "get-configuration",
    "trigger",
    "get-diagnostics",
    "update-firmware",
    "clear-cache",
    "data-transfer",
    "reserve",
    "cancel-reservation",
)


async def _charge_point_context(services: Services, charge_point_id: str) -> dict[str, Any]:
    store = services.store
    charge_point = await store.get_charge_point(charge_point_id)
    if charge_point is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown charge point {charge_point_id!r}")
    active = await store.list_transactions(charge_point_id=charge_point_id, active=True)
    live: dict[int, tuple[float | None, float | None]] = {}
    for transaction in active:
        live[transaction.id] = _power_energy(await store.meter_values(transaction.id))
    profiles = await store.charging_profiles_of(charge_point_id)
    connectors = await store.list_connectors(charge_point_id)
    schedules = await _composite_charts(services, charge_point_id, connectors) if profiles else []
    described = await services.charger_profiles.describe(services, charge_point_id)
    heartbeat = await heartbeat_interval_at_boot(
        services,
        charge_point_id,
        vendor=described.vendor,
        model=described.model,
        firmware_version=described.firmware_version,
    )
    return {
        "cp": charge_point,
        "charger": described,
        "heartbeat": heartbeat,
        "availability_table": table_of(await store.availability_of(charge_point_id)),
        "profiles_table": table_of(profiles),
        "firmware_table": table_of(
            await store.list_file_jobs(charge_point_id, JobKind.FIRMWARE, limit=10)
        ),
        "diagnostics_table": table_of(
            await store.list_file_jobs(charge_point_id, JobKind.DIAGNOSTICS, limit=10)
        ),
        "reservations_table": table_of(
            await store.list_reservations(charge_point_id=charge_point_id)
        ),
        "connected": services.registry.get(charge_point_id) is not None,
        "connectors": connectors,
        "schedules": schedules,
        "active": active,
        "live": live,
        "configuration": await store.configuration_of(charge_point_id),
        "local_list": await store.local_list_of(charge_point_id),
        "operations": OPERATIONS,
        "firmware_images": await store.list_firmware_images(),
    }


# The composite schedule shown on a charge point's page: from now, this long (seconds).
SCHEDULE_SPAN = 24 * 3600


async def _composite_charts(
    services: Services, charge_point_id: str, connectors: Sequence[ConnectorStatus]
) -> list[tuple[int, str, str]]:
    """(connector, unit, SVG) of the composite schedule of each connector (spec 3.13.3), the
    next SCHEDULE_SPAN seconds, as the CSMS computes it from the profiles it believes
    installed."""
    now = services.clock.now()
    charts = []
    for connector_id in sorted({c.connector_id for c in connectors if c.connector_id > 0}):
        try:
            composite = await smart_charging.csms_composite(
                services,
                charge_point_id,
                connector_id=connector_id,
                duration=SCHEDULE_SPAN,
                start=now,
            )
        except ValueError:
            continue
        schedule = composite.schedule
        steps = [
            (
                schedule.schedule_start + timedelta(seconds=p.start_period),
                None if p.limit is None else float(p.limit),
            )
            for p in schedule.charging_schedule_period
        ]
        unit = str(schedule.charging_rate_unit)
        end = schedule.schedule_start + timedelta(seconds=schedule.duration)
        chart = step_chart(steps, end, unit=unit)
        if chart:
            charts.append((connector_id, unit, chart))
    return charts


def _power_energy(samples: Sequence[MeterSample]) -> tuple[float | None, float | None]:
    """The latest power (W) and energy register (Wh) of a transaction's samples (as the live
    meter events compute them, features/live.py)."""
    by_time: dict[datetime, list[SampledValue]] = {}
    for sample in samples:
        fields: dict[str, Any] = {
            "context": sample.context,
            "format": sample.format,
            "measurand": sample.measurand,
            "phase": sample.phase,
            "location": sample.location,
            "unit": sample.unit,
        }
        by_time.setdefault(sample.timestamp, []).append(SampledValue(value=sample.value, **fields))
    return latest_power_energy(
        [MeterValue(timestamp=at, sampled_value=values) for at, values in by_time.items()]
    )


@router.get("/charge-points/{charge_point_id}")
async def charge_point_page(request: Request, principal: User, charge_point_id: str) -> Response:
    services = services_of(request)
    context = await _charge_point_context(services, charge_point_id)
    return _page(request, "charge_point.html", principal, **context)


def moment(name: str, text: str) -> datetime | None:
    """A date and time field (ISO 8601; without a zone: UTC); empty: None."""
    if not text:
        return None
    found = _time(text)
    if found is None:
        raise ValueError(f"{name}: not a date and time (YYYY-MM-DDTHH:MM), {text[:40]!r}")
    return found


# -- Message log ---------------------------------------------------------------------------------


def _time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/charge-points/{charge_point_id}/messages")
async def message_log_page(
    request: Request,
    principal: User,
    charge_point_id: str,
    action: Annotated[str, Query(max_length=100)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
    size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    services = services_of(request)
    if await services.store.get_charge_point(charge_point_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown charge point {charge_point_id!r}")
    await services.store.flush_message_log()
    messages = await services.store.message_log(
        charge_point_id,
        action=action or None,
        since=_time(since),
        until=_time(until),
        before_id=before,
        limit=size,
    )
    error = _time_error(since=since, until=until)
    return _page(
        request,
        "message_log.html",
        principal,
        status.HTTP_422_UNPROCESSABLE_CONTENT if error else status.HTTP_200_OK,
        error=error,
        cp_id=charge_point_id,
        messages=messages,
        action=action,
        since=since,
        until=until,
        size=size,
        older=messages[-1].id if len(messages) == size else None,
        # New frames are added live to the first page only, when nothing filters it.
        live_rows=not (action or since or until or before),
    )


# -- Transactions --------------------------------------------------------------------------------


def _time_error(**fields: str) -> str | None:
    """Why a date and time filter is not one (the page ignores it), naming the field."""
    for name, text in fields.items():
        try:
            moment(name, text)
        except ValueError as exc:
            return str(exc)
    return None


def _transaction_filters(
    charge_point: str, tag: str, since: str, until: str, state: str
) -> dict[str, Any]:
    return {
        "charge_point_id": charge_point or None,
        "id_tag": tag or None,
        "since": _time(since),
        "until": _time(until),
        "active": {"active": True, "done": False}.get(state),
    }


@router.get("/transactions")
async def transactions_page(
    request: Request,
    principal: User,
    charge_point: Annotated[str, Query(max_length=48)] = "",
    tag: Annotated[str, Query(max_length=20)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    state: Annotated[str, Query(max_length=10)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    services = services_of(request)
    filters = _transaction_filters(charge_point, tag, since, until, state)
    found, total = await services.store.transaction_page(
        **filters, offset=(page_no - 1) * size, limit=size
    )
    now = services.clock.now()
    query = request.url.query
    error = _time_error(since=since, until=until)
    return _page(
        request,
        "transactions.html",
        principal,
        status.HTTP_422_UNPROCESSABLE_CONTENT if error else status.HTTP_200_OK,
        error=error,
        rows=[(t, energy_kwh(t), duration(t, now)) for t in found],
        total=total,
        charge_point=charge_point,
        tag=tag,
        since=since,
        until=until,
        state=state,
        page_no=page_no,
        size=size,
        pages=max(1, -(-total // size)),
        csv_query=query,
    )


@router.get("/transactions.csv")
async def transactions_csv_page(
    request: Request,
    principal: User,
    charge_point: Annotated[str, Query(max_length=48)] = "",
    tag: Annotated[str, Query(max_length=20)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    state: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    error = _time_error(since=since, until=until)
    if error is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error)
    filters = _transaction_filters(charge_point, tag, since, until, state)
    return csv_response(await transactions_csv(services_of(request), filters))


@router.get("/transactions/{transaction_id}")
async def transaction_page(request: Request, principal: User, transaction_id: int) -> Response:
    services = services_of(request)
    transaction = await services.store.get_transaction(transaction_id)
    if transaction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown transaction {transaction_id}")
    samples = await services.store.meter_values(transaction_id)
    energy = [
        (s.timestamp, _kwh(s))
        for s in samples
        if (s.measurand or "Energy.Active.Import.Register") == "Energy.Active.Import.Register"
        and s.phase is None
        and _kwh(s) is not None
    ]
    power = [
        (s.timestamp, _kw(s))
        for s in samples
        if s.measurand == "Power.Active.Import" and s.phase is None and _kw(s) is not None
    ]
    return _page(
        request,
        "transaction.html",
        principal,
        t=transaction,
        energy=energy_kwh(transaction),
        duration=duration(transaction, services.clock.now()),
        samples=samples,
        energy_chart=line_chart(energy, unit="kWh") if energy else None,
        power_chart=line_chart(power, unit="kW") if power else None,
    )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _kwh(sample: MeterSample) -> float | None:
    value = _number(sample.value)
    if value is None:
        return None
    return value if sample.unit == "kWh" else value / 1000


def _kw(sample: MeterSample) -> float | None:
    value = _number(sample.value)
    if value is None:
        return None
    return value if sample.unit == "kW" else value / 1000


# -- Lists ---------------------------------------------------------------------------------------


def table_of(records: Sequence[Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Columns and rows of a list of dataclass records (a generic table)."""
    if not records:
        return {"columns": [], "rows": []}
    columns = [f.name for f in dataclasses.fields(records[0]) if f.name not in skip]
    return {
        "columns": columns,
        "rows": [[_cell(getattr(r, c)) for c in columns] for r in records],
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.dumps(dataclasses.asdict(value), default=str)
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str)
    return str(value)


@router.get("/id-tags")
async def id_tags_page(request: Request, principal: User) -> Response:
    tags = await services_of(request).store.list_id_tags()
    return _page(request, "id_tags.html", principal, table=table_of(tags), tags=tags)


@router.post("/id-tags")
async def change_id_tag(
    request: Request,
    principal: OperatorPost,
    id_tag: Annotated[str, Form(min_length=1, max_length=20)],
    action: Annotated[str, Form(pattern="^(save|delete)$")] = "save",
    tag_status: Annotated[
        str, Form(alias="status", pattern="^(Accepted|Blocked|Expired|Invalid)$")
    ] = "Accepted",
    expiry_date: Annotated[str, Form(max_length=40)] = "",
    parent_id_tag: Annotated[str, Form(max_length=20)] = "",
    # Empty: no limit (the form offers 1).
    max_active_transactions: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    """Add, change or delete an id tag, as PUT/DELETE /api/v1/id-tags/{idTag} do (the local
    lists that hold it get the change, spec 3.5.2)."""
    from csms.console import audit

    services = services_of(request)
    store = services.store
    previous = await store.get_id_tag(id_tag)
    if action == "delete":
        await store.delete_id_tag(id_tag)
    else:
        limit = max_active_transactions.strip()
        try:
            expiry = moment("expiry date", expiry_date.strip())
            if limit and not limit.isdigit():
                raise ValueError("max. active transactions: a whole number, or empty for no limit")
        except ValueError as exc:
            tags = await store.list_id_tags()
            return _page(
                request,
                "id_tags.html",
                principal,
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                table=table_of(tags),
                tags=tags,
                error=str(exc),
            )
        await store.put_id_tag(
            IdTag(
                id_tag=id_tag,
                status=tag_status,
                expiry_date=expiry,
                parent_id_tag=parent_id_tag.strip() or None,
                max_active_transactions=int(limit) if limit else None,
            )
        )
    await local_auth_list.id_tag_changed(services, id_tag, previous)
    answer = status.HTTP_303_SEE_OTHER
    await audit(request, principal, f"console.id_tag_{action}", id_tag, answer)
    return RedirectResponse("/id-tags", status_code=answer)


@router.get("/load-groups")
async def load_groups_page(request: Request, principal: User) -> Response:
    store = services_of(request).store
    groups = await store.list_load_groups()
    members = await store.list_load_group_members()
    counts: dict[int, int] = {}
    for member in members:
        counts[member.group_id] = counts.get(member.group_id, 0) + 1
    children: dict[int | None, list[Any]] = {}
    for group in groups:
        children.setdefault(group.parent_id, []).append(group)
    # Depth-first: (depth, group), sites first.
    tree: list[tuple[int, Any]] = []

    def walk(parent: int | None, depth: int) -> None:
        for group in sorted(children.get(parent, []), key=lambda g: g.name):
            tree.append((depth, group))
            if depth < 20:
                walk(group.id, depth + 1)

    walk(None, 0)
    return _page(request, "load_groups.html", principal, tree=tree, counts=counts)


@router.get("/load-groups/{group_id}")
async def load_group_page(request: Request, principal: User, group_id: int) -> Response:
    store = services_of(request).store
    group = await store.get_load_group(group_id)
    if group is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unknown load group {group_id}")
    members = await store.list_load_group_members(group_id)
    history = await store.load_allocation_history([group_id], limit=200)
    # The latest allocation per connector, of those still running a transaction.
    latest: dict[tuple[str, int], Any] = {}
    for allocation in history:
        latest.setdefault((allocation.charge_point_id, allocation.connector_id), allocation)
    bars = [
        (f"{a.charge_point_id}/{a.connector_id} tx {a.transaction_id or '-'}", float(a.limit))
        for a in latest.values()
    ]
    allocation_chart = bar_chart(
        bars, unit="A", limit=float(group.limit) if group.unit == "A" else None
    )
    by_transaction: dict[int, list[Any]] = {}
    for allocation in reversed(history):
        if allocation.transaction_id is not None:
            by_transaction.setdefault(allocation.transaction_id, []).append(allocation)
    now = services_of(request).clock.now()
    history_charts = [
        (
            transaction_id,
            step_chart([(a.sent_at, float(a.limit)) for a in allocations], now, unit="A per phase"),
        )
        for transaction_id, allocations in list(by_transaction.items())[-4:]
    ]
    return _page(
        request,
        "load_group.html",
        principal,
        group=group,
        members=table_of(members),
        allocation_chart=allocation_chart,
        history_charts=history_charts,
        history=table_of(history, skip=("group_id",)),
    )


# -- Unknown charge points -----------------------------------------------------------------------


@router.get("/unknown-charge-points")
async def unknown_charge_points_page(request: Request, principal: User) -> Response:
    attempts = services_of(request).unknown_charge_points.list()
    return _page(request, "unknown.html", principal, attempts=attempts)


@router.post("/unknown-charge-points/{charge_point_id}")
async def decide_unknown(
    request: Request,
    principal: OperatorPost,
    charge_point_id: Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[^/\s]+$")],
    decision: Annotated[str, Form(pattern="^(approve|refuse)$")],
    registration_status: Annotated[str, Form(pattern="^(Accepted|Pending|Rejected)$")] = "Accepted",
    password: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Approve (register with this registration status and, if given, a Basic-auth password
    of 16-40 characters) or refuse (forget the attempt; it stays refused)."""
    from csms.console import audit

    services = services_of(request)
    unknown = services.unknown_charge_points
    if decision == "approve":
        if password and not 16 <= len(password) <= 40:
            return _page(
                request,
                "unknown.html",
                principal,
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                attempts=unknown.list(),
                error="the password must have 16 to 40 characters",
            )
        await services.store.save_charge_point(
            charge_point_id,
            registration_status=registration_status,
            password_hash=hash_authorization_key(password) if password else None,
            description=None,
            events=outbox.approved(
                await services.store.get_charge_point(charge_point_id),
                registration_status,
                services.clock.now(),
                charge_point_id,
            ),
        )
    unknown.forget(charge_point_id)
    await unknown.flush(services.store)  # not back after a restart
    await audit(
        request,
        principal,
        f"console.unknown_{decision}",
        charge_point_id,
        status.HTTP_303_SEE_OTHER,
    )
    return RedirectResponse("/unknown-charge-points", status_code=status.HTTP_303_SEE_OTHER)
