"""Checks in the contract file: defaults, ids, judging rules, and every mistake located."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from slaledger.core.checks import (
    DnsCheck,
    HttpCheck,
    JsonCondition,
    TcpCheck,
    TlsCheck,
    check_ids,
    describe_statuses,
    duplicate_check_ids,
    format_check_duration,
    normalize_answer,
    server_address,
    status_expected,
)
from slaledger.errors import ContractError
from slaledger.files.contract_file import load_contract

HEAD = """\
contract: demo
name: Demo SLA
services:
  api:
    name: API
    target: "99.9"
    downtime: {rule: probe-ratio}
"""

CHECKS = (
    HEAD
    + """\
    checks:
      - type: http
        url: https://api.example.com/health
        headers: {X-Api-Key: secret}
        expect_status: [200, 3xx]
        body_contains: ok
        json: {path: status.db, equals: up}
        interval: 30s
        timeout: 500ms
        locations: [fra, iad]
      - {id: db-port, type: tcp, host: db.example.com, port: 5432}
      - {type: dns, name: example.com, record_type: MX, expected: ["10 Mail.Example.com."],
         server: "127.0.0.1:5353"}
      - {type: tls, host: example.com, min_days_valid: 21}
  imported:
    name: Imported from a monitor export
    target: "99.5"
    downtime: {rule: probe-ratio}
"""
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, checks: str) -> list[str]:
    path = write(tmp_path, HEAD + "    checks:\n" + checks)
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    prefix = f"{path}:"
    return [str(problem).removeprefix(prefix) for problem in caught.value.problems]


def test_checks_load_with_defaults(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, CHECKS))
    http, tcp, dns, tls = contract.services["api"].checks
    assert isinstance(http, HttpCheck)
    assert (http.method, http.interval, http.timeout) == ("GET", 30_000_000, 500_000)
    assert http.expect_status == (200, "3xx")
    assert http.body_contains == ("ok",)
    assert http.json == JsonCondition(path="status.db", equals="up")
    assert (http.follow_redirects, http.verify_tls, http.max_body_bytes) == (False, True, 1 << 20)
    assert http.locations == ("fra", "iad")
    assert http.runs_at("fra")
    assert not http.runs_at("sin")
    assert isinstance(tcp, TcpCheck)
    assert (tcp.id, tcp.host, tcp.port, tcp.interval, tcp.timeout) == (
        "db-port",
        "db.example.com",
        5432,
        60_000_000,
        10_000_000,
    )
    assert tcp.runs_at("anywhere")
    assert isinstance(dns, DnsCheck)
    assert dns.normalized_expected == frozenset({"10 mail.example.com"})
    assert dns.server_address == ("127.0.0.1", 5353)
    assert isinstance(tls, TlsCheck)
    assert (tls.port, tls.min_days_valid, tls.verified_name) == (443, 21, "example.com")
    assert contract.services["imported"].checks == ()


def test_check_ids_are_given_or_derived(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, CHECKS))
    checks = contract.services["api"].checks
    assert check_ids("api", checks) == ("api:http:0", "db-port", "api:dns:2", "api:tls:3")


def test_duplicate_ids_across_services() -> None:
    first = TcpCheck(type="tcp", id="db", host="a", port=1)
    second = TcpCheck(type="tcp", id="db", host="b", port=1)
    derived = TcpCheck(type="tcp", host="c", port=1)
    assert duplicate_check_ids({"a": [first, derived], "b": [second, derived]}) == ["db"]
    assert duplicate_check_ids({"a": [first], "b": [derived]}) == []


def test_durations_round_trip() -> None:
    check = HttpCheck(type="http", url="http://x/", interval="2m", timeout="1500ms")
    dumped = check.model_dump(mode="json")
    assert (dumped["interval"], dumped["timeout"]) == ("2m", "1500ms")
    assert dumped["json"] is None
    assert HttpCheck.model_validate(dumped) == check
    assert [format_check_duration(us) for us in (3_600_000_000, 5_000_000, 250_000, 7)] == [
        "1h",
        "5s",
        "250ms",
        "7us",
    ]


def test_many_mistakes_located(tmp_path: Path) -> None:
    checks = """\
      - type: http
        url: ftp://example.com/
        expect_status: [200, 6xx]
        json: {path: status.db}
        colour: red
      - {type: ftp, host: x}
      - {type: tcp, host: "bad host", port: 70000}
      - {type: dns, name: example.com, record_type: SRV}
      - {type: dns, name: "-bad-.com", server: "1.1.1.1:99999"}
      - {type: tls, host: example.com, interval: 5s, timeout: 10s}
      - {type: tcp, port: 1}
      - {id: "a:b", type: tcp, host: a, port: 1}
      - {type: http, url: "http://x/", timeout: 100, interval: 1.5}
      - {type: http, url: "http://x/", json: {path: a, equals: 1, exists: true}}
      - {type: http, url: "http://x/", locations: [fra, fra]}
      - {type: http, url: "http://x/", headers: {"Bad Name": x}}
      - {type: http, url: "http://x/", max_body_bytes: 0, method: fetch}
      - {type: http, url: "http://x/", json: {path: "a..b", matches: "("}}
      - {type: tcp, host: a, port: 1, locations: fra}
      - {type: http, url: "http://x/", expect_status: []}
      - {type: dns, name: example.com, record_type: AAAA, expected: [192.0.2.1]}
      - {type: tcp, host: a, port: 1, bogus: 1}
