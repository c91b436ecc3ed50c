"""Health that means health: a real server over a real SQLite file that gets corrupted while
it runs. ``/healthz`` reads the store; every route then answers 503 with ``Retry-After``
(JSON, the page's paths a short page saying the figures are not current), never a plain-text
500 nor a fresh-looking "operational"."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_server import CONTRACT, START, Clock, serving
from snapshots import status_snapshot

from slaledger.core.events import Events
from slaledger.store.audit_log import AuditLog
from slaledger.store.database import connect, migrate
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.observation_store import ObservationStore
from slaledger.store.subscriber_store import SubscriberStore
from slaledger.store.tokens import TokenStore
from slaledger.web.app import Publication, create_app


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: dict[str, str]


def call(url: str, method: str = "GET", body: bytes | None = None, token: str = "") -> Answer:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    sent = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            return Answer(response.status, response.read().decode(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(), dict(error.headers))


@dataclass
class Site:
    url: str
    path: Path
    agent: str
    admin: str
    problem: list[str]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    path = tmp_path / "store.db"
    engine = connect(f"sqlite:///{path}")
    migrate(engine)
    tokens = TokenStore(engine)
    agent = tokens.create("agent", "agent-fra", START, location="fra")
    admin = tokens.create("admin", "alice", START)
    problem: list[str] = []
    snapshot = status_snapshot()
    publication = Publication(
        snapshots=lambda: snapshot,
        live=lambda: b"{}",
        incidents=IncidentStore(engine, CONTRACT),
        maintenance=MaintenanceStore(engine, CONTRACT),
        audit=AuditLog(engine),
        subscribers=SubscriberStore(engine),
        on_change=lambda _view: None,
        wake=lambda: None,
        public_url="http://status.test",
        problem=lambda: problem[0] if problem else None,
    )
    app = create_app(
        CONTRACT,
        Events(),
        ObservationStore(engine),
        tokens,
        Clock(START),
        publication=publication,
        health_seconds=0,
    )
    try:
        with serving(app) as url:
            yield Site(url, path, agent, admin, problem)
    finally:
        engine.dispose()


PUBLIC = ("/api/v1/status", "/api/v1/incidents", "/api/v2/summary.json", "/badge/api.svg")
NOT_CURRENT = (
    '{"error":"figures are not current: the store cannot be read: (sqlite3.DatabaseError) '
)


def corrupt(path: Path) -> None:
    """Overwrite the file's header and first pages with garbage, as a failing disk would
    (after a checkpoint: pages still in the write-ahead log would hide it for a while)."""
    engine = connect(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    with path.open("r+b") as file:
        file.write(b"\xa5" * 16_384)


def test_a_corrupted_store_makes_every_route_answer_503_and_healthz_say_failing(
    site: Site,
) -> None:
    assert call(site.url + "/healthz").body == '{"status":"ok"}'
    assert call(site.url + "/").status == 200
    for path in PUBLIC:
        assert call(site.url + path).status == 200, path

    corrupt(site.path)

    health = call(site.url + "/healthz")
    assert (health.status, health.headers["retry-after"]) == (503, "5")
    assert health.body == (
        '{"status":"failing","error":"the store cannot be read: (sqlite3.DatabaseError) '
        'file is not a database"}'
    )
    page = call(site.url + "/")
    assert (page.status, page.headers["retry-after"]) == (503, "5")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Figures are not current</h1>" in page.body
    assert "Operational" not in page.body
    assert "<h1>Figures are not current</h1>" in call(site.url + "/services/api").body
    for path in (*PUBLIC, "/api/v1/admin/incidents"):
        answer = call(site.url + path, token=site.admin)
        assert (answer.status, answer.headers["retry-after"]) == (503, "5"), path
        assert answer.body.startswith(NOT_CURRENT), path
    ingest = call(site.url + "/api/v1/ingest", "POST", b"{}", site.agent)
    assert (ingest.status, ingest.headers["retry-after"], ingest.body) == (
        503,
        "5",
        '{"error":"the store cannot take the batch now; send it again later"}',
    )


def test_a_publisher_that_cannot_build_figures_makes_the_page_say_they_are_not_current(
    site: Site,
) -> None:
    site.problem.append("the publisher cannot build the figures: database disk image is malformed")
    page = call(site.url + "/")
    assert page.status == 503
    assert (
        "The status figures cannot be brought up to date now (the publisher cannot build the "
        "figures: database disk image is malformed)."
    ) in page.body
    status = call(site.url + "/api/v1/status")
    assert (status.status, status.body) == (
        503,
        '{"error":"figures are not current: the publisher cannot build the figures: '
        'database disk image is malformed; try again later"}',
    )
    assert call(site.url + "/healthz").status == 503
    site.problem.clear()
    assert call(site.url + "/api/v1/status").status == 200
