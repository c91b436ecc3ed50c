"""Agent tokens bound to a location; each ingested batch keeps the digest of its rows.

Tokens created before keep a NULL location: they may report only for locations the contract
declares (see docs/operations.md, "Agent tokens from before locations"). Batches stored before
have no digest: their id is still never stored twice, but content cannot be compared.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as table:
        table.add_column(sa.Column("location", sa.String(200), nullable=True))
    with op.batch_alter_table("ingest_batches") as table:
        table.add_column(sa.Column("digest", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingest_batches") as table:
        table.drop_column("digest")
    with op.batch_alter_table("tokens") as table:
        table.drop_column("location")
