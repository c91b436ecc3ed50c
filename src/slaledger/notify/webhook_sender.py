"""Calling webhooks: a signed JSON ``POST`` per delivery (aiohttp).

Signature scheme (see docs/subscribers.md for a receiver in Python):

- ``X-Slaledger-Timestamp``: the time of the attempt, whole seconds since the Unix epoch;
- ``X-Slaledger-Signature``: ``sha256=`` and the lowercase hex HMAC-SHA256, keyed with the
  webhook's secret, of the timestamp, a ``.``, and the raw body bytes.

A receiver recomputes it over the body exactly as received, compares in constant time, and
rejects timestamps more than a few minutes from its clock, so a captured call cannot be
replayed later. ``X-Slaledger-Delivery`` (the delivery's id, the same on every retry) lets it
drop duplicates; ``X-Slaledger-Event`` names the event.

Addresses: a URL whose host is, or resolves to, a private, loopback, link-local or other
non-global address, an IPv6 address carrying an IPv4 one (NAT64 ``64:ff9b::/96``, 6to4,
Teredo), or an IPv4 address in a non-canonical form (``127.1``, ``2130706433``) is refused
(:func:`host_problem`: the admin API applies the same policy when a webhook is
registered; ``allow_private`` lifts this, for tests and private
networks). The check runs in the resolver the connection uses, so DNS cannot answer
differently between the check and the connection. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from slaledger.core.timebase import US_PER_SECOND
from slaledger.notify import DeliveryError

SIGNATURE_HEADER = "X-Slaledger-Signature"
TIMESTAMP_HEADER = "X-Slaledger-Timestamp"
EVENT_HEADER = "X-Slaledger-Event"
DELIVERY_HEADER = "X-Slaledger-Delivery"
TOLERANCE_SECONDS = 300
USER_AGENT = "slaledger-webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Slaledger-Signature`` value for ``body`` sent at ``timestamp`` (seconds)."""
    material = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), material, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    now_seconds: int,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    if not timestamp.isdigit() or abs(now_seconds - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


_TRANSLATED = (
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64: reaches any IPv4 address, private ones too
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
    ipaddress.ip_network("2002::/16"),  # 6to4: an IPv4 address inside
    ipaddress.ip_network("2001::/32"),  # Teredo
)


def refused_address(address: str) -> bool:
    """``True`` for an address webhooks must not reach by default: not globally routable
    (private, loopback, link-local, reserved, multicast), or an IPv6 address that carries
    an IPv4 one (mapped, NAT64, 6to4, Teredo), whatever that one is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif any(ip in network for network in _TRANSLATED):
            return True
    return not ip.is_global or ip.is_multicast


def host_problem(host: str) -> str | None:
    """Why a URL's host is refused on its face (``None``: a canonical public address or a
    name, whose addresses are checked when it is resolved). One policy for registering a
    webhook and for calling it."""
    try:
        refused = refused_address(host)
    except ValueError:
        pass
    else:
        return f"{host} is a private or local address" if refused else None
    try:
        packed = socket.inet_aton(host)  # what resolvers accept as IPv4: 127.1, 2130706433
    except OSError:
        pass
    else:
        canonical = socket.inet_ntoa(packed)
        return f"{host} is a non-canonical IPv4 address (write {canonical})"
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host} is a local name"
    return None


def resolved_problem(host: str, port: int) -> str | None:
    """Why ``host`` is refused by what it resolves to now (``None``: every address is
    public, or the name does not resolve now; it is checked again at each call)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for info in infos:
        address = str(info[4][0])
        if refused_address(address):
            return f"{host} resolves to {address}, a private or local address"
    return None


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host; :class:`ValueError` if not."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"expected an http or https URL, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("expected a URL without user name or password")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError(f"expected a URL with a valid port, got {url!r}") from None
    return url


class _GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's threaded resolver, refusing non-global addresses."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if refused_address(result["host"]):
                raise DeliveryError(
                    f"refused: {host} resolves to {result['host']}, a private or local "
                    "address (allow them only on a trusted network)",
                    permanent=True,
                )
        return results

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True)
class WebhookSettings:
    timeout_seconds: float = 10.0
    """For the whole call: connecting, sending, and the response's status line."""
    connect_timeout_seconds: float = 5.0
    allow_private: bool = False


class WebhookSender:
    """Posts signed webhook calls; one connection pool, opened on first use."""

    def __init__(self, settings: WebhookSettings | None = None) -> None:
        self.settings = settings or WebhookSettings()
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = None if self.settings.allow_private else _GuardedResolver()
            connector = aiohttp.TCPConnector(resolver=resolver, limit=100, limit_per_host=4)
            timeout = aiohttp.ClientTimeout(
                total=self.settings.timeout_seconds, connect=self.settings.connect_timeout_seconds
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, headers={"User-Agent": USER_AGENT}
            )
        return self._session

    async def send(
        self,
        url: str,
        secret: str,
        body: bytes,
        *,
        event: str,
        delivery_id: int,
        now: int,
    ) -> int:
        """POST ``body`` to ``url`` signed at ``now`` (µs); the response status if it is
        2xx, else :class:`DeliveryError`."""
        try:
            check_url(url)
        except ValueError as error:
            raise DeliveryError(str(error), permanent=True) from None
        host = urlsplit(url).hostname or ""
        if not self.settings.allow_private and (problem := host_problem(host)) is not None:
            raise DeliveryError(f"refused: {problem}", permanent=True)
        timestamp = now // US_PER_SECOND
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            EVENT_HEADER: event,
            DELIVERY_HEADER: str(delivery_id),
        }
        timeout = self.settings.timeout_seconds
        try:
            async with self._client().post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                if 200 <= response.status < 300:
                    return response.status
                raise DeliveryError(f"HTTP {response.status} {response.reason or ''}".strip())
        except DeliveryError:
            raise
        except TimeoutError:
            raise DeliveryError(f"no response within {timeout:g} s") from None
        except aiohttp.ClientConnectorError as error:
            cause = error.__cause__ or error.os_error
            if isinstance(cause, DeliveryError):
                raise cause from None
            raise DeliveryError(f"cannot connect to {host}: {error.os_error}") from None
        except aiohttp.ClientError as error:
            raise DeliveryError(f"{type(error).__name__}: {error}") from None
        except OSError as error:
            raise DeliveryError(f"cannot connect to {host}: {error}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            await asyncio.sleep(0)
