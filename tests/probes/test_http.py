"""HTTP probes against real local servers: statuses, bodies, redirects, TLS, misbehaviour."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from typing import Any

import pytest
import trustme
from aiohttp import web
from targets import LOCAL, dns_server, free_port, http_server, run, tcp_server

from slaledger.core.checks import HttpCheck, JsonCondition
from slaledger.probes.dns import ServerResolver
from slaledger.probes.http import HttpProber
from slaledger.probes.result import Measurement


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="all ok")


async def status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    headers = {"Retry-After": "120"} if code == 503 else {}
    return web.Response(status=code, text="status", headers=headers)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": {"db": "up", "cache": "down"}, "version": 3})


async def found(request: web.Request) -> web.Response:
    raise web.HTTPFound("/ok")


async def loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def huge(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    chunk = b"x" * 65536
    for _ in range(160):  # 10 MiB
        await response.write(chunk)
    return response


async def slowloris(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    for _ in range(200):
        await response.write(b"x")
        await asyncio.sleep(0.05)
    return response


async def hang(request: web.Request) -> web.Response:
    await asyncio.sleep(10)
    return web.Response(text="late")


async def echo(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "method": request.method,
            "body": await request.text(),
            "key": request.headers.get("X-Api-Key"),
            "cookie": request.headers.get("Cookie"),
        }
    )


async def cookie(request: web.Request) -> web.Response:
    response = web.Response(text="cookie set")
    response.set_cookie("session", "abc")
    return response


def app() -> web.Application:
    application = web.Application()
    application.router.add_route("*", "/echo", echo)
    for path, handler in {
        "/ok": ok,
        "/status/{code}": status,
        "/health": health,
        "/found": found,
        "/loop": loop,
        "/huge": huge,
        "/slowloris": slowloris,
        "/hang": hang,
        "/cookie": cookie,
    }.items():
        application.router.add_get(path, handler)
    return application


def check(url: str, **fields: Any) -> HttpCheck:
    fields.setdefault("timeout", "500ms")
    return HttpCheck.model_validate({"type": "http", "url": url, **fields})


async def probe_local(path: str, **fields: Any) -> Measurement:
    async with http_server(app()) as port, HttpProber() as prober:
        return await prober.probe(check(f"http://{LOCAL}:{port}{path}", **fields))


def outcome(measurement: Measurement) -> tuple[int | None, str | None, bool, str]:
    return measurement.status, measurement.error, measurement.retry_after, measurement.detail


def test_ok_with_phases() -> None:
    measurement = run(probe_local("/ok"))
    assert outcome(measurement) == (200, None, False, "")
    assert set(measurement.phases) == {"connect", "processing", "transfer"}
    assert 0 < sum(measurement.phases.values()) <= measurement.latency_ms < 500
    assert measurement.tls_expiry is None


@pytest.mark.parametrize(
    ("path", "fields", "expected"),
    [
        ("/status/404", {}, (404, "assertion", False, "status 404, expected 2xx or 3xx")),
        ("/status/503", {}, (503, "assertion", True, "status 503, expected 2xx or 3xx")),
        ("/status/503", {"expect_status": [503]}, (503, None, True, "")),
        ("/status/204", {"expect_status": [200, 201]}, (204, "assertion", False,
                                                        "status 204, expected 200 or 201")),
        ("/found", {}, (302, None, False, "")),
        ("/found", {"expect_status": ["2xx"]}, (302, "assertion", False,
                                                "status 302, expected 2xx")),
        ("/found", {"follow_redirects": True, "expect_status": [200]}, (200, None, False, "")),
        ("/loop", {"follow_redirects": True}, (None, "other", False, "too many redirects")),
        ("/ok", {"body_contains": "all ok", "body_not_contains": "error"},
         (200, None, False, "")),
        ("/ok", {"body_contains": ["all", "fine"]},
         (200, "assertion", False, "body does not contain 'fine'")),
        ("/ok", {"body_not_contains": "ok"}, (200, "assertion", False, "body contains 'ok'")),
        ("/health", {"json": {"path": "status.db", "equals": "up"}}, (200, None, False, "")),
        ("/health", {"json": {"path": "status.cache", "equals": "up"}},
         (200, "assertion", False, 'JSON field status.cache is "down", expected "up"')),
        ("/health", {"json": {"path": "version", "equals": "3"}},
         (200, "assertion", False, 'JSON field version is 3, expected "3"')),
        ("/ok", {"json": {"path": "status", "exists": True}},
         (200, "assertion", False, "body is not JSON")),
    ],
)  # fmt: skip
def test_statuses_redirects_and_bodies(
    path: str, fields: dict[str, Any], expected: tuple[int | None, str | None, bool, str]
) -> None:
    assert outcome(run(probe_local(path, **fields))) == expected


def test_request_method_headers_and_body_are_sent() -> None:
    fields = {"method": "POST", "headers": {"X-Api-Key": "k1"}, "body": "ping"}
    fields["json"] = JsonCondition(path="body", equals="ping").model_dump()
    measurement = run(probe_local("/echo", **fields))
    assert outcome(measurement) == (200, None, False, "")
    measurement = run(probe_local("/echo", json={"path": "key", "equals": "k2"}))
    assert measurement.detail == 'JSON field key is null, expected "k2"'


def test_no_state_is_kept_between_probes() -> None:
    async def scenario() -> list[Measurement]:
        async with http_server(app()) as port, HttpProber() as prober:
            base = f"http://{LOCAL}:{port}"
            await prober.probe(check(f"{base}/cookie"))
            no_cookie = check(f"{base}/echo", json={"path": "cookie", "equals": None})
            return [await prober.probe(no_cookie) for _ in range(2)]

    assert [outcome(m) for m in run(scenario())] == [(200, None, False, "")] * 2


def test_huge_body_is_read_up_to_the_cap() -> None:
    measurement = run(probe_local("/huge", max_body_bytes=1000, body_contains="xxx"))
    assert outcome(measurement) == (200, None, False, "")
    measurement = run(probe_local("/huge", max_body_bytes=1000, json={"path": "a", "exists": True}))
    assert outcome(measurement) == (
        200,
        "assertion",
        False,
        "body is longer than max_body_bytes (1000), not parsed",
    )


def test_slow_loris_cannot_outlast_the_deadline() -> None:
    measurement = run(probe_local("/slowloris", timeout="300ms"))
    assert outcome(measurement) == (200, "timeout", False, "no complete response within 300 ms")
    assert 300 <= measurement.latency_ms < 450
    assert set(measurement.phases) == {"connect", "processing", "transfer"}


def test_hanging_target_times_out() -> None:
    measurement = run(probe_local("/hang", timeout="200ms"))
    assert outcome(measurement) == (None, "timeout", False, "no complete response within 200 ms")
    assert 200 <= measurement.latency_ms < 350


def test_refused_connection() -> None:
    port = free_port()

    async def scenario() -> Measurement:
        async with HttpProber() as prober:
            return await prober.probe(check(f"http://{LOCAL}:{port}/"))

    measurement = run(scenario())
    assert outcome(measurement) == (
        None,
        "connect",
        False,
        f"127.0.0.1 port {port}: Connection refused",
    )


async def raw_target(reply: bytes | None, close: bool = True) -> Measurement:
    """A TCP target that reads the request, then writes ``reply`` (None: nothing)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if reply is not None:
            writer.write(reply)
            await writer.drain()
        if not close:
            await asyncio.sleep(10)

    async with tcp_server(handler) as port, HttpProber() as prober:
        return await prober.probe(check(f"http://{LOCAL}:{port}/", timeout="300ms"))


