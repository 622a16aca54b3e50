"""Local authorization list (spec 3.5.2, 5.10, 5.15): policies, and per charge point what the
CSMS knows of its list and the entries it believes installed.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-22

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)


def _charge_point_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["charge_point_id"],
        ["charge_points.id"],
        name=f"fk_{table}_charge_point_id_charge_points",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "local_list_policies",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_local_list_policies"),
    )
    op.create_table(
        "local_list_policy_tags",
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id_tag", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy"],
            ["local_list_policies.name"],
            name="fk_local_list_policy_tags_policy_local_list_policies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("policy", "position", name="pk_local_list_policy_tags"),
    )
    op.create_table(
        "local_lists",
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("sent_version", sa.Integer(), nullable=True),
        sa.Column("reported_version", sa.Integer(), nullable=True),
        sa.Column("reconciled_at", UTC_DATETIME, nullable=True),
        sa.Column("last_update_type", sa.Text(), nullable=True),
        sa.Column("last_update_version", sa.Integer(), nullable=True),
        sa.Column("last_update_status", sa.Text(), nullable=True),
        sa.Column("last_update_at", UTC_DATETIME, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _charge_point_fk("local_lists"),
        sa.ForeignKeyConstraint(
            ["policy"],
            ["local_list_policies.name"],
            name="fk_local_lists_policy_local_list_policies",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", name="pk_local_lists"),
    )
    op.create_index("ix_local_lists_policy", "local_lists", ["policy"])
    op.create_table(
        "local_list_entries",
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("id_tag", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("expiry_date", UTC_DATETIME, nullable=True),
        sa.Column("parent_id_tag", sa.Text(), nullable=True),
        _charge_point_fk("local_list_entries"),
        sa.PrimaryKeyConstraint("charge_point_id", "key", name="pk_local_list_entries"),
    )
    op.create_index("ix_local_list_entries_key", "local_list_entries", ["key"])


def downgrade() -> None:
    op.drop_index("ix_local_list_entries_key", table_name="local_list_entries")
    op.drop_table("local_list_entries")
    op.drop_index("ix_local_lists_policy", table_name="local_lists")
    op.drop_table("local_lists")
    op.drop_table("local_list_policy_tags")
    op.drop_table("local_list_policies")
