"""One head again: the feature branches off the Core revision (0003-0009) end here. From now on
every migration revises the single head before it (docs/architecture.md, "Migrations").

Revision ID: 0010
Revises: 0003, 0004, 0005, 0007, 0008, 0009
Create Date: 2026-12-02

"""

from __future__ import annotations

revision: str = "0010"
down_revision: tuple[str, ...] = ("0003", "0004", "0005", "0007", "0008", "0009")
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
