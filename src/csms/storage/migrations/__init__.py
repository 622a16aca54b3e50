"""Alembic migrations of the CSMS database, run from code: no alembic.ini needed.

    await migrate("sqlite+aiosqlite:///var/csms.db")  # create or upgrade to the newest schema

To write a new revision from a checkout (script.py.mako is in this directory, not in wheels),
upgrade a scratch database and let autogenerate compare it with schema.py::

    from alembic import command
    from csms.storage.migrations import alembic_config, migrate
    url = "sqlite+aiosqlite:///scratch.db"
    asyncio.run(migrate(url))
    command.revision(alembic_config(url), "message", autogenerate=True, rev_id="0011")

Write revisions with `op.batch_alter_table` so they also run on SQLite. There is one head:
every new revision revises the single head before it (docs/architecture.md, "Migrations";
tests/storage/test_migrations.py::test_one_head keeps it so).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from csms.storage.engine import create_engine, parse_url

MIGRATIONS_DIR = Path(__file__).resolve().parent

# Any constant: serialises concurrent migrators (several gateway processes) on PostgreSQL.
_PG_ADVISORY_LOCK = 0x4353_4D53  # "CSMS"

_Command = Callable[[Config], None]


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for these migrations. With a URL, the `alembic` commands run
    by env.py open their own connection to it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        # ConfigParser interpolation: a literal % must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(url: str, revision: str = "heads") -> None:
    """Upgrade the database at `url` to `revision` (the newest of every branch by default), in
    one transaction. Each feature's tables may come on a branch of their own off the Core
    revisions (down_revision "0002"), so that features are migrated independently."""
    await _run(url, lambda config: command.upgrade(config, revision))


async def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at `url` to `revision` (an empty database by default)."""
    await _run(url, lambda config: command.downgrade(config, revision))


async def current_revisions(url: str) -> set[str]:
    """The revisions (one per branch) the database at `url` is at; empty if never migrated."""
    engine = create_engine(url, role="read")
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()


async def _run(url: str, run: _Command) -> None:
    parsed = parse_url(url)
    engine = create_engine(parsed)
    try:
        async with engine.begin() as connection:
            if parsed.get_backend_name() == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_ADVISORY_LOCK}
                )
            await connection.run_sync(_with_connection, run)
    finally:
        await engine.dispose()


def _with_connection(connection: Connection, run: _Command) -> None:
    config = alembic_config()
    # env.py runs on this connection, inside the transaction begun above.
    config.attributes["connection"] = connection
    run(config)
