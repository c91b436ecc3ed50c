"""API tokens: agents send observations with an ``agent`` token; ``admin`` is for operators.

A token is ``sl_`` and 32 random bytes (URL-safe base64). Only its SHA-256 is stored, so a
copy of the database gives nobody a working token; the token is shown once, when created.

An agent token is bound to the one location it reports for; agent tokens created before
locations existed have none (``location`` is ``None``) and may report only for a location
the contract declares.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from slaledger.errors import Problem, UsageError
from slaledger.store import schema

Scope = Literal["agent", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
PREFIX = "sl_"
TOKEN_BYTES = 32
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")
LOCATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a stored token: never the token itself."""

    name: str
    scope: Scope
    created_at: int
    location: str | None = None
    """The location an agent token reports for; ``None`` for admin tokens and for agent
    tokens from before locations."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Tokens in the ``tokens`` table of the store's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, scope: Scope, name: str, now: int, *, location: str | None = None) -> str:
        """A new token of ``scope`` named ``name`` (unique); returns the token text. An agent
        token needs the ``location`` it reports for; an admin token has none."""
        if scope not in SCOPES:
            raise UsageError(
                Problem(f"expected a scope of agent or admin, got {scope!r}", field="--scope")
            )
        if not NAME.match(name):
            raise UsageError(
                Problem(
                    "expected a name of letters, digits, '.', '_', '@' or '-' (at most 200), "
                    f"e.g. agent-fra, got {name!r}",
                    field="--name",
                )
            )
        if scope == "agent" and location is None:
            raise UsageError(
                Problem(
                    "an agent token reports for one location; give it, e.g. --location fra",
                    field="--location",
                )
            )
        if scope == "admin" and location is not None:
            raise UsageError(
                Problem("only agent tokens have a location; drop it", field="--location")
            )
        if location is not None and not LOCATION.match(location):
            raise UsageError(
                Problem(
                    "expected a location name of letters, digits, '.', '_' or '-' (at most "
                    f"200), e.g. fra, got {location!r}",
                    field="--location",
                )
            )
        token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(schema.tokens),
                    {
                        "name": name,
                        "token_hash": token_hash(token),
                        "scope": scope,
                        "created_at": now,
                        "location": location,
                    },
                )
        except IntegrityError:
            raise UsageError(
                Problem(
                    f"a token named {name!r} already exists; revoke it first or pick another name",
                    field="--name",
                )
            ) from None
        return token

    def verify(self, token: str) -> Scope | None:
        """The scope of ``token``, or ``None`` when it is not a stored token."""
        info = self.identify(token)
        return None if info is None else info.scope

    def identify(self, token: str) -> TokenInfo | None:
        """Name, scope and creation time of ``token`` (the audit's *who*), or ``None``.

        The lookup is by the token's SHA-256, so timing can only tell an attacker about a
        hash they cannot invert; the final comparison is constant-time all the same.
        """
        digest = token_hash(token)
        t = schema.tokens.c
        with self._engine.connect() as connection:
            row = connection.execute(
                select(t.name, t.token_hash, t.scope, t.created_at, t.location).where(
                    t.token_hash == digest
                )
            ).first()
        if row is None or not hmac.compare_digest(str(row.token_hash), digest):
            return None
        scope = str(row.scope)
        if scope not in SCOPES:
            return None
        return TokenInfo(str(row.name), row.scope, int(row.created_at), row.location)

    def revoke(self, name: str) -> bool:
        """Delete the token named ``name``; ``False`` when there is none."""
        with self._engine.begin() as connection:
            result = connection.execute(delete(schema.tokens).where(schema.tokens.c.name == name))
        return bool(result.rowcount)

    def list(self) -> list[TokenInfo]:
        """Every token, oldest first (then by name)."""
        t = schema.tokens.c
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(t.name, t.scope, t.created_at, t.location).order_by(t.created_at, t.name)
            ).all()
        return [TokenInfo(str(r.name), r.scope, int(r.created_at), r.location) for r in rows]
