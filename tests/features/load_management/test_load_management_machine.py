"""A transaction's state under load management (load_management/machine.py): every row of the
transition table, and the statuses that are events."""

import pytest

from csms.features.load_management.machine import (
    Control,
    Draw,
    TxEvent,
    TxMode,
    starting_mode,
    status_event,
    step,
)

FREE, UNANSWERED, REFUSED = Control.FREE, Control.UNANSWERED, Control.REFUSED

CONTROL_TABLE = {
    TxEvent.HEARD_FROM: (FREE, FREE, REFUSED),
    TxEvent.BOOTED: (FREE, FREE, FREE),
    TxEvent.UNANSWERED: (UNANSWERED, UNANSWERED, REFUSED),
    TxEvent.REFUSED: (REFUSED, REFUSED, REFUSED),
    TxEvent.NOT_DRAWING: (FREE, UNANSWERED, REFUSED),
    TxEvent.SUSPENDED: (FREE, UNANSWERED, REFUSED),
    TxEvent.CHARGING: (FREE, UNANSWERED, REFUSED),
}
DRAW_TABLE = {
    TxEvent.NOT_DRAWING: Draw.IDLE,
    TxEvent.SUSPENDED: Draw.IDLE,
    TxEvent.CHARGING: Draw.DRAWING,
}


@pytest.mark.parametrize("event", list(TxEvent))
@pytest.mark.parametrize("draw", list(Draw))
def test_each_event_moves_control_and_draw_as_the_table_says(event: TxEvent, draw: Draw) -> None:
    for before, after in zip((FREE, UNANSWERED, REFUSED), CONTROL_TABLE[event], strict=True):
        result = step(TxMode(control=before, draw=draw), event)
        assert result.control == after
        assert result.draw == DRAW_TABLE.get(event, draw)


def test_connector_statuses_are_events_only_where_they_say_something_of_the_draw() -> None:
    assert status_event("SuspendedEV", True) == TxEvent.NOT_DRAWING
    assert status_event("Finishing", False) == TxEvent.NOT_DRAWING
    assert status_event("SuspendedEVSE", True) == TxEvent.SUSPENDED
    assert status_event("SuspendedEVSE", False) is None  # our limit 0: it waits for current
    assert status_event("Charging", False) == TxEvent.CHARGING
    assert status_event("Preparing", True) is None
    assert starting_mode("SuspendedEV") == TxMode(draw=Draw.IDLE)
    assert starting_mode(None) == TxMode()
