"""The public status page: ``GET /``, ``GET /services/{id}``, ``GET /incidents/{id}``,
``GET /maintenance/{id}`` and ``GET /static/{name}``.

Server-rendered with Jinja2 (autoescape on) from the current :class:`StatusSnapshot`, once
per snapshot (:mod:`slaledger.web.snapshot_cache`); readable without JavaScript. Only an
incident update's ``body_html``, already sanitised, is inserted as HTML.
:func:`mount_public_web` puts every public surface on an app.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from slaledger.core.contract import Contract
from slaledger.core.figures import decimal_text
from slaledger.core.publication import (
    DayFigure,
    Impact,
    IncidentStatus,
    IncidentView,
    MaintenanceView,
    ServiceState,
    ServiceView,
    StatusSnapshot,
    maintenance_status,
)
from slaledger.core.timebase import US_PER_MINUTE, format_instant, from_instant
from slaledger.web.badges import badges_router, truncated
from slaledger.web.commitment_display import chart, commitment_rows, value_text
from slaledger.web.errors import install_error_handlers
from slaledger.web.public_api import public_api_router
from slaledger.web.snapshot_cache import CSS, HTML, FastPath, Rendered, SnapshotCache, Snapshots
from slaledger.web.statuspage_api import statuspage_router
from slaledger.web.wording import emergency_text

INLINE_HISTORY_SERVICES = 25
"""Up to this many services the page shows their monthly history; beyond, it links to it."""
STATE_LABELS: dict[ServiceState, str] = {
    "operational": "Operational",
    "degraded": "Degraded performance",
    "partial-outage": "Partial outage",
    "major-outage": "Major outage",
    "maintenance": "Under maintenance",
    "unknown": "No data",
}
OVERALL_LABELS: dict[ServiceState, str] = {
    **STATE_LABELS,
    "operational": "All systems operational",
    "unknown": "Status unknown: no recent data",
}
IMPACT_LABELS: dict[Impact, str] = {
    "none": "none",
    "minor": "degraded performance",
    "major": "partial outage",
    "critical": "major outage",
}
"""An incident's impact in the words of the state it gives its services (``critical``: a
major outage), so the banner and the incident say the same."""
INCIDENT_LABELS: dict[IncidentStatus, str] = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
}
MAINTENANCE_LABELS = {
    "scheduled": "Upcoming",
    "in-progress": "In progress",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
DOWN_BELOW = Fraction(95)
"""A day under this availability shows as a red bar (under the target only: amber)."""
INCIDENT_ID = re.compile(r"\d{1,18}")
MAINTENANCE_ID = re.compile(r"-?\d{1,18}")
"""Ids in detail pages' paths; maintenance windows of the events file have negative ids."""


def when(instant: int) -> str:
    """``2026-11-03 12:34 UTC``."""
    moment = from_instant(instant)
    return f"{moment.year:04d}-" + moment.strftime("%m-%d %H:%M UTC")


def state_now(view: ServiceView) -> str:
    """A service's state as of now: ``Operational now``; ``No recent data since …`` when
    its newest probe result is too old (``Major outage now · no recent data since …`` when
    an incident says worse)."""
    if view.stale:
        since = "" if view.last_observed is None else f" since {when(view.last_observed)}"
        if view.state == "unknown":
            return f"No recent data{since}"
        return f"{STATE_LABELS[view.state]} now · no recent data{since}"
    if view.state == "unknown":
        return STATE_LABELS["unknown"]
    return f"{STATE_LABELS[view.state]} now"


def stale_newest(snapshot: StatusSnapshot) -> int | None:
    """The newest probe result among the services without recent data."""
    seen = [v.last_observed for v in snapshot.stale_services if v.last_observed is not None]
    return max(seen, default=None)


def duration(start: int, end: int) -> str:
    """``2 h 5 min``: whole minutes from ``start`` to ``end`` (rounded down), at most three
    units (days, hours, minutes), zero units left out."""
    minutes = max(0, end - start) // US_PER_MINUTE
    if minutes == 0:
        return "under 1 min"
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    units = ((days, "d"), (hours, "h"), (minutes, "min"))
    return " ".join(f"{count} {unit}" for count, unit in units if count)


def percent(value: Fraction | None) -> str:
    """The exact figure as the statements show it: 6 decimals, half-even."""
    return "no data" if value is None else decimal_text(value) + " %"


@dataclass(frozen=True)
class Bar:
    css: str
    text: str


def day_bar(day: DayFigure, target: Fraction, titles: dict[int, str]) -> Bar:
    """One daily bar: its colour class and its text alternative (also the tooltip)."""
    count = len(day.incident_ids)
    incidents = "no incidents" if count == 0 else f"{count} incident{'s' * (count != 1)}"
    named = [titles[key] for key in day.incident_ids if key in titles]
    if named:
        incidents += ": " + "; ".join(named)
    if day.availability is None:
        return Bar("n", f"{day.day}: no data, {incidents}")
    figure = truncated(day.availability, 2)
    if day.availability >= target:
        css = "i" if count else "m"
    else:
        css = "d" if day.availability < DOWN_BELOW else "w"
    return Bar(css, f"{day.day}: {figure} %, {incidents}")


