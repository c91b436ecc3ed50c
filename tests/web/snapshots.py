"""Fabricated status snapshots for the public web tests and the status page benchmark.

:func:`status_snapshot`: three services (one with per-location months, one too new to have
a settled month), 90 days, three years of months, an active incident with two updates, a
resolved one, one upcoming and one past maintenance. :func:`large_snapshot`: many services
for the benchmark. Every figure is exact and follows a fixed pattern, so tests can assert
the texts they show.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from fastapi import FastAPI

from slaledger.core.contract import Contract
from slaledger.core.publication import (
    DayFigure,
    IncidentUpdate,
    IncidentView,
    MaintenanceView,
    MonthFigure,
    ServiceState,
    ServiceView,
    StatusSnapshot,
)
from slaledger.core.timebase import to_instant
from slaledger.web.http_guard import HttpGuard
from slaledger.web.status_page import mount_public_web

GENERATED_AT = to_instant(datetime(2026, 11, 3, 12, 34, 56, tzinfo=UTC))
"""2026-11-03T12:34:56Z."""
TODAY = date(2026, 11, 3)
DAYS = 90
MINUTES_TODAY = 12 * 60 + 34
"""Whole minutes of today elapsed at GENERATED_AT."""

CONTRACT = Contract.model_validate(
    {
        "contract": "acme-sla",
        "name": "Acme <Cloud> SLA",
        "timezone": "UTC",
        "services": {
            "api": {
                "name": "API & Search",
                "description": "Public REST API at api.acme.test",
                "target": "99.9",
                "downtime": {"rule": "continuous-failure", "min_duration": "5m", "confirm": 2},
                "maintenance": {"notice": "48h"},
                "excludable_causes": ["force-majeure", "customer-misuse"],
            },
            "web": {
                "name": "Website",
                "target": "99.95",
                "per_location": True,
                "downtime": {"rule": "first-fail-to-first-success"},
                "exclude_from": ["downtime", "total"],
            },
            "reports": {
                "name": "Reports <beta>",
                "target": "99.5",
                "downtime": {"rule": "probe-ratio"},
            },
        },
        "credits": {
            "basis": "monthly fee of the affected service",
            "mode": "on-request",
            "claim_within": "30d",
            "tiers": [{"below": "99.9", "credit": 10}, {"below": "99.0", "credit": 25}],
        },
    }
)
CREDITS = CONTRACT.credits


def day_downtime(service_index: int, day_index: int) -> int:
    """Downtime minutes of a day: a few minutes on about one day in 31."""
    return day_index % 5 + 1 if (day_index * 7 + service_index * 13) % 31 == 0 else 0


def month_downtime(service_index: int, months_back: int, location_index: int = -1) -> int:
    return (months_back * 3 + service_index + 2 * location_index + 2) % 7 * 9


def _days(service_index: int, first_data_day: int = 0) -> list[DayFigure]:
    figures = []
    for index in range(DAYS):
        day = TODAY - timedelta(days=DAYS - 1 - index)
        if index < first_data_day:
            figures.append(DayFigure(day.isoformat(), None, None))
            continue
        total = MINUTES_TODAY if index == DAYS - 1 else 1440
        down = day_downtime(service_index, index)
        figures.append(DayFigure(day.isoformat(), Fraction(100 * (total - down), total), down))
    return figures


def _month_name(months_back: int) -> tuple[str, int]:
    """``YYYY-MM`` of the month ``months_back`` before November 2026, and its minutes."""
    year, month = divmod(2026 * 12 + 10 - months_back, 12)
    days = calendar.monthrange(year, month + 1)[1]
    return f"{year:04d}-{month + 1:02d}", days * 1440


def _months(
    service_index: int, count: int, target: Decimal, location: str | None, location_index: int
) -> tuple[MonthFigure, ...]:
    figures = []
    for back in range(count):
        name, total = _month_name(back)
        if back == 0:
            total = 2 * 1440 + MINUTES_TODAY
        down = month_downtime(service_index, back, location_index)
        availability = Fraction(100 * (total - down), total)
        figures.append(
            MonthFigure(
                month=name,
                location=location,
                availability=availability,
                downtime_minutes=down,
                met=availability >= Fraction(target),
                credit_percent=CREDITS.credit_for(availability) if CREDITS else 0,
                settled=back > 0,
            )
        )
    return tuple(figures)


def service_view(
    index: int,
    service_id: str,
    *,
    months: int = 36,
    locations: tuple[str, ...] = (),
    state: ServiceState = "operational",
    first_data_day: int = 0,
    incidents: dict[int, tuple[int, ...]] | None = None,
    name: str | None = None,
    target: Decimal | None = None,
) -> ServiceView:
    """A service of :data:`CONTRACT` (or a generic one) with its figures."""
    service = CONTRACT.services.get(service_id)
    target = target or (service.target if service else Decimal("99.9"))
    days = _days(index, first_data_day)
    for day_index, ids in (incidents or {}).items():
        days[day_index] = DayFigure(
            days[day_index].day, days[day_index].availability, days[day_index].downtime_minutes, ids
        )
    figures = _months(index, months, target, None, -1)
    month_to_date = figures[0].availability
    budget = (2 * 1440 + MINUTES_TODAY) * (100 - Fraction(target)) / 100
    return ServiceView(
        id=service_id,
        name=name or (service.name if service else f"Service {index:04d}"),
        description=service.description if service else None,
        state=state,
        rule=service.downtime.rule if service else "continuous-failure",
        window=service.window if service else "calendar-month",
        target=target,
        month_to_date=month_to_date,
        error_budget_minutes=int(budget) - (figures[0].downtime_minutes or 0),
        days=tuple(days),
        months=figures,
        locations={
            place: _months(index, months, target, place, number)
            for number, place in enumerate(locations)
        },
    )


def _at(day: date, hour: int, minute: int = 0) -> int:
    return to_instant(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC))


ACTIVE = IncidentView(
    id=7,
    title="Elevated errors on <Website>",
    services=("web",),
    status="identified",
    impact="major",
    started=_at(TODAY, 11, 50),
    resolved=None,
    automatic=True,
    exclusion_cause=None,
    updates=(
        IncidentUpdate(
            at=_at(TODAY, 11, 55),
            status="investigating",
            body_html="<p>We are <em>investigating</em> errors on the website.</p>",
            author="Ops <oncall>",
        ),
        IncidentUpdate(
            at=_at(TODAY, 12, 20),
            status="identified",
            body_html='<p>Cause found: a <a href="https://acme.test/deploy">bad deploy</a>.</p>',
            author="Ops <oncall>",
        ),
    ),
)
RESOLVED = IncidentView(
    id=5,
    title="API latency",
    services=("api",),
    status="resolved",
    impact="minor",
    started=_at(TODAY - timedelta(days=9), 8),
    resolved=_at(TODAY - timedelta(days=9), 8, 40),
    automatic=False,
    exclusion_cause=None,
    updates=(
        IncidentUpdate(
            at=_at(TODAY - timedelta(days=9), 8, 5),
            status="investigating",
            body_html="<p>Slow answers from the API.</p>",
            author="Ops",
        ),
        IncidentUpdate(
            at=_at(TODAY - timedelta(days=9), 8, 40),
            status="resolved",
            body_html="<p>Fixed.</p>",
            author="Ops",
        ),
    ),
)
UPCOMING = MaintenanceView(
    id=3,
    title="Database upgrade",
    services=("api",),
    location=None,
    start=_at(date(2026, 11, 10), 2),
    end=_at(date(2026, 11, 10), 4),
    announced=_at(date(2026, 11, 1), 9),
    kind="scheduled",
    reason="",
)
PAST = MaintenanceView(
    id=2,
    title="Network & power work",
    services="*",
    location="fra",
    start=_at(date(2026, 10, 20), 1),
    end=_at(date(2026, 10, 20), 1, 30),
    announced=_at(date(2026, 10, 19), 23),
    kind="emergency",
    reason="announced 2 h ahead; the contract asks for 48 h",
)


def status_snapshot(generated_at: int = GENERATED_AT) -> StatusSnapshot:
    """The three services of :data:`CONTRACT`; ``web`` has an incident in progress."""
    services = (
        service_view(0, "api", incidents={DAYS - 10: (5,)}),
        replace(
            service_view(
                1,
                "web",
                locations=("fra", "nyc"),
                state="partial-outage",
                incidents={DAYS - 1: (7,), DAYS - 14: (4, 6)},
            ),
            since=to_instant(datetime(2023, 12, 1, tzinfo=UTC)),
            changed_at=ACTIVE.started,
        ),
        service_view(2, "reports", months=1, first_data_day=DAYS - 3),
    )
    return StatusSnapshot(
        generated_at=generated_at,
        contract=CONTRACT.contract,
        title=CONTRACT.name,
        timezone=CONTRACT.timezone,
        overall="partial-outage",
        services=services,
        active_incidents=(ACTIVE,),
        recent_incidents=(RESOLVED,),
        upcoming_maintenance=(UPCOMING,),
        past_maintenance=(PAST,),
    )


def large_snapshot(services: int = 1000, months: int = 12, locations: int = 3) -> StatusSnapshot:
    """``services`` operational services with 90 days, ``months`` months, ``locations``."""
    places = tuple(f"loc-{index}" for index in range(locations))
    views = tuple(
        service_view(index, f"service-{index:04d}", months=months, locations=places)
        for index in range(services)
    )
    return StatusSnapshot(
        generated_at=GENERATED_AT,
        contract="bench",
        title="Benchmark status",
        timezone="UTC",
        overall="operational",
        services=views,
        active_incidents=(),
        recent_incidents=(RESOLVED,),
        upcoming_maintenance=(UPCOMING,),
        past_maintenance=(PAST,),
    )


def large_contract(services: int = 1000) -> Contract:
    return Contract.model_validate(
        {
            "contract": "bench",
            "name": "Benchmark",
            "services": {
                f"service-{index:04d}": {
                    "name": f"Service {index:04d}",
                    "target": "99.9",
                    "per_location": True,
                    "downtime": {"rule": "continuous-failure", "min_duration": "5m"},
                }
                for index in range(services)
            },
        }
    )


class Snapshots:
    """A snapshot provider the test swaps, as the minute builder does."""

    def __init__(self, snapshot: StatusSnapshot) -> None:
        self.current = snapshot

    def __call__(self) -> StatusSnapshot:
        return self.current


PAGE_URL = "https://status.acme.test"


def public_app(snapshots: Callable[[], StatusSnapshot], contract: Contract = CONTRACT) -> FastAPI:
    """An app with only the public surfaces, mounted as ``create_app`` mounts them."""
    app = FastAPI(title="slaledger", docs_url=None, redoc_url=None, openapi_url=None)
    mount_public_web(app, contract, snapshots, page_url=PAGE_URL)
    app.add_middleware(HttpGuard)
    return app
