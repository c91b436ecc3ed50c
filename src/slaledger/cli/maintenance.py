"""``slaledger maintenance``: schedule, list and cancel windows; suggest a quiet one.

``create`` records the window as announced now and says whether that is enough notice
for the contract (scheduled: excluded) or not (emergency: counted as downtime).
``suggest`` proposes the lowest-traffic window from an hourly traffic CSV.
"""

from __future__ import annotations

from pathlib import Path

import click

from slaledger.app import Root, Settings, parse_instant_option
from slaledger.cli import incident
from slaledger.cli.user_errors import reports_user_errors
from slaledger.core.durations import parse_duration
from slaledger.core.maintenance_suggest import (
    HORIZON,
    describe_suggestion,
    maintenance_notice,
    suggest_window,
)
from slaledger.core.publication import MaintenanceView, instant_text
from slaledger.core.timebase import format_instant
from slaledger.errors import Problem, UsageError
from slaledger.files.contract_file import load_contract
from slaledger.files.traffic_file import read_traffic
from slaledger.store.maintenance_store import MaintenanceStore, notice_for

_FILE = click.Path(path_type=Path, dir_okay=False)


def _store(contract: Path, db: str) -> tuple[MaintenanceStore, Root]:
    loaded = load_contract(contract)
    root = Root(Settings(db_url=db))
    return root.maintenance(loaded), root


def _services(view: MaintenanceView) -> str:
    return "*" if view.services == "*" else ",".join(view.services)


def describe(view: MaintenanceView) -> str:
    where = f" at {view.location}" if view.location else ""
    state = "; cancelled" if view.cancelled else ""
    return (
        f"maintenance #{view.id} {view.title!r} ({_services(view)}{where}; "
        f"{instant_text(view.start)} → {instant_text(view.end)}; {view.kind}{state})"
    )


@click.group("maintenance")
def command() -> None:
    """Schedule, list and cancel maintenance windows; suggest a low-traffic one."""


@command.command("create")
@click.option("--service", "services", multiple=True, required=True, help="Repeatable; or '*'.")
@click.option("--title", required=True, help="What is done, as subscribers will read it.")
@click.option("--start", required=True, help="ISO 8601 instant.")
@click.option("--end", required=True, help="ISO 8601 instant.")
@click.option("--location", help="Only this probe location.")
@incident.common_options
@reports_user_errors
def create(
    services: tuple[str, ...],
    title: str,
    start: str,
    end: str,
    location: str | None,
    contract: Path,
    db: str,
    actor: str,
) -> None:
    """Schedule a maintenance window, announced now."""
    first = parse_instant_option(start, "--start")
    last = parse_instant_option(end, "--end")
    store, root = _store(contract, db)
    view = store.create(
        services="*" if services == ("*",) else list(services),
        title=title,
        start=first,
        end=last,
        location=location,
        actor=actor,
        now=root.clock(),
    )
    click.echo(f"created {describe(view)}")
    click.echo(notice_for(store.contract, view).message)


@command.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include cancelled windows.")
@incident.common_options
@reports_user_errors
def list_windows(show_all: bool, contract: Path, db: str, actor: str) -> None:
    """List maintenance windows, soonest first."""
    del actor
    views = _store(contract, db)[0].all(include_cancelled=show_all)
    if not views:
        click.echo("no maintenance windows")
        return
    rows = [
        (
            f"#{v.id}",
            v.kind + (" (cancelled)" if v.cancelled else ""),
            format_instant(v.start),
            format_instant(v.end),
            format_instant(v.announced),
            _services(v),
            v.location or "-",
            v.title,
        )
        for v in views
    ]
    header = ("id", "kind", "start", "end", "announced", "services", "location", "title")
    for line in incident.table(header, rows):
        click.echo(line)


@command.command("cancel")
@click.argument("window_id", type=int)
@incident.common_options
@reports_user_errors
def cancel(window_id: int, contract: Path, db: str, actor: str) -> None:
    """Cancel maintenance window WINDOW_ID: its time is no longer excluded."""
    store, root = _store(contract, db)
    view = store.cancel(window_id, actor=actor, now=root.clock())
    click.echo(f"cancelled {describe(view)}; its time is no longer excluded")


