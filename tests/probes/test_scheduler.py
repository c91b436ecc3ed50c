"""The scheduler against real local servers: staggering, bounds, stopping, crashes, results.

Functional only: its timings (schedule lag, probes in a second, how long a stop waits) depend
on the machine's load and are measured by ``bench/scheduler.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from targets import LOCAL, run, tcp_server

from slaledger.core.checks import Check, HttpCheck, TcpCheck
from slaledger.core.contract import DEFAULT_OUTCOMES
from slaledger.core.observations import ERROR_CODES, NO_STATUS
from slaledger.core.outcomes import UP, classify
from slaledger.files.contract_file import load_contract
from slaledger.probes import http as http_prober
from slaledger.probes import tcp as tcp_prober
from slaledger.probes.result import Measurement, ProbeResult, to_observations
from slaledger.probes.scheduler import (
    ScheduledCheck,
    Scheduler,
    checks_for_location,
    first_due,
    plan,
    stagger_offset,
    wall_clock,
)
from slaledger.store.database import connect, migrate
from slaledger.store.observation_store import ObservationStore


class Target:
    """An HTTP server that answers ``/ok`` (whatever the query) and never answers ``/hang``,
    counting the connections open at once (a hanging one closes when the client gives up)."""

    def __init__(self) -> None:
        self.active = 0
        self.most_active = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            if request.startswith((b"GET /ok ", b"GET /ok?")):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
            await reader.read()
        finally:
            self.active -= 1


def http(port: int, path: str, interval: str, timeout: str, **fields: Any) -> HttpCheck:
    url = f"http://{LOCAL}:{port}{path}"
    return HttpCheck(type="http", url=url, interval=interval, timeout=timeout, **fields)


class Collector:
    def __init__(self) -> None:
        self.batches: list[list[ProbeResult]] = []

    async def __call__(self, batch: list[ProbeResult]) -> None:
        self.batches.append(batch)

    @property
    def results(self) -> list[ProbeResult]:
        return [result for batch in self.batches for result in batch]


def test_offsets_are_stable_and_spread() -> None:
    assert stagger_offset("api:http:0", 60_000_000) == stagger_offset("api:http:0", 60_000_000)
    offsets = [stagger_offset(f"svc-{i}:http:0", 60_000_000) for i in range(6000)]
    assert all(0 <= offset < 60_000_000 for offset in offsets)
    per_second = Counter(offset // 1_000_000 for offset in offsets)
    assert len(per_second) == 60
    assert max(per_second.values()) < 140  # 100 a second on average
    assert first_due(1_000, 60, 10) == 1_030
    assert first_due(1_030, 60, 10) == 1_030
    assert first_due(1_031, 60, 10) == 1_090


def test_plan_lists_every_planned_start() -> None:
    check = HttpCheck(type="http", url="http://x/", interval="1s", timeout="500ms")
    entry = ScheduledCheck("c", "svc", check)
    offset = stagger_offset("c", 1_000_000)
    assert plan([entry], 0, 3_000_000) == [(offset + i * 1_000_000, "c") for i in range(3)]


def planned_start(result: ProbeResult, check: Check) -> int:
    """The latest planned instant of the check at or before the result's start."""
    offset = stagger_offset(result.check_id, check.interval)
    return result.instant - (result.instant - offset) % check.interval


def test_checks_run_at_their_staggered_turns() -> None:
    target = Target()
    sink = Collector()

    async def scenario() -> tuple[int, int, Scheduler, dict[str, Check]]:
        async with tcp_server(target) as port:
            checks: dict[str, Check] = {
                f"c{i}": http(port, "/ok", ("200ms", "300ms")[i % 2], "100ms") for i in range(6)
            }
            entries = [ScheduledCheck(cid, "svc", check) for cid, check in checks.items()]
            start = wall_clock()
            scheduler = Scheduler(entries, "fra", sink, flush_interval=0.1)
            running = asyncio.create_task(scheduler.run())
            while len({r.check_id for r in sink.results}) < len(checks):
                await asyncio.sleep(0.05)
            scheduler.stop()
            await running
            return start, wall_clock(), scheduler, checks

    start, end, scheduler, checks = run(scenario())
    results = sink.results
    entries = [ScheduledCheck(cid, "svc", check) for cid, check in checks.items()]
    turns = [(planned_start(r, checks[r.check_id]), r.check_id) for r in results]
    assert {r.check_id for r in results} == set(checks)
    assert len(set(turns)) == len(turns)  # one probe a turn at most
    assert set(turns) <= set(plan(entries, start, end))  # at the check's phase, after start
    assert {(r.service, r.location, r.status, r.error) for r in results} == {
        ("svc", "fra", 200, None)
    }
    stats = scheduler.stats()
    assert (stats.started, stats.completed, stats.failed) == (len(results), len(results), 0)
    assert (stats.in_flight, stats.crashed) == (0, 0)
    assert stats.lag_p50_ms is not None
    assert stats.lag_p99_ms is not None
    assert 0 <= stats.lag_p50_ms <= stats.lag_p99_ms


