"""``slaledger token``: create, list and revoke API tokens."""

from __future__ import annotations

import click

from slaledger.app import Root, Settings
from slaledger.cli.user_errors import reports_user_errors
from slaledger.core.timebase import format_instant
from slaledger.errors import Problem, UsageError
from slaledger.store.database import DEFAULT_URL
from slaledger.store.tokens import SCOPES, Scope, TokenInfo, TokenStore

_DB = click.option("--db", "db", default=DEFAULT_URL, show_default=True, help="Database URL.")


def _tokens(db: str) -> TokenStore:
    return Root(Settings(db_url=db)).tokens()


@click.group("token")
def command() -> None:
    """Create, list and revoke API tokens (agent: may ingest; admin: operators)."""


@command.command("create")
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    required=True,
    help="agent: may send probe results; admin: may use the operator API.",
)
@click.option("--name", required=True, help="A unique name, e.g. agent-fra.")
@click.option(
    "--location",
    help="The one location an agent token reports for (required with --scope agent), e.g. fra.",
)
@_DB
@reports_user_errors
def create(scope: Scope, name: str, location: str | None, db: str) -> None:
    """Create a token and print it: it is shown this once and stored only as a hash.

    An agent token is bound to one location: batches it sends for any other are refused.
    """
    root = Root(Settings(db_url=db))
    token = root.tokens().create(scope, name, root.clock(), location=location)
    click.echo(token)
    where = "" if location is None else f" for location {location}"
    click.echo(
        f"{scope} token {name!r}{where} created; store it now, it cannot be shown again",
        err=True,
    )


@command.command("list")
@_DB
@reports_user_errors
def list_tokens(db: str) -> None:
    """List tokens: name, scope, location and when each was created (never the token).

    An agent token from before locations shows ``(any declared)``: re-create it with
    --location (see docs/operations.md).
    """
    rows = [
        (t.name, t.scope, _location(t), format_instant(t.created_at)) for t in _tokens(db).list()
    ]
    if not rows:
        click.echo("no tokens")
        return
    header = ("name", "scope", "location", "created")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(4)]
    for row in (header, *rows):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _location(token: TokenInfo) -> str:
    if token.scope != "agent":
        return "-"
    return token.location or "(any declared)"


@command.command("revoke")
@click.argument("name")
@_DB
@reports_user_errors
def revoke(name: str, db: str) -> None:
    """Revoke the token NAME: requests with it are refused from now on."""
    if not _tokens(db).revoke(name):
        raise UsageError(Problem(f"no token named {name!r}", field="NAME"))
    click.echo(f"revoked token {name!r}")
