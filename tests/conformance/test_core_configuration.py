"""Core profile, configuration: OCTT TC_019_1, TC_019_2, TC_021, TC_040_1 and TC_040_2
(test-case document 3.7, 3.13; spec 5.3 ChangeConfiguration, 5.8 GetConfiguration, 9.1).

The CSMS sends exactly the keys and values the operator gives, also unknown keys and values a
charge point must reject (catalogue 2.4-2), and nothing after them (no follow-up
GetConfiguration: catalogue 2.6-1)."""

from __future__ import annotations

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import Wire, no_unsolicited_calls, operator, stored_configuration
from tests.harness import Harness

# The keys the tool's GetConfiguration check lists for Core, Local Auth List Management and
# Smart Charging, with whether each is read-only (catalogue 3.9; errata 3.80/3.84 allow the
# first to be either).
EXPECTED_ACCESS = {
    "AuthorizeRemoteTxRequests": None,
    "ClockAlignedDataInterval": False,
    "ConnectionTimeOut": False,
    "ConnectorPhaseRotation": False,
    "GetConfigurationMaxKeys": True,
    "HeartbeatInterval": False,
    "LocalAuthorizeOffline": False,
    "LocalPreAuthorize": False,
    "MeterValuesAlignedData": False,
    "MeterValuesSampledData": False,
    "MeterValueSampleInterval": False,
    "NumberOfConnectors": True,
    "ResetRetries": False,
    "StopTransactionOnEVSideDisconnect": False,
    "StopTransactionOnInvalidId": False,
    "StopTxnAlignedData": False,
    "StopTxnSampledData": False,
    "SupportedFeatureProfiles": True,
    "TransactionMessageAttempts": False,
    "TransactionMessageRetryInterval": False,
    "UnlockConnectorOnEVSideDisconnect": False,
    "LocalAuthListEnabled": False,
    "LocalAuthListMaxLength": True,
    "SendLocalListMaxLength": True,
    "ChargeProfileMaxStackLevel": True,
    "ChargingScheduleAllowedChargingRateUnit": True,
    "ChargingScheduleMaxPeriods": True,
    "MaxChargingProfilesInstalled": True,
}


async def test_tc_019_1_retrieve_all_configuration_keys(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_019_1_CSMS (3.7.1): the operator reads every key: GetConfiguration without a key
    list (spec 5.8), and the CSMS gives the operator every key the charge point reported,
    value and read-only flag as sent."""
    wire = Wire(cp)
    answer, call = await operator(harness, cp, "GetConfiguration", {})
    assert not call.payload.get("key")  # no key list (or an empty one): all keys
    assert call.payload == {}

    reported = {entry["key"]: entry for entry in answer["configurationKey"]}
    assert "unknownKey" not in answer
    assert set(reported) == set(cp.configuration) - {"AuthorizationKey"}
    for key, (value, readonly) in cp.configuration.items():
        if key in reported:
            assert (reported[key]["value"], reported[key]["readonly"]) == (value, readonly)
    for key, readonly in EXPECTED_ACCESS.items():
        assert key in reported, key
        if readonly is not None:
            assert reported[key]["readonly"] is readonly, key

    assert wire.calls() == ["CS→ GetConfiguration"]
    # What the CSMS keeps: every reported key, as reported, and the snapshot is complete.
    stored = await stored_configuration(harness)
    assert stored["configurationKey"] == reported
    assert stored["completeAt"] is not None
    await no_unsolicited_calls(cp)


async def test_tc_019_2_retrieve_specific_configuration_key(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_019_2_CSMS (3.7.2): GetConfiguration for exactly SupportedFeatureProfiles; the
    answer holds that one key and no unknown key. The CSMS updates that key of what it knew
    (nothing, on a fresh CSMS) and nothing else."""
    known = (await stored_configuration(harness))["configurationKey"]
    wire = Wire(cp)
    request = {"key": ["SupportedFeatureProfiles"]}
    answer, call = await operator(harness, cp, "GetConfiguration", request)
    assert call.payload == {"key": ["SupportedFeatureProfiles"]}
    assert [entry["key"] for entry in answer["configurationKey"]] == ["SupportedFeatureProfiles"]
    assert answer["configurationKey"][0]["value"] == cp.configuration["SupportedFeatureProfiles"][0]
    assert not answer.get("unknownKey")
    assert wire.calls() == ["CS→ GetConfiguration"]
    stored = await stored_configuration(harness)
    assert stored["configurationKey"] == {
        **known,
        "SupportedFeatureProfiles": answer["configurationKey"][0],
    }
    await no_unsolicited_calls(cp)


async def test_tc_021_change_set_configuration(harness: Harness, cp: SimulatedChargePoint) -> None:
    """TC_021_CSMS (3.7.3): ChangeConfiguration of MeterValueSampleInterval to "60" (the value
    is a string, spec 6.3), Accepted; the charge point now holds the value."""
    cp.configuration["MeterValueSampleInterval"] = ("300", False)
    wire = Wire(cp)
    answer, call = await operator(
        harness, cp, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "60"}
    )
    assert call.payload == {"key": "MeterValueSampleInterval", "value": "60"}
    assert answer == {"status": "Accepted"}
    assert cp.configuration["MeterValueSampleInterval"][0] == "60"
    assert wire.calls() == ["CS→ ChangeConfiguration"]
    stored = await stored_configuration(harness)
    assert stored["configurationKey"]["MeterValueSampleInterval"]["value"] == "60"
    await no_unsolicited_calls(cp)


async def test_tc_040_1_configuration_keys_not_supported(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_040_1_CSMS (3.13.1): ChangeConfiguration of a key the charge point does not know is
    sent as given and answered NotSupported (spec 5.3), which the CSMS reports."""
    wire = Wire(cp)
    request = {"key": "OcttUnknownVendorKey", "value": "true"}
    answer, call = await operator(harness, cp, "ChangeConfiguration", request)
    assert call.payload == request
    assert answer == {"status": "NotSupported"}
    assert "OcttUnknownVendorKey" not in cp.configuration
    assert wire.calls() == ["CS→ ChangeConfiguration"]
    assert "OcttUnknownVendorKey" not in (await stored_configuration(harness))["configurationKey"]
    await no_unsolicited_calls(cp)


async def test_tc_040_2_configuration_keys_invalid_value(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_040_2_CSMS (3.13.2): ChangeConfiguration of MeterValueSampleInterval to "-1" (the
    value the 2024-04 document requires; later revisions check only the key), Rejected by the
    charge point; its value stays as it was."""
    before = cp.configuration["MeterValueSampleInterval"]
    wire = Wire(cp)
    answer, call = await operator(
        harness, cp, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "-1"}
    )
    assert call.payload == {"key": "MeterValueSampleInterval", "value": "-1"}
    assert answer == {"status": "Rejected"}
    assert cp.configuration["MeterValueSampleInterval"] == before
    assert wire.calls() == ["CS→ ChangeConfiguration"]
    stored = (await stored_configuration(harness))["configurationKey"]
    assert stored.get("MeterValueSampleInterval", {}).get("value") != "-1"
    await no_unsolicited_calls(cp)
