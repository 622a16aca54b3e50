"""Site load management, from the store into the model (model.py): the groups and members,
and for each member what the CSMS knows of it: its connectors, their status, its active
transactions, their own priorities, the profiles of ours it Accepted (the profile store is the
record of what is in force, features/smart_charging/) and its smart charging keys."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from csms.features.context import Services
from csms.features.load_management.machine import starting_mode
from csms.features.load_management.model import CpState, TxState
from csms.features.smart_charging.profiles import capabilities_of
from csms.smart_charging import ChargingRateUnit
from csms.storage import InstalledChargingProfile, LoadGroup, Transaction

# chargingProfileIds of load management on every charge point: the fallback TxDefaultProfile
# on connector 0, and the TxProfile of connector n at PROFILE_ID_BASE + n (each replaces the
# previous one, spec 3.13.2).
PROFILE_ID_BASE = 900_000
_TENTH = Decimal("0.1")
# Above this many charge points to refresh, one read of every active transaction is cheaper.
_BULK_REFRESH = 20


def ours(record: InstalledChargingProfile) -> bool:
    return PROFILE_ID_BASE <= record.charging_profile_id <= PROFILE_ID_BASE + 1000


async def load(services: Services) -> None:
    """Read every group and member (at start-up)."""
    model = services.load
    store = services.store
    model.groups = {group.id: group for group in await store.list_load_groups()}
    members = await store.list_load_group_members()
    active = _by_charge_point(await store.list_transactions(active=True))
    cps = {}
    for member in members:
        cp = CpState(member=member)
        await _read_charge_point(services, cp, model.groups)
        _set_transactions(cp, active.get(member.charge_point_id, []))
        cp.refresh = False
        cps[member.charge_point_id] = cp
    await _read_priorities(services, cps.values())
    model.cps = cps


async def reload(services: Services) -> None:
    """After the operator changed groups or members: members that joined are read, those that
    left are to be cleared of our profiles, and every tree is allocated again."""
    async with services.load.reloading:
        await _reload(services)


async def _reload(services: Services) -> None:
    model = services.load
    store = services.store
    groups = {group.id: group for group in await store.list_load_groups()}
    members = {m.charge_point_id: m for m in await store.list_load_group_members()}
    joined: dict[str, CpState] = {}
    for charge_point_id, member in members.items():
        if charge_point_id not in model.cps:
            cp = CpState(member=member)
            await _read_charge_point(services, cp, groups)
            joined[charge_point_id] = cp
    for charge_point_id in [cp for cp in model.cps if cp not in members]:
        model.cps.pop(charge_point_id)
        model.departed[charge_point_id] = {
            record.charging_profile_id
            for record in await store.charging_profiles_of(charge_point_id)
            if ours(record)
        }
        model.departed_due.add(charge_point_id)
    # One step, no await: the worker never sees half of it.
    model.groups = groups
    for charge_point_id, cp in joined.items():
        model.departed.pop(charge_point_id, None)
        model.departed_due.discard(charge_point_id)
        model.cps[charge_point_id] = cp
    for charge_point_id, member in members.items():
        cp = model.cps[charge_point_id]
        if member != cp.member:
            cp.member = member
            cp.needs_default = True
            if member.connectors is not None:
                cp.connectors = member.connectors
    model.mark_all()


async def set_priority(services: Services, transaction_id: int, priority: int | None) -> bool:
    """A transaction's own priority (None: its charge point's); False: no such transaction."""
    if not await services.store.set_transaction_load_priority(transaction_id, priority):
        return False
    for cp in services.load.cps.values():
        tx = cp.by_transaction(transaction_id)
        if tx is not None:
            tx.priority = priority
            services.load.mark(cp)
    return True


async def refresh(services: Services, cps: Collection[CpState]) -> None:
    """Re-read what changed in the store for these charge points: their active transactions
    (after a StartTransaction: its transactionId), and after a boot or join their keys."""
    due = [cp for cp in cps if cp.refresh]
    if not due:
        return
    store = services.store
    for cp in due:
        cp.refresh = False  # a StartTransaction during the reads sets it again
    if len(due) > _BULK_REFRESH:
        active = _by_charge_point(await store.list_transactions(active=True))
        found = {cp.charge_point_id: active.get(cp.charge_point_id, []) for cp in due}
    else:
        found = {
            cp.charge_point_id: await store.list_transactions(
                charge_point_id=cp.charge_point_id, active=True
            )
            for cp in due
        }
    fresh: list[CpState] = []
    for cp in due:
        if cp.needs_default:
            await _read_keys(services, cp)
        if _set_transactions(cp, found[cp.charge_point_id]):
            fresh.append(cp)
    await _read_priorities(services, fresh)


def _by_charge_point(transactions: list[Transaction]) -> dict[str, list[Transaction]]:
    found: dict[str, list[Transaction]] = {}
    for transaction in transactions:
        found.setdefault(transaction.charge_point_id, []).append(transaction)
    return found


def _set_transactions(cp: CpState, active: list[Transaction]) -> bool:
    """Make the charge point's transactions the active ones (the latest per connector);
    whether any is new. After the first read, a transaction is new only once its
    StartTransaction was seen answered (model.CpState.starts_seen)."""
    known = {tx.transaction_id: tx for tx in cp.transactions.values()}
    latest: dict[int, TxState] = {}
    new = False
    for transaction in active:  # oldest first
        tx = known.get(transaction.id)
        if tx is None:
            start = (
                transaction.connector_id,
                transaction.id_tag.casefold(),
                transaction.meter_start,
                transaction.start_time,
            )
            if cp.listed and start not in cp.starts_seen:
                continue  # not answered yet: the charge point does not know its id
            cp.starts_seen.discard(start)
            tx = TxState(
                transaction_id=transaction.id,
                connector_id=transaction.connector_id,
                mode=starting_mode(cp.statuses.get(transaction.connector_id)),
            )
            new = True
        latest[transaction.connector_id] = tx
    cp.transactions = latest
    cp.listed = True
    return new


async def _read_priorities(services: Services, cps: Collection[CpState]) -> None:
    ids = [tx.transaction_id for cp in cps for tx in cp.transactions.values()]
    if not ids:
        return
    priorities = await services.store.transaction_load_priorities(ids)
    for cp in cps:
        for tx in cp.transactions.values():
            tx.priority = priorities.get(tx.transaction_id)


async def _read_charge_point(
    services: Services, cp: CpState, groups: Mapping[int, LoadGroup]
) -> None:
    store = services.store
    charge_point_id = cp.charge_point_id
    number = await _read_keys(services, cp)
    for status in await store.list_connectors(charge_point_id):
        cp.statuses[status.connector_id] = status.status
    cp.connectors = cp.member.connectors or number or max(cp.statuses, default=0) or 1
    group = groups.get(cp.member.group_id)
    voltage = group.voltage if group is not None else Decimal(230)
    for record in await store.charging_profiles_of(charge_point_id):
        if not ours(record):
            continue
        limit = limit_of(record.profile, voltage)
        if record.purpose == "TxDefaultProfile" and record.connector_id == 0:
            cp.default_accepted = limit
            cp.needs_default = False
        elif record.purpose == "TxProfile" and record.transaction_id is not None:
            cp.transactions[record.connector_id] = TxState(
                transaction_id=record.transaction_id,
                connector_id=record.connector_id,
                accepted=limit,
            )


async def _read_keys(services: Services, cp: CpState) -> int | None:
    """Its smart charging keys (spec 9.4); its NumberOfConnectors, if known."""
    capabilities = capabilities_of(await services.store.configuration_of(cp.charge_point_id))
    cp.max_stack_level = capabilities.max_stack_level
    units = capabilities.allowed_units
    cp.power_only = units is not None and ChargingRateUnit.A not in units
    return capabilities.number_of_connectors


def limit_of(profile: Mapping[str, Any], voltage: Decimal) -> Decimal | None:
    """The A per phase of one of our single-period profiles."""
    try:
        schedule = profile["chargingSchedule"]
        period = schedule["chargingSchedulePeriod"][0]
        limit = Decimal(str(period["limit"]))
        if schedule["chargingRateUnit"] == "W":
            phases = int(period.get("numberPhases", 3))
            limit = (limit / (voltage * phases)).quantize(_TENTH, ROUND_FLOOR)
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError):
        return None
    return limit
