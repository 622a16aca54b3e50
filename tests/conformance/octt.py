"""The OCA test tool's vocabulary for the conformance suite.

- the test data an OCTT run is configured with (catalogue 2.5): the charge point, its
  connectors, and the id tags of each authorization status;
- the reusable states of the test-case document (section 3.22: Booted, Authorized, Charging),
  each asserting what the tool validates on the CSMS side;
- the operator's manual actions, through the operator API (catalogue 2.4-1, section 9);
- wire-level checks on the simulator's frame log: the CALLs of a case in order, each answered
  with a CALLRESULT, and no unsolicited CSMS CALL (catalogue 2.3, 2.6-1).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from csms.ocppj import Call, CallError, CallResult
from csms.simulator import SimulatedChargePoint
from tests.harness import Harness

CHARGE_POINT_ID = "OCTT-CP-01"
# <Configured Vendor Name> / <Configured Model> of the Booted state (CiString20).
VENDOR = "OCTT Vendor"
MODEL = "OCTT Model"
CONNECTORS = 2
# <Configured ConnectorId>: the connector the cases charge on.
CONNECTOR_ID = 1
# A connector the charge point does not have (TC_031: NumberOfConnectors + 1).
UNKNOWN_CONNECTOR_ID = CONNECTORS + 1
# A small heartbeat interval, so that a tool following it is not slowed down (catalogue 2.6-6).
HEARTBEAT_INTERVAL = 10


@dataclass(frozen=True, slots=True)
class IdTags:
    """The id tags of catalogue 2.5, as provisioned through the operator API."""

    valid: str = "OCTT-VALID-01"
    # Never provisioned: an unknown tag is Invalid (spec 4.1).
    invalid: str = "OCTT-UNKNOWN-01"
    # Stored with status Expired (TC_023_2 pre-requisite) ...
    expired: str = "OCTT-EXPIRED-01"
    # ... and Accepted with an expiryDate in the past: Expired all the same (spec 7.27).
    expired_by_date: str = "OCTT-PAST-01"
    blocked: str = "OCTT-BLOCKED-01"
    # A group (spec 3.10): two tags sharing parentIdTag `parent` (TC_053).
    parent: str = "OCTT-GROUP"
    group_a: str = "OCTT-GROUP-A"
    group_b: str = "OCTT-GROUP-B"


async def provision_id_tags(harness: Harness, tags: IdTags | None = None) -> IdTags:
    tags = tags or IdTags()
    past = datetime.now(UTC) - timedelta(days=1)
    bodies: dict[str, dict[str, Any]] = {
        tags.valid: {"status": "Accepted"},
        tags.expired: {"status": "Expired", "expiryDate": wire_time(past)},
        tags.expired_by_date: {"status": "Accepted", "expiryDate": wire_time(past)},
        tags.blocked: {"status": "Blocked"},
        tags.parent: {"status": "Accepted"},
        tags.group_a: {"status": "Accepted", "parentIdTag": tags.parent},
        tags.group_b: {"status": "Accepted", "parentIdTag": tags.parent},
    }
    # Concurrently: the CSMS's group commit writes them in one transaction.
    responses = await asyncio.gather(
        *(harness.api.put(f"/id-tags/{id_tag}", json=body) for id_tag, body in bodies.items())
    )
    for response in responses:
        assert response.status_code == 200, response.text
    response = await harness.api.get(f"/id-tags/{tags.invalid}")
    assert response.status_code == 404, "the invalid tag must be unknown to the CSMS"
    return tags


async def register(
    harness: Harness, charge_point_id: str = CHARGE_POINT_ID, status: str = "Accepted"
) -> None:
    """Provision the charge point identity with the registration status its boots get."""
    response = await harness.api.put(
        f"/charge-points/{charge_point_id}", json={"registrationStatus": status}
    )
    assert response.status_code == 200, response.text


# -- reusable states (test-case document 3.22) ------------------------------------------------


async def booted(cp: SimulatedChargePoint) -> dict[str, Any]:
    """Booted: BootNotification with the configured vendor and model (Accepted), then
    StatusNotification Available for connector 0 and every connector (errata 3.22)."""
    answer = await cp.boot()
    assert answer["status"] == "Accepted", answer
    for connector_id in range(cp.connectors + 1):
        assert await cp.status_notification(connector_id, "Available") == {}
    return answer


async def authorized(cp: SimulatedChargePoint, id_tag: str) -> dict[str, Any]:
    """Authorized: Authorize with the configured valid tag, answered Accepted."""
    answer = await cp.authorize(id_tag)
    assert answer["idTagInfo"]["status"] == "Accepted", answer
    return answer


async def charging(cp: SimulatedChargePoint, id_tag: str, connector_id: int = CONNECTOR_ID) -> int:
    """Charging: Authorized, StatusNotification Preparing, StartTransaction (Accepted, with a
    transactionId), StatusNotification Charging. Returns the transactionId."""
    await authorized(cp, id_tag)
    assert await cp.status_notification(connector_id, "Preparing") == {}
    answer = await cp.start_transaction(connector_id, id_tag)
    assert answer["idTagInfo"]["status"] == "Accepted", answer
    transaction_id = answer["transactionId"]
    assert isinstance(transaction_id, int)
    assert await cp.status_notification(connector_id, "Charging") == {}
    return transaction_id


# -- the operator's manual actions ------------------------------------------------------------


async def operator(
    harness: Harness,
    cp: SimulatedChargePoint,
    action: str,
    payload: dict[str, Any],
    *,
    status_code: int = 200,
) -> tuple[Any, Call]:
    """[Manual action] the operator makes the CSMS send `action` with `payload` now, through
    the operator API. Returns the API's answer (the charge point's CALLRESULT payload on 200)
    and the CALL exactly as the charge point received it."""
    response = await harness.api.post(
        f"/charge-points/{cp.charge_point_id}/commands/{action}", json=payload
    )
    assert response.status_code == status_code, response.text
    call = await cp.expect_call(action)
    return response.json(), call


# -- what the CSMS stored, read through the operator API --------------------------------------


async def stored_charge_point(
    harness: Harness, charge_point_id: str = CHARGE_POINT_ID
) -> dict[str, Any]:
    response = await harness.api.get(f"/charge-points/{charge_point_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def connector_statuses(
    harness: Harness, charge_point_id: str = CHARGE_POINT_ID
) -> dict[int, dict[str, Any]]:
    """The current status the CSMS holds per connector id."""
    connectors = (await stored_charge_point(harness, charge_point_id))["connectors"]
    return {connector["connectorId"]: connector for connector in connectors}


async def stored_configuration(
    harness: Harness, charge_point_id: str = CHARGE_POINT_ID
) -> dict[str, Any]:
    """The configuration the CSMS holds from the charge point's answers: its JSON body with
    `configurationKey` turned into key -> entry."""
    response = await harness.api.get(f"/charge-points/{charge_point_id}/configuration")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body["configurationKey"] = {entry["key"]: entry for entry in body["configurationKey"]}
    return body


async def stored_transaction(harness: Harness, transaction_id: int) -> dict[str, Any]:
    response = await harness.api.get(f"/transactions/{transaction_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def transactions_of(
    harness: Harness, charge_point_id: str = CHARGE_POINT_ID, *, active: bool | None = None
) -> list[dict[str, Any]]:
    """The transactions of this case: in a certification-style session (sequence.py) the
    ones earlier cases left are not the case's, whatever became of them."""
    params: dict[str, Any] = {"charge_point_id": charge_point_id}
    if active is not None:
        params["active"] = str(active).lower()
    response = await harness.api.get("/transactions", params=params)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    earlier: frozenset[int] = getattr(harness, "earlier_transactions", frozenset())
    return [transaction for transaction in body if transaction["id"] not in earlier]


