"""Operator records kept per contract: stored idempotently, replaced by later versions.

One row per (contract, kind, record id) — an outage or claim without an ``id`` is keyed as
:func:`~slaledger.core.records.record_key` says. :meth:`RecordStore.store` takes a whole
batch in one transaction: a record stored with the same content is unchanged (re-importing
a file is a no-op), a record whose content changed (a ticket that got its human reply)
replaces the stored one, its version goes up by one, and the audit log keeps both versions.
:meth:`RecordStore.records` reads what a month's settlement needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    String,
    and_,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from slaledger.core.record_checks import record_span
from slaledger.core.records import RECORD_ADAPTER, AnyRecord, record_json, record_key
from slaledger.store.audit_log import record as audit
from slaledger.store.record_schema import records as table

LOOKUP_CHUNK = 500
"""Record ids looked up per query when a batch is compared with what is stored (SQLite
allows a few thousand parameters a statement)."""


@dataclass(frozen=True)
class StoreOutcome:
    """What storing a batch did: records new, replaced by a later version, unchanged."""

    new: int = 0
    replaced: int = 0
    unchanged: int = 0


def _payload(record: AnyRecord) -> str:
    return json.dumps(record_json(record), sort_keys=True, separators=(",", ":"))


ANALYZE_AFTER = 1000
"""New records in one batch after which PostgreSQL's statistics of the table are renewed."""


def _one_of(connection: Connection, keys: Sequence[str]) -> ColumnElement[bool]:
    """``record_id`` is one of ``keys``: ``= ANY(array)`` on PostgreSQL (one parameter; an
    ``IN`` of 5,000 parameters takes 25 times longer to send), ``IN`` on SQLite."""
    if connection.dialect.name == "postgresql":
        return table.c.record_id == any_(bindparam("keys", list(keys), type_=ARRAY(String)))
    return table.c.record_id.in_(keys)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RecordStore:
    """The records of every contract in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def store(
        self, contract: str, records: Sequence[AnyRecord], *, now: int, actor: str
    ) -> StoreOutcome:
        """Store ``records`` (checked already; each kind and id at most once) for
        ``contract`` in one transaction; ``now`` is when they were received."""
        with self._engine.begin() as connection:
            outcome = self._store(connection, contract, records, now, actor)
        if outcome.new >= ANALYZE_AFTER and self._engine.dialect.name == "postgresql":
            # Without statistics PostgreSQL looks ids up by contract and kind only, and
            # filters every row of them: the next import of the same file would take
            # minutes. Autovacuum gets there too, later.
            with self._engine.begin() as connection:
                connection.execute(text(f"ANALYZE {table.name}"))
        return outcome

    def _store(
        self,
        connection: Connection,
        contract: str,
        records: Sequence[AnyRecord],
        now: int,
        actor: str,
    ) -> StoreOutcome:
        by_kind: dict[str, dict[str, AnyRecord]] = {}
        for record in records:
            by_kind.setdefault(record.kind, {})[record_key(record)] = record
        new_rows: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        unchanged = 0
        c = table.c
        for kind, keyed in by_kind.items():
            stored: dict[str, Any] = {}
            for chunk in _chunks(list(keyed), LOOKUP_CHUNK):
                query = select(c.id, c.record_id, c.payload, c.version).where(
                    c.contract == contract, c.kind == kind, _one_of(connection, chunk)
                )
                stored.update({row.record_id: row for row in connection.execute(query)})
            for key, record in keyed.items():
                payload = _payload(record)
                first, last = record_span(record)
                row = stored.get(key)
                if row is None:
                    new_rows.append(
                        {
                            "contract": contract,
                            "kind": kind,
                            "record_id": key,
                            "first_at": first,
                            "last_at": last,
                            "payload": payload,
                            "received": now,
                            "version": 1,
                        }
                    )
                elif row.payload == payload:
                    unchanged += 1
                else:
                    changed.append(
                        {
                            "row_id": row.id,
                            "first_at": first,
                            "last_at": last,
                            "payload": payload,
                            "received": now,
                            "version": int(row.version) + 1,
                            "before": row.payload,
                            "before_version": int(row.version),
                        }
                    )
        if new_rows:
            connection.execute(insert(table), new_rows)
        if changed:
            connection.execute(
                update(table)
                .where(c.id == bindparam("row_id"))
                .values(
                    first_at=bindparam("first_at"),
                    last_at=bindparam("last_at"),
                    payload=bindparam("payload"),
                    received=bindparam("received"),
                    version=bindparam("version"),
                ),
                [{key: value for key, value in row.items() if key != "before"} for row in changed],
            )
            for row in changed:
                audit(
                    connection,
                    at=now,
                    actor=actor,
                    action="record.replace",
                    subject="record",
                    subject_id=int(row["row_id"]),
                    before={"contract": contract, "version": row["before_version"]}
                    | {"record": json.loads(row["before"])},
                    after={"contract": contract, "version": row["version"]}
                    | {"record": json.loads(row["payload"])},
                )
        return StoreOutcome(len(new_rows), len(changed), unchanged)

    def records(
        self, contract: str, start: int, end: int, *, kind: str | None = None
    ) -> list[AnyRecord]:
        """The records of ``contract`` a settlement of ``[start, end)`` may need: those whose
        span (:func:`~slaledger.core.record_checks.record_span`) meets it, oldest first
        (only those of ``kind`` when given). Widen ``start`` by the longest trailing window
        the contract's commitments use."""
        c = table.c
        query = (
            select(c.payload)
            .where(
                c.contract == contract,
                c.first_at < end,
                or_(c.last_at.is_(None), and_(c.last_at >= start)),
                *(() if kind is None else (c.kind == kind,)),
            )
            .order_by(c.first_at, c.kind, c.record_id)
        )
        with self._engine.connect() as connection:
            payloads = connection.execute(query).scalars().all()
        return [RECORD_ADAPTER.validate_json(payload) for payload in payloads]

    def has_records(self, contract: str) -> bool:
        """Whether any record is stored for ``contract``."""
        query = select(table.c.id).where(table.c.contract == contract).limit(1)
        with self._engine.connect() as connection:
            return connection.execute(query).first() is not None

    def stamp(self, contract: str) -> tuple[int, int, int]:
        """Changes whenever a record of ``contract`` is stored or replaced: how many there
        are, the sum of their versions and the latest instant one was received."""
        c = table.c
        query = select(
            func.count(c.id), func.coalesce(func.sum(c.version), 0), func.max(c.received)
        ).where(c.contract == contract)
        with self._engine.connect() as connection:
            count, versions, latest = connection.execute(query).one()
        return int(count), int(versions), int(latest or 0)

    def version(self, contract: str, kind: str, key: str) -> int | None:
        """The stored version of one record, or ``None`` when it is not stored."""
        c = table.c
        query = select(c.version).where(c.contract == contract, c.kind == kind, c.record_id == key)
        with self._engine.connect() as connection:
            found = connection.execute(query).scalar()
        return None if found is None else int(found)


@dataclass(frozen=True)
class StoredRecords:
    """The records of one contract in the store, as the publisher reads them (a
    :class:`~slaledger.status.commitment_figures.RecordSource`)."""

    store: RecordStore
    contract: str

    def stamp(self) -> object:
        return self.store.stamp(self.contract)

    def records(self) -> list[AnyRecord]:
        return self.store.records(self.contract, -(2**62), 2**62)
