"""DNS probes with dnspython's asyncio API, and the host resolvers the other probes use.

With a ``server``, one query goes to it over UDP (over TCP when the answer is truncated);
without, the system's resolver configuration is used. A name that does not exist, an answer
without records of the type asked for, or a server failure is a ``dns`` error; a server that
refuses the packet is ``connect``; an answer that lacks an ``expected`` value is
``assertion``. The whole query is timed as the ``dns`` phase.

HTTP, TCP and TLS probes resolve host names with a :data:`HostResolver`: by default the
system's (:func:`system_resolver`, ``getaddrinfo`` in a thread), or :class:`ServerResolver`,
which asks given DNS servers with dnspython and needs no threads.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from time import perf_counter

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.resolver

from slaledger.core.checks import DnsCheck, normalize_answer
from slaledger.probes.result import ErrorClass, Measurement, describe

HostResolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port)`` → IP addresses to try, in order; ``socket.gaierror`` when none."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``getaddrinfo`` gives (hosts file, then the system's DNS servers)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class ServerResolver:
    """Resolves host names by asking ``servers`` (``host[:port]``) for A, then AAAA records."""

    def __init__(self, servers: Sequence[tuple[str, int]]) -> None:
        self._resolver = dns.asyncresolver.Resolver(configure=False)
        self._resolver.nameservers = [host for host, _ in servers]
        self._resolver.nameserver_ports = dict(servers)

    async def __call__(self, host: str, port: int) -> list[str]:
        for rdtype in ("A", "AAAA"):
            try:
                answer = await self._resolver.resolve(host, rdtype, search=False)
            except dns.resolver.NoAnswer:
                continue
            except dns.resolver.NXDOMAIN:
                raise socket.gaierror(socket.EAI_NONAME, f"{host} does not exist") from None
            except dns.exception.DNSException as failure:
                raise socket.gaierror(socket.EAI_FAIL, describe(failure)) from None
            return [str(ipaddress.ip_address(rdata.to_text())) for rdata in answer]
        raise socket.gaierror(socket.EAI_NODATA, f"{host} has no A or AAAA records")


class DnsProber:
    """Runs :class:`DnsCheck` probes; the system resolver is read once, when first needed."""

    def __init__(self) -> None:
        self._resolver: dns.asyncresolver.Resolver | None = None

    async def probe(self, check: DnsCheck) -> Measurement:
        """One query as ``check`` says; never raises for anything the server does."""
        start = perf_counter()
        error: ErrorClass | None = None
        detail = ""
        try:
            async with asyncio.timeout(check.timeout / 1_000_000):
                records = await self._query(check)
        except TimeoutError:
            error, detail = "timeout", f"no answer within {check.timeout / 1000:g} ms"
        except _RefusedError as failure:
            error, detail = "dns", str(failure)
        except dns.resolver.NXDOMAIN:
            error, detail = "dns", f"{check.name} does not exist (NXDOMAIN)"
        except dns.resolver.NoAnswer:
            error, detail = "dns", f"no {check.record_type} records for {check.name}"
        except dns.exception.Timeout:
            error, detail = "timeout", f"no answer within {check.timeout / 1000:g} ms"
        except dns.exception.DNSException as failure:
            error, detail = "dns", describe(failure)
        except OSError as failure:
            where = check.server or "the system's DNS server"
            error, detail = "connect", f"{where}: {describe(failure)}"
        latency = (perf_counter() - start) * 1000
        phases = {"dns": latency}
        if error is not None:
            return Measurement(None, error, latency, phases=phases, detail=detail)
        if not records:
            detail = f"no {check.record_type} records for {check.name}"
            return Measurement(None, "dns", latency, phases=phases, detail=detail)
        missing = sorted(check.normalized_expected - records)
        if missing:
            detail = f"answer lacks {', '.join(missing)}; got {', '.join(sorted(records))}"
            return Measurement(None, "assertion", latency, phases=phases, detail=detail)
        return Measurement(None, None, latency, phases=phases)

    async def _query(self, check: DnsCheck) -> set[str]:
        rdtype = dns.rdatatype.from_text(check.record_type)
        address = check.server_address
        if address is None:
            if self._resolver is None:
                self._resolver = dns.asyncresolver.Resolver()
            answer = await self._resolver.resolve(
                check.name, rdtype, lifetime=check.timeout / 1_000_000, search=False
            )
            return {_answer(check.record_type, rdata) for rdata in answer}
        query = dns.message.make_query(dns.name.from_text(check.name), rdtype)
        response, _ = await dns.asyncquery.udp_with_fallback(
            query, address[0], port=address[1], ignore_unexpected=True
        )
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            raise _RefusedError(f"{check.name} does not exist (NXDOMAIN)")
        if rcode != dns.rcode.NOERROR:
            raise _RefusedError(f"the server answered {dns.rcode.to_text(rcode)}")
        return {
            _answer(check.record_type, rdata)
            for rrset in response.answer
            if rrset.rdtype == rdtype
            for rdata in rrset
        }


class _RefusedError(Exception):
    """The server answered, with an error code instead of records."""


def _answer(record_type: str, rdata: dns.rdata.Rdata) -> str:
    """An answer record in :func:`normalize_answer`'s form."""
    if record_type == "TXT":
        strings: tuple[bytes, ...] = getattr(rdata, "strings", ())
        return b"".join(strings).decode("utf-8", "replace")
    text = rdata.to_text()
    try:
        return normalize_answer(record_type, text)
    except ValueError:
        return text