@dataclass(frozen=True)
class HistoryRow:
    month: str
    figure: str
    missed: bool
    downtime: str
    credit: int
    settled: bool
    locations: tuple[tuple[str, bool], ...]
    """Per location: the figure and whether it missed the target."""


def history(view: ServiceView) -> tuple[tuple[str, ...], list[HistoryRow]]:
    """The location names and one row per retained month, newest first."""
    places = tuple(sorted(view.locations))
    by_place = {place: {m.month: m for m in view.locations[place]} for place in places}
    rows = []
    for month in view.months:
        cells = []
        for place in places:
            found = by_place[place].get(month.month)
            if found is None:
                cells.append(("–", False))
            else:
                cells.append((percent(found.availability), found.met is False))
        rows.append(
            HistoryRow(
                month=month.month,
                figure=percent(month.availability),
                missed=month.met is False,
                downtime="–" if month.downtime_minutes is None else str(month.downtime_minutes),
                credit=month.credit_percent,
                settled=month.settled,
                locations=tuple(cells),
            )
        )
    return places, rows


def under_target(view: ServiceView) -> bool:
    """Whether the month to date is below the service's target."""
    return view.month_to_date is not None and view.month_to_date < Fraction(view.target)


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("slaledger.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    environment.filters["when"] = when
    environment.filters["iso"] = format_instant
    environment.filters["percent"] = percent
    environment.globals["duration"] = duration
    environment.globals["emergency_text"] = emergency_text
    environment.filters["safe_html"] = Markup  # only for sanitised incident bodies
    environment.globals.update(
        state_labels=STATE_LABELS,
        overall_labels=OVERALL_LABELS,
        incident_labels=INCIDENT_LABELS,
        maintenance_labels=MAINTENANCE_LABELS,
        under_target=under_target,
        impact_labels=IMPACT_LABELS,
        state_now=state_now,
        stale_newest=stale_newest,
        commitment_rows=commitment_rows,
        commitment_chart=chart,
        value_text=value_text,
    )
    return environment


class StatusPage:
    """Renders the page and the per-service pages of a snapshot."""

    def __init__(self, *, page_url: str = "") -> None:
        self.environment = _environment()
        self.page_url = page_url

    def _common(self, snapshot: StatusSnapshot) -> dict[str, Any]:
        titles = {item.id: item.title for item in snapshot.active_incidents}
        titles.update({item.id: item.title for item in snapshot.recent_incidents})
        names = {view.id: view.name for view in snapshot.services}

        def services_of(item: Any) -> str:
            if item.services == "*":
                return "All services"
            return ", ".join(names.get(key, key) for key in item.services)

        def bars(view: ServiceView) -> list[Bar]:
            target = Fraction(view.target)
            return [day_bar(day, target, titles) for day in view.days]

        def status_of(item: MaintenanceView) -> str:
            label = MAINTENANCE_LABELS[maintenance_status(item, snapshot.generated_at)]
            return label if item.kind == "scheduled" or item.cancelled else f"{label} · emergency"

        def service_links(item: Any) -> list[tuple[str, str | None]]:
            """Each service's name and page (``None``: not on the page), in contract order;
            empty for every service."""
            if item.services == "*":
                return []
            shown: list[tuple[str, str | None]] = [
                (view.name, f"/services/{view.id}")
                for view in snapshot.services
                if view.id in item.services
            ]
            return shown + [(key, None) for key in item.services if key not in names]

        return {
            "snapshot": snapshot,
            "services_of": services_of,
            "service_links": service_links,
            "bars": bars,
            "history": history,
            "maintenance_status": status_of,
            "page_url": self.page_url,
        }

    def page(self, snapshot: StatusSnapshot) -> bytes:
        template = self.environment.get_template("status.html")
        inline = len(snapshot.services) <= INLINE_HISTORY_SERVICES
        text = template.render(**self._common(snapshot), inline_history=inline)
        return text.encode()

    def service(self, snapshot: StatusSnapshot, service: str) -> Rendered:
        view = next((view for view in snapshot.services if view.id == service), None)
        if view is None:
            text = self.environment.get_template("not_found.html").render(
                snapshot=snapshot, what=f"No service {service!r} on this page."
            )
            return Rendered.of(text.encode(), HTML, status=404)
        template = self.environment.get_template("service.html")
        return Rendered.of(template.render(**self._common(snapshot), view=view).encode(), HTML)

    def _not_found(self, snapshot: StatusSnapshot, what: str) -> Rendered:
        text = self.environment.get_template("not_found.html").render(snapshot=snapshot, what=what)
        return Rendered.of(text.encode(), HTML, status=404)

    def incident(self, snapshot: StatusSnapshot, incident_id: str) -> Rendered:
        """The page of an incident on the page (active, or resolved in the last 90 days)."""
        found: IncidentView | None = None
        if INCIDENT_ID.fullmatch(incident_id):
            number = int(incident_id)
            every = (*snapshot.active_incidents, *snapshot.recent_incidents)
            found = next((item for item in every if item.id == number), None)
        if found is None:
            return self._not_found(snapshot, f"No incident {incident_id!r} on this page.")
        template = self.environment.get_template("incident.html")
        return Rendered.of(template.render(**self._common(snapshot), item=found).encode(), HTML)

    def maintenance(self, snapshot: StatusSnapshot, maintenance_id: str) -> Rendered:
        """The page of a maintenance window on the page (upcoming, in progress or past)."""
        found: MaintenanceView | None = None
        if MAINTENANCE_ID.fullmatch(maintenance_id):
            number = int(maintenance_id)
            every = (*snapshot.upcoming_maintenance, *snapshot.past_maintenance)
            found = next((item for item in every if item.id == number), None)
        if found is None:
            what = f"No maintenance window {maintenance_id!r} on this page."
            return self._not_found(snapshot, what)
        template = self.environment.get_template("maintenance.html")
        return Rendered.of(template.render(**self._common(snapshot), item=found).encode(), HTML)


def _static_files() -> dict[str, tuple[bytes, str]]:
    folder = files("slaledger.web").joinpath("static")
    types = {".css": CSS, ".svg": "image/svg+xml", ".png": "image/png"}
    found = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rpartition(".")[2]
        if item.is_file() and suffix in types:
            found[item.name] = (item.read_bytes(), types[suffix])
    return found


def status_page_router(cache: SnapshotCache, *, page_url: str = "") -> APIRouter:
    """``GET /`` (the page), ``GET /services/{id}``, ``GET /incidents/{id}``,
    ``GET /maintenance/{id}`` and ``GET /static/{name}``."""
    router = APIRouter(include_in_schema=False)
    page = StatusPage(page_url=page_url)
    cache.fast_route("/", page.page, HTML)
    static = _static_files()
    for name, (body, media_type) in static.items():
        cache.fast_route(f"/static/{name}", _constant(body), media_type)

    @router.get("/")
    async def status_page(request: Request) -> Response:
        return cache.response(request, "/", page.page, HTML)

    @router.get("/services/{service}")
    async def service_page(request: Request, service: str) -> Response:
        return cache.response(
            request, f"service\0{service}", lambda snapshot: page.service(snapshot, service)
        )

    @router.get("/incidents/{incident_id}")
    async def incident_page(request: Request, incident_id: str) -> Response:
        return cache.response(
            request,
            f"incident\0{incident_id}",
            lambda snapshot: page.incident(snapshot, incident_id),
        )

    @router.get("/maintenance/{maintenance_id}")
    async def maintenance_page(request: Request, maintenance_id: str) -> Response:
        return cache.response(
            request,
            f"maintenance\0{maintenance_id}",
            lambda snapshot: page.maintenance(snapshot, maintenance_id),
        )

    @router.get("/static/{name}")
    async def static_file(request: Request, name: str) -> Response:
        if name not in static:
            return Response(b"not found\n", status_code=404, media_type="text/plain")
        body, media_type = static[name]
        return cache.response(request, f"/static/{name}", _constant(body), media_type)

    return router


def _constant(body: bytes) -> Callable[[StatusSnapshot], bytes]:
    return lambda _snapshot: body


def openapi_router(
    routers: Sequence[APIRouter], *, title: str = "slaledger public API", version: str = "1"
) -> APIRouter:
    """``GET /api/v1/openapi.json``: the OpenAPI document of ``routers``' routes only."""
    router = APIRouter()
    document: dict[str, Any] = {}

    @router.get("/api/v1/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        if not document:
            routes = [route for part in routers for route in part.routes]
            document.update(get_openapi(title=title, version=version, routes=routes))
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})

    return router


def mount_public_web(
    app: FastAPI, contract: Contract, snapshots: Snapshots, *, page_url: str = ""
) -> SnapshotCache:
    """Put the page, both JSON APIs, badges and ``/api/v1/openapi.json`` on ``app``, with
    the cached routes served ahead of FastAPI's routing. Returns the shared cache."""
    install_error_handlers(app)
    cache = SnapshotCache(snapshots)
    api = public_api_router(contract, cache)
    statuspage = statuspage_router(cache, page_url=page_url)
    badges = badges_router(cache)
    app.include_router(status_page_router(cache, page_url=page_url))
    for router in (api, statuspage, badges):
        app.include_router(router)
    app.include_router(
        openapi_router([api, statuspage, badges], title=f"{contract.name}: public API")
    )
    app.add_middleware(FastPath, cache=cache)
    return cache
