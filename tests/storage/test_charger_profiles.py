"""The store's charger profiles and the configuration values a ChangeConfiguration set
(docs/charger-compatibility.md), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csms.storage import ChargerProfileRecord, ConfigurationEntry
from csms.storage.sql import SqlStore

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


async def test_charger_profiles_round_trip(store: SqlStore) -> None:
    assert await store.list_charger_profiles() == []
    acme = ChargerProfileRecord(
        name="acme",
        description="ACME walls",
        vendor="acme",
        model="wall.*",
        charge_point_ids=("CP9", "CP10"),
        rules={"capDates": True, "maxKeys": 4},
        updated_at=AT,
    )
    assert await store.save_charger_profile(acme) is True
    other = ChargerProfileRecord(name="0-first", firmware_version="1\\..*", updated_at=AT)
    assert await store.save_charger_profile(other) is True
    assert await store.list_charger_profiles() == [other, acme]
    replaced = ChargerProfileRecord(name="acme", vendor="ACME", updated_at=AT + timedelta(1))
    assert await store.save_charger_profile(replaced) is False
    assert await store.list_charger_profiles() == [other, replaced]
    assert await store.delete_charger_profile("acme") is True
    assert await store.delete_charger_profile("acme") is False
    assert await store.list_charger_profiles() == [other]


async def test_configured_values_outlive_the_snapshot(store: SqlStore, charge_point: str) -> None:
    assert await store.configured_values(charge_point) == {}
    await store.set_configuration_value(charge_point, "HeartbeatInterval", "45", at=AT)
    await store.set_configuration_value(charge_point, "HeartbeatInterval", "60", at=AT)
    # A complete GetConfiguration replaces the snapshot, not what was set.
    await store.save_configuration(
        charge_point,
        [ConfigurationEntry(key="HeartbeatInterval", value="300", readonly=False)],
        unknown_keys=[],
        complete=True,
        at=AT,
    )
    snapshot = await store.configuration_of(charge_point)
    assert [(e.key, e.value) for e in snapshot.entries] == [("HeartbeatInterval", "300")]
    assert await store.configured_values(charge_point) == {"HeartbeatInterval": "60"}
    # Gone with its charge point.
    assert await store.delete_charge_point(charge_point)
    assert await store.configured_values(charge_point) == {}
