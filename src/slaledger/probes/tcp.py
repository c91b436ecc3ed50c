"""TCP probes: a connection to ``host:port`` must be accepted within the timeout.

Host names are resolved first (the ``dns`` phase; failure is a ``dns`` error), then each
address is tried in turn (the ``connect`` phase; all refused or unreachable: ``connect``).
"""

from __future__ import annotations

import asyncio
import socket
from time import perf_counter

from slaledger.core.checks import TcpCheck
from slaledger.probes.dns import HostResolver, system_resolver
from slaledger.probes.result import ErrorClass, Measurement, describe


async def probe_tcp(check: TcpCheck, resolver: HostResolver = system_resolver) -> Measurement:
    """Connect to ``check.host:check.port`` and close again; never raises for the target."""
    phases: dict[str, float] = {}
    start = perf_counter()
    error: ErrorClass
    try:
        async with asyncio.timeout(check.timeout / 1_000_000):
            addresses = await resolve(check.host, check.port, phases, resolver)
            connected = perf_counter()
            transport, _ = await connect_any(addresses)
            phases["connect"] = (perf_counter() - connected) * 1000
            transport.close()
    except TimeoutError:
        error, detail = "timeout", f"no connection within {check.timeout / 1000:g} ms"
    except socket.gaierror as failure:
        error, detail = "dns", f"cannot resolve {check.host}: {describe(failure)}"
    except OSError as failure:
        error, detail = "connect", f"{check.host} port {check.port}: {describe(failure)}"
    else:
        return Measurement(None, None, (perf_counter() - start) * 1000, phases=phases)
    return Measurement(None, error, (perf_counter() - start) * 1000, phases=phases, detail=detail)


async def resolve(
    host: str, port: int, phases: dict[str, float], resolver: HostResolver
) -> list[tuple[str, int]]:
    """``(address, port)`` pairs for ``host``; a name lookup is timed as ``phases["dns"]``."""
    if _is_address(host):
        return [(host, port)]
    began = perf_counter()
    addresses = await resolver(host, port)
    phases["dns"] = (perf_counter() - began) * 1000
    return [(address, port) for address in addresses]


async def connect_any(
    addresses: list[tuple[str, int]],
) -> tuple[asyncio.Transport, asyncio.Protocol]:
    """An open connection to the first address that accepts one; else the last ``OSError``."""
    loop = asyncio.get_running_loop()
    last: OSError = OSError("no address to connect to")
    for host, port in addresses:
        try:
            transport, protocol = await loop.create_connection(asyncio.Protocol, host, port)
        except OSError as failure:
            last = failure
            continue
        return transport, protocol
    raise last


def _is_address(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True
