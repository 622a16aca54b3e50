"""Core profile, authorization: OCTT TC_007, TC_061 and TC_023_1/2/3 (test-case document 3.3,
3.8; spec 3.5 local authorization, 4.1 Authorize, 4.8 StartTransaction, 5.4 ClearCache, 7.27
IdTagInfo; errata 3.73-3.75)."""

from __future__ import annotations

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import (
    CONNECTOR_ID,
    IdTags,
    Wire,
    no_unsolicited_calls,
    operator,
    parse_time,
    stored_transaction,
)
from tests.harness import Harness


async def test_tc_007_regular_start_charging_session_cached_id(
    harness: Harness, cp: SimulatedChargePoint, id_tags: IdTags
) -> None:
    """TC_007_CSMS (3.3.1): the tag is in the charge point's authorization cache, so no
    Authorize is sent: the CSMS must verify the tag inside StartTransaction itself (spec 4.8)
    and answer Accepted."""
    wire = Wire(cp)
    assert await cp.status_notification(CONNECTOR_ID, "Preparing") == {}
    start = await cp.start_transaction(CONNECTOR_ID, id_tags.valid)
    assert start["idTagInfo"]["status"] == "Accepted"
    assert isinstance(start["transactionId"], int)
    assert await cp.status_notification(CONNECTOR_ID, "Charging") == {}

    assert wire.calls() == [
        "CP→ StatusNotification",
        "CP→ StartTransaction",
        "CP→ StatusNotification",
    ]
    stored = await stored_transaction(harness, start["transactionId"])
    assert (stored["active"], stored["idTag"], stored["idTagStatus"]) == (
        True,
        id_tags.valid,
        "Accepted",
    )
    await no_unsolicited_calls(cp)


async def test_tc_061_clear_authorization_data_in_authorization_cache(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_061_CSMS (3.3.2): the operator clears the charge point's authorization cache: the
    CSMS sends ClearCache with an empty payload (spec 5.4) and reports the Accepted answer."""
    wire = Wire(cp)
    answer, call = await operator(harness, cp, "ClearCache", {})
    assert call.payload == {}
    assert answer == {"status": "Accepted"}
    assert wire.calls() == ["CS→ ClearCache"]
    await no_unsolicited_calls(cp)


async def test_tc_023_1_authorize_invalid(cp: SimulatedChargePoint, id_tags: IdTags) -> None:
    """TC_023_1_CSMS (3.8.1): a tag the CSMS does not know is Invalid: a CALLRESULT with that
    status, never a CALLERROR (spec 4.1, J 4.2.2)."""
    wire = Wire(cp)
    answer = await cp.authorize(id_tags.invalid)
    assert answer["idTagInfo"]["status"] == "Invalid"
    assert wire.calls() == ["CP→ Authorize"]
    await no_unsolicited_calls(cp)


async def test_tc_023_2_authorize_expired(cp: SimulatedChargePoint, id_tags: IdTags) -> None:
    """TC_023_2_CSMS (3.8.2): the CSMS holds the tag with status Expired, and answers Expired.
    A tag whose expiryDate has passed is Expired as well (spec 7.27)."""
    wire = Wire(cp)
    answer = await cp.authorize(id_tags.expired)
    assert answer["idTagInfo"]["status"] == "Expired"
    by_date = await cp.authorize(id_tags.expired_by_date)
    assert by_date["idTagInfo"]["status"] == "Expired"
    assert parse_time(by_date["idTagInfo"]["expiryDate"]) < parse_time(
        (await cp.heartbeat())["currentTime"]
    )
    assert wire.calls() == ["CP→ Authorize", "CP→ Authorize", "CP→ Heartbeat"]
    await no_unsolicited_calls(cp)


async def test_tc_023_3_authorize_blocked(cp: SimulatedChargePoint, id_tags: IdTags) -> None:
    """TC_023_3_CSMS (3.8.3): the CSMS holds the tag with status Blocked, and answers
    Blocked."""
    wire = Wire(cp)
    answer = await cp.authorize(id_tags.blocked)
    assert answer["idTagInfo"]["status"] == "Blocked"
    assert wire.calls() == ["CP→ Authorize"]
    await no_unsolicited_calls(cp)
