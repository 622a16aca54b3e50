"""Site load management, one transaction as a state machine: what the CSMS may do with its limit
and what its car draws, the events that change them, and the one function that applies an event.
Pure: no I/O. The model (model.py) feeds it the charge points' messages (observe) and the worker
(worker.py) the answers to the profiles it sends; the allocation reads the state (a transaction
that is not Free is fixed at its limit in force, an Idle one gets the minimum after every
charging car). See docs/architecture.md, "Load management".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

# Connector states in which the car draws nothing although its transaction runs (spec 4.9).
NOT_DRAWING = frozenset({"SuspendedEV", "Finishing"})


class Control(StrEnum):
    """Whether the CSMS can change the transaction's limit now."""

    FREE = "Free"  # its limit follows the allocation
    UNANSWERED = "Unanswered"  # the last profile was not answered: until its charge point is
    # heard from again (or a retry is due)
    REFUSED = "Refused"  # the last profile was refused: for the rest of the transaction,
    # unless its charge point boots


class Draw(StrEnum):
    """What the car draws, as far as the connector status tells (spec 4.9, 7.7)."""

    DRAWING = "Drawing"  # it may take all it gets
    IDLE = "Idle"  # SuspendedEV, Finishing, or suspended by the charge point under a limit > 0


class TxEvent(StrEnum):
    HEARD_FROM = "HeardFrom"  # its charge point sent a CALL, or the retry after no answer is due
    BOOTED = "Booted"  # its charge point sent a BootNotification
    UNANSWERED = "Unanswered"  # a profile for it: offline, no answer, the sending failed
    REFUSED = "Refused"  # a profile for it: Rejected, NotSupported or a CALLERROR
    NOT_DRAWING = "NotDrawing"  # status SuspendedEV or Finishing
    SUSPENDED = "Suspended"  # status SuspendedEVSE while its limit in force is above 0
    CHARGING = "Charging"  # status Charging


@dataclass(frozen=True, slots=True)
class TxMode:
    control: Control = Control.FREE
    draw: Draw = Draw.DRAWING


# The status a transaction starts with: what its connector last reported.
def starting_mode(connector_status: str | None) -> TxMode:
    if connector_status in NOT_DRAWING:
        return TxMode(draw=Draw.IDLE)
    return TxMode()


def step(mode: TxMode, event: TxEvent) -> TxMode:
    """The mode after `event`. Control and draw change independently:

    ==============  ==========  ==========  ==========  ===================================
    event           Free        Unanswered  Refused     draw
    ==============  ==========  ==========  ==========  ===================================
    HeardFrom       Free        Free        Refused     unchanged
    Booted          Free        Free        Free        unchanged
    Unanswered      Unanswered  Unanswered  Refused     unchanged
    Refused         Refused     Refused     Refused     unchanged
    NotDrawing      unchanged   unchanged   unchanged   Idle
    Suspended       unchanged   unchanged   unchanged   Idle
    Charging        unchanged   unchanged   unchanged   Drawing
    ==============  ==========  ==========  ==========  ===================================

    A transaction that is not Free gets no profile, so Refused then Unanswered cannot happen
    from its own sending; Refused keeps it anyway, being the longer-lasting of the two. A
    SuspendedEVSE under our limit 0 is no event: the car waits for current (or stays Idle).
    """
    match event:
        case TxEvent.HEARD_FROM if mode.control == Control.UNANSWERED:
            return replace(mode, control=Control.FREE)
        case TxEvent.BOOTED:
            return replace(mode, control=Control.FREE)
        case TxEvent.UNANSWERED if mode.control != Control.REFUSED:
            return replace(mode, control=Control.UNANSWERED)
        case TxEvent.REFUSED:
            return replace(mode, control=Control.REFUSED)
        case TxEvent.NOT_DRAWING | TxEvent.SUSPENDED:
            return replace(mode, draw=Draw.IDLE)
        case TxEvent.CHARGING:
            return replace(mode, draw=Draw.DRAWING)
    return mode


def status_event(status: str, limit_in_force_above_zero: bool) -> TxEvent | None:
    """The event a connector status is for its transaction (None: no change)."""
    if status in NOT_DRAWING:
        return TxEvent.NOT_DRAWING
    if status == "SuspendedEVSE":
        # Suspended by the charge point itself, unless it is our limit 0 (then it waits for
        # current, or stays idle if it was).
        return TxEvent.SUSPENDED if limit_in_force_above_zero else None
    if status == "Charging":
        return TxEvent.CHARGING
    return None
