"""Reservations (spec 5.13): what the CSMS asked for and what became of it.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-22

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("id_tag", sa.Text(), nullable=False),
        sa.Column("parent_id_tag", sa.Text(), nullable=True),
        sa.Column("expiry_date", UTC_DATETIME, nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("id > 0", name="ck_reservations_positive_id"),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name="fk_reservations_charge_point_id_charge_points",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reservations"),
    )
    op.create_index(
        "ix_reservations_charge_point_id_state", "reservations", ["charge_point_id", "state"]
    )
    op.create_index("ix_reservations_state_expiry_date", "reservations", ["state", "expiry_date"])


def downgrade() -> None:
    op.drop_index("ix_reservations_state_expiry_date", table_name="reservations")
    op.drop_index("ix_reservations_charge_point_id_state", table_name="reservations")
    op.drop_table("reservations")
