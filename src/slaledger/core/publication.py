"""What the public status page, feeds and public API show: read models, no I/O.

One :class:`StatusSnapshot` is built at most once a minute from the store and the contract;
the HTML page, the JSON APIs (ours and the Statuspage-compatible one), badges and feeds are
all rendered from it, so every surface shows the same figures as the settlement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, get_args

from slaledger.core.commitment_publication import CommitmentView
from slaledger.core.timebase import US_PER_DAY, format_instant

ServiceState = Literal[
    "operational", "degraded", "partial-outage", "major-outage", "maintenance", "unknown"
]
"""A service's state now: from the live figures, open incidents and maintenance in progress."""
SERVICE_STATES: tuple[ServiceState, ...] = get_args(ServiceState)

IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
INCIDENT_STATUSES: tuple[IncidentStatus, ...] = get_args(IncidentStatus)

Impact = Literal["none", "minor", "major", "critical"]
IMPACTS: tuple[Impact, ...] = get_args(Impact)

MaintenanceKind = Literal["scheduled", "emergency"]
"""*scheduled* (excluded) when announced at least the contract's notice ahead, else
*emergency* (counted like any other time)."""

EARLIEST_INSTANT = 946_684_800_000_000
"""2000-01-01T00:00:00Z: no incident or maintenance window is accepted before it."""
FUTURE_HORIZON = 3660 * US_PER_DAY
"""How far ahead of now a maintenance window may be scheduled (about ten years)."""
LAST_INSTANT = 253_402_300_800_000_000
"""The first instant of the year 10000 (exclusive bound of what can be written out)."""


def instant_text(instant: int) -> str:
    """ISO 8601 of ``instant``, or its raw microseconds when no calendar date has it (never
    raises: it names bad instants in error messages)."""
    if -62_135_596_800_000_000 <= instant < LAST_INSTANT:
        return format_instant(instant)
    return f"{instant} µs from 1970-01-01T00:00:00Z"


_STATE_RANK: dict[ServiceState, int] = {
    "operational": 0,
    "unknown": 1,
    "maintenance": 2,
    "degraded": 3,
    "partial-outage": 4,
    "major-outage": 5,
}


def worst_state(states: list[ServiceState]) -> ServiceState:
    """The overall state: the worst of the services' states (``unknown`` with none)."""
    if not states:
        return "unknown"
    return max(states, key=lambda state: _STATE_RANK[state])


@dataclass(frozen=True)
class DayFigure:
    """One UTC day of a service: its availability by the contract's rule and what happened."""

    day: str
    """``YYYY-MM-DD``."""
    availability: Fraction | None
    """``None``: no data that day."""
    downtime_minutes: int | None
    incident_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class MonthFigure:
    """One month of a service (or of one location of it)."""

    month: str
    """``YYYY-MM`` in the contract's time zone."""
    location: str | None
    availability: Fraction | None
    downtime_minutes: int | None
    met: bool | None
    credit_percent: int
    settled: bool
    """``True``: the figure of the month's stored statement, which never changes again."""


@dataclass(frozen=True)
class ServiceView:
    id: str
    name: str
    description: str | None
    state: ServiceState
    rule: str
    window: str
    target: Decimal
    month_to_date: Fraction | None
    error_budget_minutes: int | None
    """Downtime minutes still allowed this month before the target is missed."""
    days: tuple[DayFigure, ...]
    """The last 90 UTC days, oldest first, today last."""
    months: tuple[MonthFigure, ...]
    """Service-wide figures of every retained month, newest first."""
    locations: dict[str, tuple[MonthFigure, ...]] = field(default_factory=dict)
    """Per location: every retained month, newest first."""
    last_observed: int | None = None
    """The newest probe result stored for the service (``None``: none in the store)."""
    stale: bool = False
    """No fresh result: the newest is older than the service's ``stale_after`` (by default
    twice its longest check interval). The state is then ``unknown`` unless an incident or
    maintenance says worse: the figures never look fresher than the data."""
    since: int | None = None
    """When the service first existed: its first measured day, first observation or first
    incident (``None``: not known; the snapshot's time stands in)."""
    changed_at: int | None = None
    """Its state's last change (an incident opening or resolving, maintenance starting or
    ending), never before ``since`` (``None``: not known)."""


@dataclass(frozen=True)
class IncidentUpdate:
    at: int
    status: IncidentStatus
    body_html: str
    """Markdown rendered and sanitised: safe to embed in a page as it is."""
    author: str


