"""The message log: every OCPP-J frame in and out of each charge point (docs/message-log.md).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_log",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("message_type", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("unique_id", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_message_log"),
    )
    op.create_index("ix_message_log_charge_point_id_id", "message_log", ["charge_point_id", "id"])
    op.create_index("ix_message_log_at", "message_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_message_log_at", table_name="message_log")
    op.drop_index("ix_message_log_charge_point_id_id", table_name="message_log")
    op.drop_table("message_log")
