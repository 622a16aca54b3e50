"""Signed firmware and logs (security whitepaper 4, 3): a firmware image keeps its signing
certificate and signature; a job says which request it follows (`variant`: NULL for
UpdateFirmware / GetDiagnostics, "SignedUpdateFirmware", or the GetLog logType) and the
requestId the charge point's notifications carry. Existing rows: plain 1.6 jobs and unsigned
images (NULL).

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-02

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite does in place (see 0013: no batch table copy).
    op.add_column("firmware_images", sa.Column("signing_certificate", sa.Text(), nullable=True))
    op.add_column("firmware_images", sa.Column("signature", sa.Text(), nullable=True))
    op.add_column("file_jobs", sa.Column("variant", sa.Text(), nullable=True))
    op.add_column("file_jobs", sa.Column("request_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("file_jobs", "request_id")
    op.drop_column("file_jobs", "variant")
    op.drop_column("firmware_images", "signature")
    op.drop_column("firmware_images", "signing_certificate")
