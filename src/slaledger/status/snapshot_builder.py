"""Building the :class:`StatusSnapshot` every public surface renders, once a minute.

The month to date and today are settled here (one read of the store, three settlements:
pooled, per location, and today); closed days and months come from the figures table,
settled months from their statements. Incidents and maintenance come from their stores.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import numpy as np

from slaledger.core.classified import Classified
from slaledger.core.contract import Contract, ProbeRatio
from slaledger.core.events import Events
from slaledger.core.figures import whole_minutes_allowed
from slaledger.core.maintenance_suggest import notice_check
from slaledger.core.periods import Period, calendar_month
from slaledger.core.publication import (
    DayFigure,
    IncidentView,
    MaintenanceView,
    MonthFigure,
    ServiceState,
    ServiceView,
    StatusSnapshot,
    unpublishable,
    worst_state,
)
from slaledger.core.report import Report, Result
from slaledger.core.settle import settle_classified
from slaledger.core.timebase import US_PER_DAY, to_instant
from slaledger.status.commitment_figures import CommitmentFigures
from slaledger.status.figures_job import day_text, lookback, month_of, month_text, variants
from slaledger.store.figure_store import Figure, FigureStore
from slaledger.store.tiers import LOAD_MARGIN, Stores, load_classified

log = logging.getLogger("slaledger.publisher")

BAR_DAYS = 90
RECENT_INCIDENTS = 50
PAST_MAINTENANCE = 20

_IMPACT_STATE: dict[str, ServiceState] = {
    "none": "operational",
    "minor": "degraded",
    "major": "partial-outage",
    "critical": "major-outage",
}


class IncidentSource(Protocol):
    def all(self, *, active: bool | None = None, limit: int = 100) -> list[IncidentView]: ...


class MaintenanceSource(Protocol):
    def all(self, *, include_cancelled: bool = True) -> list[MaintenanceView]: ...


@dataclass(frozen=True)
class LiveMonth:
    """The month to date at ``now``: the contract's own report, its pooled and per-location
    variants, and today so far (pooled)."""

    now: int
    data: Classified
    """What was settled: the month to date, classified."""
    own: Report
    pooled: Report
    by_location: Report
    today: Report


def _month_figure(figure: Figure) -> MonthFigure:
    return MonthFigure(
        month=figure.period,
        location=figure.location,
        availability=figure.availability,
        downtime_minutes=figure.downtime_minutes,
        met=figure.met,
        credit_percent=figure.credit_percent,
        settled=figure.settled,
    )


def _live_month(result: Result, label: str) -> MonthFigure:
    return MonthFigure(
        month=label,
        location=result.location,
        availability=result.availability,
        downtime_minutes=result.downtime_minutes,
        met=result.met,
        credit_percent=result.credit_percent,
        settled=False,
    )


def _budget(result: Result | None) -> int | None:
    if result is None or result.total_minutes is None or result.downtime_minutes is None:
        return None
    return whole_minutes_allowed(result.target, result.total_minutes) - result.downtime_minutes


def last_observed(data: Classified, now: int) -> dict[str, int]:
    """The newest probe result of each service in ``data``, up to ``now``."""
    ends = data.timestamp if data.last is None else data.last
    kept = data.timestamp <= now
    newest = np.full(len(data.services), -1, dtype=np.int64)
    np.maximum.at(newest, data.service[kept], np.minimum(ends[kept], now))
    return {name: int(newest[code]) for code, name in enumerate(data.services) if newest[code] >= 0}


V = TypeVar("V", IncidentView, MaintenanceView)


def publishable(views: Sequence[V]) -> list[V]:
    """``views`` without the records no page could show (logged): one bad record never
    breaks a public surface."""
    kept = []
    for view in views:
        problem = unpublishable(view)
        if problem is None:
            kept.append(view)
        else:
            kind = "incident" if isinstance(view, IncidentView) else "maintenance window"
            log.error("%s #%d is not published: %s; correct or delete it", kind, view.id, problem)
    return kept


def _covers(services: Sequence[str] | str, service: str) -> bool:
    return services == "*" or service in services


def file_maintenance(contract: Contract, events: Events) -> list[MaintenanceView]:
    """The events file's maintenance windows as views, numbered -1, -2, … (operators'
    windows have positive ids)."""
    views = []
    for index, window in enumerate(events.maintenance):
        start, end, announced = (
            to_instant(window.start),
            to_instant(window.end),
            to_instant(window.announced),
        )
        check = notice_check(contract, window.services, start, end, announced, window.title)
        views.append(
            MaintenanceView(
                id=-(index + 1),
                title=window.title or "Maintenance",
                services=window.services,
                location=window.location,
                start=start,
                end=end,
                announced=announced,
                kind=check.kind,
                reason=check.reason,
            )
        )
    return views


def day_start(day: str) -> int:
    """The first instant of a ``YYYY-MM-DD`` UTC day."""
    return to_instant(datetime.fromisoformat(day).replace(tzinfo=UTC))


def _first_measured_days(stored: Sequence[Figure]) -> dict[str, str]:
    """Each service's first day with a measured figure."""
    first: dict[str, str] = {}
    for figure in stored:
        if len(figure.period) == 10 and figure.availability is not None:
            known = first.get(figure.service)
            if known is None or figure.period < known:
                first[figure.service] = figure.period
    return first


