"""``slaledger import``: load observations from our CSV or a third-party monitor's export."""

from __future__ import annotations

import time
from pathlib import Path

import click

from slaledger.adapters.imports import IMPORT_FORMATS, ImportFormat
from slaledger.app import import_file
from slaledger.cli.errors import reports_user_errors

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.command("import")
@click.argument("contract", type=_FILE)
@click.argument("file", type=_FILE)
@click.option(
    "--db", "db", required=True, help="Database URL (sqlite:///… or postgresql+psycopg://…)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(IMPORT_FORMATS),
    default="slaledger",
    show_default=True,
    help="The file's format: slaledger's own CSV or another monitor's export (docs/imports.md).",
)
@click.option("--location", help="Location of the imported probes (default: as in the file).")
@click.option("--timezone", help="Zone of local times in the file (UptimeRobot dashboard CSV).")
@click.option("--service", help="The contract's service the file's monitor measures.")
@reports_user_errors
def command(
    contract: Path,
    file: Path,
    db: str,
    fmt: ImportFormat,
    location: str | None,
    timezone: str | None,
    service: str | None,
) -> None:
    """Import FILE's observations for CONTRACT's services into the store.

    Formats: slaledger (our CSV), uptimerobot (API logs JSON or dashboard CSV), statuscake
    (periods or history JSON). Days already closed are packed for long-term storage.
    """
    outcome = import_file(
        contract,
        file,
        db,
        fmt,
        location=location,
        timezone=timezone,
        service=service,
        now=time.time_ns() // 1000,
    )
    if outcome.already_imported:
        click.echo(f"{file}: already imported; nothing stored")
    else:
        click.echo(
            f"{file}: {outcome.received} observations read, {outcome.stored} stored "
            f"({outcome.received - outcome.stored} already present)"
        )
