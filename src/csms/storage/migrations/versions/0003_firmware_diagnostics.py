"""Firmware and diagnostics: hosted firmware images, UpdateFirmware / GetDiagnostics jobs and
their events, uploaded diagnostics files.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "firmware_images",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("uploaded_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_firmware_images"),
    )
    op.create_table(
        "file_jobs",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=True),
        sa.Column("retry_interval", sa.Integer(), nullable=True),
        sa.Column("retrieve_date", UTC_DATETIME, nullable=True),
        sa.Column("image_id", ROW_ID, nullable=True),
        sa.Column("start_time", UTC_DATETIME, nullable=True),
        sa.Column("stop_time", UTC_DATETIME, nullable=True),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("deadline", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.CheckConstraint("kind IN ('firmware', 'diagnostics')", name="ck_file_jobs_kind"),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name="fk_file_jobs_charge_point_id_charge_points",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["firmware_images.id"],
            name="fk_file_jobs_image_id_firmware_images",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_file_jobs"),
    )
    op.create_index(
        "ix_file_jobs_charge_point_id_kind_id", "file_jobs", ["charge_point_id", "kind", "id"]
    )
    op.create_index("ix_file_jobs_deadline", "file_jobs", ["deadline"])
    op.create_table(
        "file_job_events",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("job_id", ROW_ID, nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["file_jobs.id"],
            name="fk_file_job_events_job_id_file_jobs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_file_job_events"),
    )
    op.create_index("ix_file_job_events_job_id_id", "file_job_events", ["job_id", "id"])
    op.create_table(
        "diagnostics_files",
        sa.Column("job_id", ROW_ID, nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("protocol", sa.Text(), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["file_jobs.id"],
            name="fk_diagnostics_files_job_id_file_jobs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "file_name", name="pk_diagnostics_files"),
    )


def downgrade() -> None:
    op.drop_table("diagnostics_files")
    op.drop_index("ix_file_job_events_job_id_id", table_name="file_job_events")
    op.drop_table("file_job_events")
    op.drop_index("ix_file_jobs_deadline", table_name="file_jobs")
    op.drop_index("ix_file_jobs_charge_point_id_kind_id", table_name="file_jobs")
    op.drop_table("file_jobs")
    op.drop_table("firmware_images")
