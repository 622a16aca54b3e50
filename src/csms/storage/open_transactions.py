"""The transactions the CSMS believes open, kept in memory so that StartTransaction needs no
database read (docs/field-behaviour.md, "Transactions"; spec 4.8): by connector, where one
transaction at a time runs, and by idTag, where only starts answered Accepted count."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

from csms.storage.records import Transaction

K = TypeVar("K", bound=Hashable)


class OpenTransactions:
    def __init__(self, transactions: Iterable[Transaction] = ()) -> None:
        self._by_tag: dict[str, dict[int, Transaction]] = {}
        self._by_connector: dict[tuple[str, int], dict[int, Transaction]] = {}
        for transaction in transactions:
            self.add(transaction)

    def add(self, transaction: Transaction) -> None:
        """Note it if it is open (else forget it)."""
        if not transaction.active:
            self.remove(transaction)
            return
        key = (transaction.charge_point_id, transaction.connector_id)
        self._by_connector.setdefault(key, {})[transaction.id] = transaction
        if transaction.accepted:
            self._by_tag.setdefault(transaction.id_tag.lower(), {})[transaction.id] = transaction

    def remove(self, transaction: Transaction) -> None:
        key = (transaction.charge_point_id, transaction.connector_id)
        _discard(self._by_connector, key, transaction.id)
        _discard(self._by_tag, transaction.id_tag.lower(), transaction.id)

    def of_tag(self, id_tag: str) -> list[Transaction]:
        """The open transactions started Accepted with this idTag (case-insensitive), by id."""
        found = self._by_tag.get(id_tag.lower(), {})
        return [found[transaction_id] for transaction_id in sorted(found)]

    def on_connector(self, charge_point_id: str, connector_id: int) -> list[Transaction]:
        """The open transactions of a connector (Accepted or not), by id."""
        found = self._by_connector.get((charge_point_id, connector_id), {})
        return [found[transaction_id] for transaction_id in sorted(found)]


def _discard(index: dict[K, dict[int, Transaction]], key: K, id_: int) -> None:
    entries = index.get(key)
    if entries is not None:
        entries.pop(id_, None)
        if not entries:
            del index[key]
