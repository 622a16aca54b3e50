"""Charger profiles, pure (quirks/): the rules, which profiles match a charge point, and what
the rules change in what the CSMS sends (docs/charger-compatibility.md)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from csms.quirks import (
    BUILTIN,
    LATEST_DATE,
    ChargerProfile,
    Rules,
    adapt_answer,
    adapt_request,
    key_batches,
    matching,
    merged_configuration,
    no_limit,
    rules_of,
)
from csms.quirks.profiles import with_cap_dates

NOW = datetime(2026, 12, 2, 12, 0, 0, 250000, tzinfo=UTC)
CAP = Rules(cap_dates=True)
LATEST = "2037-12-31T23:59:59Z"


def test_rules_round_trip_and_unknown_rules_are_named() -> None:
    rules = Rules.from_json({"capDates": True, "maxKeys": 5, "localLimitAmps": 16.5})
    assert rules == Rules(cap_dates=True, max_keys=5, local_limit_amps=Decimal("16.5"))
    assert rules.as_json() == {"capDates": True, "maxKeys": 5, "localLimitAmps": 16.5}
    with pytest.raises(ValueError, match="unknown rule 'capDate'"):
        Rules.from_json({"capDate": True})
    with pytest.raises(ValueError, match="capDates: expected true or false"):
        Rules.from_json({"capDates": "yes"})
    with pytest.raises(ValueError, match="maxKeys must be at least 1"):
        Rules.from_json({"maxKeys": 0})


def test_profiles_match_by_patterns_or_ids_and_combine() -> None:
    acme = ChargerProfile(name="acme", vendor="acme", model="wall.*", rules=Rules(max_keys=8))
    fleet = ChargerProfile(name="fleet", charge_point_ids=("CP9",), rules=CAP)
    found = matching([acme, fleet], "CP9", vendor="ACME", model="WallBox 2", firmware_version=None)
    assert [p.name for p in found] == ["acme", "fleet"]
    assert rules_of(found) == Rules(cap_dates=True, max_keys=8)
    # All given patterns must match, in full; a profile without criteria matches nothing.
    assert not acme.matches("CP1", vendor="ACME Inc", model="Wall", firmware_version=None)
    assert not acme.matches("CP1", vendor="ACME", model=None, firmware_version=None)
    assert not ChargerProfile(name="none").matches(
        "CP1", vendor="ACME", model="Wall", firmware_version="1"
    )
    with pytest.raises(ValueError, match="model: not a regular expression"):
        ChargerProfile(name="bad", model="wall(")


def test_built_in_profiles_describe_the_simulator_presets() -> None:
    def names(model: str) -> list[str]:
        found = matching(BUILTIN, "X", vendor="SimVendor", model=model, firmware_version="1.0")
        return [p.name for p in found]

    assert names("SimModel") == ["csms-simulator"]
    assert names("Sim32") == ["csms-simulator", "32-bit-time"]
    assert names("SimCpp") == ["csms-simulator", "cpp-stack"]
    assert names("SimTs") == ["csms-simulator", "strict-schema-ts"]
    assert matching(BUILTIN, "X", vendor="ABB", model="Sim32", firmware_version=None) == []


def test_the_server_setting_overrides_cap_dates() -> None:
    assert with_cap_dates(Rules(), "always").cap_dates
    assert not with_cap_dates(CAP, "never").cap_dates
    assert with_cap_dates(CAP, "profile") == CAP


def test_dates_after_2037_are_capped_in_requests_and_answers() -> None:
    local_list: dict[str, Any] = {
        "listVersion": 2,
        "updateType": "Full",
        "localAuthorizationList": [
            {
                "idTag": "A",
                "idTagInfo": {"status": "Accepted", "expiryDate": "2040-01-01T00:00:00Z"},
            },
            {
                "idTag": "B",
                "idTagInfo": {"status": "Accepted", "expiryDate": "2030-01-01T00:00:00Z"},
            },
            {"idTag": "C"},
        ],
    }
    before = copy.deepcopy(local_list)
    out, changed = adapt_request("SendLocalList", local_list, CAP, now=NOW)
    assert local_list == before  # left as it was
    entries = out["localAuthorizationList"]
    assert [e.get("idTagInfo", {}).get("expiryDate") for e in entries] == [
        LATEST,
        "2030-01-01T00:00:00Z",
        None,
    ]
    assert [(c.rule, c.action) for c in changed] == [("capDates", "SendLocalList")]
    # Exactly the last second is kept; one second later is capped.
    reserve = {"connectorId": 1, "expiryDate": LATEST, "idTag": "A", "reservationId": 1}
    assert adapt_request("ReserveNow", reserve, CAP, now=NOW) == (reserve, [])
    later = reserve | {"expiryDate": "2038-01-01T00:00:00.000+00:00"}
    assert adapt_request("ReserveNow", later, CAP, now=NOW)[0]["expiryDate"] == LATEST
    # Without the rule nothing changes.
    assert adapt_request("ReserveNow", later, Rules(), now=NOW) == (later, [])
    # Answers carry datetimes or text.
    expiry = datetime(2099, 1, 1, tzinfo=UTC)
    answer: dict[str, Any] = {"idTagInfo": {"status": "Accepted", "expiryDate": expiry}}
    capped, changed = adapt_answer("Authorize", answer, CAP)
    assert capped["idTagInfo"]["expiryDate"] == LATEST_DATE
    assert answer["idTagInfo"]["expiryDate"].year == 2099
    assert [c.detail for c in changed] == [
        f"idTagInfo.expiryDate 2099-01-01T00:00:00.000Z sent as {LATEST}"
    ]


def _absolute(**fields: Any) -> dict[str, Any]:
    return {
        "chargingProfileId": 3,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
        },
        **fields,
    }


def test_absolute_profiles_get_their_start_schedule() -> None:
    rules = Rules(start_schedule=True, cap_dates=True)
    request: dict[str, Any] = {"connectorId": 1, "csChargingProfiles": _absolute()}
    out, changed = adapt_request("SetChargingProfile", request, rules, now=NOW)
    assert out["csChargingProfiles"]["chargingSchedule"]["startSchedule"] == (
        "2026-12-02T12:00:00.250Z"
    )
    assert "startSchedule" not in request["csChargingProfiles"]["chargingSchedule"]
    assert [c.rule for c in changed] == ["startSchedule"]
    # From validFrom when given (then capped like any date).
    request = {
        "connectorId": 1,
        "csChargingProfiles": _absolute(
            validFrom="2026-12-03T00:00:00Z", validTo="2050-01-01T00:00:00Z"
        ),
    }
    out, changed = adapt_request("SetChargingProfile", request, rules, now=NOW)
    profile = out["csChargingProfiles"]
    assert (profile["chargingSchedule"]["startSchedule"], profile["validTo"]) == (
        "2026-12-03T00:00:00Z",
        LATEST,
    )
    assert [c.rule for c in changed] == ["startSchedule", "capDates"]
    # A RemoteStartTransaction's profile too; Relative ones are left alone.
    relative = _absolute(chargingProfileKind="Relative", chargingProfilePurpose="TxProfile")
    start = {"idTag": "A", "chargingProfile": relative}
    assert adapt_request("RemoteStartTransaction", start, rules, now=NOW) == (start, [])


def test_get_configuration_in_batches_and_negative_limits() -> None:
    keys = [f"K{n}" for n in range(7)]
    assert key_batches(keys, 3) == [keys[0:3], keys[3:6], keys[6:7]]
    assert key_batches(keys, None) == [keys]
    assert key_batches(keys, 7) == [keys]
    merged = merged_configuration(
        [
            {"configurationKey": [{"key": "K0", "readonly": True, "value": "1"}]},
            {"configurationKey": [], "unknownKey": ["K6"]},
        ]
    )
    assert merged == {
        "configurationKey": [{"key": "K0", "readonly": True, "value": "1"}],
        "unknownKey": ["K6"],
    }
    assert merged_configuration([{"configurationKey": []}]) == {"configurationKey": []}
    assert no_limit(Decimal(-1)) is None
    assert no_limit(Decimal(0)) == Decimal(0)
    assert no_limit(None) is None
