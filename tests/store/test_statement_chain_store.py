"""Statements chained and signed in the store (SQLite and PostgreSQL), statements from
before the chain migrated into it once."""

from __future__ import annotations

import json

import pytest
from alembic import command
from alembic.config import Config
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from slaledger.core.statement_chain import read_statement_file, verify_chain
from slaledger.errors import UsageError
from slaledger.files.signing_key import PublicKey, SigningKey
from slaledger.store.database import MIGRATIONS, connect, migrate
from slaledger.store.statements import StatementStore

KEY = SigningKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
CHECKS = {KEY.key_id: PublicKey(KEY.private.public_key()).check}
NOW = 1_796_083_200_000_000  # 2026-12-01T00:00:00Z


def report(month: str) -> str:
    return json.dumps({"contract": "hosting", "month": month, "results": []}, indent=2) + "\n"


def verify(store: StatementStore, checks: object = CHECKS) -> list[str]:
    files = [read_statement_file(s.month, s.file_bytes()) for s in store.months("hosting")]
    return [v.month for v in verify_chain(files, checks)]  # type: ignore[arg-type]


def test_statements_are_chained_month_after_month_and_signed(store_url: str) -> None:
    engine = connect(store_url)
    migrate(engine)
    store = StatementStore(engine)
    first, new = store.issue("hosting", "2026-09", report("2026-09"), NOW, KEY)
    assert new
    assert (first.previous_month, first.previous_sha256, first.key_id) == (None, None, KEY.key_id)
    second, _ = store.issue("hosting", "2026-10", report("2026-10"), NOW + 1, KEY)
    assert (second.previous_month, second.previous_sha256) == ("2026-09", first.sha256)
    again, new = store.issue("hosting", "2026-10", report("changed"), NOW + 2, KEY)
    assert not new
    assert again == second
    assert store.get("hosting", "2026-10") == second
    with pytest.raises(UsageError, match=r"^--month: the statement of 2026-11 is not issued yet"):
        store.issue("hosting", "2026-12", report("2026-12"), NOW, KEY)
    with pytest.raises(UsageError, match=r"^--month: 2026-08 comes before 2026-10, the latest"):
        store.issue("hosting", "2026-08", report("2026-08"), NOW, KEY)
    store.issue("hosting", "2026-11", report("2026-11"), NOW, None)  # no key: unsigned
    assert verify(store, None) == ["2026-09", "2026-10", "2026-11"]
    assert store.chain(KEY).signed == 1
    assert verify(store) == ["2026-09", "2026-10", "2026-11"]


def test_statements_from_before_the_chain_are_chained_once(store_url: str) -> None:
    engine = connect(store_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
    with engine.begin() as connection:
        for index, month in enumerate(("2026-07", "2026-09")):  # a gap, as before the chain
            connection.exec_driver_sql(
                "INSERT INTO statements (contract, month, settled_at, digest, document) "
                f"VALUES ('hosting', '{month}', {NOW + index}, 'x', '{report(month)}')"
            )
    migrate(engine)
    store = StatementStore(engine)
    assert [s.chained for s in store.months("hosting")] == [False, False]
    assert store.chain(KEY).chained == 2
    assert store.chain(KEY).chained == 0  # once
    july, september = store.months("hosting")
    assert september.previous_month == "2026-07"
    assert september.document == report("2026-09")  # the report itself is never rewritten
    files = [read_statement_file(s.month, s.file_bytes()) for s in (july, september)]
    assert [v.gap for v in verify_chain(files, CHECKS)] == [0, 1]
    store.issue("hosting", "2026-10", report("2026-10"), NOW, KEY)
    assert verify(store) == ["2026-07", "2026-09", "2026-10"]
