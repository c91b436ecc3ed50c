"""Statements: each settled month's report, stored once and never rewritten.

A statement is the report JSON exactly as it was settled, with its SHA-256, so anyone holding
a copy can check it; figures shown for a settled month come from here, whatever happens to
the observations later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from slaledger.store import schema


@dataclass(frozen=True)
class Statement:
    contract: str
    month: str
    """``YYYY-MM``."""
    settled_at: int
    digest: str
    """SHA-256 of ``document`` (UTF-8), hex."""
    document: str


def digest_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class StatementStore:
    """Statements in the ``statements`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def issue(self, contract: str, month: str, document: str, now: int) -> tuple[Statement, bool]:
        """Store the month's statement unless one exists; returns the stored one and whether
        it is new (an existing statement is returned unchanged)."""
        statement = Statement(contract, month, now, digest_of(document), document)
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(schema.statements),
                    {
                        "contract": contract,
                        "month": month,
                        "settled_at": now,
                        "digest": statement.digest,
                        "document": document,
                    },
                )
        except IntegrityError:
            existing = self.get(contract, month)
            assert existing is not None
            return existing, False
        return statement, True

    def get(self, contract: str, month: str) -> Statement | None:
        table = schema.statements.c
        with self._engine.connect() as connection:
            row = connection.execute(
                select(schema.statements).where(table.contract == contract, table.month == month)
            ).first()
        return None if row is None else Statement(*row)

    def months(self, contract: str) -> list[Statement]:
        """Every statement of ``contract``, oldest month first."""
        table = schema.statements.c
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(schema.statements).where(table.contract == contract).order_by(table.month)
            ).all()
        return [Statement(*row) for row in rows]
