"""Read models and a site for notification tests."""

from __future__ import annotations

from slaledger.core.publication import (
    IncidentUpdate,
    IncidentView,
    MaintenanceView,
    StatusSnapshot,
)
from slaledger.notify.messages import Site

MIN = 60_000_000
T0 = 1_791_549_600_000_000
"""2026-10-09T12:40:00Z."""

SITE = Site(
    contract="acme",
    title="Acme Cloud",
    base_url="https://status.acme.example",
    timezone="Europe/Berlin",
    service_names={"api": "API", "web": "Website", "edge": "Edge"},
)

INCIDENT = IncidentView(
    id=7,
    title="API errors & timeouts",
    services=("api",),
    status="investigating",
    impact="major",
    started=T0,
    resolved=None,
    automatic=True,
    exclusion_cause=None,
    updates=(
        IncidentUpdate(
            at=T0 + 2 * MIN,
            status="investigating",
            body_html='<p>We see <strong>errors</strong> on the <a href="https://x.example/api">API</a>.</p>',
            author="ops",
        ),
    ),
)

RESOLVED = IncidentView(
    id=7,
    title="API errors & timeouts",
    services=("api",),
    status="resolved",
    impact="major",
    started=T0,
    resolved=T0 + 30 * MIN,
    automatic=True,
    exclusion_cause=None,
    updates=(
        *INCIDENT.updates,
        IncidentUpdate(
            at=T0 + 30 * MIN, status="resolved", body_html="<p>Fixed.</p>", author="ana"
        ),
    ),
)

MAINTENANCE = MaintenanceView(
    id=3,
    title="Database upgrade; v16, with failover",
    services=("web", "api"),
    location=None,
    start=T0 + 3 * 24 * 60 * MIN + 560 * MIN,
    end=T0 + 3 * 24 * 60 * MIN + 650 * MIN,
    announced=T0,
    kind="scheduled",
    reason="",
)
"""2026-10-12 22:00–23:30 UTC (2026-10-13 00:00–01:30 CEST)."""

EMERGENCY = MaintenanceView(
    id=4,
    title="Edge certificate rotation",
    services="*",
    location="fra",
    start=T0 + 20 * MIN,
    end=T0 + 50 * MIN,
    announced=T0 + 5 * MIN,
    kind="emergency",
    reason="Announced 15 minutes ahead; the contract asks for 48 hours.",
)


def snapshot(
    *,
    active: tuple[IncidentView, ...] = (),
    recent: tuple[IncidentView, ...] = (),
    upcoming: tuple[MaintenanceView, ...] = (),
    past: tuple[MaintenanceView, ...] = (),
    generated_at: int = T0 + 60 * MIN,
) -> StatusSnapshot:
    return StatusSnapshot(
        generated_at=generated_at,
        contract="acme",
        title="Acme Cloud",
        timezone="Europe/Berlin",
        overall="operational",
        services=(),
        active_incidents=active,
        recent_incidents=recent,
        upcoming_maintenance=upcoming,
        past_maintenance=past,
    )
