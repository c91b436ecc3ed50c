"""Observations: name tables, hot rows, packed day segments, ingested batches.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name, length in (("services", 200), ("locations", 200), ("checks", 300)):
        op.create_table(
            name,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(length), nullable=False, unique=True),
        )
    op.create_table(
        "observations",
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("service_id", sa.Integer, nullable=False),
        sa.Column("location_id", sa.Integer, nullable=False),
        sa.Column("check_id", sa.Integer, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("error", sa.SmallInteger, nullable=False),
        sa.Column("retry_after", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=True),
    )
    op.create_index(
        "observations_key",
        "observations",
        ["ts", "service_id", "location_id", "check_id"],
        unique=True,
    )
    op.create_table(
        "segments",
        sa.Column("service_id", sa.Integer, primary_key=True),
        sa.Column("location_id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.String(100), primary_key=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for name in ("ingest_batches", "segments", "observations", "checks", "locations", "services"):
        op.drop_table(name)