"""
    assert problems(tmp_path, checks) == [
        "10: services.api.checks[0].url: expected an http:// or https:// URL with a host, "
        "got 'ftp://example.com/'",
        "11: services.api.checks[0].expect_status[1]: expected an HTTP status code from 100 to "
        "599 or a class 1xx, 2xx, 3xx, 4xx or 5xx, got '6xx'",
        "12: services.api.checks[0].json: expected exactly one condition of equals, "
        "not_equals, one_of, exists or matches, got none",
        "13: services.api.checks[0].colour: unknown key 'colour'; expected one of: id, "
        "interval, timeout, locations, type, method, url, headers, body, expect_status, "
        "body_contains, body_not_contains, json, follow_redirects, verify_tls, max_body_bytes",
        "14: services.api.checks[1].type: expected type http, tcp, dns or tls, got 'ftp'",
        "15: services.api.checks[2].host: expected a host name or an IP address, got 'bad host'",
        "15: services.api.checks[2].port: expected a number at most 65535, got 70000",
        "16: services.api.checks[3].record_type: expected one of 'A', 'AAAA', 'CNAME', 'MX', "
        "'TXT', 'NS', got 'SRV'",
        "17: services.api.checks[4].name: expected a DNS name like api.example.com, "
        "got '-bad-.com'",
        "17: services.api.checks[4].server: expected a DNS server address like 192.0.2.53, "
        "192.0.2.53:5353 or [2001:db8::53]:53, got '1.1.1.1:99999'",
        "18: services.api.checks[5]: timeout (10s) must be shorter than interval (5s)",
        "19: services.api.checks[6].host: missing required key",
        "20: services.api.checks[7].id: expected a check id like homepage or api-health, got 'a:b'",
        "21: services.api.checks[8].interval: expected a duration like 500ms, 10s or 5m, got 1.5",
        "21: services.api.checks[8].timeout: expected a duration with a unit (500ms, 10s, 5m), "
        "got 100",
        "22: services.api.checks[9].json: expected exactly one condition of equals, "
        "not_equals, one_of, exists or matches, got equals, exists",
        "23: services.api.checks[10].locations: 'fra' is listed more than once",
        "24: services.api.checks[11].headers: expected header names like X-Api-Key, got 'Bad Name'",
        "25: services.api.checks[12].method: expected one of 'GET', 'HEAD', 'POST', 'PUT', "
        "'PATCH', 'DELETE', 'OPTIONS', got 'FETCH'",
        "25: services.api.checks[12].max_body_bytes: expected a number more than 0, got 0",
        "26: services.api.checks[13].json.path: expected a field path like status.db, got 'a..b'",
        "26: services.api.checks[13].json.matches: invalid regular expression '(': missing ), "
        "unterminated subpattern at position 0",
        "27: services.api.checks[14].locations: expected a list, got 'fra'",
        "28: services.api.checks[15].expect_status: expected at least one status code or "
        "class, like [200] or [2xx]",
        "29: services.api.checks[16]: expected an IPv6 address for AAAA, got '192.0.2.1'",
        "30: services.api.checks[17].bogus: unknown key 'bogus'; expected one of: id, "
        "interval, timeout, locations, type, host, port",
    ]


def test_missing_type_and_repeated_ids(tmp_path: Path) -> None:
    checks = """\
      - {host: a, port: 1}
"""
    assert problems(tmp_path, checks) == [
        "9: services.api.checks[0].type: missing required key; expected type http, tcp, dns or tls"
    ]
    checks = """\
      - {id: same, type: tcp, host: a, port: 1}
      - {id: same, type: tcp, host: b, port: 1}
