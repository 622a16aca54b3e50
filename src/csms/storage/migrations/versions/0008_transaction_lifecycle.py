"""Transactions the CSMS ends itself (superseded on their connector, or by the operator) and
how many transactions an id tag may run at once (docs/field-behaviour.md, "Transactions").

Revision ID: 0008
Revises: 0002
Create Date: 2026-12-02

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite does in place: a batch operation would reflect the tables
    # (SQLAlchemy cannot reflect SQLite's expression indexes) for nothing.
    op.add_column("transactions", sa.Column("ended_at", UTC_DATETIME, nullable=True))
    op.add_column("transactions", sa.Column("ended_by", sa.Text(), nullable=True))
    op.add_column("transactions", sa.Column("end_reason", sa.Text(), nullable=True))
    # Existing tags keep the one-at-a-time rule they had.
    op.add_column(
        "id_tags",
        sa.Column(
            "max_active_transactions", sa.Integer(), server_default=sa.text("1"), nullable=True
        ),
    )


def downgrade() -> None:
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+), not a batch table copy: that would lose the
    # expression indexes and AUTOINCREMENT, which SQLAlchemy cannot reflect on SQLite.
    op.drop_column("id_tags", "max_active_transactions")
    op.drop_column("transactions", "end_reason")
    op.drop_column("transactions", "ended_by")
    op.drop_column("transactions", "ended_at")
