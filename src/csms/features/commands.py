"""CSMS-initiated operations: send any OCPP 1.6 request to a connected charge point and return
its answer, keeping what the CSMS knows consistent with that answer.

Every request is checked against the official schema first, and nothing else: certification
needs requests that are schema-valid but "wrong" (unknown connector or reservation ids,
unsupported keys, values such as "-1"; catalogue 2.4). Feature modules register a hook per
action that records what an answer changed (configuration, availability, reservations, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from csms.features import charger_profiles, live, outbox
from csms.features.context import Services
from csms.ocpp16 import (
    ACTIONS,
    Action,
    RegistrationStatus,
    Sender,
    can_send,
    validate_request,
    validate_response,
)
from csms.ocpp16.security_firmware_messages import EXTENDED_TRIGGER_ACTIONS
from csms.ocppj import CallError, CallResult
from csms.quirks import Adaptation, key_batches, merged_configuration
from csms.storage import Transaction
from csms.transport import NotConnected, OcppConnection

log = logging.getLogger("csms.features.commands")


class CommandFailed(Exception):
    """A command that could not be sent or answered; the API maps each kind to its status."""


class UnknownCommand(CommandFailed):
    """Not an OCPP 1.6 action a Central System sends."""


class InvalidCommand(CommandFailed):
    """The payload violates the action's schema; nothing was sent."""


class ChargePointOffline(CommandFailed):
    """The charge point is not connected (or disconnected while we waited)."""


class NotAllowedNow(CommandFailed):
    """The charge point's registration status does not allow this request (spec 4.2)."""


class CommandTimeout(CommandFailed):
    """No answer within the OCPP response timeout (J 4.1.1)."""


class InvalidAnswer(CommandFailed):
    """The charge point answered with a payload that violates the response schema."""

    def __init__(self, message: str, payload: dict[str, Any]) -> None:
        super().__init__(message)
        self.payload = payload


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """What a charge point answered, and what the CSMS concluded from it."""

    charge_point_id: str
    action: str
    request: dict[str, Any]
    response: CallResult | CallError
    details: dict[str, Any] = field(default_factory=dict)
    # RemoteStartTransaction: the StartTransaction it leads to (charge point, connector, idTag)
    # once the CSMS has handled it, which may be before the answer is recorded. A transaction
    # of that tag that ran before the CALL went out never resolves it.
    transaction_started: asyncio.Future[Transaction] | None = None


# Called after a CALLRESULT that passed schema validation; returns details for the caller.
ResultHook = Callable[[Services, Sent], Awaitable[dict[str, Any] | None]]
RESULT_HOOKS: dict[str, ResultHook] = {}


def on_result(action: str) -> Callable[[ResultHook], ResultHook]:
    """Register the hook that records what an answer to `action` changed."""

    def register(hook: ResultHook) -> ResultHook:
        RESULT_HOOKS[action] = hook
        return hook

    return register


def _check_registration(registration: str | None, charge_point_id: str, action: str) -> None:
    """Spec 4.2: while Rejected the CSMS initiates nothing; while Pending it may query and
    configure the charge point but not start or stop transactions."""
    if registration == RegistrationStatus.REJECTED:
        raise NotAllowedNow(
            f"{charge_point_id} was Rejected at its BootNotification: the CSMS sends it nothing"
        )
    if registration == RegistrationStatus.PENDING and action in (
        Action.REMOTE_START_TRANSACTION,
        Action.REMOTE_STOP_TRANSACTION,
    ):
        raise NotAllowedNow(f"{charge_point_id} is Pending: {action} is not allowed until Accepted")


def _check_request(action: str, payload: dict[str, Any]) -> None:
    """A Central System request of OCPP 1.6, valid against its schema (and nothing else)."""
    if action not in ACTIONS or not can_send(action, Sender.CENTRAL_SYSTEM):
        raise UnknownCommand(f"{action!r} is not an OCPP 1.6 Central System request")
    violation = validate_request(action, payload)
    if violation is not None:
        raise InvalidCommand(f"{violation.error_code}: {violation.description}")


def _triggered_action(action: str, payload: dict[str, Any]) -> str | None:
    """The charge point's action a TriggerMessage (spec 5.17) or ExtendedTriggerMessage
    (whitepaper 6.16) asks for: what it may send while Pending (spec 4.2)."""
    if action == Action.TRIGGER_MESSAGE:
        return str(payload["requestedMessage"])
    if action == Action.EXTENDED_TRIGGER_MESSAGE:
        return EXTENDED_TRIGGER_ACTIONS[payload["requestedMessage"]]
    return None


