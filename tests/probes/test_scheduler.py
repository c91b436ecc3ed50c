"""The scheduler against real local servers: timing, staggering, bounds, stopping, results."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from targets import LOCAL, run, tcp_server

from slaledger.core.checks import Check, HttpCheck
from slaledger.core.observations import ERROR_CODES, NO_STATUS
from slaledger.files.contract_file import load_contract
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


class Target:
    """An HTTP server that answers ``/ok`` and never answers ``/hang``, counting the
    connections open at once (a hanging one closes when the client gives up)."""

    def __init__(self) -> None:
        self.active = 0
        self.most_active = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            if request.startswith(b"GET /ok "):
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
    """The planned instant a result belongs to (its lag is less than an interval)."""
    offset = stagger_offset(result.check_id, check.interval)
    return result.instant - (result.instant - offset) % check.interval


def quiet_moment(planned: list[tuple[int, str]]) -> int:
    """The middle of the widest gap between planned starts."""
    instants = [instant for instant, _ in planned]
    gaps = [(b - a, (a + b) // 2) for a, b in itertools.pairwise(instants)]
    return max(gaps)[1]


def test_checks_run_on_schedule_with_small_lag() -> None:
    target = Target()
    sink = Collector()
    clock_reads: list[int] = []

    def clock() -> int:
        now = wall_clock()
        clock_reads.append(now)
        return now

    async def scenario() -> tuple[int, int, Scheduler, dict[str, Check]]:
        async with tcp_server(target) as port:
            checks: dict[str, Check] = {
                f"c{i}": http(port, "/ok", ("200ms", "300ms")[i % 2], "100ms") for i in range(6)
            }
            entries = [ScheduledCheck(cid, "svc", check) for cid, check in checks.items()]
            scheduler = Scheduler(entries, "fra", sink, clock=clock, flush_interval=0.1)
            running = asyncio.create_task(scheduler.run())
            await asyncio.sleep(0.05)
            start = clock_reads[0]
            stop_at = quiet_moment(plan(entries, start + 600_000, start + 1_000_000))
            await asyncio.sleep((stop_at - wall_clock()) / 1_000_000)
            scheduler.stop()
            await running
            return start, stop_at, scheduler, checks

    start, stop_at, scheduler, checks = run(scenario())
    results = sink.results
    entries = [ScheduledCheck(cid, "svc", check) for cid, check in checks.items()]
    assert sorted((planned_start(r, checks[r.check_id]), r.check_id) for r in results) == plan(
        entries, start, stop_at
    )
    assert {(r.service, r.location, r.status, r.error) for r in results} == {
        ("svc", "fra", 200, None)
    }
    stats = scheduler.stats()
    assert (stats.started, stats.completed, stats.failed) == (len(results), len(results), 0)
    assert (stats.in_flight, stats.overruns, stats.skipped) == (0, 0, 0)
    assert stats.lag_p50_ms is not None
    assert stats.lag_p99_ms is not None
    assert 0 <= stats.lag_p50_ms <= stats.lag_p99_ms < 50


def test_slow_targets_do_not_delay_others() -> None:
    target = Target()
    sink = Collector()

    async def scenario() -> Scheduler:
        async with tcp_server(target) as port:
            entries = [ScheduledCheck("fast", "a", http(port, "/ok", "100ms", "50ms"))]
            entries += [
                ScheduledCheck(f"slow{i}", "b", http(port, "/hang", "400ms", "300ms"))
                for i in range(20)
            ]
            scheduler = Scheduler(entries, "fra", sink, flush_interval=0.1)
            running = asyncio.create_task(scheduler.run())
            await asyncio.sleep(1.0)
            scheduler.stop()
            await running
            return scheduler

    scheduler = run(scenario())
    fast = [r for r in sink.results if r.check_id == "fast"]
    slow = [r for r in sink.results if r.check_id != "fast"]
    assert 9 <= len(fast) <= 11
    assert {(r.status, r.error) for r in fast} == {(200, None)}
    assert {(r.status, r.error, r.detail) for r in slow} == {
        (None, "timeout", "no complete response within 300 ms")
    }
    assert all(300 <= r.latency_ms < 400 for r in slow)
    _, p99 = scheduler.lag_percentiles()
    assert p99 is not None
    assert p99 < 50


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
            await asyncio.sleep(0.9)
            scheduler.stop()
            await running
            return scheduler

    scheduler = run(scenario())
    stats = scheduler.stats()
    assert target.most_active == 2
    assert stats.completed == len(sink.results)
    # 2 slots of 200 ms probes in 0.9 s: at most 2 x 5 probes, with lag piling up.
    assert 6 <= stats.completed <= 10
    assert stats.lag_p99_ms is not None
    assert stats.lag_p99_ms > 150


def test_overruns_and_skipped_turns_are_counted() -> None:
    sink = Collector()

    async def slow_probe(check: Check) -> Measurement:
        await asyncio.sleep(0.25)
        return Measurement(None, None, 250.0)

    async def scenario() -> Scheduler:
        check = HttpCheck(type="http", url="http://x/", interval="100ms", timeout="50ms")
        entries = [ScheduledCheck("c", "svc", check)]
        scheduler = Scheduler(entries, "fra", sink, probe=slow_probe, flush_interval=0.1)
        running = asyncio.create_task(scheduler.run())
        await asyncio.sleep(0.75)
        scheduler.stop()
        await running
        return scheduler

    stats = run(scenario()).stats()
    # The first turn comes within 100 ms; probes start then and 300 and 600 ms later (one
    # at a time); the turns at +100, +200, +400, +500 (and +700 if it came before the stop)
    # find the check busy.
    assert (stats.started, stats.completed, stats.skipped) == (3, 3, 0)
    assert stats.overruns in (4, 5)


def test_a_failing_prober_is_a_result_not_a_crash() -> None:
    sink = Collector()

    async def broken(check: Check) -> Measurement:
        raise RuntimeError("bug")

    async def scenario() -> None:
        check = HttpCheck(type="http", url="http://x/", interval="100ms", timeout="50ms")
        scheduler = Scheduler([ScheduledCheck("c", "s", check)], "fra", sink, probe=broken)
        running = asyncio.create_task(scheduler.run())
        await asyncio.sleep(0.25)
        scheduler.stop()
        await running

    run(scenario())
    assert {(r.error, r.detail) for r in sink.results} == {
        ("other", "probe failed: RuntimeError: bug")
    }
    assert 2 <= len(sink.results) <= 3


def test_stop_waits_for_running_probes_and_flushes_in_batches() -> None:
    target = Target()
    sink = Collector()

    async def scenario() -> float:
        async with tcp_server(target) as port:
            entries = [
                ScheduledCheck(f"c{i}", "svc", http(port, "/hang", "400ms", "300ms"))
                for i in range(7)
            ]
            scheduler = Scheduler(entries, "fra", sink, batch_size=3, flush_interval=10)
            running = asyncio.create_task(scheduler.run())
            loop = asyncio.get_running_loop()
            while scheduler.stats().started < 7:
                await asyncio.sleep(0.02)
            stopped = loop.time()
            scheduler.stop()
            await running
            return loop.time() - stopped

    waited = run(scenario())
    assert waited < 0.35
    assert sorted(r.check_id for r in sink.results) == [f"c{i}" for i in range(7)]
    assert {r.error for r in sink.results} == {"timeout"}
    assert all(len(batch) <= 3 for batch in sink.batches)


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
