"""The migrations create exactly the schema of schema.py, and go down and up again."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from csms.storage import MeterSample
from csms.storage.engine import create_engine
from csms.storage.migrations import alembic_config, current_revisions, downgrade, migrate
from csms.storage.schema import metadata
from csms.storage.sql import open_store, sample_key

# SQLAlchemy cannot reflect SQLite's expression indexes, so autogenerate skips them there:
# they are checked by their SQL instead.
SQLITE_EXPRESSION_INDEXES = {
    "uq_id_tags_lower_id_tag": (
        "CREATE UNIQUE INDEX uq_id_tags_lower_id_tag ON id_tags (lower(id_tag))"
    ),
    "ix_transactions_lower_id_tag_id": (
        "CREATE INDEX ix_transactions_lower_id_tag_id ON transactions (lower(id_tag), id)"
    ),
    "ix_transactions_active_lower_id_tag": (
        "CREATE INDEX ix_transactions_active_lower_id_tag ON transactions (lower(id_tag))"
        " WHERE stop_time IS NULL"
    ),
}


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        return list(compare_metadata(context, metadata))


async def check_schema(url: str) -> None:
    engine = create_engine(url, role="read")
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(schema_differences) == []
            if connection.dialect.name == "sqlite":
                rows = await connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
                )
                indexes = {name: sql for name, sql in rows if name in SQLITE_EXPRESSION_INDEXES}
                assert indexes == SQLITE_EXPRESSION_INDEXES
                autoincrement = await connection.execute(
                    text("SELECT sql FROM sqlite_master WHERE name = 'transactions'")
                )
                assert "AUTOINCREMENT" in autoincrement.scalar_one()
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_engine(url, role="read")
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


HEADS = set(ScriptDirectory.from_config(alembic_config()).get_heads())


async def test_migrated_schema_is_schema_py(database_url: str) -> None:
    assert await current_revisions(database_url) == set()

    await migrate(database_url)

    assert await current_revisions(database_url) == HEADS
    await check_schema(database_url)


async def test_round_trip(database_url: str) -> None:
    await migrate(database_url)
    await migrate(database_url)  # at head already: nothing to do

    await downgrade(database_url)
    assert await current_revisions(database_url) == set()
    assert await table_names(database_url) == {"alembic_version"}

    await migrate(database_url)
    assert await current_revisions(database_url) == HEADS
    assert await table_names(database_url) == set(metadata.tables) | {"alembic_version"}
    await check_schema(database_url)


def test_one_head() -> None:
    """Every new migration revises the single head before it (docs/architecture.md)."""
    assert len(HEADS) == 1, HEADS


async def test_sample_keys_stored_before_0020_still_know_their_replays(database_url: str) -> None:
    """Migration 0020 puts the sample's instant in front of the keys already stored, so that a
    sample sent again after the upgrade (its answer lost before it) is not stored twice; going
    down takes the prefix off again."""
    sample = MeterSample(
        charge_point_id="CP1",
        connector_id=1,
        transaction_id=7,
        timestamp=datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC),
        value="1234.5",
        measurand="Energy.Active.Import.Register",
        unit="Wh",
    )
    store = await open_store(database_url)
    try:
        await store.save_charge_point(
            "CP1", registration_status="Accepted", password_hash=None, description=None
        )
        await store.add_meter_values([sample])
    finally:
        await store.close()
    assert await stored_keys(database_url) == [sample_key(sample)]
    assert len(sample_key(sample)) == 28

    await downgrade(database_url, "0019")
    assert await stored_keys(database_url) == [sample_key(sample)[12:]]  # as 0009 made them

    await migrate(database_url)
    assert await stored_keys(database_url) == [sample_key(sample)]
    store = await open_store(database_url)
    try:
        await store.add_meter_values([sample])  # the replay
        assert len(await store.meter_values(7)) == 1
    finally:
        await store.close()


async def stored_keys(url: str) -> list[bytes]:
    engine = create_engine(url, role="read")
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT sample_key FROM meter_values"))
            return [bytes(key) for (key,) in rows]
    finally:
        await engine.dispose()
