"""``slaledger report``: settle a month from observation files."""

from __future__ import annotations

from pathlib import Path

import click

from slaledger.app import Root, Settings, Settlement, report_from_files, report_from_store
from slaledger.cli.user_errors import reports_user_errors
from slaledger.errors import Problem, UsageError
from slaledger.files.customers_file import load_customers
from slaledger.files.report_render import FORMATS, render_report

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.command("report")
@click.argument("contract", type=_FILE)
@click.option("--probes", "probes", type=_FILE, help="Observations CSV.")
@click.option("--db", "db", help="Settle from this database URL instead of a CSV.")
@click.option("--events", "events", type=_FILE, help="Maintenance and exclusions YAML.")
@click.option("--month", "month", required=True, help="Calendar month, YYYY-MM.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; json or csv for programs.",
)
@click.option(
    "--at",
    "at",
    help="Evaluation instant: end of trailing windows, and when open tickets and swaps "
    "are judged (default: end of the month).",
)
@click.option(
    "--records",
    "records",
    type=_FILE,
    help="Tickets, swaps, DDoS events, provisioning (JSON Lines): settle the commitments.",
)
@click.option(
    "--customers",
    "customers",
    type=_FILE,
    help="Customers YAML (plan, currency, base fee): add each customer's credits in money.",
)
@reports_user_errors
def command(
    contract: Path,
    probes: Path | None,
    db: str | None,
    events: Path | None,
    month: str,
    fmt: str,
    at: str | None,
    records: Path | None,
    customers: Path | None,
) -> None:
    """Settle CONTRACT for one month: availability, target, credit and episodes; with
    --records FILE, the commitments too (support response, repair deadlines, …); with
    --customers FILE, each customer's credits in money (claims come from --records).

    Observations come from --probes FILE.csv or from --db URL (exactly one of them).
    """
    if (probes is None) == (db is None):
        raise UsageError(
            Problem("expected exactly one of --probes FILE or --db URL", field="--probes")
        )
    if probes is not None:
        report = report_from_files(contract, probes, events, month, at, records, customers)
    else:
        assert db is not None
        asked = Settlement.load(contract, events, month, at, records)
        book = None if customers is None else load_customers(customers, asked.contract)
        report = report_from_store(Root(Settings(db_url=db)).stores(), asked, book, records)
    click.echo(render_report(report, fmt), nl=False)
