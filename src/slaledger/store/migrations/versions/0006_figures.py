"""Published figures: each service's (and location's) availability per UTC day and month.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "figures",
        sa.Column("contract", sa.String(200), primary_key=True),
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("service", sa.String(200), primary_key=True),
        sa.Column("location", sa.String(200), primary_key=True),
        sa.Column("availability", sa.String(80), nullable=True),
        sa.Column("downtime_minutes", sa.Integer, nullable=True),
        sa.Column("met", sa.Boolean, nullable=True),
        sa.Column("credit_percent", sa.Integer, nullable=False),
        sa.Column("settled", sa.Boolean, nullable=False),
        sa.Column("computed_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("figures")