@dataclass(frozen=True)
class IncidentView:
    id: int
    title: str
    services: tuple[str, ...]
    status: IncidentStatus
    impact: Impact
    started: int
    resolved: int | None
    automatic: bool
    """Opened by the contract's rule confirming an outage (else by an operator)."""
    exclusion_cause: str | None
    """Set when an operator classified the incident's time as an exclusion."""
    updates: tuple[IncidentUpdate, ...]
    """Oldest first."""


@dataclass(frozen=True)
class MaintenanceView:
    id: int
    title: str
    services: tuple[str, ...] | Literal["*"]
    location: str | None
    start: int
    end: int
    announced: int
    kind: MaintenanceKind
    reason: str
    """Why it is emergency maintenance (too little notice), else empty."""
    cancelled: bool = False


@dataclass(frozen=True)
class StatusSnapshot:
    """Everything the public surfaces show, as of ``generated_at``."""

    generated_at: int
    contract: str
    title: str
    timezone: str
    overall: ServiceState
    services: tuple[ServiceView, ...]
    active_incidents: tuple[IncidentView, ...]
    recent_incidents: tuple[IncidentView, ...]
    """Resolved incidents, newest first."""
    upcoming_maintenance: tuple[MaintenanceView, ...]
    """In progress or still to come, soonest first."""
    past_maintenance: tuple[MaintenanceView, ...]
    """Newest first."""
    commitments: tuple[CommitmentView, ...] = ()
    """The commitments beyond uptime, in the contract's order: counts and figures only."""

    @property
    def stale_services(self) -> tuple[ServiceView, ...]:
        """Services without a fresh probe result."""
        return tuple(view for view in self.services if view.stale)


def _sane(instant: int | None) -> bool:
    return instant is None or 0 <= instant < LAST_INSTANT


def _one_line(text: str) -> bool:
    return "\n" not in text and "\r" not in text


def unpublishable(view: IncidentView | MaintenanceView) -> str | None:
    """Why a stored record cannot be shown as it is (an instant no page can write, a title
    over several lines), else ``None``. Stores validate what they accept; this guards the
    public surfaces against a record written before they did."""
    instants: list[int | None]
    if isinstance(view, IncidentView):
        instants = [view.started, view.resolved, *(update.at for update in view.updates)]
    else:
        instants = [view.start, view.end, view.announced]
    bad = next((instant for instant in instants if not _sane(instant)), None)
    if bad is not None:
        return f"instant {instant_text(bad)} is out of range"
    if not _one_line(view.title):
        return "its title has a line break"
    return None


MaintenanceStatus = Literal["scheduled", "in-progress", "completed", "cancelled"]


def maintenance_status(item: MaintenanceView, now: int) -> MaintenanceStatus:
    """Where a maintenance window stands at ``now``."""
    if item.cancelled:
        return "cancelled"
    if item.end <= now:
        return "completed"
    return "in-progress" if item.start <= now else "scheduled"


# --- The one JSON form of each record ------------------------------------------------------
# The operator API, the public API and the audit log all write these (the audit log without
# the id, which it keeps in a column of its own); other tools' formats (Statuspage JSON, Atom,
# iCalendar) each have one mapping of their own from the views.


def _instant_or_none(value: int | None) -> str | None:
    return None if value is None else instant_text(value)


def update_json(update: IncidentUpdate) -> dict[str, Any]:
    return {
        "at": instant_text(update.at),
        "status": update.status,
        "body_html": update.body_html,
        "author": update.author,
    }


def incident_json(view: IncidentView) -> dict[str, Any]:
    """An incident with its updates (oldest first)."""
    return {
        "id": view.id,
        "title": view.title,
        "services": list(view.services),
        "status": view.status,
        "impact": view.impact,
        "started": instant_text(view.started),
        "resolved": _instant_or_none(view.resolved),
        "automatic": view.automatic,
        "exclusion_cause": view.exclusion_cause,
        "updates": [update_json(update) for update in view.updates],
    }


def maintenance_json(view: MaintenanceView) -> dict[str, Any]:
    """A maintenance window as stored (``cancelled``, not where it stands now)."""
    return {
        "id": view.id,
        "title": view.title,
        "services": view.services if view.services == "*" else list(view.services),
        "location": view.location,
        "start": instant_text(view.start),
        "end": instant_text(view.end),
        "announced": instant_text(view.announced),
        "kind": view.kind,
        "reason": view.reason,
        "cancelled": view.cancelled,
    }


def public_maintenance_json(view: MaintenanceView, now: int) -> dict[str, Any]:
    """A maintenance window as the public sees it at ``now``: its ``status`` instead of
    ``cancelled``."""
    shown = maintenance_json(view)
    del shown["cancelled"]
    shown["status"] = maintenance_status(view, now)
    return shown
