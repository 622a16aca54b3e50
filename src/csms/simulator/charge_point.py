"""A scripted OCPP 1.6J charge point on the same sans-I/O core as the CSMS.

It plays the role the OCA test tool plays against a Central System: tests drive it step by step
(`boot()`, `authorize()`, `start_transaction()`, ...), every step being one CALL whose answer is
returned, checked against the official schema. CALLs from the CSMS are answered at once from a
table of stateful defaults (`answers.py`) or per-test overrides (`answers`), and queued so the test
can assert on them with `expect_call()` (see `connection.py`).

Over 400 lines: one method per scripted step of every feature profile and the security
extension; the logic behind them lives in the modules it uses.
"""

from __future__ import annotations

import copy
import ssl as ssl_module
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from csms.ocppj import Call, CallError, CallResult
from csms.simulator import certificates, stacks
from csms.simulator.answers import DEFAULT_ANSWERS
from csms.simulator.connection import AnswerResult, ChargePointConnection, Payload
from csms.simulator.meter import default_sampled_values
from csms.simulator.offline import OfflineQueue
from csms.simulator.smart_charging import charging_current
from csms.simulator.stacks import PRESETS, Stack
from csms.simulator.state import ChargePointState, Transaction
from csms.simulator.transfers import Transfers

Timestamp = datetime | str | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SimulatedChargePoint(ChargePointConnection):
    """One charge point with N connectors, its state, and one method per scripted step."""

    def __init__(
        self,
        charge_point_id: str,
        url: str,
        *,
        connectors: int = 2,
        password: str | None = None,
        subprotocols: Sequence[str] = ("ocpp1.6",),
        vendor: str = "SimVendor",
        model: str = "SimModel",
        response_timeout: float = 10.0,
        validate: bool = True,
        ssl: ssl_module.SSLContext | None = None,
        clock: Callable[[], datetime] = _utc_now,
        transfers: bool = False,
        energy_unit: str = "Wh",
        stack: str | Stack = "plain",
    ) -> None:
        # The stack it acts like (stacks.py): its behaviours, and its model unless one is given.
        behaviours = stack if isinstance(stack, Stack) else PRESETS[stack]
        if model == "SimModel":
            model = behaviours.model
        super().__init__(
            charge_point_id,
            url,
            password=password,
            subprotocols=subprotocols,
            response_timeout=response_timeout,
            validate=validate,
            ssl=ssl,
            user_agent=f"{vendor} {model} (csms simulator)",
        )
        self.vendor = vendor
        self.model = model
        self.clock = clock
        # The unit its MeterValues read the energy register in: "Wh" or "kWh" (meter.py).
        self.energy_unit = energy_unit
        self.state = ChargePointState(
            charge_point_id=charge_point_id, connectors=connectors, clock=clock, stack=behaviours
        )
        self.boot_response: Payload | None = None
        # Opt-in: really download firmware / upload diagnostics after answering (transfers.py).
        self.transfers: Transfers | None = Transfers(self) if transfers else None
        # What it keeps while offline, replayed later (offline.py).
        self.offline = OfflineQueue(self)
        # Told of each answer to a CSMS CALL once sent (remote.py acts on remote commands).
        self.on_answered: Callable[[Call, CallResult | CallError], None] | None = None

    @property
    def connectors(self) -> int:
        return self.state.connectors

    @property
    def configuration(self) -> dict[str, tuple[str, bool]]:
        """Configuration key -> (value, readonly), read by GetConfiguration."""
        return self.state.configuration

    @property
    def transactions(self) -> dict[int, Transaction]:
        """Running transactions by transactionId."""
        return self.state.transactions

    def _answer_sent(self, call: Call, response: CallResult | CallError) -> None:
        if self.transfers is not None:
            self.transfers.answered(call, response)
        if self.on_answered is not None:
            self.on_answered(call, response)

    async def __aexit__(self, *exc_info: Any) -> None:
        if self.transfers is not None:
            await self.transfers.close()
        await super().__aexit__(*exc_info)

    def _default_answer(self, call: Call) -> Callable[[], AnswerResult] | None:
        answer = DEFAULT_ANSWERS.get(call.action)
        if answer is None:
            return None

        def default() -> AnswerResult:
            assert answer is not None
            payload = stacks.before_request(
                self.state.stack,
                self.state.seen,
                call.action,
                copy.deepcopy(call.payload),
                call.unique_id,
            )
            if isinstance(payload, CallError):
                return payload
            result = answer(self.state, payload)
            self._after_default_answer(call, result)
            return result

        return default

    def _after_default_answer(self, call: Call, result: AnswerResult) -> None:
        # Security whitepaper (TC_073): an accepted AuthorizationKey is the hex form of the new
        # Basic-auth password, used from the next connection on.
        if (
            call.action == "ChangeConfiguration"
            and call.payload.get("key") == "AuthorizationKey"
            and isinstance(result, dict)
            and result.get("status") == "Accepted"
        ):
            self.password = bytes.fromhex(call.payload["value"]).decode("utf-8", "surrogateescape")

    async def call_with_id(self, action: str, payload: Payload, unique_id: str | None) -> Payload:
        response = await super().call_with_id(action, payload, unique_id)
        stacks.after_answer(self.state.stack, self.state.seen, action, response)
        return response

    # -- misbehaviours of real chargers (docs/simulator-misbehaviours.md) ----------------------

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """From now on the charge point's clock is `clock` (clocks.py: a skewed one, one that
        restarted at 1970): its timestamps and its charging schedules follow it."""
        self.clock = clock
        self.state.clock = clock

    def reset_meter(self, connector_id: int, to_wh: float = 0) -> None:
        """The connector's energy register loses its state (a crash): it counts on from
        `to_wh` (0: from scratch; another value: rolled back to an older one). Its running
        transaction goes on; the next MeterValues and the StopTransaction's meterStop read the
        reset register (issue 15: meterStart 232, meterStop 48)."""
        self.state.meter_wh[connector_id] = to_wh

    async def hard_reboot(self, *, boot: bool = True) -> Payload | None:
        """Power lost and back: the connection drops, and what the charge point kept in memory
        is gone: the offline queue and its running transactions (no StopTransaction will ever
        come for them). It connects again and, with `boot`, boots and reports every connector
        Available (errata 3.22); returns the BootNotification answer."""
        await self.drop()
        self.offline.clear()
        self.state.transactions.clear()
        self.state.connector_status.clear()
        await self.connect()
        if not boot:
            return None
        return await self.boot_and_report()

    def _after_replay(self, action: str, payload: Payload, response: Payload) -> None:
        """What the charge point does with the answer to a message it replayed: as online."""
        if action == "StartTransaction":
            self._after_start_transaction(payload, response)
        elif action == "StopTransaction":
            self._after_stop_transaction(payload)
        elif action == "StatusNotification":
            self._after_status_notification(payload)

    # -- scripted steps: one CALL each, returning the CSMS's answer ---------------------------

    def timestamp(self, value: Timestamp = None) -> str:
        """ISO 8601 UTC with Z; now (from the clock) by default; a string is sent as it is."""
        if isinstance(value, str):
            return value
        moment = self.clock() if value is None else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    async def boot(self) -> Payload:
        response = await self.call(
            "BootNotification", {"chargePointVendor": self.vendor, "chargePointModel": self.model}
        )
        self.boot_response = response
        interval = response.get("interval")
        # Spec 4.2: after Accepted the charge point adjusts its heartbeat interval.
        if response.get("status") == "Accepted" and isinstance(interval, int) and interval > 0:
            readonly = self.configuration.get("HeartbeatInterval", ("", False))[1]
            self.configuration["HeartbeatInterval"] = (str(interval), readonly)
        return response

    async def boot_and_report(self, status: str = "Available") -> Payload:
        """BootNotification, then StatusNotification for connector 0..N (errata 3.22)."""
        response = await self.boot()
        if response.get("status") != "Accepted":
            raise AssertionError(
                f"{self.charge_point_id}: BootNotification not Accepted: {response}"
            )
        for connector_id in range(self.connectors + 1):
            await self.status_notification(connector_id, status)
        return response

    async def heartbeat(self) -> Payload:
        return await self.call("Heartbeat", {})

    async def status_notification(
        self,
        connector_id: int,
        status: str,
        error_code: str = "NoError",
        *,
        info: str | None = None,
        timestamp: Timestamp = None,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
    ) -> Payload:
        payload = self._status_notification_payload(
            connector_id,
            status,
            error_code,
            info=info,
            timestamp=timestamp,
            vendor_id=vendor_id,
            vendor_error_code=vendor_error_code,
        )
        response = await self.call("StatusNotification", payload)
        self._after_status_notification(payload)
        return response

    def _status_notification_payload(
        self,
        connector_id: int,
        status: str,
        error_code: str = "NoError",
        *,
        info: str | None = None,
        timestamp: Timestamp = None,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
    ) -> Payload:
        return _without_none(
            connectorId=connector_id,
            errorCode=error_code,
            info=info,
            status=status,
            timestamp=self.timestamp(timestamp),
            vendorId=vendor_id,
            vendorErrorCode=vendor_error_code,
        )

    def _after_status_notification(self, payload: Payload) -> None:
        self.state.connector_status[payload["connectorId"]] = payload["status"]

    async def authorize(self, id_tag: str) -> Payload:
        return await self.call("Authorize", {"idTag": id_tag})

    async def start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        *,
        meter_start: int = 0,
        timestamp: Timestamp = None,
        reservation_id: int | None = None,
    ) -> Payload:
        payload = self._start_transaction_payload(
            connector_id,
            id_tag,
            meter_start=meter_start,
            timestamp=timestamp,
            reservation_id=reservation_id,
        )
        response = await self.call("StartTransaction", payload)
        self._after_start_transaction(payload, response)
        return response

    def _start_transaction_payload(
        self,
        connector_id: int,
        id_tag: str,
        *,
        meter_start: int = 0,
        timestamp: Timestamp = None,
        reservation_id: int | None = None,
    ) -> Payload:
        return _without_none(
            connectorId=connector_id,
            idTag=id_tag,
            meterStart=meter_start,
            reservationId=reservation_id,
            timestamp=self.timestamp(timestamp),
        )

    def _after_start_transaction(self, payload: Payload, response: Payload) -> None:
        connector_id: int = payload["connectorId"]
        reservation_id: int | None = payload.get("reservationId")
        transaction_id = response["transactionId"]
        self.state.transactions[transaction_id] = Transaction(
            transaction_id=transaction_id,
            connector_id=connector_id,
            id_tag=payload["idTag"],
            meter_start=payload["meterStart"],
            reservation_id=reservation_id,
            started_at=_parsed(payload["timestamp"]) or self.clock(),
        )
        self.state.meter_wh[connector_id] = payload["meterStart"]
        if reservation_id is not None:
            self.state.reservations.pop(reservation_id, None)  # spec 5.13: reservation used

    async def meter_values(
        self,
        connector_id: int,
        *,
        transaction_id: int | None = None,
        energy_wh: float | None = None,
        timestamp: Timestamp = None,
        sampled_values: list[Payload] | None = None,
    ) -> Payload:
        """One MeterValue; by default the connector's energy register (`energy_wh` sets it)
        plus power and current per phase."""
        payload = self._meter_values_payload(
            connector_id,
            transaction_id=transaction_id,
            energy_wh=energy_wh,
            timestamp=timestamp,
            sampled_values=sampled_values,
        )
        return await self.call("MeterValues", payload)

    def _meter_values_payload(
        self,
        connector_id: int,
        *,
        transaction_id: int | None = None,
        energy_wh: float | None = None,
        timestamp: Timestamp = None,
        sampled_values: list[Payload] | None = None,
        charging: bool = False,
    ) -> Payload:
        if energy_wh is not None:
            self.state.meter_wh[connector_id] = energy_wh
        if sampled_values is None:
            charging = (
                charging
                or transaction_id is not None
                or (self.state.transaction_on(connector_id) is not None)
            )
            # Spec 3.13: never more than the composite limit of its charging profiles.
            sampled_values = default_sampled_values(
                self.state.meter_wh.get(connector_id, 0),
                charging=charging,
                current_a=charging_current(self.state, connector_id, self.clock()),
                energy_unit=self.energy_unit,
            )
        return _without_none(
            connectorId=connector_id,
            transactionId=transaction_id,
            meterValue=[{"timestamp": self.timestamp(timestamp), "sampledValue": sampled_values}],
        )

    async def stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int,
        *,
        reason: str | None = None,
        id_tag: str | None = None,
        timestamp: Timestamp = None,
        transaction_data: list[Payload] | None = None,
    ) -> Payload:
        payload = self._stop_transaction_payload(
            transaction_id,
            meter_stop,
            reason=reason,
            id_tag=id_tag,
            timestamp=timestamp,
            transaction_data=transaction_data,
        )
        response = await self.call("StopTransaction", payload)
        self._after_stop_transaction(payload)
        return response

    def _stop_transaction_payload(
        self,
        transaction_id: int,
        meter_stop: int,
        *,
        reason: str | None = None,
        id_tag: str | None = None,
        timestamp: Timestamp = None,
        transaction_data: list[Payload] | None = None,
    ) -> Payload:
        return _without_none(
            idTag=id_tag,
            meterStop=meter_stop,
            timestamp=self.timestamp(timestamp),
            transactionId=transaction_id,
            reason=reason,
            transactionData=transaction_data,
        )

    def _after_stop_transaction(self, payload: Payload) -> None:
        transaction = self.state.transactions.pop(payload["transactionId"], None)
        if transaction is not None:
            self.state.meter_wh[transaction.connector_id] = payload["meterStop"]
            # Spec 3.13.1: a TxProfile ceases to be valid when the transaction terminates.
            self.state.charging_profiles[:] = [
                installed
                for installed in self.state.charging_profiles
                if not (
                    installed.purpose == "TxProfile"
                    and installed.connector_id == transaction.connector_id
                )
            ]

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> Payload:
        payload = _without_none(vendorId=vendor_id, messageId=message_id, data=data)
        return await self.call("DataTransfer", payload)

    # -- security whitepaper (certificates.py) -------------------------------------------------

    def enable_security(self, profile: int = 0, *, cpo_name: str = "CSMS") -> None:
        """The configuration keys of the security whitepaper (section 7): SecurityProfile,
        CpoName, the write-only AuthorizationKey (the hex of its password, if it has one)."""
        key = "" if self.password is None else self.password.encode().hex()
        self.configuration.update(
            {
                "AuthorizationKey": (key, False),
                "CpoName": (cpo_name, False),
                "SecurityProfile": (str(profile), False),
                "CertificateSignedMaxChainSize": ("10000", True),
                "CertificateStoreMaxLength": ("10", True),
            }
        )

    async def sign_certificate(self, **csr_options: Any) -> Payload:
        """A new key pair and SignCertificate.req with its CSR (A02.FR.02/03); the key is kept
        for the certificate the CSMS sends back."""
        csr, key = certificates.make_csr(
            self.charge_point_id,
            organization=self.state.config_value("CpoName"),
            **csr_options,
        )
        self.state.certificates.pending_key = key
        return await self.call("SignCertificate", {"csr": csr})

    async def security_event(self, event_type: str, tech_info: str | None = None) -> Payload:
        """SecurityEventNotification.req (whitepaper A04)."""
        return await self.call(
            "SecurityEventNotification",
            _without_none(type=event_type, timestamp=self.timestamp(), techInfo=tech_info),
        )

    def client_ssl_context(self, trusted: str | None = None) -> ssl_module.SSLContext:
        """TLS with its client certificate (profile 3), trusting `trusted` (PEM) or its
        installed Central System roots."""
        return certificates.client_context(self.state.certificates, trusted)

    async def firmware_status(self, status: str) -> Payload:
        return await self.call("FirmwareStatusNotification", {"status": status})

    async def diagnostics_status(self, status: str) -> Payload:
        return await self.call("DiagnosticsStatusNotification", {"status": status})


def _without_none(**fields: Any) -> Payload:
    return {name: value for name, value in fields.items() if value is not None}


def _parsed(timestamp: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
