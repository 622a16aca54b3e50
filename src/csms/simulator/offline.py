"""The queue of a charge point that is offline (spec 3.7, 4.10; docs/simulator-misbehaviours.md).

While the connection is down a charge point keeps the transaction-related messages it could not
send, each with the timestamp of when it happened and a message id given when it was made, and
delivers them once the connection is back: late, and in the order its firmware chooses, which
is not always the order things happened (a StopTransaction after the next StartTransaction).

    await cp.drop()                                   # the network is gone
    stop = cp.offline.stop_transaction(7, 1500, reason="Local")
    start = cp.offline.start_transaction(1, "TAG")    # the next session, offline too
    await cp.offline.replay([start, stop])            # reconnects (no boot), Start first

A message about a transaction started offline refers to its queued StartTransaction; its
transactionId is filled in from that StartTransaction's answer when it is replayed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from csms.simulator.errors import CallErrorReceived

if TYPE_CHECKING:
    from csms.simulator.charge_point import SimulatedChargePoint, Timestamp

Payload = dict[str, Any]


@dataclass(eq=False, slots=True, kw_only=True)
class QueuedCall:
    """One message kept while offline: numbered and timestamped when it was made."""

    action: str
    payload: Payload
    unique_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # The queued StartTransaction whose transactionId this message needs (started offline).
    start: QueuedCall | None = None
    # Once replayed: the CSMS's answer, or the CALLERROR it got.
    answer: Payload | None = None
    error: CallErrorReceived | None = None

    @property
    def transaction_id(self) -> int | None:
        """The transaction it is about: a start's from its answer, else from the payload."""
        if self.action == "StartTransaction":
            return None if self.answer is None else int(self.answer["transactionId"])
        value = self.payload.get("transactionId")
        return None if value is None else int(value)


class OfflineQueue:
    """The messages a charge point keeps while offline, and their replay."""

    def __init__(self, cp: SimulatedChargePoint) -> None:
        self._cp = cp
        self.queued: list[QueuedCall] = []

    def __len__(self) -> int:
        return len(self.queued)

    def clear(self) -> None:
        """Forget every queued message (a hard reboot loses a queue kept in memory)."""
        self.queued.clear()

    def _queue(self, action: str, payload: Payload, start: QueuedCall | None = None) -> QueuedCall:
        queued = QueuedCall(action=action, payload=payload, start=start)
        self.queued.append(queued)
        return queued

    def status_notification(
        self,
        connector_id: int,
        status: str,
        error_code: str = "NoError",
        *,
        info: str | None = None,
        timestamp: Timestamp = None,
    ) -> QueuedCall:
        payload = self._cp._status_notification_payload(
            connector_id, status, error_code, info=info, timestamp=timestamp
        )
        return self._queue("StatusNotification", payload)

    def start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        *,
        meter_start: int = 0,
        timestamp: Timestamp = None,
        reservation_id: int | None = None,
    ) -> QueuedCall:
        payload = self._cp._start_transaction_payload(
            connector_id,
            id_tag,
            meter_start=meter_start,
            timestamp=timestamp,
            reservation_id=reservation_id,
        )
        return self._queue("StartTransaction", payload)

    def meter_values(
        self,
        connector_id: int,
        *,
        transaction: int | QueuedCall | None = None,
        energy_wh: float | None = None,
        timestamp: Timestamp = None,
        sampled_values: list[Payload] | None = None,
    ) -> QueuedCall:
        transaction_id, start = _reference(transaction)
        payload = self._cp._meter_values_payload(
            connector_id,
            transaction_id=transaction_id,
            energy_wh=energy_wh,
            timestamp=timestamp,
            sampled_values=sampled_values,
            charging=transaction is not None,
        )
        return self._queue("MeterValues", payload, start)

    def stop_transaction(
        self,
        transaction: int | QueuedCall,
        meter_stop: int,
        *,
        reason: str | None = None,
        id_tag: str | None = None,
        timestamp: Timestamp = None,
    ) -> QueuedCall:
        transaction_id, start = _reference(transaction)
        payload = self._cp._stop_transaction_payload(
            # A placeholder until the start's answer gives the transactionId.
            transaction_id if transaction_id is not None else -1,
            meter_stop,
            reason=reason,
            id_tag=id_tag,
            timestamp=timestamp,
        )
        return self._queue("StopTransaction", payload, start)

    async def replay(
        self,
        order: Sequence[QueuedCall] | None = None,
        *,
        raise_errors: bool = True,
        on_answered: Callable[[QueuedCall], None] | None = None,
    ) -> list[QueuedCall]:
        """Connect again if needed (no BootNotification, J 5.4) and send the queued messages,
        in `order` (default: as queued), each with its own message id and timestamps. Each one
        answered leaves the queue, its answer kept on it, and is passed to `on_answered`; the
        charge point's state follows the answers as online. A CALLERROR stops the replay
        (raised) unless not `raise_errors`; a lost connection stops it (ConnectionError), what
        was not answered staying queued."""
        cp = self._cp
        messages = list(self.queued if order is None else order)
        unknown = [m for m in messages if m not in self.queued]
        if unknown:
            raise ValueError(f"not in the queue: {[m.action for m in unknown]}")
        if len({id(m) for m in messages}) != len(messages):
            raise ValueError("a message is to be replayed twice: lose_next_answer() resends")
        if not cp.connected:
            await cp.connect()
        for message in messages:
            if message.start is not None:
                if message.start.answer is None:
                    raise RuntimeError(
                        f"{message.action} needs the transactionId of a StartTransaction that "
                        "has not been answered yet: replay the StartTransaction first"
                    )
                message.payload["transactionId"] = message.start.transaction_id
            try:
                message.answer = await cp.call_with_id(
                    message.action, message.payload, message.unique_id
                )
            except CallErrorReceived as exc:
                message.error = exc
                self.queued.remove(message)
                if raise_errors:
                    raise
                continue
            self.queued.remove(message)
            cp._after_replay(message.action, message.payload, message.answer)
            if on_answered is not None:
                on_answered(message)
        return messages


def _reference(transaction: int | QueuedCall | None) -> tuple[int | None, QueuedCall | None]:
    if transaction is None or isinstance(transaction, int):
        return transaction, None
    if transaction.action != "StartTransaction":
        raise ValueError(f"a transaction is referred to by its StartTransaction, not {transaction}")
    return transaction.transaction_id, transaction
