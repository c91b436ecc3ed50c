"""``slaledger credits``: the month's invoice lines, for a billing system to import."""

from __future__ import annotations

from pathlib import Path

import click

from slaledger.app import Root, Settings, Settlement, report_from_files, report_from_store
from slaledger.cli.user_errors import reports_user_errors
from slaledger.errors import Problem, UsageError
from slaledger.files.credits_render import render_invoice_lines
from slaledger.files.customers_file import load_customers

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.command("credits")
@click.argument("contract", type=_FILE)
@click.option("--month", "month", required=True, help="Calendar month, YYYY-MM.")
@click.option(
    "--customers",
    "customers",
    type=_FILE,
    required=True,
    help="Customers YAML: plan, currency, monthly base fee, services, locations.",
)
@click.option("--probes", "probes", type=_FILE, help="Observations CSV.")
@click.option("--db", "db", help="Settle from this database URL instead of a CSV.")
@click.option("--events", "events", type=_FILE, help="Maintenance and exclusions YAML.")
@click.option(
    "--records",
    "records",
    type=_FILE,
    help="Records (JSON Lines): late hardware swaps and customers' claims.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("csv", "json")),
    default="csv",
    show_default=True,
    help="csv or json: one invoice line per row or object.",
)
@reports_user_errors
def command(
    contract: Path,
    month: str,
    customers: Path,
    probes: Path | None,
    db: str | None,
    events: Path | None,
    records: Path | None,
    fmt: str,
) -> None:
    """Print the invoice lines of CONTRACT's issued credits for one month: customer, month,
    description (service, figure, target and tier, or the late hours), amount as a negative
    decimal and in minor units, currency.

    Observations come from --probes FILE.csv or from --db URL (exactly one of them).
    """
    if (probes is None) == (db is None):
        raise UsageError(
            Problem("expected exactly one of --probes FILE or --db URL", field="--probes")
        )
    if probes is not None:
        report = report_from_files(contract, probes, events, month, None, records, customers)
    else:
        assert db is not None
        asked = Settlement.load(contract, events, month, None, records)
        book = None if customers is None else load_customers(customers, asked.contract)
        report = report_from_store(Root(Settings(db_url=db)).stores(), asked, book, records)
    click.echo(render_invoice_lines(report.credits or (), fmt), nl=False)
