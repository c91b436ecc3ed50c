"""The web boundary on a real server over a real SQLite file: every error is JSON
``{"error": …}`` (a database failure in any route a 503 with ``Retry-After``, a bug a 500
logged with its traceback), and the OpenAPI document declares each operation's errors."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_server import CONTRACT, START, Clock, serving
from fastapi import FastAPI
from snapshots import status_snapshot

from slaledger.core.events import Events
from slaledger.store.audit_log import AuditLog
from slaledger.store.database import connect, migrate
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.observation_store import ObservationStore
from slaledger.store.record_store import RecordStore
from slaledger.store.subscriber_store import SubscriberStore
from slaledger.store.tokens import TokenStore
from slaledger.web.app import Publication, create_app

UNAVAILABLE = {"error": "the database is unavailable now; try again later"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def call(url: str, method: str = "GET", body: bytes | None = None, token: str = "") -> Answer:
    headers = {"Content-Type": "application/x-www-form-urlencoded" if body else "text/plain"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    sent = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            status, raw, answer_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, answer_headers = error.code, error.read(), error.headers
    kind = answer_headers.get("content-type", "")
    return Answer(
        status, json.loads(raw) if kind == "application/json" else raw, dict(answer_headers)
    )


@dataclass
class Site:
    url: str
    app: FastAPI
    path: Path
    admin: str


def full_app(path: Path) -> tuple[FastAPI, str]:
    engine = connect(f"sqlite:///{path}")
    migrate(engine)
    tokens = TokenStore(engine)
    admin = tokens.create("admin", "alice", START)
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
        records=RecordStore(engine),
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
    return app, admin


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    path = tmp_path / "store.db"
    app, admin = full_app(path)

    @app.get("/api/v1/admin/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug in a route")

    with serving(app) as url:
        yield Site(url, app, path, admin)


def rename_table(path: Path, table: str) -> None:
    engine = connect(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {table}_away")
    engine.dispose()


def test_a_database_failure_in_the_subscription_admin_routes_is_a_json_503(site: Site) -> None:
    rename_table(site.path, "webhooks")
    hooks = call(site.url + "/api/v1/admin/webhooks", token=site.admin)
    assert (hooks.status, hooks.body, hooks.headers["retry-after"]) == (503, UNAVAILABLE, "5")
    # The store is then known to fail: the health gate answers every route for a while.
    again = call(site.url + "/api/v1/admin/webhooks", token=site.admin)
    assert again.status == 503
    assert again.body["error"].startswith("figures are not current: the store failed: ")


def test_a_database_failure_in_the_subscribe_form_is_a_json_503(site: Site) -> None:
    rename_table(site.path, "subscribers")
    form = call(site.url + "/subscribe", "POST", b"email=ana%40example.com")
    assert (form.status, form.body, form.headers["retry-after"]) == (503, UNAVAILABLE, "5")


def test_a_database_failure_in_the_operator_api_is_a_json_503(site: Site) -> None:
    rename_table(site.path, "audit_log")
    opened = {"title": "API down", "services": ["api"], "impact": "major"}
    listed = call(
        site.url + "/api/v1/admin/incidents", "POST", json.dumps(opened).encode(), site.admin
    )
    assert (listed.status, listed.body, listed.headers["retry-after"]) == (503, UNAVAILABLE, "5")


def test_a_bug_is_a_json_500_logged_with_its_traceback(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="slaledger.web"):
        answer = call(site.url + "/api/v1/admin/boom")
    assert (answer.status, answer.body) == (500, {"error": "internal error; it is logged"})
    assert answer.headers["content-type"] == "application/json"
    [record] = [r for r in caplog.records if r.name == "slaledger.web"]
    assert record.getMessage() == "GET /api/v1/admin/boom failed"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "a bug in a route"


def test_parameters_are_refused_in_the_same_words_as_bodies(site: Site) -> None:
    answer = call(site.url + "/api/v1/admin/webhooks/abc", "DELETE", token=site.admin)
    assert (answer.status, answer.body) == (
        422,
        {
            "error": "webhook_id: input should be a valid integer, unable to parse string as an "
            "integer, got 'abc'"
        },
    )
    unknown = call(site.url + "/api/v1/nothing-here")
    assert (unknown.status, unknown.body) == (404, {"error": "Not Found"})


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def declared_errors(operation: dict[str, Any]) -> dict[int, Any]:
    return {
        int(status): answer["content"]["application/json"]["schema"]
        for status, answer in operation["responses"].items()
        if int(status) >= 400
    }


def test_every_operation_declares_its_errors_with_the_one_error_model(tmp_path: Path) -> None:
    app, _admin = full_app(tmp_path / "store.db")
    document = app.openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    seen = 0
    for path, method, operation in operations(document):
        errors = declared_errors(operation)
        where = f"{method.upper()} {path}"
        assert {500, 503} <= errors.keys(), where
        assert all(schema == ERROR_REF for schema in errors.values()), where
        if path.startswith("/api/v1/admin/"):
            assert {401, 403, 422} <= errors.keys(), where
        if path == "/api/v1/ingest":
            assert {401, 403, 409, 413, 422} <= errors.keys(), where
        if "{" in path and path.startswith("/api/v1/admin/"):
            assert 404 in errors, where
        if method in ("post", "patch") and path.startswith("/api/v1/admin/"):
            assert 413 in errors, where
        seen += 1
    assert seen == 38


def test_the_public_document_declares_its_errors_too(site: Site) -> None:
    document = call(site.url + "/api/v1/openapi.json").body
    for path, method, operation in operations(document):
        errors = declared_errors(operation)
        assert {500, 503} <= errors.keys(), f"{method.upper()} {path}"
    uptime = declared_errors(document["paths"]["/api/v1/uptime"]["get"])
    assert sorted(uptime) == [404, 422, 500, 503]
