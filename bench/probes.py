"""Probe benchmark: HTTP checks per second from one agent process, and the blackbox exporter.

Everything stays on 127.0.0.1. The targets (a minimal HTTP/1.1 responder on uvloop, closing
each connection after its response, on ``--ports`` ports) run in one process pinned to CPU 0;
the agent (the real :class:`~slaledger.probes.scheduler.Scheduler` with aiohttp, a new
connection per check) runs in another, pinned to CPU 1.

1. Steady: ``--checks`` HTTP checks every ``--interval`` seconds (default 10,000 every 10 s:
   60,000 checks a minute) for ``--duration`` seconds; prints checks/s, schedule lag
   p50/p99, errors and the agent's CPU time per check.
2. Saturation, once per event loop (asyncio, uvloop): the same checks due four times as
   often, for ``--saturate`` seconds; the completed checks per second and per CPU-second are
   what one core can do.
3. Debian's ``prometheus-blackbox-exporter`` (``apt-get install prometheus-blackbox-exporter``;
   skipped with a message when missing), pinned to CPU 1 with GOMAXPROCS=1, driven with
   ``--bb-concurrency`` concurrent ``/probe?module=http_2xx&target=...`` requests on
   keep-alive connections for ``--saturate`` seconds; prints probes/s, probes per CPU-second
   and the ratio to phase 2.

Run ``.venv/bin/python bench/probes.py`` (about two minutes); ``--quick`` for a short run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

LOCAL = "127.0.0.1"
TARGET_CPU, AGENT_CPU = 0, 1
BLACKBOX_PATHS = ("/usr/bin/prometheus-blackbox-exporter", "/usr/bin/blackbox_exporter")
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\nok"
)


# --- Targets --------------------------------------------------------------------------------


class _Responder(asyncio.Protocol):
    """Answers the first request on a connection with 200 ``ok``, then closes it."""

    served = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" in self.buffer:
            _Responder.served += 1
            self.transport.write(RESPONSE)
            self.transport.close()
        elif len(self.buffer) > 65536:
            self.transport.abort()


def serve_targets(ports: int, pipe: Connection) -> None:
    """Target process: listen on ``ports`` ports until told to stop; report requests served."""
    os.sched_setaffinity(0, {TARGET_CPU})
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        servers = [
            await loop.create_server(_Responder, LOCAL, 0, backlog=4096) for _ in range(ports)
        ]
        pipe.send([server.sockets[0].getsockname()[1] for server in servers])
        await loop.run_in_executor(None, pipe.recv)
        pipe.send(_Responder.served)
        for server in servers:
            server.close()

    uvloop.run(main())


# --- Agent ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentRun:
    loop: str
    seconds: float
    completed: int
    errors: dict[str, int]
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    cpu_seconds: float
    skipped: int
    overruns: int

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds

    @property
    def per_cpu_second(self) -> float:
        return self.completed / self.cpu_seconds


def run_agent(
    loop_name: str,
    urls: list[str],
    checks: int,
    interval: str,
    timeout: str,
    seconds: float,
    concurrency: int,
    pipe: Connection,
    queue_flush: float | None = None,
) -> None:
    """Agent process: run ``checks`` HTTP checks for ``seconds``; send back an AgentRun.

    With ``queue_flush`` (seconds) the checks run in the real :class:`Agent`, whose results
    go into a real queue file every ``queue_flush`` (its pusher points at a closed port and
    backs off); without, into a sink that only converts them.
    """
    os.sched_setaffinity(0, {AGENT_CPU})
    from slaledger.agent.pusher import Pusher
    from slaledger.agent.queue import BatchQueue
    from slaledger.agent.runner import Agent
    from slaledger.app import build_clock
    from slaledger.core.checks import HttpCheck
    from slaledger.probes.result import ProbeResult, to_observations
    from slaledger.probes.scheduler import ScheduledCheck, Scheduler

    clock = build_clock()
    errors: Counter[str] = Counter()

    async def sink(batch: list[ProbeResult]) -> None:
        to_observations(batch)  # what a real agent does before storing them
        errors.update(result.detail or result.error for result in batch if result.error)

    async def main() -> AgentRun:
        entries = [
            ScheduledCheck(
                f"bench-{index}:http:0",
                f"bench-{index}",
                HttpCheck(
                    type="http", url=urls[index % len(urls)], interval=interval, timeout=timeout
                ),
            )
            for index in range(checks)
        ]
        if queue_flush is None:
            scheduler = Scheduler(
                entries,
                "bench",
                sink,
                clock=clock,
                max_concurrency=concurrency,
                lag_window=1_000_000,
            )
            running = asyncio.create_task(scheduler.run())
            before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            await asyncio.sleep(seconds)
            scheduler.stop()
            await running
            stats = scheduler.stats()
        else:
            with tempfile.TemporaryDirectory() as folder:
                queue = BatchQueue(Path(folder) / "bench.queue", "bench", clock)
                with queue:
                    nowhere = f"http://{LOCAL}:{_free_port()}"
                    pusher = Pusher(queue, nowhere, "t", say=lambda _: None, clock=clock)
                    runner = Agent(
                        entries, queue, pusher, clock=clock, say=lambda _: None,
                        status_interval=3600, drain_timeout=0, flush_interval=queue_flush,
                    )  # fmt: skip
                    running = asyncio.create_task(runner.run())
                    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
                    await asyncio.sleep(seconds)
                    runner.stop()
                    stats = (await running).probes
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return AgentRun(
            loop_name,
            elapsed,
            stats.completed,
            dict(errors),
            stats.lag_p50_ms,
            stats.lag_p99_ms,
            cpu,
            stats.skipped,
            stats.overruns,
        )

    pipe.send(_run_loop(loop_name, main))


def _run_loop(loop_name: str, main: Callable[[], Coroutine[Any, Any, AgentRun]]) -> AgentRun:
    if loop_name == "uvloop":
        import uvloop

        return uvloop.run(main())
    return asyncio.run(main())


def agent(
    loop_name: str,
    urls: list[str],
    checks: int,
    interval_ms: int,
    seconds: float,
    concurrency: int,
    queue_flush: float | None = None,
) -> AgentRun:
    """One agent process's run; the timeout is 5 s, or half the interval when shorter."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    timeout = f"{min(5000, interval_ms // 2)}ms"
    interval = f"{interval_ms}ms"
    arguments = (
        *(loop_name, urls, checks, interval, timeout, seconds, concurrency, theirs),
        queue_flush,
    )
    process = context.Process(target=run_agent, args=arguments)
    process.start()
    result: AgentRun = ours.recv()
    process.join()
    return result


