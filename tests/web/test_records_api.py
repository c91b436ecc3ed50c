"""``POST /api/v1/admin/records`` through a real server over a real store (SQLite and
PostgreSQL): exact answers, all or nothing, idempotent batches, audited replacements."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from api_server import START, Clock, post, request, serving

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.store.audit_log import AuditLog
from slaledger.store.database import connect, migrate
from slaledger.store.observation_store import ObservationStore
from slaledger.store.record_store import RecordStore
from slaledger.store.tokens import TokenStore
from slaledger.web.app import create_app
from slaledger.web.records_api import RecordsApi, mount_records_api

CONTRACT = Contract.model_validate(
    {
        "contract": "records-web",
        "name": "Records web test",
        "locations": ["fra", "ams"],
        "services": {
            "power": {
                "name": "Power",
                "target": "99.99",
                "per_location": True,
                "downtime": {"rule": "first-fail-to-first-success"},
            },
            "api": {"name": "API", "target": "99.5", "downtime": {"rule": "probe-ratio"}},
        },
    }
)
TICKET: dict[str, Any] = {
    "kind": "ticket",
    "id": "T-1",
    "customer": "acme",
    "severity": "P1",
    "opened": "2026-10-05T09:00:00Z",
    "responses": [{"at": "2026-10-05T09:01:00Z", "by": "auto"}],
}
SWAP: dict[str, Any] = {
    "kind": "hardware-swap",
    "id": "HW-7",
    "location": "fra",
    "diagnosed": "2026-10-07T10:00:00Z",
    "replaced": "2026-10-07T13:00:00Z",
}


@dataclass
class Server:
    url: str
    admin: str
    agent: str
    store: RecordStore
    audit: AuditLog

    def send(self, payload: Any, token: str | None = None) -> tuple[int, Any]:
        reply = post(f"{self.url}/api/v1/admin/records", payload, token or self.admin)
        return reply.status, reply.body


@pytest.fixture
def server(store_url: str) -> Iterator[Server]:
    engine = connect(store_url)
    migrate(engine)
    tokens = TokenStore(engine)
    clock = Clock(START)
    app = create_app(CONTRACT, Events(), ObservationStore(engine), tokens, clock)
    store = RecordStore(engine)
    mount_records_api(app, RecordsApi(store, CONTRACT, clock), tokens)
    admin = tokens.create("admin", "alice", START)
    agent = tokens.create("agent", "agent-fra", START, location="fra")
    try:
        with serving(app) as url:
            yield Server(url, admin, agent, store, AuditLog(engine))
    finally:
        engine.dispose()


def test_a_batch_is_stored_then_unchanged_then_replaced_and_audited(server: Server) -> None:
    assert server.send({"records": [TICKET, SWAP]}) == (
        200,
        {"new": 2, "replaced": 0, "unchanged": 0},
    )
    assert server.send({"records": [TICKET, SWAP]}) == (
        200,
        {"new": 0, "replaced": 0, "unchanged": 2},
    )
    answered = TICKET | {"responses": [{"at": "2026-10-05T09:30:00Z", "by": "human"}]}
    assert server.send({"records": [answered]}) == (
        200,
        {"new": 0, "replaced": 1, "unchanged": 0},
    )
    assert server.store.version("records-web", "ticket", "T-1") == 2
    (entry,) = server.audit.entries()
    assert (entry.actor, entry.action, entry.at) == ("alice", "record.replace", START)


@pytest.mark.parametrize(
    ("records", "error"),
    [
        (
            [TICKET, SWAP | {"replaced": "2026-10-07T09:00:00Z"}],
            "records[1].replaced: expected an instant at or after diagnosed "
            "(2026-10-07T10:00:00Z), got 2026-10-07T09:00:00Z",
        ),
        (
            [TICKET, {"kind": "parcel", "id": "P-1"}],
            "records[1].kind: expected one of ticket, hardware-swap, ddos, provisioning, "
            'outage, claim, got "parcel"',
        ),
        (
            [SWAP | {"location": "par"}],
            "records[0].location: location 'par' is not a location of contract records-web "
            "(fra, ams)",
        ),
        (
            [
                TICKET,
                {
                    "kind": "outage",
                    "service": "api",
                    "location": "fra",
                    "start": "2026-10-10T01:00:00Z",
                    "end": "2026-10-10T01:20:00Z",
                },
            ],
            "records[1].service: service api is settled by probe-ratio, which counts probes; an "
            "outage record applies only to continuous-failure or first-fail-to-first-success "
            "services",
        ),
        (
            [TICKET, TICKET],
            "records[1].id: expected each ticket once, got 'T-1' again (first at #0)",
        ),
        (
            [TICKET | {"responses": [{"at": "2026-10-20T00:00:00Z", "by": "human"}]}],
            "records[0].responses[0].at: expected an instant at or before now "
            "(2026-10-09T12:40:30Z), got 2026-10-20T00:00:00Z",
        ),
    ],
)
def test_a_bad_record_is_a_422_naming_it_and_nothing_is_stored(
    server: Server, records: list[Any], error: str
) -> None:
    assert server.send({"records": records}) == (422, {"error": error})
    assert server.store.version("records-web", "ticket", "T-1") is None


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ([TICKET], 422, 'body: expected an object {"records": [record, …]}'),
        ({"records": []}, 422, "records: expected 1 to 100000 records, got 0"),
        ({"records": [TICKET], "dry_run": True}, 422, "dry_run: unknown field"),
        (
            b"{",
            422,
            "body: not valid JSON (Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1))",
        ),
    ],
)
def test_a_malformed_body_is_refused(server: Server, payload: Any, status: int, error: str) -> None:
    assert server.send(payload) == (status, {"error": error})


def test_the_admin_token_is_required(server: Server) -> None:
    reply = request(f"{server.url}/api/v1/admin/records", body=b'{"records": []}', method="POST")
    assert (reply.status, reply.body) == (
        401,
        {"error": "missing bearer token: send Authorization: Bearer <admin token>"},
    )
    assert server.send({"records": [TICKET]}, server.agent) == (
        403,
        {"error": "a token with scope agent cannot use the operator API; use an admin token"},
    )


def test_a_body_over_the_limit_is_refused_before_it_is_read(server: Server) -> None:
    limit = 32 * 1024 * 1024
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST /api/v1/admin/records HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            % (limit + 1)
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b'{"error":"body: larger than 33554432 bytes"}')