@command.command("edit")
@click.argument("window_id", type=int)
@click.option("--title", help="The corrected title.")
@click.option("--service", "services", multiple=True, help="Repeatable, or '*'; replaces them.")
@click.option("--start", help="ISO 8601 instant.")
@click.option("--end", help="ISO 8601 instant.")
@click.option("--location", help="Only this probe location.")
@incident.common_options
@reports_user_errors
def edit(
    window_id: int,
    title: str | None,
    services: tuple[str, ...],
    start: str | None,
    end: str | None,
    location: str | None,
    contract: Path,
    db: str,
    actor: str,
) -> None:
    """Correct a mistaken maintenance window WINDOW_ID (audited with before and after)."""
    store, root = _store(contract, db)
    view = store.edit(
        window_id,
        title=title,
        services=None if not services else ("*" if services == ("*",) else list(services)),
        start=None if start is None else parse_instant_option(start, "--start"),
        end=None if end is None else parse_instant_option(end, "--end"),
        location=location,
        actor=actor,
        now=root.clock(),
    )
    click.echo(f"corrected {describe(view)}")
    click.echo(notice_for(store.contract, view).message)


@command.command("delete")
@click.argument("window_id", type=int)
@incident.common_options
@reports_user_errors
def delete(window_id: int, contract: Path, db: str, actor: str) -> None:
    """Delete a mistaken maintenance window WINDOW_ID (the audit log keeps it); cancel
    keeps a window on the page, delete removes it."""
    store, root = _store(contract, db)
    view = store.delete(window_id, actor=actor, now=root.clock())
    click.echo(f"deleted {describe(view)}")


@command.command("suggest")
@click.argument("service")
@click.option("--duration", required=True, help="Whole hours, e.g. 2h.")
@click.option("--traffic", type=_FILE, required=True, help="CSV: hour,service,requests.")
@click.option(
    "--contract", type=_FILE, required=True, envvar="SLALEDGER_CONTRACT", help="Contract YAML."
)
@click.option("--at", "at", help="Plan as of this instant (default: now).")
@click.option("--db", "db", help="Also avoid the windows already scheduled in this database.")
@reports_user_errors
def suggest(
    service: str, duration: str, traffic: Path, contract: Path, at: str | None, db: str | None
) -> None:
    """Propose the lowest-traffic window of --duration for SERVICE, with enough notice."""
    try:
        length = parse_duration(duration)
    except ValueError as error:
        raise UsageError(Problem(str(error), field="--duration")) from None
    root = Root(Settings() if db is None else Settings(db_url=db))
    now = root.clock() if at is None else parse_instant_option(at, "--at")
    loaded = load_contract(contract)
    if service not in loaded.services:
        known = ", ".join(loaded.services)
        raise UsageError(
            Problem(
                f"unknown service {service!r}; contract {loaded.contract!r} has: {known}",
                field="SERVICE",
            )
        )
    counts = read_traffic(traffic, list(loaded.services)).get(service, {})
    if not counts:
        raise UsageError(Problem(f"the traffic file has no counts for {service}", str(traffic)))
    busy: list[tuple[int, int]] = []
    if db is not None:
        busy = [
            (w.start, w.end)
            for w in root.maintenance(loaded).all(include_cancelled=False)
            if w.services == "*" or service in w.services
        ]
    earliest = now + maintenance_notice(loaded, service)
    found = suggest_window(counts, length, earliest, now + HORIZON, busy)
    if found is None:
        raise UsageError(
            Problem(
                f"no {duration} window for {service} with traffic data between "
                f"{format_instant(earliest)} and {format_instant(now + HORIZON)}; the traffic "
                f"file covers {format_instant(min(counts))} to {format_instant(max(counts))}",
                field="--traffic",
            )
        )
    for line in describe_suggestion(loaded, service, found, now):
        click.echo(line)
    if busy:
        click.echo(f"avoided {len(busy)} maintenance window(s) already scheduled for {service}")
