"""Operator records (tickets, swaps, DDoS events, provisioning, outages, claims), one row
per contract, kind and record id, with the latest version's JSON.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("contract", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(420), nullable=False),
        sa.Column("first_at", sa.BigInteger, nullable=False),
        sa.Column("last_at", sa.BigInteger, nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("contract", "kind", "record_id", name="records_key"),
    )
    op.create_index("records_contract_first", "records", ["contract", "first_at"])


def downgrade() -> None:
    op.drop_index("records_contract_first", table_name="records")
    op.drop_table("records")
