"""Initial schema: charge points, connectors, id tags, transactions, meter values, reports.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _charge_point_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["charge_point_id"],
        ["charge_points.id"],
        name=f"fk_{table}_charge_point_id_charge_points",
        ondelete="CASCADE",
    )


def _status_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error_code", sa.Text(), nullable=False),
        sa.Column("info", sa.Text(), nullable=True),
        sa.Column("vendor_id", sa.Text(), nullable=True),
        sa.Column("vendor_error_code", sa.Text(), nullable=True),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "charge_points",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("registration_status", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("charge_point_vendor", sa.Text(), nullable=True),
        sa.Column("charge_point_model", sa.Text(), nullable=True),
        sa.Column("charge_point_serial_number", sa.Text(), nullable=True),
        sa.Column("charge_box_serial_number", sa.Text(), nullable=True),
        sa.Column("firmware_version", sa.Text(), nullable=True),
        sa.Column("iccid", sa.Text(), nullable=True),
        sa.Column("imsi", sa.Text(), nullable=True),
        sa.Column("meter_type", sa.Text(), nullable=True),
        sa.Column("meter_serial_number", sa.Text(), nullable=True),
        sa.Column("last_boot_at", UTC_DATETIME, nullable=True),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_charge_points"),
    )

    op.create_table(
        "connector_status",
        *_status_columns(),
        _charge_point_fk("connector_status"),
        sa.PrimaryKeyConstraint("charge_point_id", "connector_id", name="pk_connector_status"),
    )

    op.create_table(
        "status_history",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        *_status_columns(),
        _charge_point_fk("status_history"),
        sa.PrimaryKeyConstraint("id", name="pk_status_history"),
    )
    op.create_index(
        "ix_status_history_charge_point_id_id", "status_history", ["charge_point_id", "id"]
    )
    op.create_index(
        "ix_status_history_charge_point_id_connector_id_id",
        "status_history",
        ["charge_point_id", "connector_id", "id"],
    )

    op.create_table(
        "id_tags",
        sa.Column("id_tag", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("expiry_date", UTC_DATETIME, nullable=True),
        sa.Column("parent_id_tag", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id_tag", name="pk_id_tags"),
    )
    op.create_index("uq_id_tags_lower_id_tag", "id_tags", [sa.text("lower(id_tag)")], unique=True)

    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer(), sa.Identity(always=False, start=1), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("id_tag", sa.Text(), nullable=False),
        sa.Column("id_tag_status", sa.Text(), nullable=False),
        sa.Column("meter_start", sa.BigInteger(), nullable=False),
        sa.Column("start_time", UTC_DATETIME, nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("stop_time", UTC_DATETIME, nullable=True),
        sa.Column("meter_stop", sa.BigInteger(), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("stop_id_tag", sa.Text(), nullable=True),
        sa.CheckConstraint("id > 0", name="ck_transactions_positive_id"),
        _charge_point_fk("transactions"),
        sa.PrimaryKeyConstraint("id", name="pk_transactions"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_transactions_start",
        "transactions",
        ["charge_point_id", "start_time", "connector_id", "id_tag", "meter_start"],
        unique=True,
    )
    op.create_index(
        "ix_transactions_active_lower_id_tag",
        "transactions",
        [sa.text("lower(id_tag)")],
        sqlite_where=sa.text("stop_time IS NULL"),
        postgresql_where=sa.text("stop_time IS NULL"),
    )

    op.create_table(
        "meter_values",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("measurand", sa.Text(), nullable=True),
        sa.Column("phase", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("context", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("format", sa.Text(), nullable=True),
        _charge_point_fk("meter_values"),
        sa.PrimaryKeyConstraint("id", name="pk_meter_values"),
    )
    op.create_index("ix_meter_values_transaction_id_id", "meter_values", ["transaction_id", "id"])
    op.create_index("ix_meter_values_charge_point_id_id", "meter_values", ["charge_point_id", "id"])

    op.create_table(
        "notifications",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        _charge_point_fk("notifications"),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index(
        "ix_notifications_charge_point_id_id", "notifications", ["charge_point_id", "id"]
    )

    op.create_table(
        "data_transfers",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("vendor_id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        _charge_point_fk("data_transfers"),
        sa.PrimaryKeyConstraint("id", name="pk_data_transfers"),
    )
    op.create_index(
        "ix_data_transfers_charge_point_id_id", "data_transfers", ["charge_point_id", "id"]
    )


def downgrade() -> None:
    # Indexes go with their tables.
    for table in (
        "data_transfers",
        "notifications",
        "meter_values",
        "transactions",
        "id_tags",
        "status_history",
        "connector_status",
        "charge_points",
    ):
        op.drop_table(table)
