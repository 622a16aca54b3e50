"""Waiting for the StartTransaction that a RemoteStartTransaction leads to (spec 5.11), so that
the operator learns the transactionId of a remote start."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from csms.storage import Transaction


@dataclass(frozen=True, slots=True)
class _Waiter:
    charge_point_id: str
    connector_id: int | None
    id_tag: str
    future: asyncio.Future[Transaction]


class TransactionStarts:
    def __init__(self) -> None:
        self._waiters: list[_Waiter] = []

    @contextmanager
    def expect(
        self, charge_point_id: str, connector_id: int | None, id_tag: str
    ) -> Iterator[asyncio.Future[Transaction]]:
        """A future for the next transaction started on this charge point (and connector, if
        given) with this idTag. Enter it before sending the command: the charge point may send
        its StartTransaction before we read its answer to RemoteStartTransaction."""
        waiter = _Waiter(
            charge_point_id,
            connector_id,
            id_tag.casefold(),
            asyncio.get_running_loop().create_future(),
        )
        self._waiters.append(waiter)
        try:
            yield waiter.future
        finally:
            self._waiters.remove(waiter)
            waiter.future.cancel()

    def started(self, transaction: Transaction) -> None:
        for waiter in self._waiters:
            if (
                not waiter.future.done()
                and waiter.charge_point_id == transaction.charge_point_id
                and waiter.connector_id in (None, transaction.connector_id)
                and waiter.id_tag == transaction.id_tag.casefold()
            ):
                waiter.future.set_result(transaction)
