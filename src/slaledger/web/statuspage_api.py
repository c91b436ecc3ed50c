"""The Statuspage-compatible read API (``/api/v2/...``), so existing widgets and clients work.

Same paths, documents and field names as Atlassian Statuspage's public v2 API: ``page``,
``status{indicator,description}``, components, incidents with ``incident_updates`` and
scheduled maintenances. Our states map onto theirs (``unknown``, which Statuspage lacks,
shows as ``degraded_performance`` / ``minor``: never as operational; a service with no
recent data is ``unknown``, and the page's description then says ``No Recent Data since
…``). Ids are strings:
the service id for a component, the incident number, ``maintenance-<n>`` for a window.
Timestamps are ISO 8601 in UTC with milliseconds. An update's ``body`` is the text of its
sanitised HTML (Statuspage bodies are plain text), links as ``text (target)``. A
component's ``created_at`` is when its service first existed, ``updated_at`` its state's
last change; shortlinks are the incident's and the window's own pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from slaledger.core.publication import (
    Impact,
    IncidentView,
    MaintenanceView,
    ServiceState,
    ServiceView,
    StatusSnapshot,
    maintenance_status,
)
from slaledger.core.timebase import from_instant
from slaledger.web.errors import SERVER_ERRORS
from slaledger.web.snapshot_cache import JSON, Render, SnapshotCache
from slaledger.web.wording import emergency_text

ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]
Indicator = Literal["none", "minor", "major", "critical", "maintenance"]
MaintenanceStatus = Literal["scheduled", "in_progress", "verifying", "completed"]
UpdateStatus = Literal[
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
    "scheduled",
    "in_progress",
    "verifying",
    "completed",
]
MOST_RECENT = 50
"""Incidents and maintenances in ``incidents.json`` and ``scheduled-maintenances.json``."""
TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"

COMPONENT_STATUS: dict[ServiceState, ComponentStatus] = {
    "operational": "operational",
    "degraded": "degraded_performance",
    "partial-outage": "partial_outage",
    "major-outage": "major_outage",
    "maintenance": "under_maintenance",
    "unknown": "degraded_performance",
}
INDICATOR: dict[ServiceState, tuple[Indicator, str]] = {
    "operational": ("none", "All Systems Operational"),
    "degraded": ("minor", "Partially Degraded Service"),
    "partial-outage": ("major", "Partial System Outage"),
    "major-outage": ("critical", "Major Service Outage"),
    "maintenance": ("maintenance", "Service Under Maintenance"),
    "unknown": ("minor", "Status Unknown"),
}
IMPACT_COMPONENT_STATUS: dict[Impact, ComponentStatus] = {
    "none": "operational",
    "minor": "degraded_performance",
    "major": "partial_outage",
    "critical": "major_outage",
}
"""What an incident of each impact does to its components (``affected_components``)."""
MAINTENANCE_STATUS: dict[str, MaintenanceStatus] = {
    "scheduled": "scheduled",
    "in-progress": "in_progress",
    "completed": "completed",
}


def timestamp(instant: int) -> str:
    """ISO 8601 UTC with milliseconds, as Statuspage writes them."""
    moment = from_instant(instant)
    # The year is padded by hand: strftime's %Y writes year 26 as "26".
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Text(HTMLParser):
    _BREAKS = frozenset({"p", "br", "li", "div", "h1", "h2", "h3", "h4", "pre", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._link: tuple[str, int] | None = None
        """The open link's target and where its text starts in ``parts``."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS and self.parts:
            self.parts.append("\n")
        if tag == "a":
            href = dict(attrs).get("href")
            self._link = None if not href else (href, len(self.parts))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            href, start = self._link
            self._link = None
            text = "".join(self.parts[start:]).strip()
            if text != href and text != href.removeprefix("mailto:"):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(body_html: str) -> str:
    """The text of sanitised HTML, paragraphs on their own lines, each link's target after
    its text in parentheses (unless the text is the target)."""
    parser = _Text()
    parser.feed(body_html)
    parser.close()
    lines = "".join(parser.parts).split("\n")
    return "\n".join(line.strip() for line in lines if line.strip())


# --- Models (Statuspage's field names) -----------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatuspagePageOut(_Out):
    id: str
    name: str
    url: str
    time_zone: str
    updated_at: str = Field(pattern=TIMESTAMP)


class StatuspageStatusOut(_Out):
    indicator: Indicator
    description: str


