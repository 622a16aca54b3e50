"""Site load management: groups of charge points on one supply, their members, transaction
priorities, and the history of the limits sent.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "load_groups",
        sa.Column("id", sa.Integer(), sa.Identity(always=False, start=1), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("limit", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("voltage", sa.Text(), nullable=False),
        sa.Column("phases", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("min_current", sa.Text(), nullable=False),
        sa.Column("draw_margin", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["load_groups.id"],
            name="fk_load_groups_parent_id_load_groups",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_load_groups"),
        sa.UniqueConstraint("name", name="uq_load_groups_name"),
    )
    op.create_index("ix_load_groups_parent_id", "load_groups", ["parent_id"])
    op.create_table(
        "load_group_members",
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("phases", sa.Integer(), nullable=False),
        sa.Column("max_current", sa.Text(), nullable=False),
        sa.Column("connectors", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name="fk_load_group_members_charge_point_id_charge_points",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["load_groups.id"],
            name="fk_load_group_members_group_id_load_groups",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", name="pk_load_group_members"),
    )
    op.create_index("ix_load_group_members_group_id", "load_group_members", ["group_id"])
    op.create_table(
        "load_transaction_priorities",
        sa.Column("transaction_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name="fk_load_transaction_priorities_transaction_id_transactions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transaction_id", name="pk_load_transaction_priorities"),
    )
    op.create_table(
        "load_allocations",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("limit", sa.Text(), nullable=False),
        sa.Column("number_phases", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("demand", sa.Text(), nullable=True),
        sa.Column("measured_draw", sa.Text(), nullable=True),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=False),
        sa.Column("answered_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["load_groups.id"],
            name="fk_load_allocations_group_id_load_groups",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_load_allocations"),
    )
    op.create_index("ix_load_allocations_group_id_id", "load_allocations", ["group_id", "id"])
    op.create_index("ix_load_allocations_sent_at", "load_allocations", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_load_allocations_sent_at", table_name="load_allocations")
    op.drop_index("ix_load_allocations_group_id_id", table_name="load_allocations")
    op.drop_table("load_allocations")
    op.drop_table("load_transaction_priorities")
    op.drop_index("ix_load_group_members_group_id", table_name="load_group_members")
    op.drop_table("load_group_members")
    op.drop_index("ix_load_groups_parent_id", table_name="load_groups")
    op.drop_table("load_groups")