async def send(
    services: Services,
    charge_point_id: str,
    action: str,
    payload: dict[str, Any],
    *,
    connect_timeout: float = 0.0,
    timeout: float | None = None,
) -> Sent:
    """Validate, adapt to the charge point's stack (features/charger_profiles.py), send through
    the connection's one-CALL-in-flight path, and record the answer."""
    _check_request(action, payload)
    connection = await services.registry.wait_for(charge_point_id, connect_timeout)
    if connection is None:
        raise ChargePointOffline(f"charge point {charge_point_id!r} is not connected")
    _check_registration(connection.registration, charge_point_id, action)
    payload = await charger_profiles.adapted_request(services, charge_point_id, action, payload)
    if action == Action.GET_CONFIGURATION and payload.get("key"):
        batches = key_batches(payload["key"], await _max_keys(services, charge_point_id))
        if len(batches) > 1:
            return await _in_batches(services, connection, charge_point_id, batches, timeout)
    return await _send_one(services, connection, charge_point_id, action, payload, timeout)


async def _max_keys(services: Services, charge_point_id: str) -> int | None:
    """Spec 9.1 GetConfigurationMaxKeys as the charge point reported it, or its profile's
    maxKeys: the smaller one (0 or -1 reported: no limit)."""
    found = [(await services.charger_profiles.rules(services, charge_point_id)).max_keys]
    for entry in (await services.store.configuration_of(charge_point_id)).entries:
        if entry.key == "GetConfigurationMaxKeys" and (entry.value or "").strip().isdigit():
            found.append(int(entry.value or "0"))
    numbers = [n for n in found if n is not None and n > 0]
    return min(numbers) if numbers else None


async def _in_batches(
    services: Services,
    connection: OcppConnection,
    charge_point_id: str,
    batches: list[list[str]],
    timeout: float | None,
) -> Sent:
    """One GetConfiguration per batch of keys, answered as one (spec 9.1 GetConfigurationMaxKeys:
    a request for more keys is refused by the charge point)."""
    answers = []
    for batch in batches:
        sent = await _send_one(
            services, connection, charge_point_id, Action.GET_CONFIGURATION, {"key": batch}, timeout
        )
        if not isinstance(sent.response, CallResult):
            return sent
        answers.append(sent.response.payload)
    services.charger_profiles.note(
        charge_point_id,
        [
            Adaptation(
                rule="maxKeys",
                action=Action.GET_CONFIGURATION,
                detail=f"{sum(map(len, batches))} keys asked in {len(batches)} requests",
            )
        ],
    )
    keys = [key for batch in batches for key in batch]
    return Sent(
        charge_point_id=charge_point_id,
        action=Action.GET_CONFIGURATION,
        request={"key": keys},
        response=CallResult(
            unique_id=sent.response.unique_id, payload=merged_configuration(answers)
        ),
        details={"requests": len(batches)},
    )


async def _send_one(
    services: Services,
    connection: OcppConnection,
    charge_point_id: str,
    action: str,
    payload: dict[str, Any],
    timeout: float | None,
) -> Sent:
    triggered = _triggered_action(action, payload)
    if triggered is not None and not connection.accepted:
        connection.triggered.add(triggered)
    # The answer is recorded before the next CALL to this charge point goes out, so that what
    # the CSMS keeps follows the order of the charge point's answers.
    async with connection.exclusive() as call, contextlib.AsyncExitStack() as stack:
        started = (
            stack.enter_context(
                services.transaction_starts.expect(
                    charge_point_id, payload.get("connectorId"), payload["idTag"]
                )
            )
            if action == Action.REMOTE_START_TRANSACTION
            else None
        )
        live.command_sent(services, charge_point_id, action)
        try:
            response = await call(action, payload, timeout=timeout)
        except TimeoutError:
            await _answered(services, charge_point_id, action, None, "timeout")
            raise CommandTimeout(
                f"{charge_point_id} did not answer {action} within "
                f"{timeout or services.settings.call_timeout} s"
            ) from None
        except NotConnected:
            await _answered(services, charge_point_id, action, None, "disconnected")
            raise ChargePointOffline(f"charge point {charge_point_id!r} disconnected") from None
        sent = Sent(
            charge_point_id=charge_point_id,
            action=action,
            request=payload,
            response=response,
            transaction_started=started,
        )
        if isinstance(response, CallError):
            await _answered(services, charge_point_id, action, response)
            return sent
        violation = validate_response(action, response.payload)
        if violation is not None:
            await _answered(services, charge_point_id, action, response)
            raise InvalidAnswer(
                f"{charge_point_id} answered {action} with an invalid payload: "
                f"{violation.error_code}: {violation.description}",
                response.payload,
            )
        # What the answer changed is recorded first, then reported (command.answered).
        hook = RESULT_HOOKS.get(action)
        if hook is not None:
            details = await hook(services, sent)
            if details:
                sent.details.update(details)
        await _answered(services, charge_point_id, action, response)
        return sent


async def _answered(
    services: Services,
    charge_point_id: str,
    action: str,
    response: CallResult | CallError | None,
    failure: str | None = None,
) -> None:
    """Told live (and logged, counted), and a command.answered event in the outbox."""
    data = live.command_answered(services, charge_point_id, action, response, failure)
    await outbox.command_answered(services, charge_point_id, action, data)
