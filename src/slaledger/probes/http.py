"""HTTP(S) probes with aiohttp: a new connection for every check, one hard deadline.

One :class:`HttpProber` holds one :class:`aiohttp.ClientSession` whose connector closes every
connection after its request (``force_close``), so no connection is reused across checks;
it keeps no cookies, no DNS cache and no proxy settings from the environment, so one probe
cannot change the next. Each probe runs under one ``asyncio.timeout`` of the check's
``timeout``: connecting, the request, the headers and the (capped) body together, so a
target that answers a byte at a time cannot hold a probe longer.

Failures map to error classes: name resolution ``dns``; certificate or handshake ``tls``;
a refused or unreachable connection ``connect``; the deadline ``timeout``; an unexpected
status or a failed body test ``assertion`` (the status is kept); anything else (a reset or
a closed connection after connecting, a malformed response, too many redirects) ``other``.
An exception that is none of these (:data:`TARGET_FAILURES`) is a bug in the prober: it is
raised, and the scheduler logs it and records no result.

Phases (ms): ``dns`` (host names only), ``connect`` (for https this includes the TLS
handshake, which aiohttp does not time apart), ``processing`` (request sent to headers
received) and ``transfer`` (the body). After redirects they describe the last request.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from time import perf_counter
from types import SimpleNamespace, TracebackType
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.http_exceptions import HttpProcessingError

from slaledger.core.checks import HttpCheck, describe_statuses, status_expected
from slaledger.probes.dns import HostResolver
from slaledger.probes.result import ErrorClass, Measurement, describe

USER_AGENT = "slaledger-probe/0.1"
TARGET_FAILURES = (aiohttp.ClientError, HttpProcessingError, OSError)
"""What a request raises for anything the target (or the network) does: each becomes a
result. Any other exception is a bug; it leaves the probe and the scheduler logs it."""


class HttpProber:
    """Runs :class:`HttpCheck` probes; use as ``async with HttpProber() as prober``.

    ``ssl_context`` verifies certificates of checks with ``verify_tls`` (default: the
    system's trust store); ``resolver`` resolves host names (default: the system's).
    """

    def __init__(
        self, ssl_context: ssl.SSLContext | None = None, resolver: HostResolver | None = None
    ) -> None:
        self._ssl = ssl_context or ssl.create_default_context()
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HttpProber:
        trace = aiohttp.TraceConfig()
        trace.on_dns_resolvehost_start.append(_mark("dns_start"))
        trace.on_dns_resolvehost_end.append(_mark("dns_end"))
        trace.on_connection_create_start.append(_mark("connect_start"))
        trace.on_connection_create_end.append(_mark("connect_end"))
        connector = aiohttp.TCPConnector(
            force_close=True,
            limit=0,
            use_dns_cache=False,
            ssl=self._ssl,
            resolver=None if self._resolver is None else _AiohttpResolver(self._resolver),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),
            headers={"User-Agent": USER_AGENT},
            trace_configs=[trace],
            trust_env=False,
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def probe(self, check: HttpCheck) -> Measurement:
        """One request as ``check`` says; never raises for anything the target does."""
        session = self._session
        if session is None:
            raise RuntimeError("HttpProber is not open: use it with 'async with'")
        marks: dict[str, float] = {}
        status: int | None = None
        retry_after = False
        start = perf_counter()
        try:
            async with asyncio.timeout(check.timeout / 1_000_000):
                async with session.request(
                    check.method,
                    check.url,
                    headers=check.headers,
                    data=None if check.body is None else check.body.encode(),
                    allow_redirects=check.follow_redirects,
                    ssl=self._ssl if check.verify_tls else False,
                    trace_request_ctx=marks,
                ) as response:
                    marks["headers"] = perf_counter()
                    status = response.status
                    retry_after = "Retry-After" in response.headers
                    body, complete = await _read_capped(response, check.max_body_bytes)
        except TimeoutError:
            return _failed(start, marks, status, retry_after, "timeout", _deadline(check))
        except TARGET_FAILURES as failure:  # anything else is a prober's bug, not the target's
            error, detail = classify_failure(failure)
            return _failed(start, marks, status, retry_after, error, detail)
        end = perf_counter()
        phases = _phases(marks, start, end)
        latency = (end - start) * 1000
        if not status_expected(check.expect_status, status):
            detail = f"status {status}, expected {describe_statuses(check.expect_status)}"
            return Measurement(status, "assertion", latency, retry_after, phases, detail)
        detail_or_none = check.body_failure(body, complete)
        if detail_or_none is not None:
            return Measurement(status, "assertion", latency, retry_after, phases, detail_or_none)
        return Measurement(status, None, latency, retry_after, phases)


class _AiohttpResolver(AbstractResolver):
    """A :data:`HostResolver` as aiohttp's connector wants it."""

    def __init__(self, resolver: HostResolver) -> None:
        self._resolver = resolver

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._resolver(host, port)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


