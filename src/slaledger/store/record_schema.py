"""The table of operator records (tickets, hardware swaps, DDoS events, provisioning
requests, outages, claims) that commitments are settled from; migration 0008 creates it.

One row per (contract, kind, record id): the record's JSON object as the records format
writes it (``payload``), when it was last received, its version (1, then one more each time
a changed record replaced it) and the span of instants a settlement may need it for
(``first_at`` to ``last_at``, ``NULL`` while the record is open: a swap not yet replaced, a
claim), so a month's records are read without decoding every payload.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from slaledger.store.schema import metadata

records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("contract", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("record_id", String(420), nullable=False),
    Column("first_at", BigInteger, nullable=False),
    Column("last_at", BigInteger, nullable=True),
    Column("payload", Text, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("contract", "kind", "record_id", name="records_key"),
    Index("records_contract_first", "contract", "first_at"),
)
"""Each record of each contract, its latest version."""
