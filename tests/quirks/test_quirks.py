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
    heartbeat_interval_of,
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


@pytest.mark.parametrize("value", [0, 86_401, -5, True, 30.0, "30", 30.5, [30]])
def test_a_heartbeat_interval_is_a_whole_number_of_seconds_up_to_a_day(value: Any) -> None:
    with pytest.raises(ValueError, match="heartbeatInterval"):
        Rules.from_json({"heartbeatInterval": value})


def test_the_heartbeat_interval_rule_round_trips() -> None:
    for seconds in (1, 86_400):
        rules = Rules.from_json({"heartbeatInterval": seconds})
        assert rules == Rules(heartbeat_interval=seconds)
        assert rules.as_json() == {"heartbeatInterval": seconds}
    assert Rules.from_json({"heartbeatInterval": None}) == Rules()


def _beat(
    name: str, seconds: int, *, ids: tuple[str, ...] = (), builtin: bool = False
) -> ChargerProfile:
    return ChargerProfile(
        name=name,
        vendor=None if ids else "acme",
        charge_point_ids=ids,
        rules=Rules(heartbeat_interval=seconds),
        builtin=builtin,
    )


def test_heartbeat_interval_precedence_operator_id_pattern_then_built_in() -> None:
    """Operator by id > operator by pattern > built-in by id > built-in by pattern; among
    equals the shortest (docs/charger-compatibility.md, "Charger profiles")."""
    builtin_pattern = _beat("bp", 10, builtin=True)
    builtin_id = _beat("bi", 20, ids=("CP1",), builtin=True)
    operator_pattern = _beat("op", 600)
    operator_id = _beat("oi", 900, ids=("CP1",))
    everything = [builtin_pattern, builtin_id, operator_pattern, operator_id]
    # Each standing wins over all below it, whatever their (shorter) intervals and the order.
    assert heartbeat_interval_of(everything, "CP1") == 900
    assert heartbeat_interval_of(reversed(everything), "CP1") == 900
    assert heartbeat_interval_of(everything[:3], "CP1") == 600
    assert heartbeat_interval_of(everything[:2], "CP1") == 20
    assert heartbeat_interval_of(everything[:1], "CP1") == 10
    # Another charge point matched by pattern only: the id lists do not count for it.
    assert heartbeat_interval_of([builtin_pattern, operator_pattern], "CP2") == 600
    # Ties within a standing: the shortest.
    assert heartbeat_interval_of([_beat("a", 120), _beat("b", 60), _beat("c", 90)], "X") == 60
    ids = [_beat("a", 120, ids=("X",)), _beat("b", 45, ids=("X",)), _beat("p", 5)]
    assert heartbeat_interval_of(ids, "X") == 45
    # A profile listing the id that also matches by pattern counts as by id.
    both = ChargerProfile(
        name="both", vendor="acme", charge_point_ids=("X",), rules=Rules(heartbeat_interval=400)
    )
    assert heartbeat_interval_of([_beat("p", 5), both], "X") == 400
    # None gives one: None; the rules shown carry the same choice.
    assert heartbeat_interval_of([ChargerProfile(name="n", vendor="a")], "X") is None
    assert heartbeat_interval_of([], "X") is None
    assert rules_of(everything, "CP1").heartbeat_interval == 900
    assert rules_of(everything[:3]).heartbeat_interval == 600


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
