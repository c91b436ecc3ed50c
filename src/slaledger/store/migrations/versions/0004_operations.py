"""Operations: incidents and their updates, maintenance windows, the audit log.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("impact", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started", sa.BigInteger, nullable=False),
        sa.Column("resolved", sa.BigInteger, nullable=True),
        sa.Column("automatic", sa.Boolean, nullable=False),
        sa.Column("detection_key", sa.String(420), nullable=True),
        sa.Column("exclusion_cause", sa.String(200), nullable=True),
        sa.Column("exclusion_start", sa.BigInteger, nullable=True),
        sa.Column("exclusion_end", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("incidents_started", "incidents", ["started"])
    op.create_index("incidents_detection", "incidents", ["detection_key", "started"])
    op.create_table(
        "incident_updates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("body_markdown", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
    )
    op.create_index("incident_updates_incident", "incident_updates", ["incident_id", "at"])
    op.create_table(
        "maintenance",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("start", sa.BigInteger, nullable=False),
        sa.Column("end", sa.BigInteger, nullable=False),
        sa.Column("announced", sa.BigInteger, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("cancelled_at", sa.BigInteger, nullable=True),
    )
    op.create_index("maintenance_start", "maintenance", ["start"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.Integer, nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
    )
    op.create_index("audit_log_subject", "audit_log", ["subject", "subject_id", "id"])


def downgrade() -> None:
    for name in ("audit_log", "maintenance", "incident_updates", "incidents"):
        op.drop_table(name)
