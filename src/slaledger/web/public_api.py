"""The public JSON API, ``/api/v1/sla|status|uptime|incidents|maintenance``.

Every document is rendered from the current :class:`StatusSnapshot` once per snapshot (see
:mod:`slaledger.web.snapshot_cache`). Availabilities are percentages as decimal strings
rounded half-even to 6 places, as in the report JSON; instants are ISO 8601 UTC with ``Z``.
Errors are ``{"error": "..."}`` (:mod:`slaledger.web.errors`): 404 for an unknown service or
location, 422 for a bad query parameter.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from slaledger.core.contract import Contract, Service
from slaledger.core.figures import decimal_text
from slaledger.core.publication import (
    Impact,
    IncidentStatus,
    IncidentView,
    MaintenanceKind,
    MaintenanceStatus,
    MaintenanceView,
    MonthFigure,
    ServiceState,
    ServiceView,
    StatusSnapshot,
    incident_json,
    public_maintenance_json,
)
from slaledger.core.timebase import format_instant
from slaledger.errors import HttpError
from slaledger.web.commitments_api import CommitmentOut, commitment_out
from slaledger.web.errors import SERVER_ERRORS, error_responses
from slaledger.web.snapshot_cache import JSON, SnapshotCache

AVAILABILITY = r"^[0-9]{1,3}\.[0-9]{6}$"
INSTANT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"
PERCENT = r"^[0-9]{1,3}(\.[0-9]+)?$"
DATE_PARAM = r"^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$"
_DATE_PARAM = re.compile(DATE_PARAM)

Availability = Annotated[
    str, Field(pattern=AVAILABILITY, description="Percent, 6 decimals (half-even).")
]
Instant = Annotated[str, Field(pattern=INSTANT, description="ISO 8601 in UTC.")]
Percent = Annotated[str, Field(pattern=PERCENT, description="An exact percentage.")]
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}$")]
Day = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


def availability_text(value: Fraction | None) -> str | None:
    return None if value is None else decimal_text(value)


# --- Response models -----------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProbeRatioOut(_Out):
    rule: Literal["probe-ratio"]


class ContinuousFailureOut(_Out):
    rule: Literal["continuous-failure"]
    min_duration: str = Field(description="Shortest run of failure that counts, e.g. 5m.")
    confirm: int = Field(ge=1, description="Locations that must agree on each minute.")


class FirstFailOut(_Out):
    rule: Literal["first-fail-to-first-success"]
    rounding: Literal["ceil-minute"]
    confirm: int = Field(ge=1)


RuleOut = Annotated[
    ProbeRatioOut | ContinuousFailureOut | FirstFailOut, Field(discriminator="rule")
]


class ExclusionsOut(_Out):
    scheduled_maintenance_notice: str | None = Field(
        description="Maintenance announced at least this far ahead is excluded; null: none is."
    )
    excludable_causes: list[str]
    exclude_from: list[Literal["downtime", "total"]] = Field(
        description="downtime: excluded time is not downtime; total: nor part of the period."
    )


class MeasuredOut(_Out):
    month: Month
    availability: Availability | None
    downtime_minutes: int | None
    met: bool | None
    credit_percent: int


class SlaServiceOut(_Out):
    id: str
    name: str
    description: str | None
    target: Percent
    window: Literal["calendar-month", "trailing-30d"]
    per_location: bool
    rule: RuleOut
    excluded: ExclusionsOut
    basis: Literal["commitment", "measured"] = Field(
        description="commitment until a full month is measured and settled, then measured."
    )
    measured: MeasuredOut | None = Field(description="The latest settled month.")


class CreditTierOut(_Out):
    below: Percent
    credit: int


class CreditsOut(_Out):
    basis: str
    mode: Literal["automatic", "on-request"]
    claim_within: str | None
    excluded_plans: list[str]
    tiers: list[CreditTierOut]


class SlaOut(_Out):
    contract: str
    name: str
    timezone: str
    generated_at: Instant
    services: list[SlaServiceOut]
    credits: CreditsOut | None
    commitments: list[CommitmentOut] = Field(
        description="Commitments beyond uptime (support response, repair deadlines, "
        "per-event and percentile figures), month by month: counts and figures only."
    )


class UpdateOut(_Out):
    at: Instant
    status: IncidentStatus
    body_html: str = Field(description="Sanitised HTML.")
    author: str


class IncidentOut(_Out):
    id: int
    title: str
    services: list[str]
    status: IncidentStatus
    impact: Impact
    started: Instant
    resolved: Instant | None
    automatic: bool
    exclusion_cause: str | None
    updates: list[UpdateOut] = Field(description="Oldest first.")


class MaintenanceOut(_Out):
    id: int
    title: str
    services: list[str] | Literal["*"]
    location: str | None
    start: Instant
    end: Instant
    announced: Instant
    kind: MaintenanceKind
    reason: str
    status: MaintenanceStatus


class ServiceStatusOut(_Out):
    id: str
    name: str
    state: ServiceState
    target: Percent
    month_to_date: Availability | None
    error_budget_minutes: int | None
    last_observed: Instant | None = Field(
        description="The newest probe result stored for the service; null: none."
    )
    stale: bool = Field(
        description="No recent data: the newest result is older than the service's "
        "stale_after (default: twice its longest check interval). The state is then "
        "unknown unless an incident or maintenance says worse."
    )


class StatusOut(_Out):
    contract: str
    title: str
    generated_at: Instant
    overall: ServiceState
    services: list[ServiceStatusOut]
    active_incidents: list[IncidentOut]
    upcoming_maintenance: list[MaintenanceOut]


class MonthOut(_Out):
    month: Month
    location: str | None
    availability: Availability | None
    downtime_minutes: int | None
    met: bool | None
    credit_percent: int
    settled: bool = Field(description="The figure of the month's settled statement.")


class DayOut(_Out):
    day: Day
    availability: Availability | None
    downtime_minutes: int | None
    incidents: list[int]


class ServiceUptimeOut(_Out):
    id: str
    name: str
    target: Percent
    location: str | None
    months: list[MonthOut] = Field(description="Newest first.")
    days: list[DayOut] = Field(description="Oldest first; service-wide only.")


class UptimeOut(_Out):
    model_config = ConfigDict(populate_by_name=True)

    generated_at: Instant
    from_: str | None = Field(alias="from")
    to: str | None
    services: list[ServiceUptimeOut]


class IncidentsOut(_Out):
    generated_at: Instant
    active: list[IncidentOut]
    resolved: list[IncidentOut] = Field(description="Newest first.")


class MaintenanceListOut(_Out):
    generated_at: Instant
    upcoming: list[MaintenanceOut] = Field(description="In progress or to come, soonest first.")
    past: list[MaintenanceOut] = Field(description="Newest first.")


# --- Rendering -----------------------------------------------------------------------------


def _json(model: BaseModel) -> bytes:
    return model.model_dump_json(by_alias=True).encode()


def _rule(service: Service) -> ProbeRatioOut | ContinuousFailureOut | FirstFailOut:
    dumped: dict[str, Any] = service.downtime.model_dump(mode="json")
    if dumped["rule"] == "probe-ratio":
        return ProbeRatioOut(**dumped)
    if dumped["rule"] == "continuous-failure":
        return ContinuousFailureOut(**dumped)
    return FirstFailOut(**dumped)


def latest_settled(view: ServiceView | None) -> MonthFigure | None:
    """The newest settled service-wide month: the SLA's measured basis."""
    if view is None:
        return None
    return next((month for month in view.months if month.settled), None)


