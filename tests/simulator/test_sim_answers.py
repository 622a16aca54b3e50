"""The simulated charge point's default answers: stateful, schema-valid, like a real charger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from csms.simulator import SimulatedChargePoint
from csms.simulator.answers import DEFAULT_ANSWERS
from csms.simulator.state import ChargePointState, Transaction
from tests.simulator.peer import PeerCSMS, assert_valid

CORE_KEYS = {
    "AuthorizeRemoteTxRequests",
    "ClockAlignedDataInterval",
    "ConnectionTimeOut",
    "ConnectorPhaseRotation",
    "GetConfigurationMaxKeys",
    "HeartbeatInterval",
    "LocalAuthorizeOffline",
    "LocalPreAuthorize",
    "MeterValuesAlignedData",
    "MeterValuesSampledData",
    "MeterValueSampleInterval",
    "NumberOfConnectors",
    "ResetRetries",
    "StopTransactionOnEVSideDisconnect",
    "StopTransactionOnInvalidId",
    "StopTxnAlignedData",
    "StopTxnSampledData",
    "SupportedFeatureProfiles",
    "TransactionMessageAttempts",
    "TransactionMessageRetryInterval",
    "UnlockConnectorOnEVSideDisconnect",
    # Local list, smart charging (catalogue 3.9), reservation
    "LocalAuthListEnabled",
    "LocalAuthListMaxLength",
    "SendLocalListMaxLength",
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods",
    "MaxChargingProfilesInstalled",
    "ReserveConnectorZeroSupported",
}

PROFILE = {
    "chargingProfileId": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
    },
}


@pytest.fixture
async def cp(peer: PeerCSMS) -> AsyncIterator[SimulatedChargePoint]:
    async with SimulatedChargePoint("CP1", peer.url) as charge_point:
        yield charge_point


def answer(state: ChargePointState, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The default answer, with request and response checked against the official schemas."""
    assert_valid(action, payload)
    response = DEFAULT_ANSWERS[action](state, payload)
    assert_valid(action, response, response=True)
    return response


def status(state: ChargePointState, action: str, payload: dict[str, Any]) -> str:
    return str(answer(state, action, payload)["status"])


@pytest.fixture
def state() -> ChargePointState:
    return ChargePointState(charge_point_id="CP1", connectors=2)


def charging(state: ChargePointState, connector_id: int = 1, transaction_id: int = 42) -> None:
    state.transactions[transaction_id] = Transaction(
        transaction_id=transaction_id, connector_id=connector_id, id_tag="TAG1", meter_start=0
    )


# -- configuration, over the wire ---------------------------------------------------------------


