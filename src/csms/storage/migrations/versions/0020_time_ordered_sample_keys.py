"""Meter values' sample keys start with 4 bytes of BLAKE2b of the charge point id and the instant
the sample was taken (8 bytes, big-endian; storage/sql.py `sample_key`), so that their unique
index grows at the end of each charge point's range: a random 16-byte key put each sample of a
batch on a page of its own, and every commit wrote those pages (bench/README.md, "Disk written
per message"). The keys already stored get the
same prefix, so that a sample replayed after the upgrade is still known as stored.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when schema.py or sql.py do.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_INSTANT_OFFSET = 2**63
_OLD_KEY_BYTES = 16
_PREFIX_BYTES = 12
_BATCH = 10_000

meter_values = sa.table(
    "meter_values",
    sa.column("id", sa.Integer()),
    sa.column("charge_point_id", sa.Text()),
    sa.column("timestamp", sa.DateTime(timezone=True)),
    sa.column("sample_key", sa.LargeBinary()),
)


def _prefix(charge_point_id: str, timestamp: datetime) -> bytes:
    if timestamp.tzinfo is None:  # SQLite keeps UTC without an offset
        timestamp = timestamp.replace(tzinfo=UTC)
    instant = (timestamp - _EPOCH) // _MICROSECOND
    return hashlib.blake2b(charge_point_id.encode(), digest_size=4).digest() + (
        instant + _INSTANT_OFFSET
    ).to_bytes(8, "big")


def upgrade() -> None:
    connection = op.get_bind()
    update = (
        sa.update(meter_values)
        .where(meter_values.c.id == sa.bindparam("b_id"))
        .values(sample_key=sa.bindparam("b_key"))
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(
                meter_values.c.id,
                meter_values.c.charge_point_id,
                meter_values.c.timestamp,
                meter_values.c.sample_key,
            )
            .where(
                meter_values.c.id > after,
                sa.func.length(meter_values.c.sample_key) == _OLD_KEY_BYTES,
            )
            .order_by(meter_values.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            update,
            [
                {"b_id": id_, "b_key": _prefix(charge_point_id, at) + bytes(key)}
                for id_, charge_point_id, at, key in rows
            ],
        )
        after = rows[-1][0]


def downgrade() -> None:
    op.execute(
        sa.update(meter_values)
        .where(sa.func.length(meter_values.c.sample_key) == _OLD_KEY_BYTES + _PREFIX_BYTES)
        .values(sample_key=sa.func.substr(meter_values.c.sample_key, _PREFIX_BYTES + 1))
    )
