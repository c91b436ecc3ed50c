"""Tables of the operator's records: incidents, their updates, maintenance and the audit log.

They live on the shared :data:`slaledger.store.schema.metadata`; migration 0004 creates them.
Instants are integer microseconds since the epoch (UTC); service lists are JSON text
(``"*"`` or a list of ids), so the same rows read the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from slaledger.store.schema import metadata

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("services", Text, nullable=False),
    Column("location", String(200), nullable=True),
    Column("impact", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started", BigInteger, nullable=False),
    Column("resolved", BigInteger, nullable=True),
    Column("automatic", Boolean, nullable=False),
    Column("detection_key", String(420), nullable=True),
    Column("exclusion_cause", String(200), nullable=True),
    Column("exclusion_start", BigInteger, nullable=True),
    Column("exclusion_end", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("incidents_started", "started"),
    Index("incidents_detection", "detection_key", "started"),
)
"""One row per incident; ``detection_key`` (``service`` or ``service@location``) marks the
result an automatic incident was opened for."""

incident_updates = Table(
    "incident_updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("body_markdown", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Index("incident_updates_incident", "incident_id", "at"),
)
"""What operators said, in order: the Markdown source and its sanitised HTML."""

maintenance = Table(
    "maintenance",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("services", Text, nullable=False),
    Column("location", String(200), nullable=True),
    Column("start", BigInteger, nullable=False),
    Column("end", BigInteger, nullable=False),
    Column("announced", BigInteger, nullable=False),
    Column("cancelled", Boolean, nullable=False),
    Column("cancelled_at", BigInteger, nullable=True),
    Index("maintenance_start", "start"),
)
"""Maintenance windows as scheduled; ``announced`` is when the operator entered them."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("subject", String(20), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Index("audit_log_subject", "subject", "subject_id", "id"),
)
"""Every operator write: who, when, what, and the record before and after (JSON)."""
