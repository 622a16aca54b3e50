"""Charger profiles operators add, and the configuration values a ChangeConfiguration set
(docs/charger-compatibility.md): a BootNotification answers the HeartbeatInterval the operator
set. Existing rows: none (values set before this revision are not known as set).

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-02

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "charger_profiles",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("firmware_version", sa.Text(), nullable=True),
        sa.Column("charge_point_ids", sa.Text(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_charger_profiles"),
    )
    op.create_table(
        "configuration_set",
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("set_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name="fk_configuration_set_charge_point_id_charge_points",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", "key", name="pk_configuration_set"),
    )


def downgrade() -> None:
    op.drop_table("configuration_set")
    op.drop_table("charger_profiles")
