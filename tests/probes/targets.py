"""Real servers on 127.0.0.1 for probe tests: HTTP(S) with aiohttp, raw TCP, and DNS."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from aiohttp import web

T = TypeVar("T")
LOCAL = "127.0.0.1"


def run(coroutine: Awaitable[T], limit: float = 10.0) -> T:
    """Run a test's coroutine on a fresh event loop, failing after ``limit`` seconds."""

    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await coroutine

    return asyncio.run(bounded())


def free_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def http_server(
    app: web.Application, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    """Serve ``app`` on 127.0.0.1; yields the port."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, LOCAL, 0, ssl_context=ssl_context)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.base_events.Server)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        await runner.cleanup()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def tcp_server(handler: Handler) -> AsyncIterator[int]:
    """A raw TCP server on 127.0.0.1 running ``handler`` per connection; yields the port."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()
            tasks.discard(task)

    server = await asyncio.start_server(handle, LOCAL, 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


# --- DNS --------------------------------------------------------------------------------------

Zone = Mapping[tuple[str, str], list[str]]
"""``(name, type)`` → record texts; names absolute (``www.test.``)."""


class DnsResponder(asyncio.DatagramProtocol):
    """Answers queries from ``zone``: NXDOMAIN for unknown names, NOERROR without records for
    a known name and another type. ``servfail.test.`` gets SERVFAIL, ``silent.test.`` no
    answer, ``big.test.`` a truncated UDP answer (the full one over TCP)."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        if question.name.to_text() == "silent.test.":
            return
        response = answer(self.zone, query)
        if question.name.to_text() == "big.test.":
            response.answer.clear()
            response.flags |= dns.flags.TC
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


def answer(zone: Zone, query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query)
    question = query.question[0]
    name = question.name.to_text()
    kind = dns.rdatatype.to_text(question.rdtype)
    if name == "servfail.test.":
        response.set_rcode(dns.rcode.SERVFAIL)
    elif (name, kind) in zone:
        records = zone[name, kind]
        response.answer.append(dns.rrset.from_text_list(name, 60, "IN", kind, records))
    elif not any(known == name for known, _ in zone):
        response.set_rcode(dns.rcode.NXDOMAIN)
    return response


@asynccontextmanager
async def dns_server(zone: Zone) -> AsyncIterator[int]:
    """A DNS server on 127.0.0.1 (UDP, and TCP on the same port); yields the port."""
    loop = asyncio.get_running_loop()
    while True:
        port = free_port()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: DnsResponder(zone), local_addr=(LOCAL, port)
            )
        except OSError:
            continue
        break

    async def over_tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (size,) = struct.unpack("!H", await reader.readexactly(2))
        query = dns.message.from_wire(await reader.readexactly(size))
        wire = answer(zone, query).to_wire()
        writer.write(struct.pack("!H", len(wire)) + wire)
        await writer.drain()

    server = await asyncio.start_server(over_tcp, LOCAL, port)
    try:
        yield port
    finally:
        transport.close()
        server.close()
        await server.wait_closed()
