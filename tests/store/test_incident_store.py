"""Incidents on SQLite and PostgreSQL: views, updates, classification, automatic incidents,
and the audit entry written in the same transaction as every change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.incident_detection import (
    Decisions,
    Escalation,
    OpenAutomatic,
    Opening,
    Resolution,
)
from slaledger.core.observations import Observations
from slaledger.core.publication import IncidentUpdate, IncidentView
from slaledger.core.settle import settle
from slaledger.errors import UserError
from slaledger.store import incident_store
from slaledger.store.audit_log import AuditEntry, AuditLog, ConflictError, NotFoundError
from slaledger.store.database import connect, migrate
from slaledger.store.incident_store import IncidentStore
from slaledger.store.operations_schema import audit_log, incident_updates, incidents

CONTRACT = Contract.model_validate(
    {
        "contract": "ops",
        "name": "Ops",
        "services": {
            "api": {
                "name": "API",
                "target": "99.9",
                "downtime": {"rule": "probe-ratio"},
                "excludable_causes": ["force-majeure", "upstream-network"],
            },
            "web": {
                "name": "Web",
                "target": "99.9",
                "downtime": {"rule": "probe-ratio"},
                "excludable_causes": ["force-majeure"],
            },
        },
    }
)
M = 60_000_000
T0 = 1_791_549_600_000_000
"""2026-10-09T12:40:00Z."""


@pytest.fixture
def stores(store_url: str) -> Iterator[tuple[IncidentStore, AuditLog]]:
    engine = connect(store_url)
    migrate(engine)
    yield IncidentStore(engine, CONTRACT), AuditLog(engine)
    engine.dispose()


def opened(store: IncidentStore, **given: Any) -> IncidentView:
    options: dict[str, Any] = {
        "title": "Elevated API errors",
        "services": ["api"],
        "impact": "major",
        "actor": "alice",
        "now": T0,
        "body": "We are *looking* into it.",
    }
    options.update(given)
    return store.open(**options)


def test_an_opened_incident_reads_back_with_its_first_update_and_audit(
    stores: tuple[IncidentStore, AuditLog],
) -> None:
    store, audit = stores
    view = opened(store, started=T0 - 5 * M)
    expected = IncidentView(
        id=1,
        title="Elevated API errors",
        services=("api",),
        status="investigating",
        impact="major",
        started=T0 - 5 * M,
        resolved=None,
        automatic=False,
        exclusion_cause=None,
        updates=(
            IncidentUpdate(
                T0, "investigating", "<p>We are <em>looking</em> into it.</p>\n", "alice"
            ),
        ),
    )
    assert view == expected
    assert store.get(1) == expected
    assert store.all() == [expected]
    assert store.all(active=False) == []
    assert audit.history("incident", 1) == [
        AuditEntry(
            id=1,
            at=T0,
            actor="alice",
            action="incident.open",
            subject="incident",
            subject_id=1,
            before=None,
            after={
                "title": "Elevated API errors",
                "services": ["api"],
                "impact": "major",
                "status": "investigating",
                "started": "2026-10-09T12:35:00Z",
                "resolved": None,
                "automatic": False,
                "exclusion_cause": None,
                "update": "We are *looking* into it.",
            },
        )
    ]


def test_updates_keep_markdown_source_and_store_sanitised_html(
    stores: tuple[IncidentStore, AuditLog],
) -> None:
    store, audit = stores
    opened(store)
    hostile = 'Fixed <script>alert(1)</script> [see](javascript:alert(1)) <img onerror="x">'
    view = store.add_update(1, status="monitoring", body=hostile, actor="bob", now=T0 + M)
    assert view.status == "monitoring"
    assert view.updates[-1] == IncidentUpdate(
        T0 + M,
        "monitoring",
        "<p>Fixed &lt;script&gt;alert(1)&lt;/script&gt; [see](javascript:alert(1)) "
        '&lt;img onerror="x"&gt;</p>\n',
        "bob",
    )
    assert store.update_sources(1)[-1] == (T0 + M, "monitoring", "bob", hostile)
    resolved = store.add_update(1, status="resolved", body="All good.", actor="bob", now=T0 + 9 * M)
    assert (resolved.status, resolved.resolved) == ("resolved", T0 + 9 * M)
    reopened = store.add_update(1, status="identified", body="Back.", actor="bob", now=T0 + 20 * M)
    assert (reopened.status, reopened.resolved) == ("identified", None)
    actions = [
        (e.action, e.actor, e.before and e.before["status"]) for e in audit.history("incident", 1)
    ]
    assert actions == [
        ("incident.open", "alice", None),
        ("incident.update", "bob", "investigating"),
        ("incident.update", "bob", "monitoring"),
        ("incident.update", "bob", "resolved"),
    ]


def test_resolve_then_classify_excludes_the_incident_time(
    stores: tuple[IncidentStore, AuditLog],
) -> None:
    store, audit = stores
    opened(store, services=["api", "web"], started=T0 - 30 * M)
    view = store.resolve(1, at=T0 - 2 * M, actor="carol", now=T0, body="Upstream fixed it.")
    assert (view.status, view.resolved, view.updates[-1].status) == (
        "resolved",
        T0 - 2 * M,
        "resolved",
    )
    classified = store.classify(1, cause="force-majeure", actor="carol", now=T0 + M)
    assert classified.exclusion_cause == "force-majeure"
    assert store.exclusion_of(1) == (T0 - 30 * M, T0 - 2 * M)
    windows = store.exclusions()
    assert [(w.services, w.cause, w.note) for w in windows] == [
        (("api", "web"), "force-majeure", "incident #1: Elevated API errors")
    ]
    last = audit.history("incident", 1)[-1]
    assert (last.action, last.before and last.before["exclusion_cause"]) == (
        "incident.classify",
        None,
    )
    assert last.after is not None
    assert last.after["exclusion_cause"] == "force-majeure"


def test_a_cause_a_service_may_not_exclude_is_refused_and_nothing_changes(
    stores: tuple[IncidentStore, AuditLog],
) -> None:
    store, audit = stores
    opened(store, services=["api", "web"])
    store.resolve(1, actor="carol", now=T0 + M)
    before = store.get(1)
    with pytest.raises(UserError) as raised:
        store.classify(1, cause="upstream-network", actor="carol", now=T0 + 2 * M)
    assert str(raised.value) == (
        "cause: contract 'ops' does not let service 'web' exclude cause 'upstream-network' "
        "(allowed: force-majeure)"
    )
    assert store.get(1) == before
    assert [e.action for e in audit.history("incident", 1)] == ["incident.open", "incident.resolve"]


def test_classifying_an_open_incident_needs_an_end(stores: tuple[IncidentStore, AuditLog]) -> None:
    store, _audit = stores
    opened(store, started=T0 - 10 * M)
    with pytest.raises(UserError) as raised:
        store.classify(1, cause="force-majeure", actor="a", now=T0)
    assert str(raised.value) == (
        "end: incident #1 is not resolved yet; give the end of the excluded time"
    )
    with pytest.raises(UserError) as raised:
        store.classify(1, cause="force-majeure", actor="a", now=T0, end=T0 - 10 * M)
    assert str(raised.value) == (
        "end: expected an end after start 2026-10-09T12:30:00Z, got 2026-10-09T12:30:00Z"
    )
    view = store.classify(1, cause="force-majeure", actor="a", now=T0, start=T0 - 8 * M, end=T0)
    assert view.exclusion_cause == "force-majeure"
    assert view.resolved is None
    assert store.exclusion_of(1) == (T0 - 8 * M, T0)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"title": "  "}, "title: expected 1 to 300 characters, got 0"),
        ({"services": []}, "services: expected a list of one or more service ids"),
        (
            {"services": ["api", "shop"]},
            "services: unknown service 'shop'; contract 'ops' has: api, web",
        ),
        ({"services": ["api", "api"]}, "services: expected each service once"),
        ({"impact": "huge"}, "impact: expected one of none, minor, major, critical, got 'huge'"),
        (
            {"status": "resolved"},
            "status: expected an open status (investigating, identified or monitoring)",
        ),
        (
            {"started": T0 + 1},
            "started: expected an instant at or before now (2026-10-09T12:40:00Z), "
            "got 2026-10-09T12:40:00.000001Z",
        ),
        ({"body": "x" * 20_001}, "body: expected at most 20000 characters, got 20001"),
        (
            {"location": "a b"},
            "location: expected a location name of letters, digits, '.', '_' or '-', got 'a b'",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    stores: tuple[IncidentStore, AuditLog], given: dict[str, Any], message: str
) -> None:
    store, _audit = stores
    with pytest.raises(UserError) as raised:
        opened(store, **given)
    assert str(raised.value) == message
    assert store.all() == []


def test_unknown_ids_and_repeated_resolution(stores: tuple[IncidentStore, AuditLog]) -> None:
    store, _audit = stores
    with pytest.raises(NotFoundError) as missing:
        store.get(9)
    assert str(missing.value) == "no incident #9"
    opened(store)
    store.resolve(1, actor="a", now=T0 + M)
    with pytest.raises(ConflictError) as again:
        store.resolve(1, actor="a", now=T0 + 2 * M)
    assert str(again.value) == "incident #1 is already resolved (at 2026-10-09T12:41:00Z)"
    with pytest.raises(UserError) as early:
        store.add_update(1, status="investigating", body="", actor="a", now=T0)
    assert str(early.value) == "body: expected a message (Markdown), got nothing"


def test_a_failing_audit_write_leaves_nothing_half_written(
    stores: tuple[IncidentStore, AuditLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _audit = stores
    opened(store)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(incident_store, "record", broken)
    with pytest.raises(RuntimeError):
        opened(store, title="Second")
    with pytest.raises(RuntimeError):
        store.add_update(1, status="identified", body="Cause found.", actor="a", now=T0 + M)
    with store.engine.connect() as connection:
        counts = [
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (incidents, incident_updates, audit_log)
        ]
    assert counts == [1, 1, 1]
    assert store.get(1).status == "investigating"


def test_automatic_decisions_apply_once(stores: tuple[IncidentStore, AuditLog]) -> None:
    store, audit = stores
    opening = Opening(
        "api", "api", None, T0 - 3 * M, "API outage", "major", "every probe down at fra"
    )
    decisions = Decisions(open=(opening,))
    [view] = store.apply(decisions, T0)
    assert store.apply(decisions, T0 + M) == []
    assert (view.id, view.title, view.automatic, view.started, view.status) == (
        1,
        "API outage",
        True,
        T0 - 3 * M,
        "investigating",
    )
    assert view.updates == (
        IncidentUpdate(
            T0,
            "investigating",
            "<p>Detected automatically: every probe down at fra.</p>\n",
            "slaledger",
        ),
    )
    assert store.open_automatic() == [OpenAutomatic(1, "api", T0 - 3 * M, "major")]
    resolution = Decisions(
        resolve=(Resolution(1, T0 + 4 * M, "recovered at 2026-10-09T12:44:00Z"),)
    )
    [done] = store.apply(resolution, T0 + 6 * M)
    assert (done.status, done.resolved) == ("resolved", T0 + 4 * M)
    assert done.updates[-1].body_html == "<p>Recovered at 2026-10-09T12:44:00Z.</p>\n"
    assert store.apply(resolution, T0 + 7 * M) == []
    assert store.open_automatic() == []
    assert [(e.action, e.actor) for e in audit.history("incident", 1)] == [
        ("incident.auto-open", "slaledger"),
        ("incident.auto-resolve", "slaledger"),
    ]
    # The same outage (same result and start) is not opened again once resolved.
    assert store.apply(decisions, T0 + 8 * M) == []


def test_an_outage_that_reaches_every_location_raises_its_incident_to_critical(
    stores: tuple[IncidentStore, AuditLog],
) -> None:
    store, audit = stores
    opening = Opening("api", "api", None, T0, "API outage", "major", "down at fra and ams")
    store.apply(Decisions(open=(opening,)), T0)
    raise_it = Decisions(
        escalate=(Escalation(1, "critical", "the outage is now at every location"),)
    )
    [raised] = store.apply(raise_it, T0 + M)
    assert (raised.impact, raised.status) == ("critical", "investigating")
    assert raised.updates[-1].body_html == (
        "<p>Impact raised to critical: the outage is now at every location.</p>\n"
    )
    assert store.apply(raise_it, T0 + 2 * M) == []
    assert store.open_automatic() == [OpenAutomatic(1, "api", T0, "critical")]
    entry = audit.history("incident", 1)[-1]
    assert entry.action == "incident.auto-escalate"
    assert (entry.before or {})["impact"] == "major"
    assert (entry.after or {})["impact"] == "critical"


def test_sync_automatic_opens_on_a_confirmed_run_and_resolves_on_recovery(store_url: str) -> None:

    contract = Contract.model_validate(
        {
            "contract": "auto",
            "name": "Auto",
            "services": {
                "web": {
                    "name": "Website",
                    "target": "99.9",
                    "downtime": {"rule": "continuous-failure", "min_duration": "3m"},
                }
            },
        }
    )
    engine = connect(store_url)
    migrate(engine)
    store = IncidentStore(engine, contract)
    first = T0 - 20 * M  # 12:20; down from 12:30 to 12:39 (ten buckets), up from 12:40

    def observed(minutes: int) -> Observations:
        times = np.array([first + i * M + 5_000_000 for i in range(minutes)], dtype=np.int64)
        status = np.array([500 if 10 <= i < 20 else 200 for i in range(minutes)], np.int16)
        return Observations(
            timestamp=times,
            service=np.zeros(minutes, np.int32),
            location=np.zeros(minutes, np.int16),
            status=status,
            error=np.zeros(minutes, np.int8),
            retry_after=np.zeros(minutes, bool),
            services=("web",),
            locations=("fra",),
        )

    def sync(minutes: int) -> list[IncidentView]:
        now = first + minutes * M + 30_000_000
        data = observed(minutes)
        report = settle(contract, data, Events(), (2026, 10), at=now, known_until=now)
        return store.sync_automatic(report, now, observations=data)

    assert sync(12) == []  # two down minutes: shorter than 3m
    [opened_view] = sync(14)
    assert (opened_view.title, opened_view.started, opened_view.status) == (
        "Website outage",
        T0 - 10 * M,
        "investigating",
    )
    assert opened_view.updates[0].body_html == (
        "<p>Detected automatically: 4 min down (minimum 3m).</p>\n"
    )
    assert sync(15) == []
    assert sync(21) == []  # up at 12:40, within the grace
    [resolved] = sync(22)
    assert (resolved.status, resolved.resolved) == ("resolved", T0)
    assert resolved.updates[-1].body_html == (
        "<p>Recovered at 2026-10-09T12:40:00Z: the contract's rule no longer confirms an "
        "outage.</p>\n"
    )
    assert sync(30) == []
    engine.dispose()
