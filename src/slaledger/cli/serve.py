"""``slaledger serve``: the ingest API, live figures and the embedded local agent."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from slaledger.app import Root, Settings
from slaledger.cli.user_errors import reports_user_errors
from slaledger.core.contract import NO_LOCATIONS_WARNING, Contract
from slaledger.core.durations import parse_duration
from slaledger.core.events import Events
from slaledger.errors import Problem, UsageError
from slaledger.files.contract_file import load_contract
from slaledger.files.events_file import load_events
from slaledger.store.database import DEFAULT_URL
from slaledger.store.tiers import DEFAULT_MINUTE_DAYS, DEFAULT_RAW_DAYS
from slaledger.store.tokens import TokenInfo

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
@click.option(
    "--public-url",
    help="The status page's public URL, used in emails and feeds (default: where it listens).",
)
@click.option("--smtp-host", help="SMTP server for subscriber emails (none: emails stay queued).")
@click.option(
    "--smtp-port",
    type=click.IntRange(1, 65535),
    default=25,
    show_default=True,
    help="SMTP server port.",
)
@click.option("--smtp-from", help="Sender address (default: status@ the public URL's host).")
@click.option("--smtp-starttls", is_flag=True, help="Upgrade the SMTP connection with STARTTLS.")
@click.option("--smtp-user", help="SMTP login; the password comes from SLALEDGER_SMTP_PASSWORD.")
@click.option(
    "--allow-private-webhooks",
    is_flag=True,
    help="Let webhooks reach private and loopback addresses (trusted networks only).",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="A reverse proxy (address or network, e.g. 10.0.0.0/8) whose X-Forwarded-For and "
    "X-Forwarded-Proto are believed; repeat for several. None: they are ignored.",
)
@click.option(
    "--refresh-seconds",
    type=click.FloatRange(1, 3600),
    default=60.0,
    show_default=True,
    help="Seconds between two refreshes of the status page's figures (a new snapshot).",
)
@click.option(
    "--ingest-horizon",
    default="7d",
    show_default=True,
    help="How old a probe may be when an agent sends it (e.g. 48h, 7d); older ones get a 422.",
)
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
@click.option(
    "--signing-key",
    "signing_key",
    type=_FILE,
    help="Private key (slaledger key generate) that signs each monthly statement issued; "
    "without it statements are chained but unsigned.",
)
@reports_user_errors
def command(
    contract: Path,
    db: str,
    events: Path | None,
    host: str,
    port: int,
    location: str,
    no_probes: bool,
    public_url: str | None,
    smtp_host: str | None,
    smtp_port: int,
    smtp_from: str | None,
    smtp_starttls: bool,
    smtp_user: str | None,
    allow_private_webhooks: bool,
    trusted_proxies: tuple[str, ...],
    refresh_seconds: float,
    ingest_horizon: str,
    raw_days: int,
    minute_days: int,
    signing_key: Path | None,
) -> None:
    """Serve CONTRACT: the status page and public API, agents' ingest API, the operator API,
    subscriptions, and probes from here.

    Agents POST results to /api/v1/ingest with an agent token, operators use
    /api/v1/admin/... with an admin token (slaledger token create). Once a minute (or every
    --refresh-seconds) the month to date is settled, incidents opened or resolved and the
    page refreshed. Stops cleanly on Ctrl-C or SIGTERM.
    """
    # Imported here: the server's dependencies (uvicorn, FastAPI, aiohttp) would otherwise
    # slow down every other command's start.
    from slaledger.notify.email_sender import SmtpSettings  # noqa: PLC0415
    from slaledger.probes.scheduler import checks_for_location  # noqa: PLC0415
    from slaledger.web.server import Listening  # noqa: PLC0415

    if not _LOCATION.match(location):
        raise UsageError(
            Problem(
                f"expected a location name of letters, digits, '.', '_' or '-', got {location!r}",
                field="--location",
            )
        )
    horizon = _horizon(ingest_horizon)
    for proxy in trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise UsageError(
                Problem(
                    f"expected an IP address or network (10.0.0.1, 10.0.0.0/8), got {proxy!r}",
                    field="--trusted-proxy",
                )
            ) from None
    loaded = load_contract(contract)
    undeclared = loaded.undeclared(location)
    if undeclared is not None and not no_probes and checks_for_location(loaded.services, location):
        raise UsageError(
            Problem(
                f"{undeclared}: the embedded agent would report from it; "
                "give --location one of them, or --no-probes",
                field="--location",
            )
        )
    windows = Events() if events is None else load_events(events, loaded)
    smtp = None
    if smtp_host is not None:
        smtp = SmtpSettings(
            host=smtp_host,
            port=smtp_port,
            from_address=smtp_from or "",  # empty: status@ the public URL's host
            starttls=smtp_starttls,
            username=smtp_user,
            password=os.environ.get("SLALEDGER_SMTP_PASSWORD"),
        )
    root = Root(
        Settings(
            db_url=db,
            public_url=public_url,
            smtp=smtp,
            allow_private_webhooks=allow_private_webhooks,
            raw_days=raw_days,
            minute_days=minute_days,
            every_seconds=refresh_seconds,
            signing_key=signing_key,
        )
    )
    tokens = root.tokens()
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
            f"--name NAME --location LOCATION --db {shown_db})"
        )
        click.echo(
            f"  status page: {listening.url}/  (public API: {listening.url}/api/v1/openapi.json)"
        )
        click.echo(f"  live figures: GET {listening.url}/api/v1/live")
        click.echo(
            f"  operators: {listening.url}/api/v1/admin/... with an admin token, or "
            "slaledger incident / slaledger maintenance"
        )
        if smtp_host is None:
            click.echo("  subscriber emails: queued, not sent (no --smtp-host)")
        for warning in location_warnings(loaded, agents):
            click.echo(f"warning: {warning}", err=True)

    root.serve(
        loaded,
        windows,
        host=host,
        port=port,
        location=location,
        probes=not no_probes,
        announce=announce,
        ingest_horizon=horizon,
        trusted_proxies=trusted_proxies,
    )


def _horizon(text: str) -> int:
    try:
        horizon = parse_duration(text)
    except ValueError as error:
        raise UsageError(Problem(str(error), field="--ingest-horizon")) from None
    if horizon <= 0:
        raise UsageError(
            Problem(f"expected a duration above 0, got {text!r}", field="--ingest-horizon")
        )
    return horizon


def location_warnings(contract: Contract, agents: Sequence[TokenInfo]) -> list[str]:
    """What ``serve`` warns about: a contract that declares no locations, and agent tokens
    from before locations (bound to none)."""
    warnings = []
    if contract.locations is None:
        warnings.append(NO_LOCATIONS_WARNING.format(contract=contract.contract))
    unbound = [t.name for t in agents if t.location is None]
    if unbound:
        warnings.append(
            f"agent token{'s' if len(unbound) > 1 else ''} {', '.join(unbound)} "
            "bound to no location (created before locations): each may report for any "
            "declared location; re-create it with slaledger token create --scope agent "
            "--location LOCATION (docs/operations.md)"
        )
    return warnings
