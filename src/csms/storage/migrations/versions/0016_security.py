"""Security whitepaper: security profiles per charge point, security events, the certificates
the CSMS issued and those the charge points have installed (docs/security.md).

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-02

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py does.
UTC_DATETIME = sa.DateTime(timezone=True)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "charge_point_security",
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("security_profile", sa.Integer(), nullable=False),
        sa.Column("fallback_profile", sa.Integer(), nullable=True),
        sa.Column("pending_password_hash", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name="fk_charge_point_security_charge_point_id_charge_points",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("charge_point_id", name="pk_charge_point_security"),
    )
    op.create_table(
        "security_events",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("tech_info", sa.Text(), nullable=True),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_security_events"),
    )
    op.create_index(
        "ix_security_events_charge_point_id_id", "security_events", ["charge_point_id", "id"]
    )
    op.create_table(
        "issued_certificates",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("serial_number", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("not_before", UTC_DATETIME, nullable=False),
        sa.Column("not_after", UTC_DATETIME, nullable=False),
        sa.Column("issued_at", UTC_DATETIME, nullable=False),
        sa.Column("delivery", sa.Text(), nullable=True),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_issued_certificates"),
        sa.UniqueConstraint("serial_number", name="uq_issued_certificates_serial_number"),
    )
    op.create_index(
        "ix_issued_certificates_charge_point_id", "issued_certificates", ["charge_point_id"]
    )
    op.create_table(
        "installed_certificates",
        sa.Column("id", ROW_ID, sa.Identity(always=False), nullable=False),
        sa.Column("charge_point_id", sa.Text(), nullable=False),
        sa.Column("certificate_type", sa.Text(), nullable=False),
        sa.Column("hash_algorithm", sa.Text(), nullable=False),
        sa.Column("issuer_name_hash", sa.Text(), nullable=False),
        sa.Column("issuer_key_hash", sa.Text(), nullable=False),
        sa.Column("serial_number", sa.Text(), nullable=False),
        sa.Column("pem", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name="fk_installed_certificates_charge_point_id_charge_points",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_installed_certificates"),
    )
    op.create_index(
        "ix_installed_certificates_charge_point_id_certificate_type",
        "installed_certificates",
        ["charge_point_id", "certificate_type"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_installed_certificates_charge_point_id_certificate_type",
        table_name="installed_certificates",
    )
    op.drop_table("installed_certificates")
    op.drop_index("ix_issued_certificates_charge_point_id", table_name="issued_certificates")
    op.drop_table("issued_certificates")
    op.drop_index("ix_security_events_charge_point_id_id", table_name="security_events")
    op.drop_table("security_events")
    op.drop_table("charge_point_security")