def classify_failure(failure: BaseException) -> tuple[ErrorClass, str]:
    """The error class of an exception raised by a request, and a one-line reason."""
    if isinstance(failure, aiohttp.ClientConnectorCertificateError):
        return "tls", describe(failure.certificate_error)
    if isinstance(failure, aiohttp.ClientConnectorError):
        kind: ErrorClass = "connect"
        if isinstance(failure, aiohttp.ClientConnectorDNSError):
            kind = "dns"
        elif isinstance(failure, aiohttp.ClientSSLError):
            kind = "tls"
        return kind, f"{failure.host} port {failure.port}: {describe(failure.os_error)}"
    if isinstance(failure, (ssl.SSLError, ssl.CertificateError)):
        return "tls", describe(failure)
    if isinstance(failure, TimeoutError):
        return "timeout", describe(failure)
    if isinstance(failure, aiohttp.TooManyRedirects):
        return "other", "too many redirects"
    if isinstance(failure, aiohttp.ServerDisconnectedError):
        return "other", "the server closed the connection before a complete response"
    if isinstance(failure, aiohttp.ClientPayloadError):
        return "other", f"incomplete or malformed body: {describe(failure)}"
    if isinstance(failure, aiohttp.ClientResponseError):
        return "other", f"malformed response: {describe(failure.message)}"
    return "other", describe(failure)


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of the body, and whether that is the whole body."""
    content = response.content
    chunks: list[bytes] = []
    size = 0
    while size < cap:
        chunk = await content.read(cap - size)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    if response.content_length is not None and "Content-Encoding" not in response.headers:
        return b"".join(chunks), response.content_length <= size
    return b"".join(chunks), not await content.read(1)


def _failed(
    start: float,
    marks: dict[str, float],
    status: int | None,
    retry_after: bool,
    error: ErrorClass,
    detail: str,
) -> Measurement:
    end = perf_counter()
    latency = (end - start) * 1000
    return Measurement(status, error, latency, retry_after, _phases(marks, start, end), detail)


def _phases(marks: dict[str, float], start: float, end: float) -> dict[str, float]:
    phases: dict[str, float] = {}
    dns = 0.0
    if "dns_end" in marks and "dns_start" in marks:
        dns = marks["dns_end"] - marks["dns_start"]
        phases["dns"] = dns * 1000
    sent = start
    if "connect_end" in marks and "connect_start" in marks:
        phases["connect"] = (marks["connect_end"] - marks["connect_start"] - dns) * 1000
        sent = marks["connect_end"]
    if "headers" in marks:
        phases["processing"] = (marks["headers"] - sent) * 1000
        phases["transfer"] = (end - marks["headers"]) * 1000
    return phases


def _mark(name: str) -> Any:
    async def mark(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
        marks = context.trace_request_ctx
        if isinstance(marks, dict):
            marks[name] = perf_counter()

    return mark


def _deadline(check: HttpCheck) -> str:
    return f"no complete response within {check.timeout / 1000:g} ms"
