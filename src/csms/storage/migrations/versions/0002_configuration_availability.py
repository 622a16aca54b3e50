"""What CSMS commands changed: configuration keys, configuration snapshots, availability.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

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
        "configuration_keys",
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("readonly", sa.Boolean(), nullable=True),
        sa.Column("known", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _charge_point_fk("configuration_keys"),
        sa.PrimaryKeyConstraint("charge_point_id", "key", name="pk_configuration_keys"),
    )
    op.create_table(
        "configuration_snapshots",
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("complete_at", UTC_DATETIME, nullable=False),
        _charge_point_fk("configuration_snapshots"),
        sa.PrimaryKeyConstraint("charge_point_id", name="pk_configuration_snapshots"),
    )
    op.create_table(
        "connector_availability",
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("requested", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        _charge_point_fk("connector_availability"),
        sa.PrimaryKeyConstraint(
            "charge_point_id", "connector_id", name="pk_connector_availability"
        ),
    )


def downgrade() -> None:
    op.drop_table("connector_availability")
    op.drop_table("configuration_snapshots")
    op.drop_table("configuration_keys")
