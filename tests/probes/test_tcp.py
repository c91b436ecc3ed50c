"""TCP probes against real local listeners."""

from __future__ import annotations

import asyncio
import socket

from targets import LOCAL, dns_server, free_port, run, tcp_server

from slaledger.core.checks import TcpCheck
from slaledger.probes.dns import ServerResolver
from slaledger.probes.result import Measurement
from slaledger.probes.tcp import probe_tcp


def check(host: str, port: int, timeout: str = "300ms") -> TcpCheck:
    return TcpCheck(type="tcp", host=host, port=port, timeout=timeout)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(10)


def test_accepted_connection() -> None:
    async def scenario() -> Measurement:
        async with tcp_server(silent) as port:
            return await probe_tcp(check(LOCAL, port))

    measurement = run(scenario())
    assert (measurement.status, measurement.error, measurement.detail) == (None, None, "")
    assert set(measurement.phases) == {"connect"}
    assert 0 < measurement.phases["connect"] <= measurement.latency_ms < 300


def test_refused_connection() -> None:
    port = free_port()
    measurement = run(probe_tcp(check(LOCAL, port)))
    assert (measurement.error, measurement.detail) == (
        "connect",
        f"127.0.0.1 port {port}: Connection refused",
    )


def test_full_backlog_times_out() -> None:
    """A listener that never accepts, with its backlog full: the handshake never completes."""

    async def scenario() -> Measurement:
        with socket.socket() as listener:
            listener.bind((LOCAL, 0))
            listener.listen(0)
            port = listener.getsockname()[1]
            fillers = []
            for _ in range(4):  # fill the accept queue (its length is backlog + 1)
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex((LOCAL, port))
                fillers.append(filler)
            await asyncio.sleep(0.05)
            try:
                return await probe_tcp(check(LOCAL, port, "200ms"))
            finally:
                for filler in fillers:
                    filler.close()

    measurement = run(scenario())
    assert (measurement.error, measurement.detail) == ("timeout", "no connection within 200 ms")
    assert 200 <= measurement.latency_ms < 350


def test_host_names_and_unknown_names() -> None:
    zone = {("db.test.", "A"): [LOCAL], ("v6only.test.", "AAAA"): ["::1"]}

    async def scenario() -> list[Measurement]:
        async with dns_server(zone) as dns_port, tcp_server(silent) as port:
            resolver = ServerResolver([(LOCAL, dns_port)])
            return [
                await probe_tcp(check("db.test", port), resolver),
                await probe_tcp(check("nowhere.test", port), resolver),
                await probe_tcp(check("servfail.test", port), resolver),
            ]

    found, missing, failing = run(scenario())
    assert (found.error, set(found.phases)) == (None, {"dns", "connect"})
    assert (missing.error, missing.detail) == (
        "dns",
        "cannot resolve nowhere.test: nowhere.test does not exist",
    )
    assert failing.error == "dns"
    assert failing.detail.startswith("cannot resolve servfail.test: All nameservers failed")
