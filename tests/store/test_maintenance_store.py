"""Maintenance windows on SQLite and PostgreSQL: notice verdicts, cancellation, audit, and
``events()`` feeding a real settlement."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from slaledger.core.contract import Contract
from slaledger.core.observations import Observations
from slaledger.core.publication import MaintenanceView
from slaledger.core.settle import settle
from slaledger.core.timebase import US_PER_HOUR, US_PER_MINUTE, from_instant
from slaledger.core.windows import check_events
from slaledger.errors import UserError
from slaledger.store.audit_log import AuditLog, ConflictError, NotFoundError
from slaledger.store.database import connect, migrate
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore, notice_for

CONTRACT = Contract.model_validate(
    {
        "contract": "ops",
        "name": "Ops",
        "services": {
            "api": {
                "name": "API",
                "target": "99.9",
                "downtime": {"rule": "first-fail-to-first-success"},
                "maintenance": {"notice": "48h"},
                "excludable_causes": ["force-majeure"],
            },
            "web": {
                "name": "Web",
                "target": "99.9",
                "downtime": {"rule": "first-fail-to-first-success"},
            },
        },
    }
)
H = US_PER_HOUR
M = US_PER_MINUTE
NOW = 1_791_547_200_000_000
"""2026-10-09T12:00:00Z."""


@pytest.fixture
def stores(store_url: str) -> Iterator[tuple[MaintenanceStore, IncidentStore, AuditLog]]:
    engine = connect(store_url)
    migrate(engine)
    yield MaintenanceStore(engine, CONTRACT), IncidentStore(engine, CONTRACT), AuditLog(engine)
    engine.dispose()


def test_a_window_with_enough_notice_is_scheduled(
    stores: tuple[MaintenanceStore, IncidentStore, AuditLog],
) -> None:
    store, _incidents, audit = stores
    view = store.create(
        services=["api"],
        title="DB upgrade",
        start=NOW + 48 * H,
        end=NOW + 49 * H,
        actor="ops",
        now=NOW,
    )
    assert view == MaintenanceView(
        id=1,
        title="DB upgrade",
        services=("api",),
        location=None,
        start=NOW + 48 * H,
        end=NOW + 49 * H,
        announced=NOW,
        kind="scheduled",
        reason="",
    )
    assert notice_for(CONTRACT, view).message == (
        "scheduled maintenance: announced 48h before its start; api needs 48h notice — "
        "excluded from downtime"
    )
    [entry] = audit.history("maintenance", 1)
    assert (entry.action, entry.actor, entry.before) == ("maintenance.create", "ops", None)
    assert entry.after == {
        "title": "DB upgrade",
        "services": ["api"],
        "location": None,
        "start": "2026-10-11T12:00:00Z",
        "end": "2026-10-11T13:00:00Z",
        "announced": "2026-10-09T12:00:00Z",
        "kind": "scheduled",
        "cancelled": False,
        "notice": "scheduled maintenance: announced 48h before its start; api needs 48h "
        "notice — excluded from downtime",
    }


def test_short_notice_is_emergency_maintenance_and_the_reason_says_why(
    stores: tuple[MaintenanceStore, IncidentStore, AuditLog],
) -> None:
    store, _incidents, _audit = stores
    view = store.create(
        services="*",
        title="Hotfix",
        start=NOW + 3 * H,
        end=NOW + 4 * H,
        actor="ops",
        now=NOW,
        location="fra",
    )
    assert (view.services, view.location, view.kind) == ("*", "fra", "emergency")
    assert view.reason == (
        "emergency maintenance: announced 3h before its start; api needs 48h notice, web "
        "excludes no maintenance — this window counts as downtime"
    )


@pytest.mark.parametrize(
    ("services", "start", "end", "location", "message"),
    [
        (
            ["db"],
            NOW,
            NOW + H,
            None,
            "services: unknown service 'db'; contract 'ops' has: api, web",
        ),
        ([], NOW, NOW + H, None, "services: expected a list of one or more service ids"),
        (
            ["api"],
            NOW,
            NOW,
            None,
            "end: expected an end after start 2026-10-09T12:00:00Z, got 2026-10-09T12:00:00Z",
        ),
        (
            ["api"],
            NOW,
            NOW + H,
            "-x",
            "location: expected a location name of letters, digits, '.', '_' or '-', got '-x'",
        ),
    ],
)
def test_bad_windows_are_refused(
    stores: tuple[MaintenanceStore, IncidentStore, AuditLog],
    services: list[str],
    start: int,
    end: int,
    location: str | None,
    message: str,
) -> None:
    store, _incidents, _audit = stores
    with pytest.raises(UserError) as raised:
        store.create(
            services=services,
            title="x",
            start=start,
            end=end,
            location=location,
            actor="o",
            now=NOW,
        )
    assert str(raised.value) == message
    assert store.all() == []


def test_cancelled_windows_are_kept_but_no_longer_excluded(
    stores: tuple[MaintenanceStore, IncidentStore, AuditLog],
) -> None:
    store, _incidents, audit = stores
    store.create(
        services=["api"], title="A", start=NOW + 50 * H, end=NOW + 51 * H, actor="o", now=NOW
    )
    store.create(
        services=["web"], title="B", start=NOW + 49 * H, end=NOW + 50 * H, actor="o", now=NOW
    )
    cancelled = store.cancel(1, actor="p", now=NOW + H)
    assert cancelled.cancelled is True
    assert [(v.id, v.cancelled) for v in store.all()] == [(2, False), (1, True)]
    assert [v.id for v in store.all(include_cancelled=False)] == [2]
    assert [w.title for w in store.events(CONTRACT).maintenance] == ["B"]
    with pytest.raises(ConflictError) as again:
        store.cancel(1, actor="p", now=NOW + 2 * H)
    assert str(again.value) == "maintenance window #1 is already cancelled"
    with pytest.raises(NotFoundError) as missing:
        store.cancel(7, actor="p", now=NOW)
    assert str(missing.value) == "no maintenance window #7"
    last = audit.history("maintenance", 1)[-1]
    assert (last.action, last.actor) == ("maintenance.cancel", "p")
    assert (last.before or {})["cancelled"] is False
    assert (last.after or {})["cancelled"] is True


def test_events_drive_the_settlement(
    stores: tuple[MaintenanceStore, IncidentStore, AuditLog],
) -> None:
    """api is down 12:00-13:00 on 12 October. Scheduled maintenance 12:00-12:20 and an
    incident classified force-majeure 12:40-13:00 leave 20 counted minutes; the emergency
    window 12:20-12:30 still counts."""
    store, incidents, _audit = stores
    day = 1_791_806_400_000_000  # 2026-10-12T12:00:00Z
    store.create(
        services=["api"], title="Planned", start=day, end=day + 20 * M, actor="o", now=day - 72 * H
    )
    store.create(
        services=["api"], title="Urgent", start=day + 20 * M, end=day + 30 * M, actor="o", now=day
    )
    incidents.open(
        title="Cloud outage",
        services=["api"],
        impact="major",
        actor="o",
        now=day + 40 * M,
        started=day + 40 * M,
    )
    incidents.resolve(1, actor="o", now=day + 60 * M)
    incidents.classify(1, cause="force-majeure", actor="o", now=day + 61 * M)
    events = store.events(CONTRACT)
    assert check_events(CONTRACT, events) == []
    assert [(w.title, w.start, w.announced) for w in events.maintenance] == [
        ("Planned", from_instant(day), from_instant(day - 72 * H)),
        ("Urgent", from_instant(day + 20 * M), from_instant(day)),
    ]
    assert [(w.cause, w.start, w.end) for w in events.exclusions] == [
        ("force-majeure", from_instant(day + 40 * M), from_instant(day + 60 * M))
    ]
    probes = np.array([day, day + 60 * M], dtype=np.int64)
    observations = Observations(
        timestamp=probes,
        service=np.zeros(2, np.int32),
        location=np.zeros(2, np.int16),
        status=np.array([500, 200], np.int16),
        error=np.zeros(2, np.int8),
        retry_after=np.zeros(2, bool),
        services=("api",),
        locations=("fra",),
    )
    [api, _web] = settle(CONTRACT, observations, events, (2026, 10)).results
    assert (api.downtime_minutes, api.excluded_minutes) == (20, 40)
    assert api.episodes[0].status == "emergency-maintenance"


def test_events_leave_out_services_and_causes_the_contract_no_longer_has(
    stores: tuple[MaintenanceStore, IncidentStore, AuditLog],
) -> None:
    store, incidents, _audit = stores
    store.create(services=["api", "web"], title="Both", start=NOW, end=NOW + H, actor="o", now=NOW)
    incidents.open(title="X", services=["api"], impact="minor", actor="o", now=NOW)
    incidents.resolve(1, actor="o", now=NOW + H)
    incidents.classify(1, cause="force-majeure", actor="o", now=NOW + H)
    smaller = CONTRACT.model_copy(update={"services": {"web": CONTRACT.services["web"]}})
    events = store.events(smaller)
    assert [w.services for w in events.maintenance] == [("web",)]
    assert events.exclusions == ()
    assert check_events(smaller, events) == []
