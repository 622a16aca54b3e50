"""The answers last given to each charge point, to answer a CALL sent again after its answer was
lost without doing its work twice (J 4.1.1: the sender may resend after a timeout; a charge
point resends its queued messages after a reconnect). docs/field-behaviour.md, "Replays and
clocks".

A CALL is the same one if its unique id, action and payload are those of a CALL answered
before: on the same connection or a new one of the same charge point id. Charge points count
unique ids from 1 again after a reboot, so a different CALL with an old id is a new one, and a
BootNotification starts the charge point's memory afresh.

Bounded for any number of charge points: the last PER_CHARGE_POINT answers of each, TOTAL in
all (the least recently heard charge points are forgotten first), and nothing of a charge point
not heard for FORGET_AFTER seconds. The hot path is one dict lookup per CALL; a remembered
answer costs a marshal and a hash of the payload (about a microsecond).
"""

from __future__ import annotations

import marshal
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from csms.ocppj import Call, CallError, CallResult

PER_CHARGE_POINT: Final = 32
# About 400 bytes an answer: some 40 MB at most.
TOTAL: Final = 100_000
# A day: a charge point offline longer than that gets its resends handled anew (the stores'
# own idempotency, docs/field-behaviour.md, still keeps those from counting twice).
FORGET_AFTER: Final = 86_400.0

Answer = CallResult | CallError

# A CALL's digest: a hash of its action and payload.
_Digest = int


class _Answers:
    """One charge point's answers by unique id, oldest first."""

    __slots__ = ("by_id", "heard_at")

    def __init__(self, heard_at: float) -> None:
        self.by_id: OrderedDict[str, tuple[_Digest, Answer]] = OrderedDict()
        self.heard_at = heard_at


class ReplayMemory:
    def __init__(
        self,
        *,
        per_charge_point: int = PER_CHARGE_POINT,
        total: int = TOTAL,
        forget_after: float = FORGET_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_charge_point < 1 or total < per_charge_point:
            raise ValueError("need 1 <= per_charge_point <= total")
        self.per_charge_point = per_charge_point
        self.total = total
        self.forget_after = forget_after
        self._clock = clock
        # Least recently heard first.
        self._charge_points: OrderedDict[str, _Answers] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        """Answers remembered, of all charge points."""
        return self._size

    def answers_of(self, charge_point_id: str) -> int:
        """Answers remembered for one charge point."""
        answers = self._charge_points.get(charge_point_id)
        return 0 if answers is None else len(answers.by_id)

    def answer(self, charge_point_id: str, call: Call) -> Answer | None:
        """The answer given to this very CALL before, if remembered."""
        answers = self._charge_points.get(charge_point_id)
        if answers is None:
            return None
        remembered = answers.by_id.get(call.unique_id)
        if remembered is None:
            return None
        digest, answer = remembered
        return answer if digest == _digest(call) else None

    def remember(self, charge_point_id: str, call: Call, answer: Answer) -> None:
        """Note the answer given to `call` (replacing one given to an older CALL of that id)."""
        digest = _digest(call)
        if digest is None:
            return
        now = self._clock()
        answers = self._charge_points.get(charge_point_id)
        if answers is None:
            answers = self._charge_points[charge_point_id] = _Answers(now)
        else:
            answers.heard_at = now
            self._charge_points.move_to_end(charge_point_id)
        by_id = answers.by_id
        if by_id.pop(call.unique_id, None) is not None:
            self._size -= 1
        by_id[call.unique_id] = (digest, answer)
        self._size += 1
        if len(by_id) > self.per_charge_point:
            by_id.popitem(last=False)
            self._size -= 1
        self._evict(now)

    def forget(self, charge_point_id: str) -> None:
        """Forget a charge point's answers (it rebooted: its unique ids start again)."""
        answers = self._charge_points.pop(charge_point_id, None)
        if answers is not None:
            self._size -= len(answers.by_id)

    def _evict(self, now: float) -> None:
        charge_points = self._charge_points
        while charge_points:
            oldest = next(iter(charge_points.values()))
            if self._size <= self.total and now - oldest.heard_at < self.forget_after:
                return
            _, answers = charge_points.popitem(last=False)
            self._size -= len(answers.by_id)


def _digest(call: Call) -> _Digest | None:
    """A hash of the action and the payload as parsed (marshal version 2 has no back-references,
    so equal payloads with keys in the same order give equal bytes); None if not marshallable."""
    try:
        return hash((call.action, marshal.dumps(call.payload, 2)))
    except ValueError:
        return None
