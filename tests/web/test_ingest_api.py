"""``POST /api/v1/ingest`` on a real server over SQLite and PostgreSQL: the wire format,
authentication, field errors, and batches stored exactly once."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_server import CONTRACT, START, Api, post, request, started_api
from sqlalchemy import select

from slaledger.core.observations import ERROR_CODES
from slaledger.core.timebase import US_PER_MINUTE
from slaledger.store import schema

S = 1_000_000


@pytest.fixture
def api(store_url: str) -> Iterator[Api]:
    with started_api(store_url) as running:
        yield running


def result(offset_s: float, **given: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "instant": START - 600 * S + int(offset_s * S),
        "service": "api",
        "check_id": "api:http:0",
        "status": 200,
        "error": None,
        "latency_ms": 12.5,
        "retry_after": False,
    }
    row.update(given)
    return row


def batch(*results: dict[str, Any], location: str = "fra", batch_id: str = "") -> dict[str, Any]:
    return {
        "batch_id": batch_id or uuid.uuid4().hex,
        "location": location,
        "results": list(results),
    }


def ingest_url(api: Api) -> str:
    return f"{api.url}/api/v1/ingest"


def stored_rows(api: Api) -> list[tuple[Any, ...]]:
    """Hot rows as (time, service, location, check, status, error, retry_after, latency)."""
    o = schema.observations.c
    query = (
        select(
            o.ts,
            schema.services.c.name,
            schema.locations.c.name,
            schema.checks.c.name,
            o.status,
            o.error,
            o.retry_after,
            o.latency_ms,
        )
        .join(schema.services, schema.services.c.id == o.service_id)
        .join(schema.locations, schema.locations.c.id == o.location_id)
        .join(schema.checks, schema.checks.c.id == o.check_id)
        .order_by(o.ts, schema.checks.c.name)
    )
    with api.store._engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def test_a_batch_is_stored_with_its_checks_and_latency(api: Api) -> None:
    sent = batch(
        result(0),
        result(0, check_id="api:http:1", status=None, error="timeout", latency_ms=10_000.0),
        result(30, service="web", check_id="home", status=503, retry_after=True, latency_ms=None),
        result(45, service="edge", check_id="edge:tcp:0", status=None, latency_ms=0.25),
    )
    reply = post(ingest_url(api), sent, api.agent_token)
    assert (reply.status, reply.body) == (
        200,
        {"batch_id": sent["batch_id"], "received": 4, "stored": 4, "duplicate": False},
    )
    t0 = START - 600 * S
    assert stored_rows(api) == [
        (t0, "api", "fra", "api:http:0", 200, 0, False, 12.5),
        (t0, "api", "fra", "api:http:1", 0, ERROR_CODES["timeout"], False, 10_000.0),
        (t0 + 30 * S, "web", "fra", "home", 503, 0, True, None),
        (t0 + 45 * S, "edge", "fra", "edge:tcp:0", 0, 0, False, 0.25),
    ]
    loaded = api.store.load(t0, START)
    assert (len(loaded), set(loaded.services), loaded.locations) == (
        4,
        {"api", "web", "edge"},
        ("fra",),
    )


def test_a_batch_sent_again_is_acknowledged_as_a_duplicate_and_stored_once(api: Api) -> None:
    sent = batch(result(0), result(60))
    first = post(ingest_url(api), sent, api.agent_token)
    again = post(ingest_url(api), sent, api.agent_token)
    assert first.body == {
        "batch_id": sent["batch_id"],
        "received": 2,
        "stored": 2,
        "duplicate": False,
    }
    assert (again.status, again.body) == (
        200,
        {"batch_id": sent["batch_id"], "received": 2, "stored": 0, "duplicate": True},
    )
    # Another batch repeating one probe (same time, service, location, check) stores the rest.
    overlap = post(ingest_url(api), batch(result(60), result(120)), api.agent_token)
    assert (overlap.body["received"], overlap.body["stored"]) == (2, 1)
    # The same probe from another location is another observation.
    ams = api.tokens.create("agent", "agent-ams", START, location="ams")
    elsewhere = post(ingest_url(api), batch(result(60), location="ams"), ams)
    assert elsewhere.body["stored"] == 1
    assert len(stored_rows(api)) == 4


def test_an_empty_batch_is_acknowledged(api: Api) -> None:
    sent = batch()
    assert post(ingest_url(api), sent, api.agent_token).body == {
        "batch_id": sent["batch_id"],
        "received": 0,
        "stored": 0,
        "duplicate": False,
    }
    assert post(ingest_url(api), sent, api.agent_token).body["duplicate"] is True


def test_requests_without_a_valid_agent_token_are_refused(api: Api) -> None:
    admin = api.tokens.create("admin", "ops", START)
    revoked = api.tokens.create("agent", "old", START, location="fra")
    api.tokens.revoke("old")
    sent = batch(result(0))
    cases = {
        None: "missing bearer token: send Authorization: Bearer <agent token>",
        "sl_not-a-token": "unknown or revoked token",
        revoked: "unknown or revoked token",
        admin: "a token with scope admin cannot ingest; use an agent token",
    }
    for token, message in cases.items():
        reply = post(ingest_url(api), sent, token)
        assert (reply.status, reply.body) == (401, {"error": message}), token
        assert reply.headers["www-authenticate"] == "Bearer"
    # Authentication comes before the body is even read: no hints for strangers.
    assert post(ingest_url(api), b"not json", None).status == 401
    assert stored_rows(api) == []
    # Another scheme, or a scheme without a token, is no bearer token.
    raw = f"{api.url}/api/v1/ingest"
    for header in ("Basic dXNlcjpwYXNz", "Bearer", f"Token {api.agent_token}"):
        call = urllib.request.Request(raw, data=b"{}", method="POST")
        call.add_header("Authorization", header)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(call, timeout=10)
        assert refused.value.code == 401
    assert post(raw, sent, api.agent_token).status == 200


BAD_BODIES: list[tuple[Any, str]] = [
    (
        batch(result(0), result(1, service="billing")),
        "results.1.service: unknown service 'billing'; contract web-test has api, web, edge",
    ),
    (
        batch(result(0, error="refused")),
        "results.0.error: input should be 'timeout', 'connect', 'dns', 'tls', 'assertion' or "
        "'other', got 'refused'",
    ),
    (
        batch(result(0, status="200")),
        "results.0.status: input should be a valid integer, got '200'",
    ),
    (
        batch(result(0, status=99)),
        "results.0.status: input should be greater than or equal to 100, got 99",
    ),
    (
        batch(result(0, instant=-1)),
        "results.0.instant: input should be greater than or equal to 0, got -1",
    ),
    (
        batch(result(0, latency_ms=-1.0)),
        "results.0.latency_ms: input should be greater than or equal to 0, got -1.0",
    ),
    (
        {k: v for k, v in batch(result(0)).items() if k != "location"},
        "location: required",
    ),
    (
        batch({k: v for k, v in result(0).items() if k != "check_id"}),
        "results.0.check_id: required",
    ),
    (
        batch(result(0), batch_id="not-a-uuid"),
        "batch_id: expected 32 lowercase hex digits (a UUID4 hex), got 'not-a-uuid'",
    ),
    (
        batch(result(0), location="fra west"),
        "location: expected a location name of letters, digits, '.', '_' or '-', got 'fra west'",
    ),
    (b'{"batch_id": ', "body: not valid JSON (EOF while parsing a value at line 1 column 13)"),
    (b"[]", "body: expected a JSON object"),
]


def test_a_bad_field_is_refused_with_its_name_and_nothing_is_stored(api: Api) -> None:
    for payload, message in BAD_BODIES:
        reply = post(ingest_url(api), payload, api.agent_token)
        assert (reply.status, reply.body) == (422, {"error": message})
        if isinstance(payload, dict) and "batch_id" in payload:
            assert not api.store.has_batch(payload["batch_id"])
    assert stored_rows(api) == []


def test_health_and_unknown_routes(api: Api) -> None:
    assert request(f"{api.url}/healthz").body == {"status": "ok"}
    missing = request(f"{api.url}/api/v1/nothing")
    assert (missing.status, missing.body) == (404, {"error": "Not Found"})
    wrong_method = request(ingest_url(api))
    assert (wrong_method.status, wrong_method.body) == (405, {"error": "Method Not Allowed"})


def test_extra_fields_from_newer_agents_are_ignored(api: Api) -> None:
    sent = batch(result(0, detail="ok", phases={"connect": 1.0}))
    sent["agent_version"] = "9.9"
    reply = post(ingest_url(api), sent, api.agent_token)
    assert (reply.status, reply.body["stored"]) == (200, 1)
    assert stored_rows(api)[0][0] == START - 10 * US_PER_MINUTE


def test_a_batch_the_database_cannot_take_is_refused_for_now_and_taken_later(
    tmp_path: Path,
) -> None:
    with started_api(f"sqlite:///{tmp_path / 'store.db'}") as api:
        sent = batch(result(0))
        with api.store._engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE observations RENAME TO observations_away")
        refused = post(ingest_url(api), sent, api.agent_token)
        assert (refused.status, refused.body, refused.headers["retry-after"]) == (
            503,
            {"error": "the store cannot take the batch now; send it again later"},
            "5",
        )
        assert not api.store.has_batch(sent["batch_id"])
        with api.store._engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE observations_away RENAME TO observations")
        taken = post(ingest_url(api), sent, api.agent_token)
        assert (taken.status, taken.body["stored"]) == (200, 1)


DECLARED = CONTRACT.model_copy(
    update={
        "locations": ("fra", "ams"),
        "services": {
            **CONTRACT.services,
            "edge": CONTRACT.services["edge"].model_copy(update={"locations": ("fra",)}),
        },
    }
)
"""The test contract with its locations declared; ``edge`` is probed from fra only."""


def test_a_token_reports_only_for_the_location_it_was_created_for(api: Api) -> None:
    reply = post(ingest_url(api), batch(result(0), location="ams"), api.agent_token)
    assert (reply.status, reply.body) == (
        403,
        {"error": "location: token 'agent-fra' reports for location fra, not ams"},
    )
    assert stored_rows(api) == []


def test_undeclared_locations_are_refused_so_no_agent_can_invent_one(store_url: str) -> None:
    with started_api(store_url, DECLARED) as api:
        # An agent token from before locations (bound to none) may still not invent one:
        # 100,000 "up" results from "fake" would otherwise lift the service to 99.99 %.
        with api.store._engine.begin() as connection:
            connection.execute(schema.tokens.update().values(location=None))
        flood = batch(*(result(i * 0.001) for i in range(100_000)), location="fake")
        reply = post(ingest_url(api), flood, api.agent_token)
        assert (reply.status, reply.body) == (
            422,
            {"error": "location: 'fake' is not a location of contract web-test (fra, ams)"},
        )
        for ghost in ("ghost1", "ghost2"):
            down = batch(result(0, status=503, service="web"), location=ghost)
            assert post(ingest_url(api), down, api.agent_token).status == 422
        # A service narrowed to fra is not probed from ams.
        ams = batch(result(0), result(1, service="edge"), location="ams")
        reply = post(ingest_url(api), ams, api.agent_token)
        assert (reply.status, reply.body) == (
            422,
            {"error": "results.1.service: service edge is not probed from location 'ams' (fra)"},
        )
        assert stored_rows(api) == []
        # A declared location is taken.
        assert (
            post(ingest_url(api), batch(result(0), location="ams"), api.agent_token).status == 200
        )
        assert len(stored_rows(api)) == 1


def test_instants_ahead_of_the_clock_or_beyond_the_horizon_are_refused(api: Api) -> None:
    ahead = START + 5 * US_PER_MINUTE
    old = START - 7 * 24 * 60 * US_PER_MINUTE
    cases = {
        "results.1.instant: 2026-10-09T12:45:30.000001Z is more than 5m ahead of the "
        "server's clock (2026-10-09T12:40:30Z) (1 more such results)": batch(
            result(0, instant=ahead), result(0, instant=ahead + 1), result(0, instant=ahead + 2)
        ),
        "results.0.instant: 1970-01-01T00:00:00Z is older than the ingest horizon of 7d "
        "(2026-10-09T12:40:30Z)": batch(result(0, instant=0)),
        "results.1.instant: 2026-10-02T12:40:29.999999Z is older than the ingest horizon of "
        "7d (2026-10-09T12:40:30Z)": batch(result(0, instant=old), result(0, instant=old - 1)),
    }
    for message, sent in cases.items():
        reply = post(ingest_url(api), sent, api.agent_token)
        assert (reply.status, reply.body) == (422, {"error": message})
        assert not api.store.has_batch(sent["batch_id"])
    assert stored_rows(api) == []
    # The edges themselves are taken: 5 minutes ahead, exactly the horizon old.
    edges = batch(result(0, instant=ahead), result(0, instant=old))
    assert post(ingest_url(api), edges, api.agent_token).body["stored"] == 2


def test_the_ingest_horizon_is_configured(store_url: str) -> None:
    with started_api(store_url, ingest_horizon=2 * US_PER_MINUTE) as api:
        reply = post(ingest_url(api), batch(result(0)), api.agent_token)  # 10 minutes old
        assert (reply.status, reply.body) == (
            422,
            {
                "error": "results.0.instant: 2026-10-09T12:30:30Z is older than the ingest "
                "horizon of 2m (2026-10-09T12:40:30Z)"
            },
        )


def test_a_batch_id_sent_again_with_other_rows_is_refused_and_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    first = batch(result(0), result(60))
    assert post(ingest_url(api), first, api.agent_token).body["stored"] == 2
    other = batch(result(0), result(120), batch_id=first["batch_id"])
    with caplog.at_level(logging.WARNING, logger="slaledger.web"):
        reply = post(ingest_url(api), other, api.agent_token)
    assert (reply.status, reply.body) == (
        409,
        {
            "error": f"batch_id: batch {first['batch_id']} was already stored with other rows; "
            "a batch id names one content: send new rows under a new id"
        },
    )
    assert [r.getMessage() for r in caplog.records] == [
        f"batch {first['batch_id']} refused: token 'agent-fra' (location fra) sent other rows "
        "under the id of a batch stored at 2026-10-09T12:40:30Z from agent fra"
    ]
    assert [row[0] for row in stored_rows(api)] == [
        START - 10 * US_PER_MINUTE,
        START - 9 * US_PER_MINUTE,
    ]
    # The same rows again are still a duplicate, acknowledged.
    again = post(ingest_url(api), first, api.agent_token)
    assert (again.status, again.body["duplicate"]) == (200, True)
