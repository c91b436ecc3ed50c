"""TLS probes against local TLS servers with trustme certificates, and a fixed clock."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trustme
from targets import LOCAL, dns_server, free_port, run, tcp_server

from slaledger.core.checks import TlsCheck
from slaledger.core.timebase import US_PER_DAY, US_PER_HOUR, to_instant
from slaledger.probes.dns import ServerResolver
from slaledger.probes.result import Measurement
from slaledger.probes.tls import probe_tls

EXPIRY = datetime.datetime(2031, 3, 1, 12, 0, tzinfo=datetime.UTC)
EXPIRY_US = to_instant(EXPIRY)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@asynccontextmanager
async def tls_server(
    ca: trustme.CA, *names: str, not_after: datetime.datetime = EXPIRY
) -> AsyncIterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    not_before = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    ca.issue_cert(*names, not_before=not_before, not_after=not_after).configure_cert(context)

    async def idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    server = await asyncio.start_server(idle, LOCAL, 0, ssl=context)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def at(instant: int) -> Any:
    return lambda: instant


async def probe_server(
    ca: trustme.CA, now: int, names: tuple[str, ...] = (LOCAL,), **fields: Any
) -> Measurement:
    async with tls_server(ca, *names) as port:
        fields.setdefault("timeout", "500ms")
        check = TlsCheck.model_validate({"type": "tls", "host": LOCAL, "port": port, **fields})
        return await probe_tls(check, at(now), trusting(ca))


def outcome(measurement: Measurement) -> tuple[str | None, str, int | None]:
    return measurement.error, measurement.detail, measurement.tls_expiry


def test_valid_certificate(ca: trustme.CA) -> None:
    measurement = run(probe_server(ca, EXPIRY_US - 15 * US_PER_DAY))
    assert outcome(measurement) == (None, "", EXPIRY_US)
    assert (measurement.status, set(measurement.phases)) == (None, {"connect", "tls"})


@pytest.mark.parametrize(
    ("before_expiry", "min_days", "expected"),
    [
        (14 * US_PER_DAY, 14, (None, "")),
        (14 * US_PER_DAY - 1, 14, ("tls", "the certificate expires at 2031-03-01T12:00:00Z, "
                                          "in 13 days; at least 14 are required")),
        (US_PER_HOUR, 1, ("tls", "the certificate expires at 2031-03-01T12:00:00Z, in 0 days; "
                                 "at least 1 are required")),
        (US_PER_HOUR, 0, (None, "")),
        (0, 0, (None, "")),
        (-1, 0, ("tls", "the certificate expired at 2031-03-01T12:00:00Z")),
    ],
)  # fmt: skip
def test_days_before_expiry(
    ca: trustme.CA, before_expiry: int, min_days: int, expected: tuple[str | None, str]
) -> None:
    measurement = run(probe_server(ca, EXPIRY_US - before_expiry, min_days_valid=min_days))
    assert outcome(measurement) == (*expected, EXPIRY_US)


def test_server_name_is_sent_and_verified(ca: trustme.CA) -> None:
    now = EXPIRY_US - 30 * US_PER_DAY
    named = run(probe_server(ca, now, ("www.test",), server_name="www.test"))
    assert outcome(named) == (None, "", EXPIRY_US)
    wrong = run(probe_server(ca, now, ("www.test",), server_name="api.test"))
    assert outcome(wrong) == (
        "tls",
        "certificate verify failed: Hostname mismatch, certificate is not valid for 'api.test'.",
        None,
    )


def test_untrusted_and_expired_certificates(ca: trustme.CA) -> None:
    async def untrusted() -> Measurement:
        async with tls_server(ca, LOCAL) as port:
            check = TlsCheck(type="tls", host=LOCAL, port=port, timeout="500ms")
            return await probe_tls(check, at(0))

    assert outcome(run(untrusted())) == (
        "tls",
        "certificate verify failed: unable to get local issuer certificate",
        None,
    )

    async def expired() -> Measurement:
        past = datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC)
        async with tls_server(ca, LOCAL, not_after=past) as port:
            check = TlsCheck(type="tls", host=LOCAL, port=port, timeout="500ms")
            return await probe_tls(check, at(0), trusting(ca))

    assert outcome(run(expired())) == (
        "tls",
        "certificate verify failed: certificate has expired",
        None,
    )


def test_servers_that_do_not_speak_tls(ca: trustme.CA) -> None:
    async def against(reply: bytes | None) -> Measurement:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if reply is None:
                await asyncio.sleep(10)
            writer.write(reply or b"")
            await writer.drain()

        async with tcp_server(handler) as port:
            check = TlsCheck(type="tls", host=LOCAL, port=port, timeout="200ms")
            return await probe_tls(check, at(0), trusting(ca))

    silent = run(against(None))
    assert outcome(silent) == ("timeout", "no TLS handshake within 200 ms", None)
    assert 200 <= silent.latency_ms < 350
    closing = run(against(b""))
    assert closing.error == "tls"
    garbage = run(against(b"HTTP/1.1 400 Bad Request\r\n\r\n"))
    assert garbage.error == "tls"
    assert garbage.detail.startswith("[SSL: WRONG_VERSION_NUMBER] wrong version number")


def test_refused_and_unknown_host(ca: trustme.CA) -> None:
    port = free_port()
    check = TlsCheck(type="tls", host=LOCAL, port=port, timeout="300ms")
    assert outcome(run(probe_tls(check, at(0), trusting(ca)))) == (
        "connect",
        f"127.0.0.1 port {port}: Connection refused",
        None,
    )

    async def unknown() -> Measurement:
        async with dns_server({}) as dns_port:
            check = TlsCheck(type="tls", host="nowhere.test", timeout="300ms")
            return await probe_tls(check, at(0), resolver=ServerResolver([(LOCAL, dns_port)]))

    assert outcome(run(unknown())) == (
        "dns",
        "cannot resolve nowhere.test: nowhere.test does not exist",
        None,
    )