class StatuspageComponentOut(_Out):
    id: str
    name: str
    status: ComponentStatus
    created_at: str = Field(pattern=TIMESTAMP)
    updated_at: str = Field(pattern=TIMESTAMP)
    position: int
    description: str | None
    showcase: bool
    start_date: str | None = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    group_id: str | None
    page_id: str
    group: bool
    only_show_if_degraded: bool


class StatuspageAffectedComponentOut(_Out):
    code: str
    name: str
    old_status: ComponentStatus
    new_status: ComponentStatus


class StatuspageIncidentUpdateOut(_Out):
    id: str
    status: UpdateStatus
    body: str
    incident_id: str
    created_at: str = Field(pattern=TIMESTAMP)
    updated_at: str = Field(pattern=TIMESTAMP)
    display_at: str = Field(pattern=TIMESTAMP)
    affected_components: list[StatuspageAffectedComponentOut] | None
    deliver_notifications: bool
    custom_tweet: str | None
    tweet_id: str | None


class StatuspageIncidentOut(_Out):
    id: str
    name: str
    status: Literal["investigating", "identified", "monitoring", "resolved", "postmortem"]
    created_at: str = Field(pattern=TIMESTAMP)
    updated_at: str = Field(pattern=TIMESTAMP)
    monitoring_at: str | None = Field(pattern=TIMESTAMP)
    resolved_at: str | None = Field(pattern=TIMESTAMP)
    impact: Impact
    shortlink: str
    started_at: str = Field(pattern=TIMESTAMP)
    page_id: str
    incident_updates: list[StatuspageIncidentUpdateOut] = Field(description="Newest first.")
    components: list[StatuspageComponentOut]


class StatuspageMaintenanceOut(_Out):
    id: str
    name: str
    status: MaintenanceStatus
    created_at: str = Field(pattern=TIMESTAMP)
    updated_at: str = Field(pattern=TIMESTAMP)
    monitoring_at: str | None = Field(pattern=TIMESTAMP)
    resolved_at: str | None = Field(pattern=TIMESTAMP)
    impact: Literal["maintenance"]
    shortlink: str
    started_at: str = Field(pattern=TIMESTAMP)
    page_id: str
    incident_updates: list[StatuspageIncidentUpdateOut] = Field(description="Newest first.")
    components: list[StatuspageComponentOut]
    scheduled_for: str = Field(pattern=TIMESTAMP)
    scheduled_until: str = Field(pattern=TIMESTAMP)


class StatuspageSummaryOut(_Out):
    page: StatuspagePageOut
    components: list[StatuspageComponentOut]
    incidents: list[StatuspageIncidentOut] = Field(description="Unresolved incidents.")
    scheduled_maintenances: list[StatuspageMaintenanceOut] = Field(
        description="Upcoming and active."
    )
    status: StatuspageStatusOut


class StatuspageStatusDocumentOut(_Out):
    page: StatuspagePageOut
    status: StatuspageStatusOut


class StatuspageComponentsOut(_Out):
    page: StatuspagePageOut
    components: list[StatuspageComponentOut]


class StatuspageIncidentsOut(_Out):
    page: StatuspagePageOut
    incidents: list[StatuspageIncidentOut]


class StatuspageMaintenancesOut(_Out):
    page: StatuspagePageOut
    scheduled_maintenances: list[StatuspageMaintenanceOut]


# --- Rendering -----------------------------------------------------------------------------


