"""Scheduler timing benchmark: schedule lag, isolation from slow targets, bounds, stop wait.

The timings the scheduler's tests used to assert, measured instead (they depend on the
machine's load, so a test could only flake on them). Everything stays on 127.0.0.1: one HTTP
server answers ``/ok`` at once and never answers ``/hang``. Each scenario runs ``--runs``
times and prints the minimum, median and maximum of its figures:

1. On schedule: 6 checks every 200/300 ms for 1 s; lag p50/p99 and the share of the turns
   planned between the scheduler's start and the stop that were probed (all of them when
   nothing is late by a whole interval).
2. Slow targets: one check every 100 ms beside 20 that hang until their 300 ms timeout, for
   1 s; the fast check's probes (10 planned) and the lag p99.
3. Bounded: 8 hanging checks every 500 ms (200 ms timeout) through 2 slots for 0.9 s;
   probes completed (at most 10) and the lag p99 (the wait for a slot shows up as lag).
4. Overruns: a 250 ms probe every 100 ms for 0.75 s; probes, overruns and skipped turns.
5. Stop: 7 probes hanging towards a 300 ms timeout; how long ``run()`` takes to return after
   ``stop()`` (it waits for them, so at most the timeout).

Run ``.venv/bin/python bench/scheduler.py`` (about 25 s with the default 5 runs).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from slaledger.app import build_clock
from slaledger.core.checks import Check, HttpCheck
from slaledger.probes.result import Measurement, ProbeResult
from slaledger.probes.scheduler import ScheduledCheck, Scheduler, plan, stagger_offset

LOCAL = "127.0.0.1"


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        request = await reader.readuntil(b"\r\n\r\n")
        if request.startswith(b"GET /ok "):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        await reader.read()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.transport.abort()


@asynccontextmanager
async def target() -> AsyncIterator[int]:
    server = await asyncio.start_server(_serve, LOCAL, 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


def http(port: int, path: str, interval: str, timeout: str) -> HttpCheck:
    url = f"http://{LOCAL}:{port}{path}"
    return HttpCheck(type="http", url=url, interval=interval, timeout=timeout)


clock_now = build_clock()


class Collector:
    def __init__(self) -> None:
        self.results: list[ProbeResult] = []

    async def __call__(self, batch: list[ProbeResult]) -> None:
        self.results.extend(batch)


async def _run_for(scheduler: Scheduler, seconds: float) -> int:
    """Run for ``seconds``; the instant of the stop."""
    running = asyncio.create_task(scheduler.run())
    await asyncio.sleep(seconds)
    stopped = clock_now()
    scheduler.stop()
    await running
    return stopped


async def on_schedule() -> dict[str, float]:
    sink = Collector()
    async with target() as port:
        checks: dict[str, Check] = {
            f"c{i}": http(port, "/ok", ("200ms", "300ms")[i % 2], "100ms") for i in range(6)
        }
        entries = [ScheduledCheck(cid, "svc", check) for cid, check in checks.items()]
        reads: list[int] = []

        def clock() -> int:
            reads.append(clock_now())
            return reads[-1]

        scheduler = Scheduler(entries, "fra", sink, clock=clock, flush_interval=0.1)
        end = await _run_for(scheduler, 1.0)
        start = reads[0]  # the scheduler's first reading: turns are planned from there
    turns = {
        (r.instant - (r.instant - stagger_offset(r.check_id, checks[r.check_id].interval))
         % checks[r.check_id].interval, r.check_id)
        for r in sink.results
    }  # fmt: skip
    planned = set(plan(entries, start, end))
    p50, p99 = scheduler.lag_percentiles()
    return {
        "lag p50 ms": p50 or 0.0,
        "lag p99 ms": p99 or 0.0,
        "turns probed %": 100 * len(turns & planned) / max(1, len(planned)),
    }


async def slow_targets() -> dict[str, float]:
    sink = Collector()
    async with target() as port:
        entries = [ScheduledCheck("fast", "a", http(port, "/ok", "100ms", "50ms"))]
        entries += [
            ScheduledCheck(f"slow{i}", "b", http(port, "/hang", "400ms", "300ms"))
            for i in range(20)
        ]
        scheduler = Scheduler(entries, "fra", sink, flush_interval=0.1)
        await _run_for(scheduler, 1.0)
    _, p99 = scheduler.lag_percentiles()
    return {
        "fast probes (of 10)": sum(r.check_id == "fast" for r in sink.results),
        "lag p99 ms": p99 or 0.0,
    }


async def bounded() -> dict[str, float]:
    sink = Collector()
    async with target() as port:
        entries = [
            ScheduledCheck(f"slow{i}", "b", http(port, "/hang", "500ms", "200ms")) for i in range(8)
        ]
        scheduler = Scheduler(entries, "fra", sink, max_concurrency=2, flush_interval=0.1)
        await _run_for(scheduler, 0.9)
    stats = scheduler.stats()
    return {"completed (of ≤10)": stats.completed, "lag p99 ms": stats.lag_p99_ms or 0.0}


async def overruns() -> dict[str, float]:
    async def slow_probe(check: Check) -> Measurement:
        await asyncio.sleep(0.25)
        return Measurement(None, None, 250.0)

    check = HttpCheck(type="http", url="http://x/", interval="100ms", timeout="50ms")
    scheduler = Scheduler(
        [ScheduledCheck("c", "svc", check)], "fra", Collector(), probe=slow_probe,
        flush_interval=0.1,
    )  # fmt: skip
    await _run_for(scheduler, 0.75)
    stats = scheduler.stats()
    return {"probes": stats.started, "overruns": stats.overruns, "skipped": stats.skipped}


async def stop_wait() -> dict[str, float]:
    async with target() as port:
        entries = [
            ScheduledCheck(f"c{i}", "svc", http(port, "/hang", "400ms", "300ms")) for i in range(7)
        ]
        scheduler = Scheduler(entries, "fra", Collector(), batch_size=3, flush_interval=10)
        running = asyncio.create_task(scheduler.run())
        while scheduler.stats().started < 7:
            await asyncio.sleep(0.02)
        stopped = time.perf_counter()
        scheduler.stop()
        await running
    return {"stop → return ms (≤300)": (time.perf_counter() - stopped) * 1000}


SCENARIOS: Sequence[tuple[str, Callable[[], object]]] = (
    ("on schedule", on_schedule),
    ("slow targets", slow_targets),
    ("bounded (2 slots)", bounded),
    ("overruns", overruns),
    ("stop", stop_wait),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    print(f"{'scenario':<18} {'figure':<26} {'min':>8} {'median':>8} {'max':>8}")
    for name, scenario in SCENARIOS:
        figures: dict[str, list[float]] = {}
        for _ in range(arguments.runs):
            found = asyncio.run(scenario())  # type: ignore[arg-type]
            for key, value in found.items():
                figures.setdefault(key, []).append(float(value))
        for key, values in figures.items():
            low, middle, high = min(values), statistics.median(values), max(values)
            print(f"{name:<18} {key:<26} {low:>8.1f} {middle:>8.1f} {high:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
