"""A transaction's billable energy kept up to date (docs/field-behaviour.md, "Energy you can
bill"): computed by features/core/energy.py from its meterStart, meterStop and register samples,
stored when it stops or is ended (by a StopTransaction, by the operator, superseded on its
connector), and computed again when a late StopTransaction or late meter values arrive.

For a transaction's energy in Wh anywhere else (events, exports): `refresh_energy` after it
stopped, or `energies` for a list read from the store (stored values where known, computed for
running ones)."""

from __future__ import annotations

from collections.abc import Sequence

from csms.features.core.energy import BillableEnergy, billable_energy
from csms.storage import MeterSample, Store, Transaction
from csms.storage.records import ENERGY_REGISTER


def energy_of(
    transaction: Transaction, samples: Sequence[MeterSample]
) -> tuple[int, tuple[str, ...]]:
    """What the store computes a stopping transaction's energy with (`Store.stop_transaction`,
    in the stop's own commit)."""
    energy = billable_energy(transaction, samples)
    return energy.wh, energy.flags


async def refresh_energy(store: Store, transaction: Transaction) -> BillableEnergy:
    """The transaction's energy from everything received so far; stored (if changed) unless it
    is still running."""
    samples = await store.meter_values_of_transactions([transaction.id], measurand=ENERGY_REGISTER)
    energy = billable_energy(transaction, samples.get(transaction.id, []))
    stored = (transaction.energy_wh, transaction.energy_flags)
    if not transaction.active and stored != (energy.wh, energy.flags):
        await store.record_energy(transaction.id, energy.wh, energy.flags)
    return energy


async def refresh_energy_of(store: Store, transaction_id: int, charge_point_id: str) -> None:
    """The same for a transaction known by id, if it is this charge point's and over."""
    transaction = await store.get_transaction(transaction_id)
    if (
        transaction is not None
        and transaction.charge_point_id == charge_point_id
        and not transaction.active
    ):
        await refresh_energy(store, transaction)


async def refresh_ended(store: Store, transactions: Sequence[Transaction]) -> None:
    """Those of `transactions` (as they were, open) that are over now: ended by the CSMS when
    another started on their connector."""
    for transaction in transactions:
        await refresh_energy_of(store, transaction.id, transaction.charge_point_id)


async def energies(store: Store, transactions: Sequence[Transaction]) -> dict[int, BillableEnergy]:
    """The energy of each: as stored where computed, else (running, or stored before migration
    0015) computed from its samples, read in one query."""
    found = {
        t.id: BillableEnergy(t.energy_wh, t.energy_flags)
        for t in transactions
        if t.energy_wh is not None and not t.active
    }
    missing = [t for t in transactions if t.id not in found]
    if missing:
        samples = await store.meter_values_of_transactions(
            [t.id for t in missing], measurand=ENERGY_REGISTER
        )
        for t in missing:
            found[t.id] = billable_energy(t, samples.get(t.id, []))
    return found
