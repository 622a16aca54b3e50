"""Transactions keep the CSMS's receipt times of their StartTransaction and StopTransaction and
flag a charge point timestamp that is clearly wrong (docs/field-behaviour.md, "Replays and
clocks"). Existing rows: receipt times unknown (NULL), not flagged.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite does in place: a batch operation would copy the table and
    # lose its expression index and AUTOINCREMENT (SQLAlchemy cannot reflect them on SQLite).
    for side in ("start", "stop"):
        op.add_column("transactions", sa.Column(f"{side}_received_at", UTC_DATETIME, nullable=True))
        op.add_column(
            "transactions",
            sa.Column(
                f"{side}_clock_suspect", sa.Boolean(), nullable=False, server_default=sa.false()
            ),
        )


def downgrade() -> None:
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+), not a batch table copy (see upgrade()).
    for side in ("stop", "start"):
        op.drop_column("transactions", f"{side}_clock_suspect")
        op.drop_column("transactions", f"{side}_received_at")
