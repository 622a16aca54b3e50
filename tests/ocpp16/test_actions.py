"""The action table, the enums' spellings, and the public namespace."""

from __future__ import annotations

import dataclasses
from enum import StrEnum

import pytest

import csms.ocpp16
from csms.ocpp16 import (
    ACTIONS,
    Action,
    ActionSpec,
    BootNotificationRequest,
    BootNotificationResponse,
    ChargePointStatus,
    DataTransferRequest,
    HeartbeatRequest,
    Measurand,
    Phase,
    RemoteStartTransactionRequest,
    Sender,
    UnitOfMeasure,
    action_for,
    can_send,
    validate_request,
)

CHARGE_POINT_ACTIONS = {
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    # Security whitepaper: signed firmware and logs, certificates and security events.
    "LogStatusNotification",
    "SignedFirmwareStatusNotification",
    "SecurityEventNotification",
    "SignCertificate",
}
# The security whitepaper's messages (edition 3, section 5), next to the 28 of OCPP 1.6.
WHITEPAPER_ACTIONS = {
    # Signed firmware, logs, extended trigger.
    "ExtendedTriggerMessage",
    "GetLog",
    "LogStatusNotification",
    "SignedFirmwareStatusNotification",
    "SignedUpdateFirmware",
    # Certificates and security events.
    "CertificateSigned",
    "DeleteCertificate",
    "GetInstalledCertificateIds",
    "InstallCertificate",
    "SecurityEventNotification",
    "SignCertificate",
}


def test_table_has_the_28_actions_of_ocpp_1_6_and_the_whitepapers() -> None:
    assert len(Action) == 28 + len(WHITEPAPER_ACTIONS)
    assert set(ACTIONS) >= WHITEPAPER_ACTIONS
    assert set(ACTIONS) == {action.value for action in Action}
    for name, spec in ACTIONS.items():
        assert spec.action == name
        assert spec.request.__name__ == f"{name}Request"
        assert spec.response.__name__ == f"{name}Response"
        assert spec.request.__module__.startswith("csms.ocpp16.")


def test_senders() -> None:
    by_sender = {name for name, spec in ACTIONS.items() if spec.sender is Sender.CHARGE_POINT}
    assert by_sender == CHARGE_POINT_ACTIONS
    assert Sender.CHARGE_POINT.value == "ChargePoint"
    assert Sender.CENTRAL_SYSTEM.value == "CentralSystem"


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_can_send(action: str) -> None:
    from_charge_point = action in CHARGE_POINT_ACTIONS
    assert can_send(action, Sender.CHARGE_POINT) is from_charge_point
    assert can_send(action, Sender.CENTRAL_SYSTEM) is (
        not from_charge_point or action == "DataTransfer"
    )


def test_can_send_unknown_action() -> None:
    assert can_send("FooBar", Sender.CHARGE_POINT) is False
    assert can_send("heartbeat", Sender.CHARGE_POINT) is False


def test_action_for_request() -> None:
    assert action_for(HeartbeatRequest()).action is Action.HEARTBEAT
    assert action_for(DataTransferRequest(vendor_id="x")).action is Action.DATA_TRANSFER
    assert action_for(RemoteStartTransactionRequest(id_tag="T")).sender is Sender.CENTRAL_SYSTEM
    with pytest.raises(KeyError):
        action_for(BootNotificationResponse)


def test_table_and_messages_are_frozen() -> None:
    spec = ACTIONS["Heartbeat"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.sender = Sender.CENTRAL_SYSTEM  # type: ignore[misc]
    with pytest.raises(TypeError):
        ACTIONS["Foo"] = spec  # type: ignore[index]
    message = BootNotificationRequest(charge_point_vendor="V", charge_point_model="M")
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.charge_point_model = "N"  # type: ignore[misc]
    assert not hasattr(message, "__dict__")  # slotted
    with pytest.raises(TypeError):
        BootNotificationRequest("V", "M")  # type: ignore[call-arg]  # keyword-only
    assert isinstance(spec, ActionSpec)


def test_spellings() -> None:
    assert Action.BOOT_NOTIFICATION.value == "BootNotification"
    assert ChargePointStatus.SUSPENDED_EV.value == "SuspendedEV"
    assert ChargePointStatus.SUSPENDED_EVSE.value == "SuspendedEVSE"
    assert UnitOfMeasure.CELSIUS.value == "Celsius"
    assert UnitOfMeasure.CELCIUS.value == "Celcius"
    assert Measurand.ENERGY_ACTIVE_IMPORT_REGISTER.value == "Energy.Active.Import.Register"
    assert Phase.L1_N.value == "L1-N"


def _upper_snake(value: str) -> str:
    spaced = value.replace(".", "_").replace("-", "_")
    # "SuspendedEVSE" -> "SUSPENDED_EVSE", "EVCommunicationError" -> "EV_COMMUNICATION_ERROR"
    out = ""
    for index, char in enumerate(spaced):
        previous = spaced[index - 1] if index else ""
        following = spaced[index + 1] if index + 1 < len(spaced) else ""
        starts_word = (
            char.isupper()
            and previous not in ("", "_")
            and (previous.islower() or (following.islower() and previous.isupper()))
        )
        out += ("_" if starts_word else "") + char.upper()
    return out


EXCEPTIONS = {
    "kWh": "KWH",
    "kvarh": "KVARH",
    "kW": "KW",
    "kVA": "KVA",
    "kvar": "KVAR",
    "SoC": "SOC",
}


def test_member_names_are_upper_snake_case_of_the_values() -> None:
    enums = [
        value
        for value in vars(csms.ocpp16).values()
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not Sender
    ]
    assert len(enums) >= 36
    for enum in enums:
        for member in enum:
            expected = EXCEPTIONS.get(member.value) or _upper_snake(member.value)
            assert member.name == expected, (enum.__name__, member.value)


def test_public_namespace() -> None:
    for name in csms.ocpp16.__all__:
        assert hasattr(csms.ocpp16, name), name
    for name in ("IdTagInfo", "MeterValue", "SampledValue", "ChargingProfile", "KeyValue"):
        assert name in csms.ocpp16.__all__
    from csms.ocpp16.codec import (  # noqa: F401  (the codec module exposes the whole codec API)
        ACTIONS,
        ActionSpec,
        SchemaViolation,
        Sender,
        can_send,
        decode_request,
        decode_response,
        from_payload,
        to_payload,
        validate_request,
        validate_response,
    )


def test_action_members_work_as_action_names() -> None:
    assert validate_request(Action.HEARTBEAT, {}) is None
    assert ACTIONS[Action.METER_VALUES].action is Action.METER_VALUES
    assert can_send(Action.DATA_TRANSFER, Sender.CENTRAL_SYSTEM)
