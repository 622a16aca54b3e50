"""Unknown charge points refused at the handshake are kept in the database (one row per id,
bounded and pruned; features/unknown_charge_points.py), so that the console's approval page
survives a restart.

Revision ID: 0019
Revises: 0013
Create Date: 2026-12-02

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unknown_charge_points",
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("first_at", UTC_DATETIME, nullable=False),
        sa.Column("last_at", UTC_DATETIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id", name="pk_unknown_charge_points"),
    )
    op.create_index("ix_unknown_charge_points_last_at", "unknown_charge_points", ["last_at"])


def downgrade() -> None:
    op.drop_index("ix_unknown_charge_points_last_at", table_name="unknown_charge_points")
    op.drop_table("unknown_charge_points")
