"""The operator API on a real server over SQLite and PostgreSQL: admin tokens only, exact
JSON, field errors, the audit trail under the token's name, and the on_change hook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from api_server import Clock, Reply, post, request, serving

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.publication import IncidentView, MaintenanceView
from slaledger.store.audit_log import AuditLog
from slaledger.store.database import connect, migrate
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.observation_store import ObservationStore
from slaledger.store.tokens import TokenStore
from slaledger.web.app import create_app
from slaledger.web.operator_api import OperatorApi, mount_operator_api

CONTRACT = Contract.model_validate(
    {
        "contract": "ops-web",
        "name": "Ops web test",
        "services": {
            "api": {
                "name": "API",
                "target": "99.9",
                "downtime": {"rule": "probe-ratio"},
                "maintenance": {"notice": "48h"},
                "excludable_causes": ["force-majeure"],
            },
            "web": {
                "name": "Website",
                "target": "99.9",
                "downtime": {"rule": "continuous-failure", "min_duration": "5m"},
                "maintenance": {"notice": "24h"},
                "excludable_causes": [],
            },
        },
    }
)
START = 1_791_549_630_000_000
"""2026-10-09T12:40:30Z."""


@dataclass
class Ops:
    url: str
    admin: str
    agent: str
    clock: Clock
    changes: list[IncidentView | MaintenanceView]
    incidents: IncidentStore

    def call(self, method: str, path: str, payload: Any = None, token: str | None = "") -> Reply:
        token = self.admin if token == "" else token
        url = f"{self.url}/api/v1/admin{path}"
        if method == "POST":
            return post(url, payload if payload is not None else {}, token)
        return request(url, token=token, method=method)


@pytest.fixture
def ops(store_url: str) -> Iterator[Ops]:
    engine = connect(store_url)
    migrate(engine)
    tokens = TokenStore(engine)
    clock = Clock(START)
    changes: list[IncidentView | MaintenanceView] = []
    incidents = IncidentStore(engine, CONTRACT)
    app = create_app(CONTRACT, Events(), ObservationStore(engine), tokens, clock)
    operator = OperatorApi(
        incidents,
        MaintenanceStore(engine, CONTRACT),
        AuditLog(engine),
        clock,
        CONTRACT,
        on_change=changes.append,
    )
    mount_operator_api(app, operator, tokens)
    admin = tokens.create("admin", "alice", START)
    agent = tokens.create("agent", "agent-fra", START, location="fra")
    try:
        with serving(app) as url:
            yield Ops(url, admin, agent, clock, changes, incidents)
    finally:
        engine.dispose()


OPEN = {
    "title": "Elevated API errors",
    "services": ["api"],
    "impact": "major",
    "body": "Looking into **5xx** from the API. <script>alert(1)</script>",
    "started": "2026-10-09T12:30:00Z",
}


def test_tokens_missing_unknown_and_agent_are_refused(ops: Ops) -> None:
    for method, path in (
        ("GET", "/incidents"),
        ("POST", "/incidents"),
        ("DELETE", "/maintenance/1"),
    ):
        missing = ops.call(method, path, token=None)
        assert (missing.status, missing.body) == (
            401,
            {"error": "missing bearer token: send Authorization: Bearer <admin token>"},
        )
        assert missing.headers["www-authenticate"] == "Bearer"
        unknown = ops.call(method, path, token="sl_nope")
        assert (unknown.status, unknown.body) == (401, {"error": "unknown or revoked token"})
        agent = ops.call(method, path, token=ops.agent)
        assert (agent.status, agent.body) == (
            403,
            {"error": "a token with scope agent cannot use the operator API; use an admin token"},
        )
    assert ops.changes == []


def test_an_incident_from_open_to_classified(ops: Ops) -> None:
    created = ops.call("POST", "/incidents", OPEN)
    assert created.status == 201
    assert created.body == {
        "incident": {
            "id": 1,
            "title": "Elevated API errors",
            "services": ["api"],
            "status": "investigating",
            "impact": "major",
            "started": "2026-10-09T12:30:00Z",
            "resolved": None,
            "automatic": False,
            "exclusion_cause": None,
            "updates": [
                {
                    "at": "2026-10-09T12:40:30Z",
                    "status": "investigating",
                    "body_html": "<p>Looking into <strong>5xx</strong> from the API. "
                    "&lt;script&gt;alert(1)&lt;/script&gt;</p>\n",
                    "author": "alice",
                }
            ],
        }
    }
    ops.clock.advance(600)
    updated = ops.call(
        "POST", "/incidents/1/updates", {"status": "identified", "body": "Cloud region down."}
    )
    assert updated.status == 201
    assert [u["status"] for u in updated.body["incident"]["updates"]] == [
        "investigating",
        "identified",
    ]
    ops.clock.advance(600)
    resolved = ops.call("POST", "/incidents/1/resolve", {"resolved": "2026-10-09T12:55:00Z"})
    assert resolved.status == 200
    assert (resolved.body["incident"]["status"], resolved.body["incident"]["resolved"]) == (
        "resolved",
        "2026-10-09T12:55:00Z",
    )
    refused = ops.call("POST", "/incidents/1/classify", {"cause": "ddos"})
    assert (refused.status, refused.body) == (
        422,
        {
            "error": "cause: contract 'ops-web' does not let service 'api' exclude cause "
            "'ddos' (allowed: force-majeure)"
        },
    )
    classified = ops.call("POST", "/incidents/1/classify", {"cause": "force-majeure"})
    assert classified.status == 200
    assert classified.body["incident"]["exclusion_cause"] == "force-majeure"
    again = ops.call("POST", "/incidents/1/resolve", {})
    assert (again.status, again.body) == (
        409,
        {"error": "incident #1 is already resolved (at 2026-10-09T12:55:00Z)"},
    )
    listed = ops.call("GET", "/incidents?active=false")
    assert [i["id"] for i in listed.body["incidents"]] == [1]
    assert ops.call("GET", "/incidents?active=true").body == {"incidents": []}
    assert ops.call("GET", "/incidents/1").body == classified.body
    history = ops.call("GET", "/incidents/1/history")
    assert history.status == 200
    rows = [(h["at"], h["actor"], h["action"]) for h in history.body["history"]]
    assert rows == [
        ("2026-10-09T12:40:30Z", "alice", "incident.open"),
        ("2026-10-09T12:50:30Z", "alice", "incident.update"),
        ("2026-10-09T13:00:30Z", "alice", "incident.resolve"),
        ("2026-10-09T13:00:30Z", "alice", "incident.classify"),
    ]
    classify = history.body["history"][-1]
    assert (classify["before"]["exclusion_cause"], classify["after"]["exclusion_cause"]) == (
        None,
        "force-majeure",
    )
    assert [(type(c).__name__, c.id, getattr(c, "status", None)) for c in ops.changes] == [
        ("IncidentView", 1, "investigating"),
        ("IncidentView", 1, "identified"),
        ("IncidentView", 1, "resolved"),
        ("IncidentView", 1, "resolved"),
    ]
    assert ops.changes[-1] == ops.incidents.get(1)


def test_maintenance_says_when_it_is_emergency_and_can_be_cancelled(ops: Ops) -> None:
    short = {
        "services": ["api"],
        "title": "Hotfix",
        "start": "2026-10-09T15:40:30Z",
        "end": "2026-10-09T16:00:00Z",
    }
    created = ops.call("POST", "/maintenance", short)
    assert created.status == 201
    assert created.body == {
        "maintenance": {
            "id": 1,
            "title": "Hotfix",
            "services": ["api"],
            "location": None,
            "start": "2026-10-09T15:40:30Z",
            "end": "2026-10-09T16:00:00Z",
            "announced": "2026-10-09T12:40:30Z",
            "kind": "emergency",
            "reason": "emergency maintenance: announced 3h before its start; api needs 48h "
            "notice — this window counts as downtime",
            "cancelled": False,
        },
        "notice": "emergency maintenance: announced 3h before its start; api needs 48h "
        "notice — this window counts as downtime",
    }
    planned = ops.call(
        "POST",
        "/maintenance",
        {
            "services": "*",
            "title": "Upgrade",
            "start": "2026-10-12T02:00:00Z",
            "end": "2026-10-12T03:00:00Z",
            "location": "fra",
        },
    )
    assert planned.status == 201
    assert planned.body["maintenance"]["kind"] == "scheduled"
    assert planned.body["notice"] == (
        "scheduled maintenance: announced 61h19m30s before its start; api needs 48h notice, "
        "web needs 24h notice — excluded from downtime"
    )
    ops.clock.advance(60)
    cancelled = ops.call("DELETE", "/maintenance/1")
    assert cancelled.status == 200
    assert cancelled.body["maintenance"]["cancelled"] is True
    assert ops.call("DELETE", "/maintenance/1").body == {
        "error": "maintenance window #1 is already cancelled"
    }
    listed = ops.call("GET", "/maintenance")
    assert [(m["id"], m["kind"], m["cancelled"]) for m in listed.body["maintenance"]] == [
        (1, "emergency", True),
        (2, "scheduled", False),
    ]
    history = ops.call("GET", "/maintenance/1/history").body["history"]
    assert [(h["action"], h["actor"], h["at"]) for h in history] == [
        ("maintenance.create", "alice", "2026-10-09T12:40:30Z"),
        ("maintenance.cancel", "alice", "2026-10-09T12:41:30Z"),
    ]
    assert [(type(c).__name__, c.id) for c in ops.changes] == [
        ("MaintenanceView", 1),
        ("MaintenanceView", 2),
        ("MaintenanceView", 1),
    ]


@pytest.mark.parametrize(
    ("path", "payload", "message"),
    [
        ("/incidents", {"services": ["api"], "impact": "major"}, "title: required"),
        (
            "/incidents",
            {**OPEN, "impact": "huge"},
            "impact: input should be 'none', 'minor', 'major' or 'critical', got 'huge'",
        ),
        (
            "/incidents",
            {**OPEN, "services": ["shop"]},
            "services: unknown service 'shop'; contract 'ops-web' has: api, web",
        ),
        (
            "/incidents",
            {**OPEN, "started": "2026-10-09T12:30:00"},
            "started: input should have timezone info, got '2026-10-09T12:30:00'",
        ),
        ("/incidents", {**OPEN, "colour": "red"}, "colour: unknown field"),
        (
            "/incidents",
            b"{nope",
            "body: not valid JSON (key must be a string at line 1 column 2)",
        ),
        ("/incidents", [1], "body: expected a JSON object"),
        (
            "/incidents/1/updates",
            {"status": "fixed", "body": "x"},
            "status: input should be 'investigating', 'identified', 'monitoring' or "
            "'resolved', got 'fixed'",
        ),
        (
            "/maintenance",
            {
                "services": ["api"],
                "title": "x",
                "start": "2026-10-12T02:00:00Z",
                "end": "2026-10-12T01:00:00Z",
            },
            "end: expected an end after start 2026-10-12T02:00:00Z, got 2026-10-12T01:00:00Z",
        ),
    ],
)
def test_bad_requests_name_the_field(ops: Ops, path: str, payload: Any, message: str) -> None:
    if path.startswith("/incidents/1"):
        assert ops.call("POST", "/incidents", OPEN).status == 201
        ops.changes.clear()
    reply = ops.call("POST", path, payload)
    assert (reply.status, reply.body) == (422, {"error": message})
    assert ops.changes == []


def test_unknown_ids_are_404(ops: Ops) -> None:
    assert ops.call("GET", "/incidents/7").body == {"error": "no incident #7"}
    assert ops.call("GET", "/incidents/7").status == 404
    assert ops.call("GET", "/incidents/x/history").body == {"error": "no incident #x"}
    assert ops.call("POST", "/incidents/0/resolve").status == 404
    assert ops.call("GET", "/maintenance/3").body == {"error": "no maintenance window #3"}
    bad = ops.call("GET", "/incidents?active=maybe")
    assert (bad.status, bad.body) == (422, {"error": "active: expected true or false, got 'maybe'"})


def test_a_failing_hook_does_not_hide_a_committed_change(ops: Ops, store_url: str) -> None:
    engine = connect(store_url)
    tokens = TokenStore(engine)
    clock = Clock(START)

    def broken(_view: IncidentView | MaintenanceView) -> None:
        raise RuntimeError("mail server down")

    app = create_app(CONTRACT, Events(), ObservationStore(engine), tokens, clock)
    operator = OperatorApi(
        IncidentStore(engine, CONTRACT),
        MaintenanceStore(engine, CONTRACT),
        AuditLog(engine),
        clock,
        CONTRACT,
        on_change=broken,
    )
    mount_operator_api(app, operator, tokens)
    with serving(app) as url:
        reply = post(f"{url}/api/v1/admin/incidents", OPEN, ops.admin)
    engine.dispose()
    assert reply.status == 201
    assert json.dumps(reply.body["incident"]["id"]) == "1"
    assert ops.incidents.get(1).title == "Elevated API errors"


def send(ops: Ops, method: str, path: str, payload: Any = None) -> Reply:
    body = None if payload is None else json.dumps(payload).encode()
    return request(f"{ops.url}/api/v1/admin{path}", body=body, token=ops.admin, method=method)


def test_instants_out_of_range_and_multi_line_titles_are_422_never_201(ops: Ops) -> None:
    year_26 = ops.call("POST", "/incidents", {**OPEN, "started": "0026-10-09T12:30:00Z"})
    assert (year_26.status, year_26.body) == (
        422,
        {
            "error": "started: expected an instant from 2000-01-01T00:00:00Z to "
            "2026-10-09T12:40:30Z, got 0026-10-09T12:30:00Z"
        },
    )
    year_1 = ops.call(
        "POST",
        "/maintenance",
        {
            "services": "*",
            "title": "Work",
            "start": "0001-01-01T00:00:00+05:00",
            "end": "0001-01-01T06:00:00+05:00",
        },
    )
    assert year_1.status == 422
    assert year_1.body["error"].startswith("start: expected an instant from 2000-01-01T00:00:00Z")
    header = ops.call("POST", "/incidents", {**OPEN, "title": "Down\r\nBcc: all@example.test"})
    assert (header.status, header.body) == (
        422,
        {
            "error": "title: expected one line of text, got a line break or another "
            "control character"
        },
    )
    assert ops.call("GET", "/incidents").body == {"incidents": []}
    assert ops.call("GET", "/maintenance").body == {"maintenance": []}
    assert ops.changes == []


def test_a_mistaken_incident_is_corrected_then_deleted_audited_under_the_token(ops: Ops) -> None:
    created = ops.call("POST", "/incidents", OPEN)
    number = created.body["incident"]["id"]
    fixed = send(
        ops, "PATCH", f"/incidents/{number}", {"title": "API errors", "impact": "critical"}
    )
    assert fixed.status == 200
    assert (fixed.body["incident"]["title"], fixed.body["incident"]["impact"]) == (
        "API errors",
        "critical",
    )
    bad = send(ops, "PATCH", f"/incidents/{number}", {"started": "0026-01-01T00:00:00Z"})
    assert bad.status == 422
    unknown = send(ops, "PATCH", f"/incidents/{number}", {"colour": "red"})
    assert unknown.status == 422
    gone = send(ops, "DELETE", f"/incidents/{number}")
    assert (gone.status, gone.body["deleted"]["title"]) == (200, "API errors")
    assert send(ops, "GET", f"/incidents/{number}").status == 404
    assert send(ops, "DELETE", f"/incidents/{number}").status == 404
    history = send(ops, "GET", f"/incidents/{number}/history")
    # The incident is gone, so its history is asked of the audit log by id: 404 here, and
    # kept in the audit log (read with `slaledger incident show` before, or the database).
    assert history.status == 404
    audit = AuditLog(ops.incidents.engine).history("incident", number)
    assert [(e.action, e.actor) for e in audit] == [
        ("incident.open", "alice"),
        ("incident.edit", "alice"),
        ("incident.delete", "alice"),
    ]
    assert audit[2].before is not None
    assert audit[2].before["title"] == "API errors"
    assert [type(c).__name__ for c in ops.changes] == ["IncidentView", "IncidentView"]


def test_a_mistaken_window_is_corrected_or_purged_while_delete_alone_cancels(ops: Ops) -> None:
    window = {
        "services": ["web"],
        "title": "Upgrade",
        "start": "2026-10-11T02:00:00Z",
        "end": "2026-10-11T03:00:00Z",
    }
    number = ops.call("POST", "/maintenance", window).body["maintenance"]["id"]
    moved = send(ops, "PATCH", f"/maintenance/{number}", {"end": "2026-10-11T04:00:00Z"})
    assert (moved.status, moved.body["maintenance"]["end"]) == (200, "2026-10-11T04:00:00Z")
    assert moved.body["notice"].startswith("scheduled maintenance: announced 37h19m30s before")
    cancelled = send(ops, "DELETE", f"/maintenance/{number}")
    assert (cancelled.status, cancelled.body["maintenance"]["cancelled"]) == (200, True)
    wrong = send(ops, "DELETE", f"/maintenance/{number}?purge=yes")
    assert (wrong.status, wrong.body) == (
        422,
        {"error": "purge: expected true or false, got 'yes'"},
    )
    purged = send(ops, "DELETE", f"/maintenance/{number}?purge=true")
    assert (purged.status, purged.body["deleted"]["title"]) == (200, "Upgrade")
    assert ops.call("GET", "/maintenance").body == {"maintenance": []}
    audit = AuditLog(ops.incidents.engine).history("maintenance", number)
    assert [e.action for e in audit] == [
        "maintenance.create",
        "maintenance.edit",
        "maintenance.cancel",
        "maintenance.delete",
    ]
