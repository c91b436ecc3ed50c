"""What the public status page, feeds and public API show: read models, no I/O.

One :class:`StatusSnapshot` is built at most once a minute from the store and the contract;
the HTML page, the JSON APIs (ours and the Statuspage-compatible one), badges and feeds are
all rendered from it, so every surface shows the same figures as the settlement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal, get_args

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