def _last_change(
    service_id: str,
    incidents: Sequence[IncidentView],
    windows: Sequence[MaintenanceView],
    now: int,
) -> int:
    """The last instant up to ``now`` at which an incident or a maintenance window of
    ``service_id`` began or ended (0: none)."""
    moments = [0]
    for incident in incidents:
        if _covers(incident.services, service_id):
            moments += [incident.started, incident.resolved or 0]
    for window in windows:
        if not window.cancelled and _covers(window.services, service_id):
            moments += [window.start, window.end]
    return max(moment for moment in moments if moment <= now)


class SnapshotBuilder:
    def __init__(
        self,
        contract: Contract,
        stores: Stores,
        figures: FigureStore,
        incidents: IncidentSource,
        maintenance: MaintenanceSource,
        events: Events | None = None,
        title: str | None = None,
        commitments: CommitmentFigures | None = None,
    ) -> None:
        self._contract = contract
        self._stores = stores
        self._figures = figures
        self._incidents = incidents
        self._maintenance = maintenance
        self._events = events or Events()
        self._stored: tuple[tuple[int, int], list[Figure]] | None = None
        """The figures last read, by the stamp they were read at."""
        self._file_windows = file_maintenance(contract, self._events)
        self._title = title or contract.name
        self._commitments = commitments
        self._first_seen: dict[str, int] = {}
        """The earliest instant each service was seen at by this builder."""

    def set_events(self, events: Events) -> None:
        self._events = events

    def live(self, now: int) -> LiveMonth:
        contract = self._contract
        month = month_of(now, contract)
        span = calendar_month(*month, contract.zone)
        today = Period(now // US_PER_DAY * US_PER_DAY, now // US_PER_DAY * US_PER_DAY + US_PER_DAY)
        start = min(span.start - lookback(contract), today.start) - LOAD_MARGIN
        data = load_classified(self._stores, contract, start, max(span.end, today.end))
        if contract.start is not None and now < contract.start:
            # Not in force yet: nothing is settled or published.
            empty = Report(contract=contract.contract, period=span, results=())
            return LiveMonth(now, data, empty, empty, empty, empty)
        pooled, by_location = variants(contract)
        events = self._events
        settled: dict[bool, Report] = {}
        for per_location, variant in ((False, pooled), (True, by_location)):
            settled[per_location] = settle_classified(
                variant, data, events, month, at=now, known_until=now
            )
        modes = {s.per_location for s in contract.services.values()}
        own = (
            settled[modes.pop()]  # every service pooled, or every one per location
            if len(modes) == 1
            else settle_classified(contract, data, events, month, at=now, known_until=now)
        )
        return LiveMonth(
            now,
            data,
            own,
            settled[False],
            settled[True],
            settle_classified(pooled, data, events, month, known_until=now, period=today),
        )

    def build(self, now: int, live: LiveMonth | None = None) -> StatusSnapshot:
        """The snapshot at ``now``; ``live`` when the month to date is already settled."""
        contract = self._contract
        live = self.live(now) if live is None else live
        label = month_text(month_of(now, contract))
        today = now // US_PER_DAY
        first_day = day_text(today - BAR_DAYS + 1)
        stamp = self._figures.stamp()
        if self._stored is None or self._stored[0] != stamp:
            self._stored = (stamp, self._figures.load())
        stored = self._stored[1]
        days: dict[tuple[str, str], Figure] = {}
        months: dict[str, list[MonthFigure]] = {}
        location_months: dict[tuple[str, str], list[MonthFigure]] = {}
        for figure in stored:
            if len(figure.period) == 10:
                if figure.location is None and figure.period >= first_day:
                    days[(figure.service, figure.period)] = figure
            elif figure.period != label:
                target = (
                    months.setdefault(figure.service, [])
                    if figure.location is None
                    else location_months.setdefault((figure.service, figure.location), [])
                )
                target.append(_month_figure(figure))

        active, recent, upcoming, past = self._records(now)
        observed = last_observed(live.data, now)
        pooled = {r.service: r for r in live.pooled.results}
        first_days = _first_measured_days(stored)
        today_results = {r.service: r for r in live.today.results}
        views = []
        for service_id, service in contract.services.items():
            mtd = pooled.get(service_id)
            newest, stale = self._freshness(service_id, observed, now)
            state = self._state(service_id, mtd, active, upcoming, now, stale)
            bars = []
            for day in range(today - BAR_DAYS + 1, today + 1):
                text = day_text(day)
                if day == today:
                    result = today_results.get(service_id)
                    availability = None if result is None else result.availability
                    downtime = None if result is None else result.downtime_minutes
                else:
                    stored_day = days.get((service_id, text))
                    availability = None if stored_day is None else stored_day.availability
                    downtime = None if stored_day is None else stored_day.downtime_minutes
                touching = tuple(
                    i.id
                    for i in (*active, *recent)
                    if _covers(i.services, service_id)
                    and i.started < (day + 1) * US_PER_DAY
                    and (i.resolved is None or i.resolved > day * US_PER_DAY)
                )
                bars.append(DayFigure(text, availability, downtime, touching))
            service_months = months.get(service_id, [])
            if mtd is not None:
                service_months = [_live_month(mtd, label), *service_months]
            by_location: dict[str, list[MonthFigure]] = {}
            for (owner, location), figures in location_months.items():
                if owner == service_id:
                    by_location[location] = list(figures)
            for result in live.by_location.results:
                if result.service == service_id and result.location is not None:
                    by_location.setdefault(result.location, []).insert(
                        0, _live_month(result, label)
                    )
            since = self._since(service_id, first_days, live, (*active, *recent), now)
            views.append(
                ServiceView(
                    id=service_id,
                    name=service.name,
                    description=service.description,
                    state=state,
                    rule=service.downtime.rule,
                    window=service.window,
                    target=service.target,
                    month_to_date=None if mtd is None else mtd.availability,
                    error_budget_minutes=None
                    if isinstance(service.downtime, ProbeRatio)
                    else _budget(mtd),
                    days=tuple(bars),
                    months=tuple(sorted(service_months, key=lambda m: m.month, reverse=True)),
                    locations={
                        location: tuple(sorted(figures, key=lambda m: m.month, reverse=True))
                        for location, figures in sorted(by_location.items())
                    },
                    last_observed=newest,
                    stale=stale,
                    since=since,
                    changed_at=max(
                        since, _last_change(service_id, (*active, *recent), (*upcoming, *past), now)
                    ),
                )
            )
        return StatusSnapshot(
            generated_at=now,
            contract=contract.contract,
            title=self._title,
            timezone=contract.timezone,
            overall=worst_state([view.state for view in views]),
            services=tuple(views),
            active_incidents=tuple(sorted(active, key=lambda i: -i.started)),
            recent_incidents=tuple(sorted(recent, key=lambda i: -(i.resolved or 0))),
            upcoming_maintenance=tuple(upcoming),
            past_maintenance=tuple(past[:PAST_MAINTENANCE]),
            commitments=() if self._commitments is None else self._commitments.views(now),
        )

    def _records(
        self, now: int
    ) -> tuple[
        list[IncidentView], list[IncidentView], list[MaintenanceView], list[MaintenanceView]
    ]:
        """Active and recently resolved incidents, upcoming and past maintenance: only
        records a page can show."""
        active = publishable(self._incidents.all(active=True, limit=RECENT_INCIDENTS))
        recent = [
            i
            for i in publishable(self._incidents.all(active=False, limit=RECENT_INCIDENTS))
            if i.resolved is not None and i.resolved >= now - BAR_DAYS * US_PER_DAY
        ]
        windows = publishable([*self._maintenance.all(include_cancelled=True), *self._file_windows])
        upcoming = sorted((w for w in windows if w.end > now), key=lambda w: w.start)
        past = sorted((w for w in windows if w.end <= now), key=lambda w: -w.start)
        return active, recent, upcoming, past

    def _freshness(
        self, service_id: str, observed: dict[str, int], now: int
    ) -> tuple[int | None, bool]:
        """The service's newest probe result and whether it is too old (stale)."""
        newest = observed.get(service_id)
        limit = self._contract.stale_after_of(service_id)
        return newest, limit is not None and (newest is None or now - newest > limit)

    def _since(
        self,
        service_id: str,
        first_days: dict[str, str],
        live: LiveMonth,
        incidents: Sequence[IncidentView],
        now: int,
    ) -> int:
        """When ``service_id`` first existed, from what the store holds (so a restart keeps
        it): its first measured day, its first observation this month, its first incident;
        never later than it was first seen here."""
        found = [self._first_seen.get(service_id, now)]
        if service_id in first_days:
            found.append(day_start(first_days[service_id]))
        data = live.data
        if service_id in data.services and len(data):
            rows = data.service == data.services.index(service_id)
            if rows.any():
                found.append(int(data.timestamp[rows].min()))
        found += [i.started for i in incidents if _covers(i.services, service_id)]
        since = min(found)
        self._first_seen[service_id] = since
        return since

    @staticmethod
    def _state(
        service_id: str,
        mtd: Result | None,
        active: Sequence[IncidentView],
        upcoming: Sequence[MaintenanceView],
        now: int,
        stale: bool = False,
    ) -> ServiceState:
        states: list[ServiceState] = [
            _IMPACT_STATE[i.impact] for i in active if _covers(i.services, service_id)
        ]
        if any(
            _covers(w.services, service_id) and w.start <= now < w.end and not w.cancelled
            for w in upcoming
        ):
            states.append("maintenance")
        if stale:  # no fresh data: never operational, an incident may still say worse
            states.append("unknown")
        if not states:
            return "unknown" if mtd is None or mtd.availability is None else "operational"
        return worst_state(states)