def sla_document(contract: Contract, snapshot: StatusSnapshot) -> SlaOut:
    views = {view.id: view for view in snapshot.services}
    services = []
    for key, service in contract.services.items():
        settled = latest_settled(views.get(key))
        policy = service.maintenance
        services.append(
            SlaServiceOut(
                id=key,
                name=service.name,
                description=service.description,
                target=str(service.target),
                window=service.window,
                per_location=service.per_location,
                rule=_rule(service),
                excluded=ExclusionsOut(
                    scheduled_maintenance_notice=None
                    if policy is None
                    else service.model_dump(mode="json")["maintenance"]["notice"],
                    excludable_causes=list(service.excludable_causes),
                    exclude_from=list(service.exclude_from),
                ),
                basis="commitment" if settled is None else "measured",
                measured=None
                if settled is None
                else MeasuredOut(
                    month=settled.month,
                    availability=availability_text(settled.availability),
                    downtime_minutes=settled.downtime_minutes,
                    met=settled.met,
                    credit_percent=settled.credit_percent,
                ),
            )
        )
    credits = None
    if contract.credits is not None:
        dumped = contract.credits.model_dump(mode="json")
        credits = CreditsOut(
            basis=dumped["basis"],
            mode=dumped["mode"],
            claim_within=dumped["claim_within"],
            excluded_plans=dumped["excluded_plans"],
            tiers=[CreditTierOut(**tier) for tier in dumped["tiers"]],
        )
    return SlaOut(
        contract=contract.contract,
        name=contract.name,
        timezone=contract.timezone,
        generated_at=format_instant(snapshot.generated_at),
        services=services,
        credits=credits,
        commitments=[commitment_out(view) for view in snapshot.commitments],
    )