# --- Blackbox exporter ----------------------------------------------------------------------


def blackbox(urls: list[str], seconds: float, concurrency: int) -> tuple[int, float, float] | None:
    """Probes done, wall seconds and CPU seconds of the blackbox exporter; None when absent."""
    binary = next((path for path in BLACKBOX_PATHS if Path(path).exists()), None)
    binary = binary or shutil.which("prometheus-blackbox-exporter")
    if binary is None:
        print(
            "blackbox exporter: not installed, skipped "
            "(apt-get install -y prometheus-blackbox-exporter)"
        )
        return None
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "blackbox.yml"
        config.write_text(
            "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n"
            "    http:\n      preferred_ip_protocol: ip4\n",
            encoding="utf-8",
        )
        port = _free_port()
        process = subprocess.Popen(
            [
                "taskset",
                "--cpu-list",
                str(AGENT_CPU),
                binary,
                f"--config.file={config}",
                f"--web.listen-address={LOCAL}:{port}",
                "--log.level=error",
            ],
            env={**os.environ, "GOMAXPROCS": "1"},
            stdout=subprocess.DEVNULL,
        )
        try:
            return asyncio.run(_drive_blackbox(process.pid, port, urls, seconds, concurrency))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


async def _drive_blackbox(
    pid: int, port: int, urls: list[str], seconds: float, concurrency: int
) -> tuple[int, float, float]:
    import aiohttp

    base = f"http://{LOCAL}:{port}/probe"
    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # wait until it listens
            try:
                async with session.get(f"http://{LOCAL}:{port}/") as response:
                    await response.read()
                break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        done = failed = 0
        deadline = 0.0

        async def worker(index: int) -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                target = urls[(index + done) % len(urls)]
                params = {"module": "http_2xx", "target": target}
                async with session.get(base, params=params) as response:
                    body = await response.text()
                if "\nprobe_success 1" in body:
                    done += 1
                else:
                    failed += 1

        cpu_before = _cpu_seconds(pid)
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(pid) - cpu_before
    if failed:
        print(f"blackbox exporter: {failed} probes failed")
    return done, elapsed, cpu


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return int(sock.getsockname()[1])


