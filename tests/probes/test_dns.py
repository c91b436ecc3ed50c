"""DNS probes against a DNS server on 127.0.0.1 (UDP, with TCP for truncated answers)."""

from __future__ import annotations

from typing import Any

import pytest
from targets import LOCAL, dns_server, free_port, run

from slaledger.core.checks import DnsCheck
from slaledger.probes.dns import DnsProber
from slaledger.probes.result import Measurement

ZONE = {
    ("www.test.", "A"): ["127.0.0.1", "127.0.0.2"],
    ("www.test.", "AAAA"): ["2001:db8::1"],
    ("alias.test.", "CNAME"): ["Edge.Example.NET."],
    ("test.", "MX"): ["10 mail.test.", "20 backup.test."],
    ("test.", "NS"): ["ns1.test."],
    ("test.", "TXT"): ['"v=spf1 " "-all"'],
    ("big.test.", "A"): [f"10.0.{i // 256}.{i % 256}" for i in range(300)],
    ("textonly.test.", "TXT"): ['"hello"'],
}


async def probe(port: int, **fields: Any) -> Measurement:
    fields.setdefault("timeout", "300ms")
    check = DnsCheck.model_validate({"type": "dns", "server": f"{LOCAL}:{port}", **fields})
    return await DnsProber().probe(check)


async def probe_zone(**fields: Any) -> Measurement:
    async with dns_server(ZONE) as port:
        return await probe(port, **fields)


@pytest.mark.parametrize(
    ("fields", "error", "detail"),
    [
        ({"name": "www.test"}, None, ""),
        ({"name": "www.test", "expected": ["127.0.0.2"]}, None, ""),
        ({"name": "www.test", "expected": ["127.0.0.1", "192.0.2.9"]}, "assertion",
         "answer lacks 192.0.2.9; got 127.0.0.1, 127.0.0.2"),
        ({"name": "www.test", "record_type": "AAAA", "expected": ["2001:DB8:0::1"]}, None, ""),
        ({"name": "alias.test", "record_type": "CNAME", "expected": "edge.example.net"}, None,
         ""),
        ({"name": "test.", "record_type": "MX", "expected": ["20 Backup.Test"]}, None, ""),
        ({"name": "test", "record_type": "MX", "expected": ["30 mail.test"]}, "assertion",
         "answer lacks 30 mail.test; got 10 mail.test, 20 backup.test"),
        ({"name": "test", "record_type": "NS", "expected": ["ns1.test"]}, None, ""),
        ({"name": "test", "record_type": "TXT", "expected": ["v=spf1 -all"]}, None, ""),
        ({"name": "nowhere.test"}, "dns", "nowhere.test does not exist (NXDOMAIN)"),
        ({"name": "textonly.test"}, "dns", "no A records for textonly.test"),
        ({"name": "servfail.test"}, "dns", "the server answered SERVFAIL"),
        ({"name": "silent.test", "timeout": "200ms"}, "timeout", "no answer within 200 ms"),
        ({"name": "big.test", "expected": ["10.0.1.43"]}, None, ""),
    ],
)  # fmt: skip
def test_answers(fields: dict[str, Any], error: str | None, detail: str) -> None:
    measurement = run(probe_zone(**fields))
    assert (measurement.status, measurement.error, measurement.detail) == (None, error, detail)
    assert list(measurement.phases) == ["dns"]
    assert measurement.phases["dns"] == measurement.latency_ms


def test_silent_server_is_bounded_by_the_timeout() -> None:
    measurement = run(probe_zone(name="silent.test", timeout="200ms"))
    assert 200 <= measurement.latency_ms < 350


def test_no_server_listening() -> None:
    """Nothing answers on that port: over unconnected UDP that is silence, a timeout."""
    measurement = run(probe(free_port(), name="www.test", timeout="200ms"))
    assert (measurement.error, measurement.detail) == ("timeout", "no answer within 200 ms")