def test_slow_targets_do_not_hold_up_others() -> None:
    target = Target()
    sink = Collector()

    async def scenario() -> None:
        async with tcp_server(target) as port:
            entries = [ScheduledCheck("fast", "a", http(port, "/ok", "100ms", "50ms"))]
            entries += [
                ScheduledCheck(f"slow{i}", "b", http(port, "/hang", "400ms", "300ms"))
                for i in range(20)
            ]
            scheduler = Scheduler(entries, "fra", sink, flush_interval=0.1)
            running = asyncio.create_task(scheduler.run())
            while len({r.check_id for r in sink.results}) < len(entries):
                await asyncio.sleep(0.05)
            scheduler.stop()
            await running

    run(scenario())
    fast = [r for r in sink.results if r.check_id == "fast"]
    slow = [r for r in sink.results if r.check_id != "fast"]
    assert {(r.status, r.error) for r in fast} == {(200, None)}
    assert {(r.status, r.error, r.detail) for r in slow} == {
        (None, "timeout", "no complete response within 300 ms")
    }
    assert all(r.latency_ms >= 300 for r in slow)
    # A fast probe started and ended while slow probes were hanging.
    hanging = [(r.instant, r.instant + int(r.latency_ms * 1000)) for r in slow]
    assert any(
        begin < r.instant and r.instant + int(r.latency_ms * 1000) < end
        for r in fast
        for begin, end in hanging
    )


def test_concurrency_is_bounded() -> None:
    target = Target()
    sink = Collector()

    async def scenario() -> Scheduler:
        async with tcp_server(target) as port:
            entries = [
                ScheduledCheck(f"slow{i}", "b", http(port, "/hang", "500ms", "200ms"))
                for i in range(8)
            ]
            scheduler = Scheduler(entries, "fra", sink, max_concurrency=2, flush_interval=0.1)
            running = asyncio.create_task(scheduler.run())
            while scheduler.stats().completed < 4:
                await asyncio.sleep(0.05)
            scheduler.stop()
            await running
            return scheduler

    scheduler = run(scenario())
    stats = scheduler.stats()
    assert target.most_active == 2
    assert stats.completed == stats.started == len(sink.results) >= 4
    assert {r.error for r in sink.results} == {"timeout"}


def test_a_check_still_probing_skips_its_turn() -> None:
    sink = Collector()
    running_now: list[int] = [0]
    most = [0]

    async def slow_probe(check: Check) -> Measurement:
        running_now[0] += 1
        most[0] = max(most[0], running_now[0])
        await asyncio.sleep(0.25)
        running_now[0] -= 1
        return Measurement(None, None, 250.0)

    async def scenario() -> Scheduler:
        check = HttpCheck(type="http", url="http://x/", interval="100ms", timeout="50ms")
        entries = [ScheduledCheck("c", "svc", check)]
        scheduler = Scheduler(entries, "fra", sink, probe=slow_probe, flush_interval=0.1)
        running = asyncio.create_task(scheduler.run())
        while scheduler.stats().completed < 2:
            await asyncio.sleep(0.05)
        scheduler.stop()
        await running
        return scheduler

    stats = run(scenario()).stats()
    assert most[0] == 1  # never two probes of one check at once
    assert stats.started == stats.completed == len(sink.results) >= 2
    # A 250 ms probe every 100 ms: the turn after each probe's start finds it busy (an
    # overrun), or on a loaded machine comes so late that the turns after it are skipped.
    assert stats.overruns + stats.skipped >= stats.completed - 1


def test_stop_lets_running_probes_finish_and_flushes_in_batches() -> None:
    target = Target()
    sink = Collector()

    async def scenario() -> None:
        async with tcp_server(target) as port:
            entries = [
                ScheduledCheck(f"c{i}", "svc", http(port, "/hang", "400ms", "300ms"))
                for i in range(7)
            ]
            scheduler = Scheduler(entries, "fra", sink, batch_size=3, flush_interval=10)
            running = asyncio.create_task(scheduler.run())
            while scheduler.stats().started < 7:
                await asyncio.sleep(0.02)
            scheduler.stop()
            await running

    run(scenario())
    assert sorted(r.check_id for r in sink.results) == [f"c{i}" for i in range(7)]
    assert {r.error for r in sink.results} == {"timeout"}
    assert all(len(batch) <= 3 for batch in sink.batches)