def incident_out(incident: IncidentView) -> IncidentOut:
    return IncidentOut.model_validate(incident_json(incident))


def maintenance_out(item: MaintenanceView, now: int) -> MaintenanceOut:
    return MaintenanceOut.model_validate(public_maintenance_json(item, now))


def status_document(snapshot: StatusSnapshot) -> StatusOut:
    return StatusOut(
        contract=snapshot.contract,
        title=snapshot.title,
        generated_at=format_instant(snapshot.generated_at),
        overall=snapshot.overall,
        services=[
            ServiceStatusOut(
                id=view.id,
                name=view.name,
                state=view.state,
                target=str(view.target),
                month_to_date=availability_text(view.month_to_date),
                error_budget_minutes=view.error_budget_minutes,
                last_observed=None
                if view.last_observed is None
                else format_instant(view.last_observed),
                stale=view.stale,
            )
            for view in snapshot.services
        ],
        active_incidents=[incident_out(item) for item in snapshot.active_incidents],
        upcoming_maintenance=[
            maintenance_out(item, snapshot.generated_at) for item in snapshot.upcoming_maintenance
        ],
    )


def incidents_document(snapshot: StatusSnapshot) -> IncidentsOut:
    return IncidentsOut(
        generated_at=format_instant(snapshot.generated_at),
        active=[incident_out(item) for item in snapshot.active_incidents],
        resolved=[incident_out(item) for item in snapshot.recent_incidents],
    )


def maintenance_document(snapshot: StatusSnapshot) -> MaintenanceListOut:
    now = snapshot.generated_at
    return MaintenanceListOut(
        generated_at=format_instant(now),
        upcoming=[maintenance_out(item, now) for item in snapshot.upcoming_maintenance],
        past=[maintenance_out(item, now) for item in snapshot.past_maintenance],
    )


def _month_out(figure: MonthFigure) -> MonthOut:
    return MonthOut(
        month=figure.month,
        location=figure.location,
        availability=availability_text(figure.availability),
        downtime_minutes=figure.downtime_minutes,
        met=figure.met,
        credit_percent=figure.credit_percent,
        settled=figure.settled,
    )


def _date_bounds(start: str | None, end: str | None) -> tuple[str, str]:
    """Inclusive ``YYYY-MM-DD`` bounds; a month alone means its first or last day (``from``
    after ``to`` is an empty range, not an error)."""
    bounds = []
    for name, value, fill in (("from", start, "-01"), ("to", end, "-31")):
        if value is None:
            bounds.append("0000-01-01" if name == "from" else "9999-12-31")
            continue
        if not _DATE_PARAM.match(value):
            raise HttpError(
                422, f"{name}: expected a date YYYY-MM-DD or a month YYYY-MM, got {value!r}"
            )
        # Bounds compare as text, so 2026-02-31 simply means the end of February.
        text = value if len(value) == 10 else value + fill
        bounds.append(text)
    return bounds[0], bounds[1]