@pytest.mark.parametrize(
    ("reply", "close", "expected"),
    [
        (None, True, (None, "other", False,
                      "the server closed the connection before a complete response")),
        (b"SSH-2.0-OpenSSH_9.2\r\n", True, (None, "other", False,
                                             "malformed response: Bad status line: Expected "
                                             "HTTP/, RTSP/ or ICE/: b'SSH-2.0-OpenSSH_9.2' ^")),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", True,
         (200, "other", False, "incomplete or malformed body: Response payload is not "
                               "completed: <ContentLengthError: 400, message='Not enough data to "
                               "satisfy content length header (received 5 of 100 bytes).'>")),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", True,
         (None, "other", False, "malformed response: Invalid character in chunk size: "
                                "b'zz' ^")),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", True,
         (None, "other", False, "malformed response: Got more than 8190 bytes when reading: "
                                "b'" + "a" * 100 + "...'.")),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", False, (200, None, False, "")),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok", False,
         (200, "timeout", False, "no complete response within 300 ms")),
    ],
)  # fmt: skip
def test_misbehaving_targets(
    reply: bytes | None, close: bool, expected: tuple[int | None, str, bool, str]
) -> None:
    assert outcome(run(raw_target(reply, close))) == expected


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(
    ca: trustme.CA,
    *names: str,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names, not_before=not_before, not_after=not_after).configure_cert(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def probe_https(
    server: ssl.SSLContext, client: ssl.SSLContext | None, url_host: str = LOCAL, **fields: Any
) -> Measurement:
    async with http_server(app(), server) as port, HttpProber(client) as prober:
        return await prober.probe(check(f"https://{url_host}:{port}/ok", **fields))


def test_https_verified_and_not(ca: trustme.CA) -> None:
    server = server_context(ca, LOCAL)
    assert outcome(run(probe_https(server, trusting(ca)))) == (200, None, False, "")
    untrusted = run(probe_https(server, None))
    assert outcome(untrusted) == (
        None,
        "tls",
        False,
        "certificate verify failed: unable to get local issuer certificate",
    )
    unverified = run(probe_https(server, None, verify_tls=False))
    assert outcome(unverified) == (200, None, False, "")


def test_https_expired_and_wrong_name(ca: trustme.CA) -> None:
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    expired = server_context(ca, LOCAL, not_before=past, not_after=past + datetime.timedelta(1))
    measurement = run(probe_https(expired, trusting(ca)))
    assert outcome(measurement) == (
        None,
        "tls",
        False,
        "certificate verify failed: certificate has expired",
    )
    wrong_name = server_context(ca, "other.test")
    measurement = run(probe_https(wrong_name, trusting(ca)))
    assert outcome(measurement) == (
        None,
        "tls",
        False,
        "certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'.",
    )


def test_tls_to_a_plain_port(ca: trustme.CA) -> None:
    async def tls_to_plain() -> tuple[int, Measurement]:
        async with http_server(app()) as port, HttpProber(trusting(ca)) as prober:
            return port, await prober.probe(check(f"https://{LOCAL}:{port}/ok"))

    port, measurement = run(tls_to_plain())
    assert (measurement.status, measurement.error) == (None, "tls")
    assert measurement.detail.startswith(f"127.0.0.1 port {port}: [SSL: WRONG_VERSION_NUMBER]")


def test_host_names_resolved_by_a_dns_server(ca: trustme.CA) -> None:
    zone = {("www.test.", "A"): [LOCAL]}

    async def scenario() -> tuple[int, list[Measurement]]:
        async with (
            dns_server(zone) as dns_port,
            http_server(app(), server_context(ca, "www.test")) as port,
        ):
            resolver = ServerResolver([(LOCAL, dns_port)])
            async with HttpProber(trusting(ca), resolver) as prober:
                return port, [
                    await prober.probe(check(f"https://www.test:{port}/ok")),
                    await prober.probe(check(f"https://missing.test:{port}/ok")),
                ]

    port, (found, missing) = run(scenario())
    assert outcome(found) == (200, None, False, "")
    assert set(found.phases) == {"dns", "connect", "processing", "transfer"}
    assert outcome(missing) == (
        None,
        "dns",
        False,
        f"missing.test port {port}: missing.test does not exist",
    )


def test_many_probes_in_parallel_one_connection_each() -> None:
    connections = 0

    async def scenario() -> list[Measurement]:
        nonlocal connections

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            while True:  # would serve more requests if the client kept the connection
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()

        async with tcp_server(handler) as port, HttpProber() as prober:
            probe = check(f"http://{LOCAL}:{port}/")
            return list(await asyncio.gather(*(prober.probe(probe) for _ in range(50))))

    results = run(scenario())
    assert [outcome(m) for m in results] == [(200, None, False, "")] * 50
    assert connections == 50
