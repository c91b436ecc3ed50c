"""``slaledger incident``: open, update, list, show, classify and resolve incidents.

Commands talk to the database directly (``--db``) and record ``--as NAME`` (default: the
OS user) in the audit log. ``--contract`` (or ``SLALEDGER_CONTRACT``) is the contract the
incidents belong to: its services and excludable causes are checked.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from slaledger.app import Root, Settings, parse_instant_option
from slaledger.cli.user_errors import reports_user_errors
from slaledger.core.publication import (
    IMPACTS,
    INCIDENT_STATUSES,
    Impact,
    IncidentStatus,
    IncidentView,
    instant_text,
)
from slaledger.core.timebase import format_instant
from slaledger.files.contract_file import load_contract
from slaledger.store.audit_log import AuditLog
from slaledger.store.database import DEFAULT_URL
from slaledger.store.incident_store import IncidentStore

F = TypeVar("F", bound=Callable[..., Any])
_FILE = click.Path(path_type=Path, dir_okay=False)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def common_options(function: F) -> F:
    """``--contract``, ``--db`` and ``--as``, shared by the operator commands."""
    function = click.option(
        "--as",
        "actor",
        default=_default_actor,
        show_default="the OS user",
        help="Name recorded in the audit log.",
    )(function)
    function = click.option(
        "--db", "db", default=DEFAULT_URL, show_default=True, help="Database URL."
    )(function)
    return click.option(
        "--contract",
        "contract",
        type=_FILE,
        required=True,
        envvar="SLALEDGER_CONTRACT",
        help="Contract YAML (or SLALEDGER_CONTRACT).",
    )(function)


def _store(contract: Path, db: str) -> tuple[IncidentStore, AuditLog, Root]:
    loaded = load_contract(contract)
    root = Root(Settings(db_url=db))
    return root.incidents(loaded), root.audit(), root


def _instant(text: str | None, option: str) -> int | None:
    return None if text is None else parse_instant_option(text, option)


def describe(view: IncidentView) -> str:
    """One line: id, title, impact, status and times."""
    when = f"since {instant_text(view.started)}"
    if view.resolved is not None:
        when = f"{instant_text(view.started)} → {instant_text(view.resolved)}"
    extra = "; automatic" if view.automatic else ""
    if view.exclusion_cause is not None:
        extra += f"; excluded as {view.exclusion_cause}"
    return (
        f"incident #{view.id} {view.title!r} ({', '.join(view.services)}; {view.impact}; "
        f"{view.status} {when}{extra})"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


@click.group("incident")
def command() -> None:
    """Open, update, classify and resolve incidents (audited under --as)."""


@command.command("open")
@click.argument("title")
@click.option("--service", "services", multiple=True, required=True, help="Repeatable; or '*'.")
@click.option(
    "--impact", type=click.Choice(IMPACTS), required=True, help="How bad it is for users."
)
@click.option(
    "--status",
    type=click.Choice(INCIDENT_STATUSES[:-1]),
    default="investigating",
    show_default=True,
    help="Where the work stands.",
)
@click.option("--started", help="When it started, ISO 8601 (default: now).")
@click.option("--body", default="", help="First update, Markdown.")
@click.option("--location", help="Only this probe location is affected.")
@common_options
@reports_user_errors
def open_incident(
    title: str,
    services: tuple[str, ...],
    impact: Impact,
    status: IncidentStatus,
    started: str | None,
    body: str,
    location: str | None,
    contract: Path,
    db: str,
    actor: str,
) -> None:
    """Open an incident titled TITLE."""
    store, _audit, root = _store(contract, db)
    view = store.open(
        title=title,
        services="*" if services == ("*",) else list(services),
        impact=impact,
        status=status,
        started=_instant(started, "--started"),
        body=body,
        location=location,
        actor=actor,
        now=root.clock(),
    )
    click.echo(f"opened {describe(view)}")


@command.command("update")
@click.argument("incident_id", type=int)
@click.option(
    "--status",
    type=click.Choice(INCIDENT_STATUSES),
    required=True,
    help="Where the work stands now (resolved closes it).",
)
@click.option("--body", required=True, help="Markdown.")
@common_options
@reports_user_errors
def update_incident(
    incident_id: int, status: IncidentStatus, body: str, contract: Path, db: str, actor: str
) -> None:
    """Post an update to incident INCIDENT_ID (status resolved resolves it now)."""
    store, _audit, root = _store(contract, db)
    view = store.add_update(incident_id, status=status, body=body, actor=actor, now=root.clock())
    click.echo(f"updated {describe(view)}")


@command.command("resolve")
@click.argument("incident_id", type=int)
@click.option("--at", "at", help="When it was resolved, ISO 8601 (default: now).")
@click.option("--body", default="", help="A closing update, Markdown.")
@common_options
@reports_user_errors
def resolve_incident(
    incident_id: int, at: str | None, body: str, contract: Path, db: str, actor: str
) -> None:
    """Resolve incident INCIDENT_ID."""
    store, _audit, root = _store(contract, db)
    view = store.resolve(
        incident_id, at=_instant(at, "--at"), body=body, actor=actor, now=root.clock()
    )
    click.echo(f"resolved {describe(view)}")


@command.command("edit")
@click.argument("incident_id", type=int)
@click.option("--title", help="The corrected title.")
@click.option("--service", "services", multiple=True, help="Repeatable; replaces the services.")
@click.option("--impact", type=click.Choice(IMPACTS), help="The corrected impact.")
@click.option("--started", help="When it started, ISO 8601.")
@click.option("--resolved", help="When it was resolved (a resolved incident), ISO 8601.")
@common_options
@reports_user_errors
def edit_incident(
    incident_id: int,
    title: str | None,
    services: tuple[str, ...],
    impact: Impact | None,
    started: str | None,
    resolved: str | None,
    contract: Path,
    db: str,
    actor: str,
) -> None:
    """Correct a mistaken incident INCIDENT_ID (audited with before and after)."""
    store, _audit, root = _store(contract, db)
    view = store.edit(
        incident_id,
        title=title,
        services=None if not services else ("*" if services == ("*",) else list(services)),
        impact=impact,
        started=_instant(started, "--started"),
        resolved=_instant(resolved, "--resolved"),
        actor=actor,
        now=root.clock(),
    )
    click.echo(f"corrected {describe(view)}")


@command.command("delete")
@click.argument("incident_id", type=int)
@common_options
@reports_user_errors
def delete_incident(incident_id: int, contract: Path, db: str, actor: str) -> None:
    """Delete a mistaken incident INCIDENT_ID and its updates (the audit log keeps them)."""
    store, _audit, root = _store(contract, db)
    view = store.delete(incident_id, actor=actor, now=root.clock())
    click.echo(f"deleted {describe(view)}")


@command.command("classify")
@click.argument("incident_id", type=int)
@click.option("--cause", required=True, help="One of the services' excludable_causes.")
@click.option("--start", help="Start of the excluded time (default: when it started).")
@click.option("--end", help="End of the excluded time (default: when it was resolved).")
@common_options
@reports_user_errors
def classify_incident(
    incident_id: int,
    cause: str,
    start: str | None,
    end: str | None,
    contract: Path,
    db: str,
    actor: str,
) -> None:
    """Exclude the time of incident INCIDENT_ID from downtime, with CAUSE."""
    store, _audit, root = _store(contract, db)
    view = store.classify(
        incident_id,
        cause=cause,
        start=_instant(start, "--start"),
        end=_instant(end, "--end"),
        actor=actor,
        now=root.clock(),
    )
    window = store.exclusion_of(view.id)
    assert window is not None
    click.echo(f"classified {describe(view)}")
    click.echo(
        f"excluded {format_instant(window[0])} → {format_instant(window[1])} "
        f"as {view.exclusion_cause} for {', '.join(view.services)}"
    )


@command.command("list")
@click.option("--active", "active", flag_value=True, default=None, help="Only unresolved.")
@click.option("--resolved", "active", flag_value=False, help="Only resolved.")
@common_options
@reports_user_errors
def list_incidents(active: bool | None, contract: Path, db: str, actor: str) -> None:
    """List incidents, newest first."""
    del actor
    store, _audit, _root = _store(contract, db)
    views = store.all(active=active)
    if not views:
        click.echo("no incidents")
        return
    rows = [
        (
            f"#{v.id}",
            v.status,
            v.impact,
            format_instant(v.started),
            "-" if v.resolved is None else format_instant(v.resolved),
            ",".join(v.services),
            v.title,
        )
        for v in views
    ]
    header = ("id", "status", "impact", "started", "resolved", "services", "title")
    for line in table(header, rows):
        click.echo(line)


@command.command("show")
@click.argument("incident_id", type=int)
@click.option("--history", is_flag=True, help="Also print the audit log of the incident.")
@common_options
@reports_user_errors
def show_incident(incident_id: int, history: bool, contract: Path, db: str, actor: str) -> None:
    """Show incident INCIDENT_ID with its updates (as written, in Markdown)."""
    del actor
    store, audit, _root = _store(contract, db)
    view = store.get(incident_id)
    click.echo(describe(view))
    for at, status, author, markdown in store.update_sources(incident_id):
        click.echo(f"  {format_instant(at)}  {status} by {author}:")
        for line in markdown.splitlines():
            click.echo(f"    {line}")
    if history:
        click.echo("history:")
        for entry in audit.history("incident", incident_id):
            click.echo(f"  {format_instant(entry.at)}  {entry.action} by {entry.actor}")
