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
    agent = tokens.create("agent", "agent-fra", NOW, location="fra")
    admin = tokens.create("admin", "ops", NOW + 1)
    assert re.fullmatch(r"sl_[A-Za-z0-9_-]{43}", agent)
    assert agent != admin
    assert (tokens.verify(agent), tokens.verify(admin)) == ("agent", "admin")
    assert tokens.verify(agent + "x") is None
    assert tokens.verify("") is None
    with connect(store_url).connect() as connection:
        rows = connection.execute(select(schema.tokens).order_by(schema.tokens.c.created_at)).all()
    assert [tuple(row) for row in rows] == [
        ("agent-fra", hashlib.sha256(agent.encode()).hexdigest(), "agent", NOW, "fra"),
        ("ops", hashlib.sha256(admin.encode()).hexdigest(), "admin", NOW + 1, None),
    ]


def test_list_shows_names_scopes_and_times_oldest_first(tokens: TokenStore) -> None:
    tokens.create("agent", "b", NOW + 5, location="fra")
    tokens.create("admin", "a", NOW + 5)
    tokens.create("agent", "z", NOW, location="fra")
    assert tokens.list() == [
        TokenInfo("z", "agent", NOW, "fra"),
        TokenInfo("a", "admin", NOW + 5),
        TokenInfo("b", "agent", NOW + 5, "fra"),
    ]


def test_revoked_tokens_no_longer_verify_and_free_their_name(tokens: TokenStore) -> None:
    first = tokens.create("agent", "agent-fra", NOW, location="fra")
    assert tokens.revoke("agent-fra") is True
    assert tokens.verify(first) is None
    assert tokens.revoke("agent-fra") is False
    second = tokens.create("agent", "agent-fra", NOW + 1, location="fra")
    assert (tokens.verify(first), tokens.verify(second)) == (None, "agent")
    assert tokens.list() == [TokenInfo("agent-fra", "agent", NOW + 1, "fra")]


def test_names_are_unique_and_well_formed(tokens: TokenStore) -> None:
    tokens.create("agent", "agent-fra", NOW, location="fra")
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
    assert tokens.list() == [TokenInfo("agent-fra", "agent", NOW, "fra")]


def test_an_agent_token_is_bound_to_one_well_formed_location(tokens: TokenStore) -> None:
    cases = {
        ("agent", None): "--location: an agent token reports for one location; give it, "
        "e.g. --location fra",
        ("admin", "fra"): "--location: only agent tokens have a location; drop it",
        ("agent", "fra west"): "--location: expected a location name of letters, digits, '.', "
        "'_' or '-' (at most 200), e.g. fra, got 'fra west'",
    }
    for (scope, location), message in cases.items():
        with pytest.raises(UsageError) as refused:
            tokens.create(scope, "x", NOW, location=location)  # type: ignore[arg-type]
        assert str(refused.value) == message
    token = tokens.create("agent", "agent-ams", NOW, location="ams")
    assert tokens.identify(token) == TokenInfo("agent-ams", "agent", NOW, "ams")
    assert tokens.list() == [TokenInfo("agent-ams", "agent", NOW, "ams")]


def test_agent_tokens_from_before_locations_survive_the_migration_unbound(store_url: str) -> None:
    """A database at revision 0006 with an agent token: after the upgrade, the token still
    verifies and is bound to no location."""
    from alembic import command
    from alembic.config import Config

    from slaledger.store.database import MIGRATIONS

    engine = connect(store_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    digest = hashlib.sha256(b"sl_old").hexdigest()
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO tokens (name, token_hash, scope, created_at) "
            f"VALUES ('agent-old', '{digest}', 'agent', {NOW})"
        )
    migrate(engine)
    assert TokenStore(engine).identify("sl_old") == TokenInfo("agent-old", "agent", NOW, None)