"""
    assert problems(tmp_path, checks) == [
        "8: services.api.checks: check id 'same' is used more than once"
    ]


def test_dns_answers_and_servers() -> None:
    assert normalize_answer("A", " 192.0.2.1 ") == "192.0.2.1"
    assert normalize_answer("AAAA", "2001:DB8:0::1") == "2001:db8::1"
    assert normalize_answer("CNAME", "Edge.Example.NET.") == "edge.example.net"
    assert normalize_answer("MX", "010  Mail.example.com.") == "10 mail.example.com"
    assert normalize_answer("TXT", "v=spf1 -all") == "v=spf1 -all"
    with pytest.raises(ValueError, match="expected an IPv4 address for A, got '::1'"):
        normalize_answer("A", "::1")
    with pytest.raises(ValueError, match="expected MX answers like"):
        normalize_answer("MX", "mail.example.com")
    assert server_address("192.0.2.53") == ("192.0.2.53", 53)
    assert server_address("[2001:db8::53]:5353") == ("2001:db8::53", 5353)
    assert server_address("::1") == ("::1", 53)
    for bad in ("dns.example.com", "[::1]x", "1.2.3.4:0", "[::1"):
        with pytest.raises(ValueError, match="expected a DNS server address"):
            server_address(bad)


def test_statuses() -> None:
    patterns = (200, "3xx")
    assert [status_expected(patterns, s) for s in (200, 201, 301, 399, 404)] == [
        True,
        False,
        True,
        True,
        False,
    ]
    assert describe_statuses(patterns) == "200 or 3xx"
    assert describe_statuses(("2xx",)) == "2xx"
    assert describe_statuses((200, 204, "3xx")) == "200, 204 or 3xx"


def test_body_tests() -> None:
    check = HttpCheck(
        type="http",
        url="http://x/",
        body_contains=["ok", "ü"],
        body_not_contains="error",
        json=JsonCondition(path="items.1.state", one_of=["up", "degraded"]),
        max_body_bytes=100,
    )
    good = '{"items": [{"state": "down"}, {"state": "up"}], "x": "ok ü"}'.encode()
    assert check.body_failure(good, complete=True) is None
    assert check.body_failure(good, complete=False) == (
        "body is longer than max_body_bytes (100), not parsed"
    )
    assert check.body_failure(b"ok", True) == "body does not contain 'ü'"
    assert check.body_failure("ok ü error".encode(), True) == "body contains 'error'"
    assert check.body_failure("ok ü <html>".encode(), True) == "body is not JSON"
    bad = '{"items": [{}, {"state": "down"}], "x": "ok ü"}'.encode()
    assert check.body_failure(bad, True) == (
        'JSON field items.1.state is "down", expected one of ["up", "degraded"]'
    )


@pytest.mark.parametrize(
    ("condition", "document", "failure"),
    [
        ({"equals": 1}, {"a": 1}, None),
        ({"equals": 1}, {"a": 1.0}, None),
        ({"equals": 1}, {"a": True}, "JSON field a is true, expected 1"),
        ({"equals": True}, {"a": 1}, "JSON field a is 1, expected true"),
        ({"equals": "1"}, {"a": 1}, 'JSON field a is 1, expected "1"'),
        ({"equals": None}, {"a": None}, None),
        ({"equals": None}, {}, "JSON field a is missing"),
        ({"not_equals": "down"}, {"a": "up"}, None),
        ({"not_equals": "down"}, {"a": "down"}, 'JSON field a is "down", expected anything else'),
        ({"exists": True}, {"a": None}, None),
        ({"exists": True}, [], "JSON field a is missing"),
        ({"exists": False}, {"a": 0}, "JSON field a exists"),
        ({"exists": False}, {"b": 0}, None),
        ({"matches": "^v[0-9]+"}, {"a": "v12"}, None),
        ({"matches": "^v[0-9]+"}, {"a": 12}, "JSON field a is 12, expected a match of '^v[0-9]+'"),
    ],
)
def test_json_conditions(
    condition: dict[str, object], document: object, failure: str | None
) -> None:
    assert JsonCondition.model_validate({"path": "a", **condition}).failure(document) == failure


def test_json_condition_round_trip() -> None:
    condition = JsonCondition(path="a", equals=None)
    assert condition.model_dump() == {"path": "a", "equals": None}
    assert JsonCondition.model_validate(condition.model_dump()) == condition
    check = HttpCheck(type="http", url="http://x/", json={"path": "a", "one_of": [1, "b"]})
    assert check.model_dump(mode="json")["json"] == {"path": "a", "one_of": [1, "b"]}


def test_json_list_index_path() -> None:
    condition = JsonCondition(path="a.0.b", equals="x")
    assert condition.failure({"a": [{"b": "x"}]}) is None
    assert condition.failure({"a": []}) == "JSON field a.0.b is missing"
    assert condition.failure({"a": {"0": {"b": "x"}}}) is None


def test_models_are_frozen_and_strict() -> None:
    check = TcpCheck(type="tcp", host="::1", port=22)
    with pytest.raises(ValidationError):
        check.port = 23  # type: ignore[misc]
    assert TcpCheck(type="tcp", host="[::1]", port=22).host == "::1"
    assert HttpCheck(type="http", url="http://x/", method="post").method == "POST"


def test_check_ids_are_unique_across_services(tmp_path: Path) -> None:
    text = (
        HEAD
        + "    checks:\n      - {id: db, type: tcp, host: db.example.com, port: 5432}\n"
        + '  other:\n    name: Other\n    target: "99"\n    downtime: {rule: probe-ratio}\n'
        + "    checks:\n      - {id: db, type: tcp, host: db2.example.com, port: 5432}\n"
    )
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:3: services: check ids must be unique in the contract; used more than once: db"
    ]
