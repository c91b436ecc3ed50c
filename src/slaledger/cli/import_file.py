"""``slaledger import``: load observations from our CSV or a third-party monitor's export."""

from __future__ import annotations

from pathlib import Path

import click

from slaledger.app import Root, Settings, read_import_file, store_import
from slaledger.cli.user_errors import reports_user_errors
from slaledger.files.contract_file import load_contract
from slaledger.files.imports import IMPORT_FORMATS, ImportFormat

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
@click.option(
    "--map",
    "monitor_map",
    multiple=True,
    metavar="NAME=SERVICE",
    help="The monitor NAME stands for SERVICE (repeatable; UptimeRobot).",
)
@click.option(
    "--skip-unmapped",
    is_flag=True,
    help="Leave out, and list, monitors that stand for no service (UptimeRobot).",
)
@reports_user_errors
def command(
    contract: Path,
    file: Path,
    db: str,
    fmt: ImportFormat,
    location: str | None,
    timezone: str | None,
    service: str | None,
    monitor_map: tuple[str, ...],
    skip_unmapped: bool,
) -> None:
    """Import FILE's observations for CONTRACT's services into the store.

    Formats: slaledger (our CSV), uptimerobot (API logs JSON or dashboard CSV), statuscake
    (periods or history JSON). Days already closed are packed for long-term storage.

    An UptimeRobot export of a whole account is read as it is: each monitor stands for the
    service it is named after, or the one --map gives; monitors that stand for none refuse
    the file, unless --skip-unmapped leaves them out (and lists them).
    """
    root = Root(Settings(db_url=db))
    now = root.clock()
    imported = read_import_file(
        load_contract(contract),
        file,
        fmt,
        location=location,
        timezone=timezone,
        service=service,
        now=now,
        monitor_map=monitor_map,
        skip_unmapped=skip_unmapped,
    )
    outcome = store_import(root.observations(), imported, now=now)
    for monitor in outcome.skipped:
        click.echo(f"{file}: skipped monitor {monitor!r}: it stands for no service")
    if outcome.already_imported:
        click.echo(f"{file}: already imported; nothing stored")
    else:
        click.echo(
            f"{file}: {outcome.received} observations read, {outcome.stored} stored "
            f"({outcome.received - outcome.stored} already present)"
        )
