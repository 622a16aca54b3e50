"""Routes each CALL of a charge point to its feature handler and turns the outcome into the
CALLRESULT or the right CALLERROR (J 4.2.3). Never raises on peer input.

A CALL sent again after its answer was lost gets the answer it got the first time, without its
work being done twice (transport/replay.py, docs/field-behaviour.md "Replays and clocks").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from csms.features.charger_profiles import adapted_answer
from csms.features.context import Context, Handler, Services
from csms.ocpp16 import (
    ACTIONS,
    Action,
    RegistrationStatus,
    SchemaViolation,
    Sender,
    can_send,
    decode_request,
    to_payload,
    validate_response,
)
from csms.ocppj import Call, CallError, CallRefused, CallResult, ErrorCode
from csms.transport import Handled, OcppConnection

log = logging.getLogger("csms.features")

# Answered afresh even when sent again: their answers say what is true now (the time, the tag,
# the registration) and doing them twice does no harm. A BootNotification also ends the
# charge point's replay memory: after a reboot it counts unique ids from 1 again.
_ANSWERED_AFRESH = frozenset({Action.BOOT_NOTIFICATION, Action.HEARTBEAT, Action.AUTHORIZE})


class Router:
    """The transport's Dispatcher: ROUTES of every feature module over the shared services."""

    def __init__(self, routes: Mapping[str, Handler], services: Services) -> None:
        self._routes = dict(routes)
        self._services = services

    async def dispatch(self, connection: OcppConnection, call: Call) -> Handled:
        self._services.store.touch(connection.charge_point_id, self._services.clock.now())
        handler = self._routes.get(call.action)
        if handler is None:
            return Handled(_refuse(call))
        # J errata 3.10: until its BootNotification is Accepted a charge point may send nothing
        # else; its other CALLs are answered SecurityError.
        if not connection.accepted and not _may_send_before_acceptance(connection, call.action):
            return Handled(
                _error(call, ErrorCode.SECURITY_ERROR, "BootNotification not accepted yet")
            )
        # Only CALLRESULTs are remembered: our CALLERRORs depend on the message alone (answered
        # the same again) or on a passing state (not accepted yet, a failure) a resend should
        # meet afresh.
        replays = self._services.replays
        replayable = call.action not in _ANSWERED_AFRESH
        replayed = self._replayed(connection.charge_point_id, call)
        if replayed is not None:
            return Handled(replayed)
        request = decode_request(call.action, call.payload)
        if isinstance(request, SchemaViolation):
            return Handled(_error(call, request.error_code, request.description))
        context = Context(self._services, connection)
        try:
            response = await handler(context, request)
            # Dates this charge point cannot hold (docs/charger-compatibility.md).
            payload = await adapted_answer(
                self._services, connection.charge_point_id, call.action, to_payload(response)
            )
        except CallRefused as refused:
            return Handled(_error(call, refused.error_code, refused.description))
        except Exception:
            log.exception("%s: %s handler failed", connection.charge_point_id, call.action)
            return Handled(_error(call, ErrorCode.INTERNAL_ERROR, f"{call.action} failed"))
        violation = validate_response(call.action, payload)
        if violation is not None:  # our bug: never send a schema-invalid frame
            log.error("%s: invalid %s answer: %s", call.action, payload, violation.description)
            return Handled(_error(call, ErrorCode.INTERNAL_ERROR, "invalid answer"))
        _observe(self._services, connection.charge_point_id, call, request)
        result = CallResult(unique_id=call.unique_id, payload=payload)
        if replayable:
            # Also if sending it fails: the work is done, and the resend will come.
            replays.remember(connection.charge_point_id, call, result)
        return Handled(result, context.follow_ups)

    def _replayed(self, charge_point_id: str, call: Call) -> CallResult | CallError | None:
        """The answer given before, when `call` is one sent again (transport/replay.py)."""
        replays = self._services.replays
        if call.action in _ANSWERED_AFRESH:
            if call.action == Action.BOOT_NOTIFICATION:
                replays.forget(charge_point_id)
            return None
        replayed = replays.answer(charge_point_id, call)
        if replayed is not None:
            log.info(
                "%s: %s %s sent again: answered as before",
                charge_point_id,
                call.action,
                call.unique_id,
            )
        return replayed


def _observe(services: Services, charge_point_id: str, call: Call, request: object) -> None:
    """Tell the call observers (Services.call_observers) of a CALL handled."""
    for observer in services.call_observers:
        try:
            observer(charge_point_id, call, request)
        except Exception:
            log.exception("%s: observer of %s failed", charge_point_id, call.action)


def _may_send_before_acceptance(connection: OcppConnection, action: str) -> bool:
    """BootNotification, and while Pending what the CSMS asked for with TriggerMessage (4.2)."""
    if action == Action.BOOT_NOTIFICATION:
        return True
    if connection.registration == RegistrationStatus.PENDING and action in connection.triggered:
        connection.triggered.discard(action)
        return True
    return False


def _refuse(call: Call) -> CallError:
    # J 4.2.3 table 7: NotImplemented = action unknown; NotSupported = known but not supported
    # here (a Central System action sent by a charge point, or a profile we do not serve).
    if call.action not in ACTIONS:
        return _error(call, ErrorCode.NOT_IMPLEMENTED, f"unknown action {call.action!r}")
    if not can_send(call.action, Sender.CHARGE_POINT):
        return _error(call, ErrorCode.NOT_SUPPORTED, f"{call.action} is sent by a Central System")
    return _error(call, ErrorCode.NOT_SUPPORTED, f"{call.action} is not supported")


def _error(call: Call, code: ErrorCode, description: str) -> CallError:
    return CallError(unique_id=call.unique_id, error_code=code, error_description=description)
