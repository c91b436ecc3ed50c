"""Tables of subscribers, webhooks, account holders and the outbox of deliveries.

They live on the store's shared :data:`~slaledger.store.schema.metadata`; migration 0005
creates them. Tokens sent by email (confirmation, unsubscribe) are kept as SHA-256 hashes
only; webhook secrets are kept as they are, since every delivery is signed with them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from slaledger.store.schema import metadata

Id = BigInteger().with_variant(Integer, "sqlite")
"""An auto-numbered key: 64-bit on PostgreSQL, SQLite's rowid there."""

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("services", Text, nullable=True),
    Column("pending_services", Text, nullable=True),
    Column("confirmed", Boolean, nullable=False),
    Column("confirm_token_hash", String(64), nullable=True, unique=True),
    Column("confirm_sent_at", BigInteger, nullable=False),
    Column("confirmed_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)
"""Email subscribers. ``services``: service ids joined by commas (``NULL``: every service);
``pending_services``: the choice a pending confirmation will apply."""

unsubscribe_tokens = Table(
    "unsubscribe_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("subscriber_id", Id, nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
)
"""One token per email sent to a subscriber: any of them unsubscribes it."""

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("services", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)
"""Webhook endpoints; ``secret`` signs every delivery (HMAC-SHA256)."""

account_holders = Table(
    "account_holders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("account_holders_key", "account", "email", unique=True),
)
"""Customers' contacts: they get maintenance emails without subscribing."""

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),
    Column("event", String(40), nullable=False),
    Column("target", String(2000), nullable=False),
    Column("subscriber_id", Id, nullable=True, index=True),
    Column("webhook_id", Id, nullable=True, index=True),
    Column("payload", Text, nullable=True),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Index("deliveries_due", "status", "next_attempt_at"),
)
"""The outbox: one row per email or webhook call, sent and retried by the worker.
``status`` is ``pending``, ``delivered`` or ``failed`` (gave up); a delivered email's
``payload`` is cleared (it held an unsubscribe token)."""

notified = Table(
    "notified",
    metadata,
    Column("subject", String(60), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
)
"""What was last fanned out per incident or maintenance (``incident:12``), so the same
change is not sent twice and a second change of a maintenance reads as an update."""
