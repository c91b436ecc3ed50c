"""``slaledger statement``: settled months kept for good, issued once and shown unchanged."""

from __future__ import annotations

from pathlib import Path

import click

from slaledger.app import Root, Settings, Settlement, issue_statement
from slaledger.cli.retention import AT, DB, FILE, now
from slaledger.cli.user_errors import reports_user_errors
from slaledger.core.timebase import format_instant
from slaledger.errors import Problem, UsageError
from slaledger.files.contract_file import load_contract
from slaledger.files.signing_key import load_signing_key


@click.group("statement")
def command() -> None:
    """Issue and show monthly statements: a settled month's report, kept unchanged."""


@command.command("issue")
@click.argument("contract", type=FILE)
@DB
@click.option("--month", required=True, help="Calendar month, YYYY-MM (must be over).")
@click.option("--events", "events", type=FILE, help="Maintenance and exclusions YAML.")
@click.option("--signing-key", "signing_key", type=FILE, help="Sign it with this private key.")
@AT
@reports_user_errors
def issue(
    contract: Path,
    db: str,
    month: str,
    events: Path | None,
    signing_key: Path | None,
    at: str | None,
) -> None:
    """Settle MONTH of CONTRACT from the store and keep the report as its statement (once:
    an existing statement is never rewritten), chained to the previous month's and signed
    with --signing-key."""
    signer = None if signing_key is None else load_signing_key(signing_key)
    asked = Settlement.load(contract, events, month, None)
    root = Root(Settings(db_url=db))
    statement, new = issue_statement(root.stores(), asked, now=now(root, at), signer=signer)
    verb = "issued" if new else "already issued"
    click.echo(
        f"statement {statement.contract} {statement.month} {verb} at "
        f"{format_instant(statement.settled_at)}; sha256 {statement.digest}"
    )
    if statement.chained:
        after = statement.previous_month or "none: the chain's first"
        signed = "unsigned" if statement.key_id is None else f"signed by key {statement.key_id}"
        click.echo(f"  chained after {after}; statement sha256 {statement.sha256}, {signed}")


@command.command("show")
@click.argument("contract", type=FILE)
@DB
@click.option("--month", required=True, help="Calendar month, YYYY-MM.")
@reports_user_errors
def show(contract: Path, db: str, month: str) -> None:
    """Print CONTRACT's statement of MONTH exactly as it was issued (its SHA-256 is the
    digest shown when it was issued)."""
    the_contract = load_contract(contract)
    statement = Root(Settings(db_url=db)).stores().statements.get(the_contract.contract, month)
    if statement is None:
        raise UsageError(
            Problem(f"no statement of {the_contract.contract} for {month}", field="--month")
        )
    click.echo(statement.document, nl=False)
