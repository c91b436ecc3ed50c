"""The database schema (SQLAlchemy Core). Alembic migrations create and evolve it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()


def _name_table(name: str, length: int) -> Table:
    """A table that numbers names (services, locations, checks) for compact rows."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(length), nullable=False, unique=True),
    )


services = _name_table("services", 200)
locations = _name_table("locations", 200)
checks = _name_table("checks", 300)

observations = Table(
    "observations",
    metadata,
    Column("ts", BigInteger, nullable=False),
    Column("service_id", Integer, nullable=False),
    Column("location_id", Integer, nullable=False),
    Column("check_id", Integer, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("error", SmallInteger, nullable=False),
    Column("retry_after", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=True),
    # Time first: probes arrive in time order, so the index grows at its right edge.
    Index("observations_key", "ts", "service_id", "location_id", "check_id", unique=True),
)
"""Hot rows: probes not yet packed into a segment."""

segments = Table(
    "segments",
    metadata,
    Column("service_id", Integer, primary_key=True),
    Column("location_id", Integer, primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("rows", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)
"""One compressed columnar block per (service, location, UTC day)."""

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("batch_id", String(100), primary_key=True),
    Column("source", String(200), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("digest", String(64), nullable=True),
)
"""Batches already stored: a batch sent twice is stored once. ``digest`` is the SHA-256 of
its rows (``NULL`` for batches from before it was kept): one id, one content."""

tokens = Table(
    "tokens",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scope", String(20), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("location", String(200), nullable=True),
)
"""API tokens: only the SHA-256 of each token is kept, with its scope (agent or admin) and,
for an agent, the one location it reports for (``NULL``: a token from before locations)."""

minute_runs = Table(
    "minute_runs",
    metadata,
    Column("service_id", Integer, primary_key=True),
    Column("location_id", Integer, primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("rows", Integer, nullable=False),
    Column("outcomes", String(16), nullable=False),
    Column("data", LargeBinary, nullable=False),
)
"""The long-term tier: a day's classified outcomes of one (service, location), collapsed into
runs per minute (see ``slaledger.core.minute_runs``). ``outcomes`` fingerprints the
classification rules they were made with."""

statements = Table(
    "statements",
    metadata,
    Column("contract", String(200), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("settled_at", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("previous_month", String(7), nullable=True),
    Column("previous_sha256", String(64), nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("signature", String(128), nullable=True),
    Column("key_id", String(16), nullable=True),
)
"""Settled months: the report JSON as it was settled, with its SHA-256 (``digest``). Never
rewritten. Each is chained to the contract's previous statement (``previous_month``,
``previous_sha256``; ``sha256`` of its canonical bytes, :mod:`slaledger.core.statement_chain`)
and signed when the issuer holds a key (``signature`` hex, ``key_id``); statements from
before the chain have NULL there until they are chained."""

figures = Table(
    "figures",
    metadata,
    Column("contract", String(200), primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("service", String(200), primary_key=True),
    Column("location", String(200), primary_key=True),
    Column("availability", String(80), nullable=True),
    Column("downtime_minutes", Integer, nullable=True),
    Column("met", Boolean, nullable=True),
    Column("credit_percent", Integer, nullable=False),
    Column("settled", Boolean, nullable=False),
    Column("computed_at", BigInteger, nullable=False),
)
"""Published figures per ``period`` (``YYYY-MM-DD`` UTC day or ``YYYY-MM`` month) and
(service, location; ``""`` is service-wide). ``availability`` is the exact fraction as
``numerator/denominator``. ``settled`` months come from their statement."""