# -- time -------------------------------------------------------------------------------------


def ago(**delta: float) -> datetime:
    """A past moment in whole seconds (so that it survives every timestamp round trip)."""
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0)


def wire_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as OCPP sends it (spec 3.14/3.15)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """A timestamp from the CSMS (OCPP frame or API); must carry a time zone."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"timestamp without a time zone: {text}"
    return moment


def is_utc(text: str) -> bool:
    """Whether a timestamp is given in UTC (spec 3.14: the CSMS SHOULD send UTC)."""
    return parse_time(text).utcoffset() == timedelta(0)


# -- the wire ---------------------------------------------------------------------------------


class Wire:
    """The CALLs on one charge point's wire from now on (the simulator's frame log)."""

    def __init__(self, cp: SimulatedChargePoint) -> None:
        self.cp = cp
        self.start = len(cp.log)

    def calls(self, *, allow_call_errors: bool = False) -> list[str]:
        """Every CALL since the mark, in wire order: 'CP→ Action' (sent by the charge point)
        or 'CS→ Action' (sent by the CSMS). Asserts each was answered, with a CALLRESULT: OCTT
        fails a case on a CALLERROR or a missing answer (catalogue 2.3). With
        `allow_call_errors`, a CALL answered with a CALLERROR is listed with ' (CALLERROR)'."""
        entries = self.cp.log[self.start :]
        frames = [(entry.direction, entry.frame) for entry in entries]
        sequence = []
        csms_ids: set[str] = set()
        for index, (direction, frame) in enumerate(frames):
            if not isinstance(frame, Call):
                continue
            sender = "CP" if direction == "sent" else "CS"
            if sender == "CS":
                # J 4.1.4, J errata 3.1: at most 36 characters, never reused.
                assert len(frame.unique_id) <= 36, f"message id too long: {frame.unique_id}"
                assert frame.unique_id not in csms_ids, f"message id reused: {frame.unique_id}"
                csms_ids.add(frame.unique_id)
            answer = next(
                (
                    later
                    for later_direction, later in frames[index + 1 :]
                    if later_direction != direction
                    and isinstance(later, CallResult | CallError)
                    and later.unique_id == frame.unique_id
                ),
                None,
            )
            assert answer is not None, f"{sender}→ {frame.action} was never answered"
            if isinstance(answer, CallError):
                assert allow_call_errors, (
                    f"{sender}→ {frame.action} {frame.payload} answered with a CALLERROR: "
                    f"{answer.error_code} {answer.error_description!r}"
                )
                sequence.append(f"{sender}→ {frame.action} (CALLERROR)")
            else:
                sequence.append(f"{sender}→ {frame.action}")
        return sequence


async def no_unsolicited_calls(cp: SimulatedChargePoint) -> None:
    """OCTT fails a case on a CSMS CALL the scenario does not contain (catalogue 2.6-1).

    A Heartbeat round trip first: a CALL the CSMS would start after one of its answers (a
    follow-up) is on the wire before the answer to a later CALL of ours."""
    assert "currentTime" in await cp.heartbeat()
    cp.no_unexpected_calls()