class StatuspageDocuments:
    """The Statuspage documents of one snapshot."""

    def __init__(self, snapshot: StatusSnapshot, page_url: str) -> None:
        self.snapshot = snapshot
        self.url = page_url.rstrip("/")
        updated = timestamp(snapshot.generated_at)
        self.page = StatuspagePageOut(
            id=snapshot.contract,
            name=snapshot.title,
            url=self.url,
            time_zone=snapshot.timezone,
            updated_at=updated,
        )
        self.components = [
            self._component(view, position) for position, view in enumerate(snapshot.services, 1)
        ]
        self._by_id = {component.id: component for component in self.components}

    def _component(self, view: ServiceView, position: int) -> StatuspageComponentOut:
        created = self.snapshot.generated_at if view.since is None else view.since
        changed = created if view.changed_at is None else max(created, view.changed_at)
        oldest = view.months[-1].month if view.months else None
        return StatuspageComponentOut(
            id=view.id,
            name=view.name,
            status=COMPONENT_STATUS[view.state],
            created_at=timestamp(created),
            updated_at=timestamp(changed),
            position=position,
            description=view.description,
            showcase=True,
            start_date=None if oldest is None else oldest + "-01",
            group_id=None,
            page_id=self.snapshot.contract,
            group=False,
            only_show_if_degraded=False,
        )

    def _components_of(
        self, services: tuple[str, ...] | Literal["*"]
    ) -> list[StatuspageComponentOut]:
        if services == "*":
            return list(self.components)
        return [self._by_id[key] for key in services if key in self._by_id]

    def status(self) -> StatuspageStatusOut:
        indicator, description = INDICATOR[self.snapshot.overall]
        stale = [v.last_observed for v in self.snapshot.stale_services]
        if stale and self.snapshot.overall == "unknown":
            seen = [instant for instant in stale if instant is not None]
            description = "No Recent Data" + (f" since {timestamp(max(seen))}" if seen else "")
        return StatuspageStatusOut(indicator=indicator, description=description)

    def _affected(
        self, incident: IncidentView, number: int, status: str
    ) -> list[StatuspageAffectedComponentOut] | None:
        """What update ``number`` (1: the first) did to the incident's components: the first
        takes them from operational to the impact's status, a resolution back."""
        hit = IMPACT_COMPONENT_STATUS[incident.impact]
        old: ComponentStatus = "operational" if number == 1 else hit
        new: ComponentStatus = "operational" if status == "resolved" else hit
        components = self._components_of(incident.services)
        if not components:
            return None
        return [
            StatuspageAffectedComponentOut(
                code=component.id, name=component.name, old_status=old, new_status=new
            )
            for component in components
        ]

    def incident(self, incident: IncidentView) -> StatuspageIncidentOut:
        key = str(incident.id)
        updates = [
            StatuspageIncidentUpdateOut(
                id=f"{key}-{number}",
                status=update.status,
                body=html_text(update.body_html),
                incident_id=key,
                created_at=timestamp(update.at),
                updated_at=timestamp(update.at),
                display_at=timestamp(update.at),
                affected_components=self._affected(incident, number, update.status),
                deliver_notifications=True,
                custom_tweet=None,
                tweet_id=None,
            )
            for number, update in enumerate(incident.updates, 1)
        ]
        monitoring = next((u.at for u in incident.updates if u.status == "monitoring"), None)
        last = max([incident.started, *(u.at for u in incident.updates)])
        return StatuspageIncidentOut(
            id=key,
            name=incident.title,
            status=incident.status,
            created_at=timestamp(incident.started),
            updated_at=timestamp(last),
            monitoring_at=None if monitoring is None else timestamp(monitoring),
            resolved_at=None if incident.resolved is None else timestamp(incident.resolved),
            impact=incident.impact,
            shortlink=f"{self.url}/incidents/{key}",
            started_at=timestamp(incident.started),
            page_id=self.snapshot.contract,
            incident_updates=updates[::-1],
            components=self._components_of(incident.services),
        )

    def maintenance(self, item: MaintenanceView) -> StatuspageMaintenanceOut | None:
        """``None`` for a cancelled window (Statuspage has no such status)."""
        status = maintenance_status(item, self.snapshot.generated_at)
        if status == "cancelled":
            return None
        key = f"maintenance-{item.id}"
        text = (
            item.title
            if item.kind == "scheduled"
            else f"{item.title}: {emergency_text(item.reason)}"
        )
        steps: list[tuple[UpdateStatus, int, str]] = [("scheduled", item.announced, text)]
        if status in ("in-progress", "completed"):
            steps.append(("in_progress", item.start, "Maintenance in progress."))
        if status == "completed":
            steps.append(("completed", item.end, "Maintenance completed."))
        updates = [
            StatuspageIncidentUpdateOut(
                id=f"{key}-{number}",
                status=step,
                body=body,
                incident_id=key,
                created_at=timestamp(at),
                updated_at=timestamp(at),
                display_at=timestamp(at),
                affected_components=None,
                deliver_notifications=True,
                custom_tweet=None,
                tweet_id=None,
            )
            for number, (step, at, body) in enumerate(steps, 1)
        ]
        return StatuspageMaintenanceOut(
            id=key,
            name=item.title,
            status=MAINTENANCE_STATUS[status],
            created_at=timestamp(item.announced),
            updated_at=timestamp(max(item.announced, steps[-1][1])),
            monitoring_at=None,
            resolved_at=timestamp(item.end) if status == "completed" else None,
            impact="maintenance",
            shortlink=f"{self.url}/maintenance/{item.id}",
            started_at=timestamp(item.start),
            page_id=self.snapshot.contract,
            incident_updates=updates[::-1],
            components=self._components_of(item.services),
            scheduled_for=timestamp(item.start),
            scheduled_until=timestamp(item.end),
        )

    def maintenances(self, items: tuple[MaintenanceView, ...]) -> list[StatuspageMaintenanceOut]:
        return [out for out in map(self.maintenance, items) if out is not None]

    def summary(self) -> StatuspageSummaryOut:
        return StatuspageSummaryOut(
            page=self.page,
            components=self.components,
            incidents=[self.incident(item) for item in self.snapshot.active_incidents],
            scheduled_maintenances=self.maintenances(self.snapshot.upcoming_maintenance),
            status=self.status(),
        )

    def all_incidents(self) -> list[StatuspageIncidentOut]:
        """Unresolved, then resolved newest first: the 50 most recent."""
        both = self.snapshot.active_incidents + self.snapshot.recent_incidents
        return [self.incident(item) for item in both[:MOST_RECENT]]

    def all_maintenances(self) -> list[StatuspageMaintenanceOut]:
        upcoming = sorted(self.snapshot.upcoming_maintenance, key=lambda m: -m.start)
        return self.maintenances(tuple(upcoming) + self.snapshot.past_maintenance)[:MOST_RECENT]


