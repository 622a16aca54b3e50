"""The sans-I/O Session (J 4.1.1 one CALL in flight, J 4.1.3 unknown types ignored)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.ocppj import (
    CallError,
    CallResult,
    IncomingCall,
    Reply,
    ResponseReceived,
    Session,
    Unmatched,
)


def numbered_session() -> Session:
    counter = itertools.count(1)
    return Session(new_id=lambda: str(next(counter)))


def test_incoming_call_becomes_an_event() -> None:
    event = Session().receive('[2, "a", "Heartbeat", {}]')
    assert isinstance(event, IncomingCall)
    assert event.call.action == "Heartbeat"


def test_response_is_paired_with_the_pending_call() -> None:
    session = numbered_session()
    call = session.call("Reset", {"type": "Soft"})
    assert session.pending == call
    event = session.receive('[3, "1", {"status": "Accepted"}]')
    assert event == ResponseReceived(
        call=call, response=CallResult(unique_id="1", payload={"status": "Accepted"})
    )
    assert session.pending is None


def test_call_error_response_is_paired_too() -> None:
    session = numbered_session()
    session.call("Reset", {"type": "Soft"})
    event = session.receive('[4, "1", "NotSupported", "", {}]')
    assert isinstance(event, ResponseReceived)
    assert isinstance(event.response, CallError)


def test_only_one_call_in_flight() -> None:
    session = numbered_session()
    session.call("Reset", {"type": "Soft"})
    with pytest.raises(RuntimeError):
        session.call("ClearCache", {})


def test_crossing_calls_are_both_handled() -> None:
    session = numbered_session()
    session.call("Reset", {"type": "Soft"})
    assert isinstance(session.receive('[2, "x", "Heartbeat", {}]'), IncomingCall)
    assert isinstance(session.receive('[3, "1", {"status": "Accepted"}]'), ResponseReceived)


def test_late_and_unknown_responses_are_unmatched() -> None:
    session = numbered_session()
    session.call("Reset", {"type": "Soft"})
    session.abandon()  # timed out
    assert isinstance(session.receive('[3, "1", {}]'), Unmatched)
    session.call("ClearCache", {})
    assert isinstance(session.receive('[3, "999", {}]'), Unmatched)
    assert session.pending is not None  # still waiting for "2"


def test_unknown_message_type_is_ignored() -> None:
    assert isinstance(Session().receive('[7, "1", {}]'), Unmatched)


def test_unreadable_call_gets_a_reply() -> None:
    event = Session().receive('[2, "1", "Heartbeat"]')
    assert isinstance(event, Reply)
    assert event.frame.unique_id == "1"


@given(st.lists(st.text(), max_size=10))
def test_every_text_gives_exactly_one_event(texts: list[str]) -> None:
    session = numbered_session()
    session.call("Reset", {"type": "Hard"})
    for text in texts:
        assert isinstance(
            session.receive(text), IncomingCall | ResponseReceived | Reply | Unmatched
        )
