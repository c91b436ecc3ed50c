"""``slaledger retain`` (raw observations to minute runs, then pruning) and
``slaledger statement`` (settled months kept for good)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from slaledger.app import Settlement, issue_statement, parse_instant_option
from slaledger.cli.errors import reports_user_errors
from slaledger.core.timebase import format_instant
from slaledger.errors import Problem, UsageError
from slaledger.files.contract_file import load_contract
from slaledger.files.signing_key import load_signing_key
from slaledger.store.database import DEFAULT_URL
from slaledger.store.tiers import DEFAULT_MINUTE_DAYS, DEFAULT_RAW_DAYS, open_stores, retain

_FILE = click.Path(path_type=Path, dir_okay=False)
_DB = click.option("--db", "db", default=DEFAULT_URL, show_default=True, help="Database URL.")
_AT = click.option("--at", "at", help="Act as of this instant (default: now).")


def _now(at: str | None) -> int:
    return time.time_ns() // 1000 if at is None else parse_instant_option(at, "--at")


@click.command("retain")
@click.argument("contract", type=_FILE)
@_DB
@click.option(
    "--raw-days",
    type=int,
    default=DEFAULT_RAW_DAYS,
    show_default=True,
    help="Keep raw observations this many days; older days become minute runs.",
)
@click.option(
    "--minute-days",
    type=int,
    default=DEFAULT_MINUTE_DAYS,
    show_default=True,
    help="Keep minute runs this many days (five years by default).",
)
@_AT
@reports_user_errors
def retain_command(
    contract: Path, db: str, raw_days: int, minute_days: int, at: str | None
) -> None:
    """Apply retention to the store: raw days past --raw-days become per-minute outcome runs
    (classified by CONTRACT), runs past --minute-days are deleted. `slaledger serve` does
    this once a day."""
    outcome = retain(
        open_stores(db),
        load_contract(contract),
        now=_now(at),
        raw_days=raw_days,
        minute_days=minute_days,
    )
    click.echo(
        f"{outcome.days_rolled_up} days of raw observations kept as minute runs; "
        f"{outcome.minute_rows_pruned} day-series of minute runs past {minute_days} days deleted"
    )


@click.group("statement")
def statement_command() -> None:
    """Issue and show monthly statements: a settled month's report, kept unchanged."""


@statement_command.command("issue")
@click.argument("contract", type=_FILE)
@_DB
@click.option("--month", required=True, help="Calendar month, YYYY-MM (must be over).")
@click.option("--events", "events", type=_FILE, help="Maintenance and exclusions YAML.")
@click.option("--signing-key", "signing_key", type=_FILE, help="Sign it with this private key.")
@_AT
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
    statement, new = issue_statement(open_stores(db), asked, now=_now(at), signer=signer)
    verb = "issued" if new else "already issued"
    click.echo(
        f"statement {statement.contract} {statement.month} {verb} at "
        f"{format_instant(statement.settled_at)}; sha256 {statement.digest}"
    )
    if statement.chained:
        after = statement.previous_month or "none: the chain's first"
        signed = "unsigned" if statement.key_id is None else f"signed by key {statement.key_id}"
        click.echo(f"  chained after {after}; statement sha256 {statement.sha256}, {signed}")


@statement_command.command("show")
@click.argument("contract", type=_FILE)
@_DB
@click.option("--month", required=True, help="Calendar month, YYYY-MM.")
@reports_user_errors
def show(contract: Path, db: str, month: str) -> None:
    """Print CONTRACT's statement of MONTH exactly as it was issued (its SHA-256 is the
    digest shown when it was issued)."""
    the_contract = load_contract(contract)
    statement = open_stores(db).statements.get(the_contract.contract, month)
    if statement is None:
        raise UsageError(
            Problem(f"no statement of {the_contract.contract} for {month}", field="--month")
        )
    click.echo(statement.document, nl=False)
