"""API tokens on SQLite and PostgreSQL: only hashes are stored; scopes, names, revocation."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from slaledger.errors import UsageError
from slaledger.store import schema
from slaledger.store.database import connect, migrate
from slaledger.store.tokens import TokenInfo, TokenStore

NOW = 1_791_000_000_000_000


@pytest.fixture
def tokens(store_url: str) -> TokenStore:
    engine = connect(store_url)
    migrate(engine)
    return TokenStore(engine)


def test_a_token_verifies_to_its_scope_and_only_its_hash_is_stored(
    tokens: TokenStore, store_url: str
) -> None:
    agent = tokens.create("agent", "agent-fra", NOW)
    admin = tokens.create("admin", "ops", NOW + 1)
    assert re.fullmatch(r"sl_[A-Za-z0-9_-]{43}", agent)
    assert agent != admin
    assert (tokens.verify(agent), tokens.verify(admin)) == ("agent", "admin")
    assert tokens.verify(agent + "x") is None
    assert tokens.verify("") is None
    with connect(store_url).connect() as connection:
        rows = connection.execute(select(schema.tokens).order_by(schema.tokens.c.created_at)).all()
    assert [tuple(row) for row in rows] == [
        ("agent-fra", hashlib.sha256(agent.encode()).hexdigest(), "agent", NOW),
        ("ops", hashlib.sha256(admin.encode()).hexdigest(), "admin", NOW + 1),
    ]


def test_list_shows_names_scopes_and_times_oldest_first(tokens: TokenStore) -> None:
    tokens.create("agent", "b", NOW + 5)
    tokens.create("admin", "a", NOW + 5)
    tokens.create("agent", "z", NOW)
    assert tokens.list() == [
        TokenInfo("z", "agent", NOW),
        TokenInfo("a", "admin", NOW + 5),
        TokenInfo("b", "agent", NOW + 5),
    ]


def test_revoked_tokens_no_longer_verify_and_free_their_name(tokens: TokenStore) -> None:
    first = tokens.create("agent", "agent-fra", NOW)
    assert tokens.revoke("agent-fra") is True
    assert tokens.verify(first) is None
    assert tokens.revoke("agent-fra") is False
    second = tokens.create("agent", "agent-fra", NOW + 1)
    assert (tokens.verify(first), tokens.verify(second)) == (None, "agent")
    assert tokens.list() == [TokenInfo("agent-fra", "agent", NOW + 1)]


def test_names_are_unique_and_well_formed(tokens: TokenStore) -> None:
    tokens.create("agent", "agent-fra", NOW)
    with pytest.raises(UsageError) as taken:
        tokens.create("admin", "agent-fra", NOW)
    assert str(taken.value) == (
        "--name: a token named 'agent-fra' already exists; revoke it first or pick another name"
    )
    with pytest.raises(UsageError) as bad:
        tokens.create("agent", "has space", NOW)
    assert str(bad.value) == (
        "--name: expected a name of letters, digits, '.', '_', '@' or '-' (at most 200), "
        "e.g. agent-fra, got 'has space'"
    )
    with pytest.raises(UsageError) as scope:
        tokens.create("root", "x", NOW)  # type: ignore[arg-type]
    assert str(scope.value) == "--scope: expected a scope of agent or admin, got 'root'"
    assert tokens.list() == [TokenInfo("agent-fra", "agent", NOW)]
