"""``slaledger retain``: raw observations to minute runs, then pruning."""

from __future__ import annotations

from pathlib import Path

import click

from slaledger.app import Root, Settings, parse_instant_option
from slaledger.cli.user_errors import reports_user_errors
from slaledger.files.contract_file import load_contract
from slaledger.store.database import DEFAULT_URL
from slaledger.store.tiers import DEFAULT_MINUTE_DAYS, DEFAULT_RAW_DAYS, retain

FILE = click.Path(path_type=Path, dir_okay=False)
DB = click.option("--db", "db", default=DEFAULT_URL, show_default=True, help="Database URL.")
AT = click.option("--at", "at", help="Act as of this instant (default: now).")


def now(root: Root, at: str | None) -> int:
    """``--at``, else the root's clock."""
    return root.clock() if at is None else parse_instant_option(at, "--at")


@click.command("retain")
@click.argument("contract", type=FILE)
@DB
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
@AT
@reports_user_errors
def command(contract: Path, db: str, raw_days: int, minute_days: int, at: str | None) -> None:
    """Apply retention to the store: raw days past --raw-days become per-minute outcome runs
    (classified by CONTRACT), runs past --minute-days are deleted. `slaledger serve` does
    this once a day."""
    root = Root(Settings(db_url=db, raw_days=raw_days, minute_days=minute_days))
    outcome = retain(
        root.stores(),
        load_contract(contract),
        now=now(root, at),
        raw_days=raw_days,
        minute_days=minute_days,
    )
    click.echo(
        f"{outcome.days_rolled_up} days of raw observations kept as minute runs; "
        f"{outcome.minute_rows_pruned} day-series of minute runs past {minute_days} days deleted"
    )