# --- Main -----------------------------------------------------------------------------------


def report(title: str, result: AgentRun) -> None:
    errors = sum(result.errors.values())
    lag = f"lag p50 {result.lag_p50_ms:.1f} ms, p99 {result.lag_p99_ms:.1f} ms"
    print(
        f"{title} [{result.loop}]: {result.completed:,} checks in {result.seconds:.1f} s = "
        f"{result.per_second:,.0f}/s; {lag}; errors {errors}; "
        f"CPU {result.cpu_seconds:.1f} s = {result.per_cpu_second:,.0f} checks per CPU-second"
        + (f"; skipped turns {result.skipped:,}" if result.skipped else "")
    )
    for reason, count in sorted(result.errors.items(), key=lambda item: -item[1])[:5]:
        print(f"    {count:>7,}  {reason}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=11_000)
    parser.add_argument("--interval", type=int, default=10, help="seconds between a check's runs")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--saturate", type=float, default=15.0)
    parser.add_argument("--ports", type=int, default=16)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--bb-concurrency", type=int, default=256)
    parser.add_argument("--quick", action="store_true", help="10 s steady, 5 s saturation")
    parser.add_argument(
        "--queue",
        action="store_true",
        help="steady only, three times: the bare scheduler, then the real agent and queue "
        "recording every 1 s and every 10 ms",
    )
    args = parser.parse_args()
    if args.quick:
        args.duration, args.saturate = 10.0, 5.0
    if not {TARGET_CPU, AGENT_CPU} <= os.sched_getaffinity(0):
        print(f"needs CPUs {TARGET_CPU} and {AGENT_CPU}")
        return 2
    os.sched_setaffinity(0, {TARGET_CPU})  # this process drives the blackbox exporter

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    targets = context.Process(target=serve_targets, args=(args.ports, theirs))
    targets.start()
    urls = [f"http://{LOCAL}:{port}/health" for port in ours.recv()]
    rate = args.checks * 60 // args.interval
    print(
        f"targets: {len(urls)} ports on CPU {TARGET_CPU}; agent on CPU {AGENT_CPU}; "
        f"{args.checks:,} HTTP checks every {args.interval} s = {rate:,} checks a minute"
    )
    try:
        steady = agent(args.loop, urls, args.checks, args.interval * 1000, args.duration, 2000)
        report("steady", steady)
        if args.queue:
            for flush in (1.0, 0.01):
                queued = agent(
                    args.loop, urls, args.checks, args.interval * 1000, args.duration, 2000, flush
                )
                report(f"steady, agent and queue recording every {flush * 1000:g} ms", queued)
            return 0
        met = steady.completed / steady.seconds * 60 >= 60_000 and (steady.lag_p99_ms or 0) < 1000
        print(f"goal (60,000 checks a minute, lag p99 < 1 s): {'met' if met else 'NOT met'}")
        best: AgentRun | None = None
        for loop_name in ("asyncio", "uvloop"):
            saturated = agent(loop_name, urls, args.checks, args.interval * 250, args.saturate, 256)
            report("saturated", saturated)
            if best is None or saturated.per_cpu_second > best.per_cpu_second:
                best = saturated
        measured = blackbox(urls, args.saturate, args.bb_concurrency)
        if measured is not None and best is not None:
            done, elapsed, cpu = measured
            print(
                f"blackbox exporter [GOMAXPROCS=1, CPU {AGENT_CPU}]: {done:,} probes in "
                f"{elapsed:.1f} s = {done / elapsed:,.0f}/s; CPU {cpu:.1f} s = "
                f"{done / cpu:,.0f} probes per CPU-second"
            )
            print(
                f"ratio slaledger/blackbox [{best.loop}]: {best.per_second / (done / elapsed):.2f}"
                f" per wall second on one core, "
                f"{best.per_cpu_second / (done / cpu):.2f} per CPU-second"
            )
    finally:
        ours.send("stop")
        served = ours.recv()
        targets.join()
    print(f"targets served {served:,} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
