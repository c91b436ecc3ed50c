"""TLS probes: the certificate must verify, and stay valid ``min_days_valid`` days more.

The probe resolves the host (``dns``), connects (``connect``), then does the handshake
(``tls``) with the check's ``server_name`` for SNI and for the name verified. A failed
verification, a failed handshake, or a certificate that expires in less than
``min_days_valid`` days is a ``tls`` error; the certificate's expiry is in the result
whenever the handshake succeeded.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from time import perf_counter

from slaledger.core.checks import TlsCheck
from slaledger.core.timebase import US_PER_DAY, US_PER_SECOND, format_instant
from slaledger.probes.dns import HostResolver, system_resolver
from slaledger.probes.result import ErrorClass, Measurement, describe
from slaledger.probes.tcp import connect_any, resolve


async def probe_tls(
    check: TlsCheck,
    clock: Callable[[], int],
    context: ssl.SSLContext | None = None,
    resolver: HostResolver = system_resolver,
) -> Measurement:
    """Handshake with ``check.host:check.port``; ``clock`` gives now in µs since the epoch.

    ``context`` verifies the certificate (default: the system's trust store).
    """
    context = context or ssl.create_default_context()
    phases: dict[str, float] = {}
    start = perf_counter()
    expiry: int | None = None
    error: ErrorClass | None = None
    detail = ""
    try:
        async with asyncio.timeout(check.timeout / 1_000_000):
            addresses = await resolve(check.host, check.port, phases, resolver)
            began = perf_counter()
            transport, protocol = await connect_any(addresses)
            phases["connect"] = (perf_counter() - began) * 1000
            began = perf_counter()
            try:
                secure = await _handshake(transport, protocol, context, check.verified_name)
            except (ssl.SSLError, ssl.CertificateError, OSError) as failure:
                transport.abort()
                error, detail = "tls", describe(failure)
            else:
                phases["tls"] = (perf_counter() - began) * 1000
                expiry = _expiry(secure.get_extra_info("peercert"))
                secure.abort()
    except TimeoutError:
        error, detail = "timeout", f"no TLS handshake within {check.timeout / 1000:g} ms"
    except socket.gaierror as failure:
        error, detail = "dns", f"cannot resolve {check.host}: {describe(failure)}"
    except OSError as failure:
        error, detail = "connect", f"{check.host} port {check.port}: {describe(failure)}"
    latency = (perf_counter() - start) * 1000
    if error is None and expiry is None:
        error, detail = "tls", "the server sent no certificate"
    elif error is None and expiry is not None:
        error, detail = _expiry_failure(check, expiry, clock())
    return Measurement(None, error, latency, False, phases, detail, expiry)


async def _handshake(
    transport: asyncio.Transport,
    protocol: asyncio.BaseProtocol,
    context: ssl.SSLContext,
    server_name: str,
) -> asyncio.Transport:
    loop = asyncio.get_running_loop()
    secure = await loop.start_tls(transport, protocol, context, server_hostname=server_name)
    if secure is None:
        raise ssl.SSLError("the connection closed during the TLS handshake")
    return secure


def _expiry_failure(check: TlsCheck, expiry: int, now: int) -> tuple[ErrorClass | None, str]:
    """A ``tls`` error when fewer than ``min_days_valid`` days are left before ``expiry``."""
    if expiry - now >= check.min_days_valid * US_PER_DAY:
        return None, ""
    if expiry < now:
        return "tls", f"the certificate expired at {format_instant(expiry)}"
    days = (expiry - now) // US_PER_DAY
    return "tls", (
        f"the certificate expires at {format_instant(expiry)}, in {days} days; "
        f"at least {check.min_days_valid} are required"
    )


def _expiry(certificate: object) -> int | None:
    if not isinstance(certificate, dict) or not isinstance(certificate.get("notAfter"), str):
        return None
    return int(ssl.cert_time_to_seconds(certificate["notAfter"])) * US_PER_SECOND