def _encode(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def _documents(snapshot: StatusSnapshot, page_url: str) -> dict[str, BaseModel]:
    """Every ``/api/v2`` document of ``snapshot`` by path (cheap: one snapshot's worth)."""
    made = StatuspageDocuments(snapshot, page_url)
    page = made.page
    planned = made.maintenances(snapshot.upcoming_maintenance)
    return {
        "/summary.json": made.summary(),
        "/status.json": StatuspageStatusDocumentOut(page=page, status=made.status()),
        "/components.json": StatuspageComponentsOut(page=page, components=made.components),
        "/incidents.json": StatuspageIncidentsOut(page=page, incidents=made.all_incidents()),
        "/incidents/unresolved.json": StatuspageIncidentsOut(
            page=page, incidents=[made.incident(item) for item in snapshot.active_incidents]
        ),
        "/scheduled-maintenances.json": StatuspageMaintenancesOut(
            page=page, scheduled_maintenances=made.all_maintenances()
        ),
        "/scheduled-maintenances/upcoming.json": StatuspageMaintenancesOut(
            page=page, scheduled_maintenances=[m for m in planned if m.status == "scheduled"]
        ),
        "/scheduled-maintenances/active.json": StatuspageMaintenancesOut(
            page=page, scheduled_maintenances=[m for m in planned if m.status == "in_progress"]
        ),
    }


ROUTES: tuple[tuple[str, type[BaseModel], str], ...] = (
    (
        "/summary.json",
        StatuspageSummaryOut,
        "Page, components, unresolved incidents, maintenance, status",
    ),
    ("/status.json", StatuspageStatusDocumentOut, "The page's status indicator"),
    ("/components.json", StatuspageComponentsOut, "Every component (service)"),
    ("/incidents.json", StatuspageIncidentsOut, "The 50 most recent incidents"),
    ("/incidents/unresolved.json", StatuspageIncidentsOut, "Incidents not yet resolved"),
    ("/scheduled-maintenances.json", StatuspageMaintenancesOut, "The 50 most recent maintenances"),
    (
        "/scheduled-maintenances/upcoming.json",
        StatuspageMaintenancesOut,
        "Maintenance still to come",
    ),
    ("/scheduled-maintenances/active.json", StatuspageMaintenancesOut, "Maintenance in progress"),
)


def statuspage_router(cache: SnapshotCache, *, page_url: str = "") -> APIRouter:
    """``/api/v2/*.json`` as Statuspage serves them; ``page_url`` is the page's public URL."""
    router = APIRouter(prefix="/api/v2", tags=["statuspage"], responses=SERVER_ERRORS)

    def renderer(path: str) -> Render:
        def render(snapshot: StatusSnapshot) -> bytes:
            if path == "/summary.json":  # the hot one: build only what it needs
                return _encode(StatuspageDocuments(snapshot, page_url).summary())
            return _encode(_documents(snapshot, page_url)[path])

        return render

    def endpoint(key: str, render: Render) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            return cache.response(request, key, render)

        return serve

    for path, model, summary in ROUTES:
        render = renderer(path)
        cache.fast_route("/api/v2" + path, render, JSON)
        router.add_api_route(
            path,
            endpoint("/api/v2" + path, render),
            methods=["GET"],
            response_model=model,
            summary=summary,
            name="statuspage" + path.removesuffix(".json").replace("/", "_").replace("-", "_"),
        )
    return router
