"""The whole app on a real uvicorn server configured as ``slaledger serve`` configures it:
CORS on the public read routes only, HEAD wherever GET answers, body size and time limits,
the request-head deadline, ``X-Forwarded-For`` only from trusted proxies, the webhook
address policy at registration, oversized ids."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from api_server import START, Clock
from snapshots import CONTRACT, PAGE_URL, Snapshots, status_snapshot

from slaledger.core.events import Events
from slaledger.store.audit_log import AuditLog
from slaledger.store.database import connect, migrate
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.observation_store import ObservationStore
from slaledger.store.subscriber_store import SubscriberStore
from slaledger.store.tokens import TokenStore
from slaledger.web.app import Publication, create_app
from slaledger.web.server import http_config, listen, url_of

PUBLIC = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v1/status",
    "/api/v1/sla",
    "/badge/api.svg",
    "/feed.atom",
    "/history.atom",
    "/history.rss",
    "/maintenance.ics",
]


@dataclass
class Server:
    url: str
    admin: str
    subscribers: SubscriberStore


@contextmanager
def running(
    tmp_path: Path,
    *,
    trusted: tuple[str, ...] = (),
    head_seconds: float = 10.0,
    body_seconds: float = 30.0,
    max_pending: int = 1000,
) -> Iterator[Server]:
    engine = connect(f"sqlite:///{tmp_path / 'guard.db'}")
    migrate(engine)
    tokens = TokenStore(engine)
    subscribers = SubscriberStore(engine)
    clock = Clock(START)
    publication = Publication(
        snapshots=Snapshots(status_snapshot()),
        live=lambda: b"{}",
        incidents=IncidentStore(engine, CONTRACT),
        maintenance=MaintenanceStore(engine, CONTRACT),
        audit=AuditLog(engine),
        subscribers=subscribers,
        on_change=lambda _view: None,
        wake=lambda: None,
        public_url=PAGE_URL,
        max_pending_confirmations=max_pending,
    )
    app = create_app(
        CONTRACT,
        Events(),
        ObservationStore(engine),
        tokens,
        clock,
        publication=publication,
        body_seconds=body_seconds,
    )
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(http_config(app, trusted_proxies=trusted, head_seconds=head_seconds))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        yield Server(url_of(sock), tokens.create("admin", "ops", START), subscribers)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        engine.dispose()


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def call(
    url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("guard")) as running_server:
        yield running_server


@pytest.mark.parametrize("path", PUBLIC)
def test_public_reads_allow_any_origin(server: Server, path: str) -> None:
    reply = call(server.url + path, headers={"Origin": "http://elsewhere.test"})
    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] == "*"
    preflight = call(
        server.url + path,
        "OPTIONS",
        headers={
            "Origin": "http://elsewhere.test",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert preflight.headers["access-control-allow-headers"] == "If-None-Match"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/admin/webhooks"),
        ("POST", "/api/v1/ingest"),
        ("OPTIONS", "/api/v1/admin/webhooks"),
        ("OPTIONS", "/api/v1/ingest"),
        ("OPTIONS", "/api/v1/admin/incidents"),
    ],
)
def test_admin_and_ingest_never_allow_other_origins(server: Server, method: str, path: str) -> None:
    reply = call(
        server.url + path,
        method,
        data=b"{}" if method == "POST" else None,
        headers={"Origin": "http://elsewhere.test", "Access-Control-Request-Method": "POST"},
    )
    assert reply.status in (401, 405)
    assert "access-control-allow-origin" not in {name.lower() for name in reply.headers}


@pytest.mark.parametrize(
    "path", [*PUBLIC, "/", "/incidents/7", "/maintenance/3", "/services/web", "/healthz"]
)
def test_head_answers_wherever_get_does(server: Server, path: str) -> None:
    got = call(server.url + path)
    head = call(server.url + path, "HEAD")
    assert (head.status, head.body) == (got.status, b"")
    assert head.headers.get("Content-Type") == got.headers.get("Content-Type")


def test_oversized_ids_are_not_found(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.admin}"}
    for path in ("/api/v1/admin/webhooks/", "/api/v1/admin/accounts/"):
        reply = call(server.url + path + "99999999999999999999", "DELETE", headers=auth)
        assert reply.status == 404, path
        assert (
            reply.body
            == b'{"error":"no '
            + (
                b"webhook 99999999999999999999"
                if "webhooks" in path
                else b"account holder 99999999999999999999"
            )
            + b'"}'
        )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hook", "127.0.0.1 is a private or local address"),
        ("http://10.1.2.3/hook", "10.1.2.3 is a private or local address"),
        ("http://169.254.169.254/latest", "169.254.169.254 is a private or local address"),
        ("http://[::1]/hook", "::1 is a private or local address"),
        ("http://[fe80::1]/hook", "fe80::1 is a private or local address"),
        ("http://[64:ff9b::a9fe:a9fe]/hook", "64:ff9b::a9fe:a9fe is a private or local address"),
        ("http://[2002:7f00:1::1]/hook", "2002:7f00:1::1 is a private or local address"),
        ("http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1 is a private or local address"),
        ("http://127.1/hook", "127.1 is a non-canonical IPv4 address (write 127.0.0.1)"),
        ("http://2130706433/hook", "2130706433 is a non-canonical IPv4 address (write 127.0.0.1)"),
        ("http://0x7f.0.0.1/hook", "0x7f.0.0.1 is a non-canonical IPv4 address (write 127.0.0.1)"),
        ("http://localhost:9000/hook", "localhost is a local name"),
    ],
)
def test_webhook_addresses_refused_at_registration(server: Server, url: str, reason: str) -> None:
    reply = call(
        server.url + "/api/v1/admin/webhooks",
        "POST",
        data=json.dumps({"url": url}).encode(),
        headers={"Authorization": f"Bearer {server.admin}"},
    )
    assert reply.status == 422
    assert json.loads(reply.body) == {
        "error": f"url: refused: {reason} (allowed only with --allow-private-webhooks)"
    }


def test_public_webhook_address_is_accepted(server: Server) -> None:
    reply = call(
        server.url + "/api/v1/admin/webhooks",
        "POST",
        data=b'{"url": "http://93.184.215.14/hook"}',
        headers={"Authorization": f"Bearer {server.admin}"},
    )
    assert reply.status == 201


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v1/admin/webhooks", 65536),
        ("/subscribe", 65536),
        ("/unsubscribe", 65536),
        ("/api/v1/admin/incidents", 1048576),
    ],
)
def test_every_body_has_a_size_limit(server: Server, path: str, limit: int) -> None:
    # Refused on the declared length, before a byte of the body is read.
    answer = _raw(
        server,
        b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (path.encode(), limit + 1),
    )
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b'{"error":"body: larger than %d bytes"}' % limit)


def _raw(server: Server, request: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_chunked_body_over_the_limit_is_refused(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/admin/webhooks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Authorization: Bearer " + server.admin.encode() + b"\r\n\r\n"
        )
        chunk = b"y" * 40000
        with contextlib.suppress(OSError):  # the server may answer and close before the end
            for _ in range(2):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b'{"error":"body: larger than 65536 bytes"}')


def test_slow_clients_are_timed_out(tmp_path: Path) -> None:
    with running(tmp_path, head_seconds=0.5, body_seconds=0.5) as server:
        host, port = server.url.removeprefix("http://").split(":")
        # A head trickling in, byte by byte: closed after the deadline.
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(b"GET / HTTP/1.1\r\n")
            closed = False
            for byte in b"Host: x\r\nX-Slow: 1234567890\r\n":
                try:
                    sock.sendall(bytes([byte]))
                    sock.settimeout(0.1)
                    if sock.recv(1) == b"":
                        closed = True
                        break
                except TimeoutError:
                    continue
                except OSError:
                    closed = True
                    break
            assert closed
            assert 0.4 < time.monotonic() - started < 3
        # A body that stops arriving: 408.
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\nemail="
            )
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert answer.endswith(b'{"error":"body: no data for 0.5 s; request timed out"}')


def _subscribe(url: str, email: str, forwarded: str) -> int:
    return call(
        url + "/subscribe",
        "POST",
        data=f"email={email}".encode(),
        headers={"X-Forwarded-For": forwarded},
    ).status


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(tmp_path: Path) -> None:
    # 20 requests per client per 10 minutes: a spoofed X-Forwarded-For does not get more.
    with running(tmp_path) as server:
        statuses = [
            _subscribe(server.url, f"a{n}@example.com", f"203.0.113.{n}") for n in range(21)
        ]
        assert statuses == [200] * 20 + [429]
    with running(tmp_path / "..", trusted=("127.0.0.1",)) as server:
        statuses = [
            _subscribe(server.url, f"b{n}@example.com", f"203.0.113.{n}") for n in range(21)
        ]
        assert statuses == [200] * 21  # each forwarded client is its own


def test_pending_confirmations_have_a_global_cap(tmp_path: Path) -> None:
    with running(tmp_path, trusted=("127.0.0.1",), max_pending=3) as server:
        statuses = [
            _subscribe(server.url, f"c{n}@example.com", f"198.51.100.{n}") for n in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429]
        assert server.subscribers.pending_confirmations(0) == 3
