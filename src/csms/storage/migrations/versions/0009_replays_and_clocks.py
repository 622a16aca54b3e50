"""Replays and clocks: status reports and meter values flag a charge point timestamp that is
clearly wrong; meter values keep their receipt time and a digest that makes a replayed sample
a duplicate (docs/field-behaviour.md, "Replays and clocks").

Revision ID: 0009
Revises: 0002
Create Date: 2026-12-02

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)


def _clock_suspect() -> sa.Column[bool]:
    return sa.Column("clock_suspect", sa.Boolean(), nullable=False, server_default=sa.false())


def upgrade() -> None:
    for table in ("connector_status", "status_history"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(_clock_suspect())
    with op.batch_alter_table("meter_values") as batch:
        batch.add_column(sa.Column("received_at", UTC_DATETIME, nullable=True))
        batch.add_column(_clock_suspect())
        batch.add_column(sa.Column("sample_key", sa.LargeBinary(), nullable=True))
        batch.create_index("uq_meter_values_sample_key", ["sample_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("meter_values") as batch:
        batch.drop_index("uq_meter_values_sample_key")
        batch.drop_column("sample_key")
        batch.drop_column("clock_suspect")
        batch.drop_column("received_at")
    for table in ("status_history", "connector_status"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("clock_suspect")
