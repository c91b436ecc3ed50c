"""Statements: each settled month's report, stored once and never rewritten, chained.

A statement is the report JSON exactly as it was settled, with its SHA-256 (``digest``), so
anyone holding a copy can check it; figures shown for a settled month come from here,
whatever happens to the observations later.

Each statement is also a link of its contract's chain (:mod:`slaledger.core.statement_chain`):
it carries the month and SHA-256 of the previous statement, the SHA-256 of its own canonical
bytes and, when issued with a signing key, their Ed25519 signature. Statements are chained
month after month: a month is issued only right after the latest one (the first may be any
month). Statements stored before the chain existed are chained once, in month order, by
:meth:`StatementStore.chain` (the next issue does it too); a key signs any left unsigned.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from slaledger.core.statement_chain import (
    Signed,
    Signer,
    canonical_bytes,
    seal,
    sign,
    statement_object,
)
from slaledger.core.timebase import format_instant
from slaledger.errors import Problem, UsageError
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
    previous_month: str | None = None
    previous_sha256: str | None = None
    sha256: str | None = None
    """SHA-256 of the statement's canonical bytes; ``None`` until it is chained."""
    signature: str | None = None
    """Ed25519 signature of the canonical bytes (hex); ``None`` when unsigned."""
    key_id: str | None = None

    @property
    def chained(self) -> bool:
        return self.sha256 is not None

    def statement(self) -> dict[str, Any]:
        """The signed statement object (``statement_object`` of the chain's core)."""
        return statement_object(
            contract=self.contract,
            month=self.month,
            issued_at=format_instant(self.settled_at),
            previous_month=self.previous_month,
            previous_sha256=self.previous_sha256,
            report=json.loads(self.document),
        )

    def sealed(self) -> Signed:
        """Canonical bytes, hash and signature (a chained statement)."""
        assert self.sha256 is not None, "chain the statement first"
        return Signed(canonical_bytes(self.statement()), self.sha256, self.signature, self.key_id)

    def file_bytes(self) -> bytes:
        """The statement file customers download and ``statement verify`` checks."""
        return self.sealed().file_bytes()


def digest_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


@dataclass(frozen=True)
class Chained:
    """What :meth:`StatementStore.chain` did."""

    chained: int
    signed: int


class StatementStore:
    """Statements in the ``statements`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def issue(
        self,
        contract: str,
        month: str,
        document: str,
        now: int,
        signer: Signer | None = None,
    ) -> tuple[Statement, bool]:
        """Store the month's statement unless one exists; returns the stored one and whether
        it is new (an existing statement is returned unchanged). The new statement is chained
        to the latest one (earlier ones are chained first) and signed by ``signer``;
        :class:`UsageError` when ``month`` is not the month after the latest."""
        try:
            with self._engine.begin() as connection:
                existing = self._get(connection, contract, month)
                if existing is not None:
                    return existing, False
                self._chain(connection, contract, signer)
                latest = self._latest(connection, contract)
                if latest is not None:
                    expected = _next_month(latest.month)
                    if month < expected:
                        raise UsageError(
                            Problem(
                                f"{month} comes before {latest.month}, the latest statement "
                                f"of {contract}: statements are chained month after month",
                                field="--month",
                            )
                        )
                    if month != expected:
                        raise UsageError(
                            Problem(
                                f"the statement of {expected} is not issued yet: statements "
                                f"of {contract} are chained month after month",
                                field="--month",
                            )
                        )
                statement = self._sealed_new(contract, month, document, now, latest, signer)
                connection.execute(insert(schema.statements), _row(statement))
        except IntegrityError:  # issued at the same time by another process
            found = self.get(contract, month)
            assert found is not None
            return found, False
        return statement, True

    @staticmethod
    def _sealed_new(
        contract: str,
        month: str,
        document: str,
        now: int,
        latest: Statement | None,
        signer: Signer | None,
    ) -> Statement:
        draft = Statement(
            contract,
            month,
            now,
            digest_of(document),
            document,
            None if latest is None else latest.month,
            None if latest is None else latest.sha256,
        )
        sealed = seal(draft.statement(), signer)
        return Statement(
            **{
                **draft.__dict__,
                "sha256": sealed.sha256,
                "signature": sealed.signature,
                "key_id": sealed.key_id,
            }
        )

    def chain(self, signer: Signer | None = None, contract: str | None = None) -> Chained:
        """Chain every statement not chained yet (in month order, per contract) and sign
        with ``signer`` every one left unsigned; of ``contract`` only, if given."""
        with self._engine.begin() as connection:
            if contract is None:
                names = connection.execute(
                    select(schema.statements.c.contract).distinct()
                ).scalars()
                contracts = sorted(names)
            else:
                contracts = [contract]
            total = Chained(0, 0)
            for name in contracts:
                done = self._chain(connection, name, signer)
                total = Chained(total.chained + done.chained, total.signed + done.signed)
        return total

    def _chain(self, connection: Connection, contract: str, signer: Signer | None) -> Chained:
        table = schema.statements.c
        pending = (
            table.sha256.is_(None)
            if signer is None
            else or_(table.sha256.is_(None), table.signature.is_(None))
        )
        waiting = connection.execute(
            select(table.month).where(table.contract == contract, pending).limit(1)
        ).first()
        if waiting is None:
            return Chained(0, 0)
        chained = signed = 0
        previous: Statement | None = None
        for statement in self._months(connection, contract):
            current = statement
            if not statement.chained:
                current = self._sealed_new(
                    contract,
                    statement.month,
                    statement.document,
                    statement.settled_at,
                    previous,
                    signer,
                )
                chained += 1
            elif signer is not None and statement.signature is None:
                sealed = sign(statement.sealed(), signer)
                current = Statement(
                    **{
                        **statement.__dict__,
                        "signature": sealed.signature,
                        "key_id": sealed.key_id,
                    }
                )
                signed += 1
            if current is not statement:
                connection.execute(
                    update(schema.statements)
                    .where(table.contract == contract, table.month == statement.month)
                    .values(
                        previous_month=current.previous_month,
                        previous_sha256=current.previous_sha256,
                        sha256=current.sha256,
                        signature=current.signature,
                        key_id=current.key_id,
                    )
                )
            previous = current
        return Chained(chained, signed)

    @staticmethod
    def _get(connection: Connection, contract: str, month: str) -> Statement | None:
        table = schema.statements.c
        row = connection.execute(
            select(schema.statements).where(table.contract == contract, table.month == month)
        ).first()
        return None if row is None else Statement(*row)

    @staticmethod
    def _latest(connection: Connection, contract: str) -> Statement | None:
        table = schema.statements.c
        row = connection.execute(
            select(schema.statements)
            .where(table.contract == contract)
            .order_by(table.month.desc())
            .limit(1)
        ).first()
        return None if row is None else Statement(*row)

    @staticmethod
    def _months(connection: Connection, contract: str) -> list[Statement]:
        table = schema.statements.c
        rows = connection.execute(
            select(schema.statements).where(table.contract == contract).order_by(table.month)
        ).all()
        return [Statement(*row) for row in rows]

    def get(self, contract: str, month: str) -> Statement | None:
        with self._engine.connect() as connection:
            return self._get(connection, contract, month)

    def months(self, contract: str) -> list[Statement]:
        """Every statement of ``contract``, oldest month first."""
        with self._engine.connect() as connection:
            return self._months(connection, contract)


def _row(statement: Statement) -> dict[str, Any]:
    return dict(statement.__dict__)
