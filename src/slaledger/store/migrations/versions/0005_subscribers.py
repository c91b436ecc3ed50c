"""Subscribers: email subscribers, unsubscribe tokens, webhooks, account holders, the outbox.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("services", sa.Text, nullable=True),
        sa.Column("pending_services", sa.Text, nullable=True),
        sa.Column("confirmed", sa.Boolean, nullable=False),
        sa.Column("confirm_token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("confirm_sent_at", sa.BigInteger, nullable=False),
        sa.Column("confirmed_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "unsubscribe_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("subscriber_id", _id(), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_unsubscribe_tokens_subscriber_id", "unsubscribe_tokens", ["subscriber_id"])
    op.create_table(
        "webhooks",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("services", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "account_holders",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("account_holders_key", "account_holders", ["account", "email"], unique=True)
    op.create_table(
        "deliveries",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("subscriber_id", _id(), nullable=True),
        sa.Column("webhook_id", _id(), nullable=True),
        sa.Column("payload", sa.Text, nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("delivered_at", sa.BigInteger, nullable=True),
    )
    op.create_index("deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_subscriber_id", "deliveries", ["subscriber_id"])
    op.create_index("ix_deliveries_webhook_id", "deliveries", ["webhook_id"])
    op.create_table(
        "notified",
        sa.Column("subject", sa.String(60), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "notified",
        "deliveries",
        "account_holders",
        "webhooks",
        "unsubscribe_tokens",
        "subscribers",
    ):
        op.drop_table(name)
