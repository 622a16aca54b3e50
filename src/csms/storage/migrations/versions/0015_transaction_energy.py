"""Transactions keep their billable energy and its flags (features/core/energy.py,
docs/field-behaviour.md, "Energy you can bill"), and get the indexes of the transactions API:
pages of one charge point or one idTag in id order, time ranges on the start time, the open
transactions. Existing
rows: energy not computed (NULL, no flags); the API computes it when it reads them.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, in place on SQLite (see 0013: a batch copy would lose the expression
    # index and AUTOINCREMENT).
    op.add_column("transactions", sa.Column("energy_wh", sa.BigInteger(), nullable=True))
    op.add_column(
        "transactions",
        sa.Column("energy_flags", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_transactions_charge_point_id_id", "transactions", ["charge_point_id", "id"])
    op.create_index(
        "ix_transactions_lower_id_tag_id", "transactions", [sa.text("lower(id_tag)"), "id"]
    )
    op.create_index("ix_transactions_start_time", "transactions", ["start_time"])
    still_open = sa.text("stop_time IS NULL AND ended_at IS NULL")
    op.create_index(
        "ix_transactions_open_id",
        "transactions",
        ["id"],
        sqlite_where=still_open,
        postgresql_where=still_open,
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_open_id", "transactions")
    op.drop_index("ix_transactions_start_time", "transactions")
    op.drop_index("ix_transactions_lower_id_tag_id", "transactions")
    op.drop_index("ix_transactions_charge_point_id_id", "transactions")
    op.drop_column("transactions", "energy_flags")
    op.drop_column("transactions", "energy_wh")
