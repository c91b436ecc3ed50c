"""Statements chained and signed: each carries its predecessor's month and SHA-256, its own
SHA-256 and, when signed, its Ed25519 signature and key id.

Statements stored before stay NULL in these columns: they are chained once, in month
order, by ``slaledger statement chain`` or by the next statement issued (see
docs/deployment.md, "Statements: keys and the chain").

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("statements") as table:
        table.add_column(sa.Column("previous_month", sa.String(7), nullable=True))
        table.add_column(sa.Column("previous_sha256", sa.String(64), nullable=True))
        table.add_column(sa.Column("sha256", sa.String(64), nullable=True))
        table.add_column(sa.Column("signature", sa.String(128), nullable=True))
        table.add_column(sa.Column("key_id", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("statements") as table:
        for name in ("key_id", "signature", "sha256", "previous_sha256", "previous_month"):
            table.drop_column(name)