async def test_get_configuration_without_keys_returns_every_key(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    response = await peer.result("GetConfiguration", {})

    keys = {entry["key"]: entry for entry in response["configurationKey"]}
    assert keys.keys() >= CORE_KEYS
    assert "unknownKey" not in response
    assert keys["NumberOfConnectors"] == {
        "key": "NumberOfConnectors",
        "readonly": True,
        "value": "2",
    }
    assert keys["SupportedFeatureProfiles"]["value"] == (
        "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
    )
    assert keys["HeartbeatInterval"]["readonly"] is False
    assert (await cp.expect_call("GetConfiguration")).payload == {}


async def test_get_configuration_of_given_keys_reports_the_unknown_ones(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    response = await peer.result(
        "GetConfiguration", {"key": ["SupportedFeatureProfiles", "NoSuchKey"]}
    )

    assert [entry["key"] for entry in response["configurationKey"]] == ["SupportedFeatureProfiles"]
    assert response["unknownKey"] == ["NoSuchKey"]


async def test_change_configuration_is_stateful(peer: PeerCSMS, cp: SimulatedChargePoint) -> None:
    def change(key: str, value: str) -> Any:
        return peer.result("ChangeConfiguration", {"key": key, "value": value})

    assert await change("MeterValueSampleInterval", "60") == {"status": "Accepted"}
    assert await change("MeterValueSampleInterval", "15") == {"status": "Accepted"}
    assert await change("MeterValueSampleInterval", "-1") == {"status": "Rejected"}
    assert await change("MeterValueSampleInterval", "soon") == {"status": "Rejected"}
    assert await change("NumberOfConnectors", "5") == {"status": "Rejected"}
    assert await change("CustomKeyX", "1") == {"status": "NotSupported"}
    assert await change("StopTransactionOnInvalidId", "maybe") == {"status": "Rejected"}
    assert await change("StopTransactionOnInvalidId", "false") == {"status": "Accepted"}

    response = await peer.result(
        "GetConfiguration", {"key": ["MeterValueSampleInterval", "NumberOfConnectors"]}
    )
    assert response["configurationKey"] == [
        {"key": "MeterValueSampleInterval", "readonly": False, "value": "15"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    ]
    assert cp.configuration["StopTransactionOnInvalidId"] == ("false", False)


def test_measurand_lists_are_checked(state: ChargePointState) -> None:
    def change(value: str) -> str:
        return status(
            state, "ChangeConfiguration", {"key": "MeterValuesSampledData", "value": value}
        )

    assert change("Energy.Active.Import.Register,Voltage.L1,SoC") == "Accepted"
    assert change("") == "Accepted"
    assert change("Energy.Active.Import.Register,Bananas") == "Rejected"
    assert change(",".join(["Voltage"] * 11)) == "Rejected"  # MeterValuesSampledDataMaxLength


# -- core ------------------------------------------------------------------------------------


def test_remote_start_and_stop(state: ChargePointState) -> None:
    assert (
        status(state, "RemoteStartTransaction", {"idTag": "TAG1", "connectorId": 1}) == "Accepted"
    )
    assert status(state, "RemoteStartTransaction", {"idTag": "TAG1"}) == "Accepted"
    assert (
        status(state, "RemoteStartTransaction", {"idTag": "TAG1", "connectorId": 3}) == "Rejected"
    )
    assert status(state, "RemoteStopTransaction", {"transactionId": 42}) == "Rejected"
    charging(state, transaction_id=42)
    assert status(state, "RemoteStopTransaction", {"transactionId": 42}) == "Accepted"


def test_remote_start_with_a_tx_profile_installs_it(state: ChargePointState) -> None:
    profile = {**PROFILE, "chargingProfilePurpose": "TxProfile"}
    payload = {"idTag": "TAG1", "connectorId": 1, "chargingProfile": profile}

    assert status(state, "RemoteStartTransaction", payload) == "Accepted"
    assert [(p.connector_id, p.purpose) for p in state.charging_profiles] == [(1, "TxProfile")]
    default = {"idTag": "TAG1", "connectorId": 1, "chargingProfile": PROFILE}
    assert status(state, "RemoteStartTransaction", default) == "Rejected"


def test_unlock_connector(state: ChargePointState) -> None:
    assert status(state, "UnlockConnector", {"connectorId": 1}) == "Unlocked"
    assert status(state, "UnlockConnector", {"connectorId": 2}) == "Unlocked"
    assert status(state, "UnlockConnector", {"connectorId": 3}) == "NotSupported"
    assert status(state, "UnlockConnector", {"connectorId": 0}) == "NotSupported"


def test_change_availability(state: ChargePointState) -> None:
    assert (
        status(state, "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == "Accepted"
    )
    assert state.availability[1] == "Inoperative"
    assert (
        status(state, "ChangeAvailability", {"connectorId": 3, "type": "Inoperative"}) == "Rejected"
    )
    charging(state, connector_id=2)
    # Spec 5.2: Scheduled while a transaction is in progress.
    assert (
        status(state, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
        == "Scheduled"
    )
    assert (
        status(state, "ChangeAvailability", {"connectorId": 0, "type": "Operative"}) == "Accepted"
    )
    assert set(state.availability.values()) == {"Operative"}


def test_simple_accepting_answers(state: ChargePointState) -> None:
    assert status(state, "Reset", {"type": "Hard"}) == "Accepted"
    assert status(state, "ClearCache", {}) == "Accepted"
    # Spec 5.7: computed from the installed profiles; an unknown connector is Rejected.
    assert status(state, "GetCompositeSchedule", {"connectorId": 1, "duration": 60}) == "Accepted"
    assert status(state, "GetCompositeSchedule", {"connectorId": 3, "duration": 60}) == "Rejected"
    assert status(state, "DataTransfer", {"vendorId": "com.example"}) == "UnknownVendorId"
    firmware = {"location": "ftp://example.com/fw.bin", "retrieveDate": "2025-01-01T00:00:00Z"}
    assert answer(state, "UpdateFirmware", firmware) == {}
    diagnostics = answer(state, "GetDiagnostics", {"location": "ftp://example.com/"})
    assert diagnostics == {"fileName": "diagnostics-CP1.zip"}


def test_trigger_message(state: ChargePointState) -> None:
    for message in ("BootNotification", "Heartbeat", "DiagnosticsStatusNotification"):
        assert status(state, "TriggerMessage", {"requestedMessage": message}) == "Accepted"
    trigger = {"requestedMessage": "MeterValues", "connectorId": 1}
    assert status(state, "TriggerMessage", trigger) == "Accepted"
    # TC_055: a connector the charge point does not have.
    assert status(state, "TriggerMessage", {**trigger, "connectorId": 3}) == "Rejected"


# -- local list ------------------------------------------------------------------------------


def test_local_list_full_and_differential(state: ChargePointState) -> None:
    accepted = {"status": "Accepted"}
    info = {"status": "Accepted"}
    assert answer(state, "GetLocalListVersion", {}) == {"listVersion": 0}
    full = {
        "listVersion": 3,
        "updateType": "Full",
        "localAuthorizationList": [
            {"idTag": "A", "idTagInfo": info},
            {"idTag": "B", "idTagInfo": info},
        ],
    }
    assert answer(state, "SendLocalList", full) == accepted
    assert answer(state, "GetLocalListVersion", {}) == {"listVersion": 3}
    stale = {"listVersion": 3, "updateType": "Differential", "localAuthorizationList": []}
    assert status(state, "SendLocalList", stale) == "VersionMismatch"
    differential = {
        "listVersion": 4,
        "updateType": "Differential",
        "localAuthorizationList": [{"idTag": "C", "idTagInfo": info}, {"idTag": "A"}],
    }
    assert answer(state, "SendLocalList", differential) == accepted
    assert sorted(state.local_list) == ["B", "C"]
    assert answer(state, "SendLocalList", {"listVersion": 5, "updateType": "Full"}) == accepted
    assert state.local_list == {}
    too_long = {
        "listVersion": 6,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": f"T{n}", "idTagInfo": info} for n in range(101)],
    }
    assert status(state, "SendLocalList", too_long) == "Failed"
    assert state.local_list_version == 5


# -- reservation -----------------------------------------------------------------------------


def reserve(connector_id: int, reservation_id: int = 1) -> dict[str, Any]:
    return {
        "connectorId": connector_id,
        "expiryDate": "2030-01-01T00:00:00Z",
        "idTag": "TAG1",
        "reservationId": reservation_id,
        "parentIdTag": "PARENT",
    }


def test_reserve_and_cancel(state: ChargePointState) -> None:
    assert status(state, "ReserveNow", reserve(1, reservation_id=7)) == "Accepted"
    assert state.reservations[7].parent_id_tag == "PARENT"
    assert status(state, "ReserveNow", reserve(1, reservation_id=8)) == "Occupied"
    assert status(state, "ReserveNow", reserve(0, reservation_id=9)) == "Accepted"
    assert status(state, "ReserveNow", reserve(3)) == "Rejected"
    assert status(state, "CancelReservation", {"reservationId": 99}) == "Rejected"
    assert status(state, "CancelReservation", {"reservationId": 7}) == "Accepted"
    assert status(state, "CancelReservation", {"reservationId": 7}) == "Rejected"


def test_reserve_reflects_the_connector(state: ChargePointState) -> None:
    state.connector_status[1] = "Preparing"
    assert status(state, "ReserveNow", reserve(1)) == "Occupied"
    state.connector_status[1] = "Faulted"
    assert status(state, "ReserveNow", reserve(1)) == "Faulted"
    state.availability[2] = "Inoperative"
    assert status(state, "ReserveNow", reserve(2)) == "Unavailable"
    state.configuration["ReserveConnectorZeroSupported"] = ("false", True)
    assert status(state, "ReserveNow", reserve(0)) == "Rejected"


# -- smart charging --------------------------------------------------------------------------


def set_profile(connector_id: int, **changes: Any) -> dict[str, Any]:
    return {"connectorId": connector_id, "csChargingProfiles": {**PROFILE, **changes}}


def test_set_and_clear_charging_profiles(state: ChargePointState) -> None:
    assert status(state, "SetChargingProfile", set_profile(1)) == "Accepted"
    # Same id replaces; same stack level and purpose on the same connector replaces.
    assert status(state, "SetChargingProfile", set_profile(1)) == "Accepted"
    assert status(state, "SetChargingProfile", set_profile(1, chargingProfileId=2)) == "Accepted"
    assert [p.charging_profile_id for p in state.charging_profiles] == [2]
    assert status(state, "SetChargingProfile", set_profile(2, chargingProfileId=3)) == "Accepted"
    max_profile = set_profile(
        0, chargingProfileId=4, chargingProfilePurpose="ChargePointMaxProfile"
    )
    assert status(state, "SetChargingProfile", max_profile) == "Accepted"
    assert len(state.charging_profiles) == 3

    assert status(state, "ClearChargingProfile", {"id": 99}) == "Unknown"
    assert status(state, "ClearChargingProfile", {"id": 2}) == "Accepted"
    criteria = {"connectorId": 2, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0}
    assert status(state, "ClearChargingProfile", criteria) == "Accepted"
    assert [p.charging_profile_id for p in state.charging_profiles] == [4]
    assert status(state, "ClearChargingProfile", {}) == "Accepted"
    assert state.charging_profiles == []
    assert status(state, "ClearChargingProfile", {}) == "Unknown"


def test_charging_profiles_a_charger_would_refuse(state: ChargePointState) -> None:
    tx_profile = set_profile(1, chargingProfilePurpose="TxProfile")
    assert status(state, "SetChargingProfile", tx_profile) == "Rejected"  # no transaction
    charging(state, connector_id=1, transaction_id=42)
    assert status(state, "SetChargingProfile", tx_profile) == "Accepted"
    wrong_tx = set_profile(1, chargingProfilePurpose="TxProfile", transactionId=41)
    assert status(state, "SetChargingProfile", wrong_tx) == "Rejected"
    assert status(state, "SetChargingProfile", set_profile(3)) == "Rejected"
    cp_max_on_connector = set_profile(1, chargingProfilePurpose="ChargePointMaxProfile")
    assert status(state, "SetChargingProfile", cp_max_on_connector) == "Rejected"
    assert status(state, "SetChargingProfile", set_profile(1, stackLevel=11)) == "Rejected"


async def test_a_tx_profile_ends_with_its_transaction(
    peer: PeerCSMS, cp: SimulatedChargePoint
) -> None:
    started = await cp.start_transaction(1, "TAG1")
    profile = {**PROFILE, "chargingProfilePurpose": "TxProfile", "chargingProfileId": 5}
    assert await peer.result(
        "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}
    ) == {"status": "Accepted"}
    assert [p.charging_profile_id for p in cp.state.charging_profiles] == [5]

    await cp.stop_transaction(started["transactionId"], 1000)

    assert cp.state.charging_profiles == []


# -- security extension ----------------------------------------------------------------------


def test_security_extension_defaults(state: ChargePointState) -> None:
    installed = {"certificateType": "CentralSystemRootCertificate"}
    assert DEFAULT_ANSWERS["GetInstalledCertificateIds"](state, installed) == {"status": "NotFound"}
    assert DEFAULT_ANSWERS["GetLog"](state, {})["status"] == "Accepted"