def uptime_document(
    snapshot: StatusSnapshot,
    service: str | None,
    location: str | None,
    start: str | None,
    end: str | None,
) -> UptimeOut:
    """Monthly and daily figures of one service (or all), optionally of one location."""
    low, high = _date_bounds(start, end)
    views = list(snapshot.services)
    if service is not None:
        views = [view for view in views if view.id == service]
        if not views:
            raise HttpError(404, f"service: unknown service {service!r}")
    out = []
    for view in views:
        if location is None:
            months = view.months
        elif location in view.locations:
            months = view.locations[location]
        elif service is not None:
            raise HttpError(404, f"location: service {service!r} has no location {location!r}")
        else:
            continue
        out.append(
            ServiceUptimeOut(
                id=view.id,
                name=view.name,
                target=str(view.target),
                location=location,
                months=[_month_out(m) for m in months if low[:7] <= m.month <= high[:7]],
                days=[]
                if location is not None
                else [
                    DayOut(
                        day=day.day,
                        availability=availability_text(day.availability),
                        downtime_minutes=day.downtime_minutes,
                        incidents=list(day.incident_ids),
                    )
                    for day in view.days
                    if low <= day.day <= high
                ],
            )
        )
    return UptimeOut(
        generated_at=format_instant(snapshot.generated_at),
        from_=start,
        to=end,
        services=out,
    )


# --- Routers -------------------------------------------------------------------------------

_ERRORS = error_responses(404, 422, _404="Unknown service or location", _422="Bad query parameter")


def public_api_router(contract: Contract, cache: SnapshotCache) -> APIRouter:
    """``/api/v1/sla|status|uptime|incidents|maintenance`` from ``cache``'s snapshots."""
    router = APIRouter(prefix="/api/v1", tags=["public"], responses=SERVER_ERRORS)

    def sla_bytes(snapshot: StatusSnapshot) -> bytes:
        return _json(sla_document(contract, snapshot))

    def status_bytes(snapshot: StatusSnapshot) -> bytes:
        return _json(status_document(snapshot))

    def incidents_bytes(snapshot: StatusSnapshot) -> bytes:
        return _json(incidents_document(snapshot))

    def maintenance_bytes(snapshot: StatusSnapshot) -> bytes:
        return _json(maintenance_document(snapshot))

    for path, render in (
        ("/api/v1/sla", sla_bytes),
        ("/api/v1/status", status_bytes),
        ("/api/v1/incidents", incidents_bytes),
        ("/api/v1/maintenance", maintenance_bytes),
    ):
        cache.fast_route(path, render, JSON)

    @router.get("/sla", response_model=SlaOut, summary="Each service's commitment or measure")
    async def sla(request: Request) -> Response:
        return cache.response(request, "/api/v1/sla", sla_bytes)

    @router.get("/status", response_model=StatusOut, summary="Current state of each service")
    async def status(request: Request) -> Response:
        return cache.response(request, "/api/v1/status", status_bytes)

    @router.get("/incidents", response_model=IncidentsOut, summary="Active and past incidents")
    async def incidents(request: Request) -> Response:
        return cache.response(request, "/api/v1/incidents", incidents_bytes)

    @router.get("/maintenance", response_model=MaintenanceListOut, summary="Maintenance")
    async def maintenance(request: Request) -> Response:
        return cache.response(request, "/api/v1/maintenance", maintenance_bytes)

    @router.get(
        "/uptime",
        response_model=UptimeOut,
        responses=_ERRORS,
        summary="Monthly and daily availability",
    )
    async def uptime(
        request: Request,
        service: Annotated[str | None, Query(description="A service id; all when absent.")] = None,
        location: Annotated[
            str | None, Query(description="Monthly figures of this location only.")
        ] = None,
        start: Annotated[
            str | None,
            Query(
                alias="from",
                description="First day (YYYY-MM-DD) or month (YYYY-MM), inclusive.",
                json_schema_extra={"pattern": DATE_PARAM},
            ),
        ] = None,
        end: Annotated[
            str | None,
            Query(
                alias="to",
                description="Last day (YYYY-MM-DD) or month (YYYY-MM), inclusive.",
                json_schema_extra={"pattern": DATE_PARAM},
            ),
        ] = None,
    ) -> Response:
        key = "\0".join(["uptime", service or "", location or "", start or "", end or ""])
        key += f"\0{service is None}{location is None}{start is None}{end is None}"
        return cache.response(
            request,
            key,
            lambda snapshot: _json(uptime_document(snapshot, service, location, start, end)),
        )

    return router