def test_a_prober_crash_is_logged_and_stored_as_no_data(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Bugs inside the real HTTP and TCP probers, run by the real scheduler: each crash is
    logged with its traceback and stores nothing, so it never counts as downtime."""
    read_body = http_prober._read_capped

    async def buggy_read(response: Any, cap: int) -> tuple[bytes, bool]:
        if response.url.query_string == "bug":
            raise KeyError("phase")
        return await read_body(response, cap)

    async def buggy_connect(addresses: list[str]) -> Any:
        raise RuntimeError("bug in connect_any")

    monkeypatch.setattr(http_prober, "_read_capped", buggy_read)
    monkeypatch.setattr(tcp_prober, "connect_any", buggy_connect)
    store = ObservationStore(connect(f"sqlite:///{tmp_path / 'store.db'}"))
    migrate(store.engine)

    async def stored(batch: list[ProbeResult]) -> None:
        checks = list(dict.fromkeys(r.check_id for r in batch))
        check = np.array([checks.index(r.check_id) for r in batch], dtype=np.int32)
        store.ingest(to_observations(batch), received_at=wall_clock(), checks=checks, check=check)

    target = Target()
    checks: dict[str, Check] = {}

    async def scenario() -> Scheduler:
        async with tcp_server(target) as port:
            checks["api:http:0"] = http(port, "/ok", "500ms", "400ms")
            checks["api:http:1"] = http(port, "/ok?bug", "500ms", "400ms")
            checks["api:tcp:2"] = TcpCheck(
                type="tcp", host=LOCAL, port=port, interval="500ms", timeout="400ms"
            )
            entries = [ScheduledCheck(cid, "api", check) for cid, check in checks.items()]
            scheduler = Scheduler(entries, "fra", stored, flush_interval=0.05)
            running = asyncio.create_task(scheduler.run())
            while scheduler.stats().completed < 3 or scheduler.stats().crashed < 4:
                await asyncio.sleep(0.05)
            scheduler.stop()
            await running
            return scheduler

    with caplog.at_level(logging.ERROR, logger="slaledger.probes"):
        scheduler = run(scenario())
    stats = scheduler.stats()
    crashes = [r for r in caplog.records if r.name == "slaledger.probes"]
    assert len(crashes) == stats.crashed >= 4
    assert {r.getMessage() for r in crashes} == {
        "probe of check api:http:1 (service api) crashed; no result recorded for it",
        "probe of check api:tcp:2 (service api) crashed; no result recorded for it",
    }
    assert all(r.levelno == logging.ERROR and r.exc_info is not None for r in crashes)
    assert {repr(r.exc_info[1]) for r in crashes if r.exc_info} == {
        "KeyError('phase')",
        "RuntimeError('bug in connect_any')",
    }
    assert "in buggy_connect" in caplog.text  # the traceback, down to the bug
    assert stats.started == stats.completed + stats.crashed
    assert stats.failed == 0

    observations = store.load(0, wall_clock() + 1)
    assert len(observations) == stats.completed
    assert observations.services == ("api",)
    assert set(observations.error.tolist()) == {0}
    assert set(observations.status.tolist()) == {200}
    outcomes = classify(observations, [DEFAULT_OUTCOMES])
    assert set(outcomes.tolist()) == {UP}


def test_sink_failure_stops_the_run() -> None:
    async def failing(batch: list[ProbeResult]) -> None:
        raise OSError("disk full")

    async def probe(check: Check) -> Measurement:
        return Measurement(200, None, 1.0)

    async def scenario() -> None:
        check = HttpCheck(type="http", url="http://x/", interval="100ms", timeout="50ms")
        scheduler = Scheduler(
            [ScheduledCheck("c", "s", check)], "fra", failing, probe=probe, flush_interval=0.05
        )
        await scheduler.run()

    with pytest.raises(OSError, match="disk full"):
        run(scenario(), limit=2)


def test_checks_for_location(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(
        """\
contract: demo
name: Demo
services:
  api:
    name: API
    target: "99.9"
    downtime: {rule: probe-ratio}
    checks:
      - {type: http, url: "https://api.example.com/", locations: [fra]}
      - {id: api-port, type: tcp, host: api.example.com, port: 443}
      - {type: tls, host: api.example.com, locations: [iad, sin]}
  web:
    name: Web
    target: "99.9"
    downtime: {rule: probe-ratio}
""",
        encoding="utf-8",
    )
    services = load_contract(path).services

    def found(location: str) -> list[tuple[str, str]]:
        return [(e.service, e.check_id) for e in checks_for_location(services, location)]

    assert found("fra") == [("api", "api:http:0"), ("api", "api-port")]
    assert found("sin") == [("api", "api-port"), ("api", "api:tls:2")]


def test_results_become_observations() -> None:
    results = [
        ProbeResult(1_000, "api", "fra", "api:http:0", 200, None, 12.5),
        ProbeResult(2_000, "web", "", "web:tcp:0", None, "connect", 0.4),
        ProbeResult(3_000, "api", "iad", "api:http:0", 503, "assertion", 8.0, retry_after=True),
    ]
    observations = to_observations(results)
    assert observations.services == ("api", "web")
    assert observations.locations == ("fra", "default", "iad")
    assert observations.timestamp.tolist() == [1_000, 2_000, 3_000]
    assert observations.service.tolist() == [0, 1, 0]
    assert observations.location.tolist() == [0, 1, 2]
    assert observations.status.tolist() == [200, NO_STATUS, 503]
    assert observations.error.tolist() == [0, ERROR_CODES["connect"], ERROR_CODES["assertion"]]
    assert observations.retry_after.tolist() == [False, False, True]
    assert observations.status.dtype == np.int16
    assert len(to_observations([])) == 0
