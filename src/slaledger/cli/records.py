"""``slaledger records import``: store tickets, swaps, DDoS events, provisioning requests,
outages and claims for a contract, from our JSON Lines or a helpdesk's export."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from slaledger.app import Root, Settings, import_records
from slaledger.cli.user_errors import reports_user_errors
from slaledger.files.contract_file import load_contract
from slaledger.files.imports.record_files import RECORD_FORMATS, RecordFormat, read_record_file

_FILE = click.Path(path_type=Path, dir_okay=False)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@click.group("records")
def command() -> None:
    """Operator records the commitments are settled from (docs/imports.md)."""


@command.command("import")
@click.argument("contract", type=_FILE)
@click.argument("file", type=_FILE)
@click.option(
    "--db", "db", required=True, help="Database URL (sqlite:///… or postgresql+psycopg://…)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(RECORD_FORMATS),
    default="jsonl",
    show_default=True,
    help="jsonl (our records), zendesk (tickets with comments) or freshdesk (ticket CSV).",
)
@click.option(
    "--severity-map",
    "severity_map",
    multiple=True,
    metavar="PRIORITY=SEVERITY,…",
    help="Helpdesk priority → the contract's severity, e.g. urgent=P1,high=P2 (repeatable).",
)
@click.option(
    "--customer-map",
    "customer_map",
    multiple=True,
    metavar="ORGANIZATION=CUSTOMER,…",
    help="Zendesk organization id or Freshdesk company → customer id (repeatable).",
)
@click.option("--timezone", help="The Freshdesk account's time zone (its CSV has local times).")
@click.option(
    "--as", "actor", default=_default_actor, show_default="the OS user", help="Audit log name."
)
@reports_user_errors
def import_command(
    contract: Path,
    file: Path,
    db: str,
    fmt: RecordFormat,
    severity_map: tuple[str, ...],
    customer_map: tuple[str, ...],
    timezone: str | None,
    actor: str,
) -> None:
    """Store FILE's records for CONTRACT: all of them, or none when a line is bad.

    A record stored before with the same content is unchanged; one whose content changed
    (a ticket that got its reply) replaces the stored version, and the audit log keeps both.
    """
    loaded = load_contract(contract)
    imported = read_record_file(
        file, fmt, severity_map=severity_map, customer_map=customer_map, timezone=timezone
    )
    root = Root(Settings(db_url=db))
    outcome = import_records(root.engine, loaded, imported, now=root.clock(), actor=actor)
    click.echo(
        f"{file}: {len(imported.records)} records read: {outcome.new} new, "
        f"{outcome.replaced} replaced, {outcome.unchanged} unchanged"
    )
