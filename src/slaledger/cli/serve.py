"""``slaledger serve``: the ingest API, live figures and the embedded local agent."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from slaledger.adapters.contract_file import load_contract
from slaledger.adapters.events_file import load_events
from slaledger.cli.errors import reports_user_errors
from slaledger.core.events import Events
from slaledger.errors import Problem, UsageError
from slaledger.store.database import DEFAULT_URL, connect, migrate
from slaledger.store.observation_store import ObservationStore
from slaledger.store.tokens import TokenStore

_FILE = click.Path(path_type=Path, dir_okay=False)
_LOCATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@click.command("serve")
@click.argument("contract", type=_FILE)
@click.option("--db", "db", default=DEFAULT_URL, show_default=True, help="Database URL.")
@click.option("--events", "events", type=_FILE, help="Maintenance and exclusions YAML.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--location",
    default="local",
    show_default=True,
    help="Location name of the embedded agent's probes.",
)
@click.option("--no-probes", is_flag=True, help="Do not run the embedded agent.")
@reports_user_errors
def command(
    contract: Path,
    db: str,
    events: Path | None,
    host: str,
    port: int,
    location: str,
    no_probes: bool,
) -> None:
    """Serve CONTRACT: agents' ingest API, month-to-date figures, and probes from here.

    Agents POST results to /api/v1/ingest with an agent token (slaledger token create);
    GET /api/v1/live gives the month to date. Stops cleanly on Ctrl-C or SIGTERM.
    """
    # Imported here: the server's dependencies (uvicorn, FastAPI, aiohttp) would otherwise
    # slow down every other command's start.
    from slaledger.probes.scheduler import wall_clock  # noqa: PLC0415
    from slaledger.web.server import Listening, serve  # noqa: PLC0415

    if not _LOCATION.match(location):
        raise UsageError(
            Problem(
                f"expected a location name of letters, digits, '.', '_' or '-', got {location!r}",
                field="--location",
            )
        )
    loaded = load_contract(contract)
    windows = Events() if events is None else load_events(events, loaded)
    engine = connect(db)
    migrate(engine)
    tokens = TokenStore(engine)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    def announce(listening: Listening) -> None:
        shown_db = make_url(db).render_as_string(hide_password=True)
        click.echo(f"slaledger serve: listening on {listening.url}")
        click.echo(f"  contract {loaded.contract}, database {shown_db}")
        if listening.checks is None:
            click.echo("  embedded agent: off (--no-probes)")
        else:
            count = listening.checks
            click.echo(
                f"  embedded agent at location {location}: {count} check{'' if count == 1 else 's'}"
            )
        agents = [t for t in tokens.list() if t.scope == "agent"]
        click.echo(
            f"  ingest: POST {listening.url}/api/v1/ingest with an agent token "
            f"({len(agents)} exist; create one with: slaledger token create --scope agent "
            f"--name NAME --db {shown_db})"
        )
        click.echo(f"  live figures: GET {listening.url}/api/v1/live")

    serve(
        loaded,
        windows,
        ObservationStore(engine),
        tokens,
        wall_clock,
        host=host,
        port=port,
        location=location,
        probes=not no_probes,
        announce=announce,
    )
