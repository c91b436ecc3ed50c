"""Mistakes operators type, on SQLite and PostgreSQL: instants out of any sane range and
titles over several lines are refused; a mistaken incident or window can be corrected or
deleted, audited with before and after; and a bad record already stored never reaches a
public surface."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from slaledger.core.contract import Contract
from slaledger.core.timebase import to_instant
from slaledger.errors import UserError
from slaledger.status.snapshot_builder import SnapshotBuilder
from slaledger.store.audit_log import AuditLog, ConflictError
from slaledger.store.database import connect, migrate
from slaledger.store.figure_store import FigureStore
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.operations_schema import incident_updates, incidents, maintenance
from slaledger.store.tiers import Stores

CONTRACT = Contract.model_validate(
    {
        "contract": "ops",
        "name": "Ops",
        "services": {
            "api": {
                "name": "API",
                "target": "99.9",
                "downtime": {"rule": "probe-ratio"},
                "maintenance": {"notice": "48h"},
            },
            "web": {"name": "Web", "target": "99.9", "downtime": {"rule": "probe-ratio"}},
        },
    }
)
H = 3_600_000_000
T0 = 1_791_549_600_000_000
"""2026-10-09T12:40:00Z."""
YEAR_26 = to_instant(datetime(26, 10, 9, 12, 0, tzinfo=UTC))
YEAR_1 = to_instant(datetime(1, 1, 1, 0, 0, tzinfo=UTC))


@dataclass
class Ops:
    incidents: IncidentStore
    maintenance: MaintenanceStore
    audit: AuditLog
    stores: Stores


@pytest.fixture
def ops(store_url: str) -> Iterator[Ops]:
    engine = connect(store_url)
    migrate(engine)
    yield Ops(
        IncidentStore(engine, CONTRACT),
        MaintenanceStore(engine, CONTRACT),
        AuditLog(engine),
        Stores.of(engine),
    )
    engine.dispose()


def refusal(call: Any) -> str:
    with pytest.raises(UserError) as caught:
        call()
    return str(caught.value)


def test_instants_out_of_a_sane_range_are_refused_and_nothing_is_stored(ops: Ops) -> None:
    def open_at(started: int) -> Any:
        return lambda: ops.incidents.open(
            title="Outage", services=["api"], impact="major", actor="a", now=T0, started=started
        )

    assert refusal(open_at(YEAR_26)) == (
        "started: expected an instant from 2000-01-01T00:00:00Z to 2026-10-09T12:40:00Z, "
        "got 0026-10-09T12:00:00Z"
    )
    assert refusal(
        lambda: ops.maintenance.create(
            services="*", title="Work", start=YEAR_1, end=YEAR_1 + H, actor="a", now=T0
        )
    ) == (
        "start: expected an instant from 2000-01-01T00:00:00Z to 2036-10-16T12:40:00Z, "
        "got 0001-01-01T00:00:00Z"
    )
    assert refusal(
        lambda: ops.maintenance.create(
            services="*", title="Work", start=T0, end=T0 + 400 * 24 * H, actor="a", now=T0
        )
    ) == ("end: expected a window of at most 366 days, got 400")
    opened = ops.incidents.open(title="Outage", services=["api"], impact="major", actor="a", now=T0)
    resolve = lambda: ops.incidents.resolve(opened.id, actor="a", now=T0, at=YEAR_26)  # noqa: E731
    assert refusal(resolve).startswith("resolved: expected an instant from 2000-01-01")
    with ops.stores.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(maintenance)).scalar() == 0
        assert connection.execute(select(func.count()).select_from(incidents)).scalar() == 1


def test_a_title_with_a_line_break_is_refused(ops: Ops) -> None:
    expected = "title: expected one line of text, got a line break or another control character"
    assert (
        refusal(
            lambda: ops.incidents.open(
                title="Outage\r\nBcc: everyone@example.test",
                services=["api"],
                impact="major",
                actor="a",
                now=T0,
            )
        )
        == expected
    )
    assert (
        refusal(
            lambda: ops.maintenance.create(
                services="*", title="Work\nX", start=T0 + H, end=T0 + 2 * H, actor="a", now=T0
            )
        )
        == expected
    )
    assert ops.incidents.all() == []


def test_an_incident_is_corrected_then_deleted_with_both_in_the_audit_log(ops: Ops) -> None:
    opened = ops.incidents.open(
        title="Outgae", services=["api"], impact="minor", actor="alice", now=T0, body="Looking."
    )
    fixed = ops.incidents.edit(
        opened.id,
        title="Outage",
        impact="critical",
        services=["api", "web"],
        actor="bob",
        now=T0 + H,
    )
    assert (fixed.title, fixed.impact, fixed.services) == ("Outage", "critical", ("api", "web"))
    assert (
        refusal(lambda: ops.incidents.edit(opened.id, resolved=T0, actor="bob", now=T0 + H))
        == f"incident #{opened.id} is not resolved; resolve it instead"
    )
    with pytest.raises(ConflictError):
        ops.incidents.edit(opened.id, resolved=T0, actor="bob", now=T0 + H)
    assert refusal(lambda: ops.incidents.edit(opened.id, actor="bob", now=T0)) == (
        "body: expected at least one of title, services, impact, started, resolved"
    )
    gone = ops.incidents.delete(opened.id, actor="carol", now=T0 + 2 * H)
    assert gone.title == "Outage"
    assert ops.incidents.all() == []
    with ops.stores.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(incident_updates)).scalar() == 0
    history = ops.audit.history("incident", opened.id)
    assert [(e.action, e.actor) for e in history] == [
        ("incident.open", "alice"),
        ("incident.edit", "bob"),
        ("incident.delete", "carol"),
    ]
    edit = history[1]
    assert edit.before is not None
    assert edit.after is not None
    assert (edit.before["title"], edit.before["impact"], edit.before["services"]) == (
        "Outgae",
        "minor",
        ["api"],
    )
    assert (edit.after["title"], edit.after["impact"], edit.after["services"]) == (
        "Outage",
        "critical",
        ["api", "web"],
    )
    deleted = history[2]
    assert deleted.after is None
    assert deleted.before is not None
    assert deleted.before["title"] == "Outage"
    assert deleted.before["updates"] == [
        {
            "at": "2026-10-09T12:40:00Z",
            "status": "investigating",
            "author": "alice",
            "body": "Looking.",
        }
    ]


def test_a_maintenance_window_is_corrected_then_deleted_with_both_audited(ops: Ops) -> None:
    window = ops.maintenance.create(
        services=["api"], title="DB upgrade", start=T0 + H, end=T0 + 2 * H, actor="a", now=T0
    )
    assert window.kind == "emergency"  # announced 1 h ahead; api needs 48 h
    moved = ops.maintenance.edit(
        window.id, start=T0 + 49 * H, end=T0 + 50 * H, title="DB upgrade (moved)", actor="b", now=T0
    )
    assert (moved.kind, moved.title, moved.announced) == ("scheduled", "DB upgrade (moved)", T0)
    assert refusal(lambda: ops.maintenance.edit(window.id, end=T0 + 48 * H, actor="b", now=T0)) == (
        "end: expected an end after start 2026-10-11T13:40:00Z, got 2026-10-11T12:40:00Z"
    )
    ops.maintenance.delete(window.id, actor="c", now=T0 + H)
    assert ops.maintenance.all() == []
    history = ops.audit.history("maintenance", window.id)
    assert [(e.action, e.actor) for e in history] == [
        ("maintenance.create", "a"),
        ("maintenance.edit", "b"),
        ("maintenance.delete", "c"),
    ]
    assert history[1].before is not None
    assert history[1].after is not None
    assert (history[1].before["start"], history[1].after["start"]) == (
        "2026-10-09T13:40:00Z",
        "2026-10-11T13:40:00Z",
    )
    assert history[2].after is None


def store_bad_records(ops: Ops) -> tuple[int, int]:
    """An incident dated year 0026 and a window in year 0001, as written before instants
    were checked."""
    with ops.stores.engine.begin() as connection:
        incident = connection.execute(
            insert(incidents),
            {
                "title": "Typo year",
                "services": json.dumps(["api"]),
                "location": None,
                "impact": "major",
                "status": "resolved",
                "started": YEAR_26,
                "resolved": YEAR_26 + H,
                "automatic": False,
                "detection_key": None,
                "exclusion_cause": None,
                "exclusion_start": None,
                "exclusion_end": None,
                "created_at": T0,
                "updated_at": T0,
            },
        ).inserted_primary_key
        window = connection.execute(
            insert(maintenance),
            {
                "title": "Typo window",
                "services": json.dumps("*"),
                "location": None,
                "start": YEAR_1,
                "end": YEAR_1 + H,
                "announced": T0,
                "cancelled": False,
                "cancelled_at": None,
            },
        ).inserted_primary_key
    assert incident is not None
    assert window is not None
    return int(incident[0]), int(window[0])


def test_a_bad_record_already_stored_is_left_out_of_the_snapshot_and_can_be_deleted(
    ops: Ops, caplog: pytest.LogCaptureFixture
) -> None:
    bad_incident, bad_window = store_bad_records(ops)
    good = ops.incidents.open(title="Real", services=["web"], impact="minor", actor="a", now=T0)
    builder = SnapshotBuilder(
        CONTRACT,
        ops.stores,
        FigureStore(ops.stores.engine, CONTRACT.contract),
        ops.incidents,
        ops.maintenance,
    )
    snapshot = builder.build(T0 + H)
    assert [i.id for i in snapshot.active_incidents] == [good.id]
    assert snapshot.recent_incidents == ()
    assert snapshot.upcoming_maintenance == snapshot.past_maintenance == ()
    assert ops.maintenance.events().maintenance == ()
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert (
        f"incident #{bad_incident} is not published: instant 0026-10-09T12:00:00Z is out of "
        "range; correct or delete it"
    ) in logged
    assert (
        f"maintenance window #{bad_window} is not published: instant 0001-01-01T00:00:00Z is "
        "out of range; correct or delete it"
    ) in logged
    # The operator still sees both, and deletes them.
    assert ops.maintenance.get(bad_window).reason == (
        "its instants are out of range: correct or delete it"
    )
    ops.incidents.delete(bad_incident, actor="ops", now=T0 + H)
    ops.maintenance.delete(bad_window, actor="ops", now=T0 + H)
    assert [i.id for i in ops.incidents.all()] == [good.id]
    assert ops.maintenance.all() == []
    (entry,) = list(ops.audit.history("incident", bad_incident))
    assert entry.before is not None
    assert (entry.action, entry.before["started"]) == ("incident.delete", "0026-10-09T12:00:00Z")
