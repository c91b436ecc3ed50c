"""Running checks on schedule from one location.

Each check fires every ``interval`` at a fixed offset into it, derived from a hash of the
check's id (:func:`stagger_offset`): planned starts are the instants ``t`` with
``t % interval == offset``, so thousands of checks spread over the interval, and every agent
(every location, every restart) probes a check at the same phase.

One dispatcher task starts a task per due probe and never awaits a probe; at most
``max_concurrency`` probes run at once (when all slots are taken the dispatcher waits for
one, and the wait shows up as schedule lag). A check whose previous probe still runs skips
that turn (``overruns``); a check more than an interval late skips the turns it missed
(``skipped``). Schedule lag is a probe's actual start minus its planned start.

Results go to an async ``sink`` in batches of at most ``batch_size``, at least every
``flush_interval`` seconds. :meth:`Scheduler.stop` ends :meth:`Scheduler.run` cleanly: no new
probes, running ones finish (each within its timeout), every result reaches the sink.

A probe that raises is a bug in a prober, not anything a target did (probers turn every
failure of the target into a result): it is logged with its traceback to the
``slaledger.probes`` logger and counted as ``crashed``, and it gives no result, so that turn
is no data for the service (like a turn the agent was not running for), never downtime.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
import ssl
from array import array
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType

from slaledger.clock import wall_clock
from slaledger.core.checks import (
    Check,
    DnsCheck,
    HttpCheck,
    TcpCheck,
    TlsCheck,
    check_ids,
)
from slaledger.core.contract import Service
from slaledger.core.timebase import Clock
from slaledger.probes.dns import DnsProber, HostResolver, system_resolver
from slaledger.probes.http import HttpProber
from slaledger.probes.result import Measurement, ProbeResult
from slaledger.probes.tcp import probe_tcp
from slaledger.probes.tls import probe_tls

log = logging.getLogger("slaledger.probes")

Sink = Callable[[list[ProbeResult]], Awaitable[None]]
Probe = Callable[[Check], Awaitable[Measurement]]


@dataclass(frozen=True, slots=True)
class ScheduledCheck:
    """A check to run, with its id and the service its results count for."""

    check_id: str
    service: str
    check: Check


def checks_for_location(services: Mapping[str, Service], location: str) -> list[ScheduledCheck]:
    """Every check of ``services`` that an agent at ``location`` runs (none of a service
    whose ``locations`` leave ``location`` out)."""
    planned: list[ScheduledCheck] = []
    for name, service in services.items():
        if service.locations is not None and location not in service.locations:
            continue
        for identifier, check in zip(check_ids(name, service.checks), service.checks, strict=True):
            if check.runs_at(location):
                planned.append(ScheduledCheck(identifier, name, check))
    return planned


def stagger_offset(check_id: str, interval: int) -> int:
    """The check's fixed offset into its interval (µs): stable across processes and runs."""
    digest = hashlib.blake2b(check_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % interval


def first_due(now: int, interval: int, offset: int) -> int:
    """The first planned start at or after ``now``."""
    return now + (offset - now) % interval


def plan(entries: Iterable[ScheduledCheck], start: int, end: int) -> list[tuple[int, str]]:
    """Every planned ``(instant, check_id)`` in ``[start, end)``, in time order."""
    planned: list[tuple[int, str]] = []
    for entry in entries:
        interval = entry.check.interval
        due = first_due(start, interval, stagger_offset(entry.check_id, interval))
        while due < end:
            planned.append((due, entry.check_id))
            due += interval
    return sorted(planned)


class Probers:
    """One prober per check type, sharing resources; use as ``async with Probers(...)``.

    ``ssl_context`` verifies certificates (default: the system's trust store); ``resolver``
    resolves the host names of HTTP, TCP and TLS checks (default: the system's).
    """

    def __init__(
        self,
        clock: Clock = wall_clock,
        ssl_context: ssl.SSLContext | None = None,
        resolver: HostResolver | None = None,
    ) -> None:
        self._clock = clock
        self._ssl = ssl_context or ssl.create_default_context()
        self._resolver = resolver or system_resolver
        self._http = HttpProber(self._ssl, resolver)
        self._dns = DnsProber()

    async def __aenter__(self) -> Probers:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(kind, error, traceback)

    async def probe(self, check: Check) -> Measurement:
        if isinstance(check, HttpCheck):
            return await self._http.probe(check)
        if isinstance(check, TcpCheck):
            return await probe_tcp(check, self._resolver)
        if isinstance(check, DnsCheck):
            return await self._dns.probe(check)
        if isinstance(check, TlsCheck):
            return await probe_tls(check, self._clock, self._ssl, self._resolver)
        raise TypeError(f"no prober for {type(check).__name__}")


@dataclass(frozen=True, slots=True)
class SchedulerStats:
    started: int
    completed: int
    failed: int
    """Completed probes with an error."""
    in_flight: int
    overruns: int
    skipped: int
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    crashed: int = 0
    """Probes that raised instead of giving a result (a prober's bug): no result, no data."""


class Scheduler:
    """Runs ``checks`` from ``location`` until :meth:`stop`; see the module's docstring.

    ``probe`` runs one check (default: :class:`Probers` with ``ssl_context`` and
    ``resolver``, opened and closed by :meth:`run`). The ``lag_window`` most recent lags
    make the percentiles.
    """

    def __init__(
        self,
        checks: Sequence[ScheduledCheck],
        location: str,
        sink: Sink,
        *,
        clock: Clock = wall_clock,
        probe: Probe | None = None,
        ssl_context: ssl.SSLContext | None = None,
        resolver: HostResolver | None = None,
        max_concurrency: int = 1000,
        batch_size: int = 1000,
        flush_interval: float = 1.0,
        lag_window: int = 100_000,
    ) -> None:
        if max_concurrency < 1 or batch_size < 1 or lag_window < 1:
            raise ValueError("max_concurrency, batch_size and lag_window must be positive")
        self._checks = list(checks)
        self._location = location
        self._sink = sink
        self._clock = clock
        self._probe = probe
        self._ssl = ssl_context
        self._resolver = resolver
        self._max = max_concurrency
        self._batch = batch_size
        self._flush_every = flush_interval
        self._lags = array("q", bytes(8 * lag_window))
        self._lag_count = 0
        self._running: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._buffer: list[ProbeResult] = []
        self._started = self._completed = self._failed = self._overruns = self._skipped = 0
        self._crashed = 0
        self._stopping = False
        self._wakeup: asyncio.Future[None] | None = None
        self._flush_wakeup: asyncio.Future[None] | None = None
        self._sink_failure: BaseException | None = None

    # --- Control ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Probe until :meth:`stop`; then finish running probes and flush every result.

        A sink that raises stops the scheduler; its exception is raised here, after the stop.
        """
        self._stopping = False
        async with AsyncExitStack() as stack:
            probe = self._probe
            if probe is None:
                probers = await stack.enter_async_context(
                    Probers(self._clock, self._ssl, self._resolver)
                )
                probe = probers.probe
            flusher = asyncio.create_task(self._flush_loop())
            try:
                await self._dispatch(probe)
            finally:
                self._stopping = True
                while self._tasks:
                    await asyncio.gather(*self._tasks, return_exceptions=True)
                self._wake_flusher()
                await flusher
        if self._sink_failure is not None:
            raise self._sink_failure

    def stop(self) -> None:
        """Ask :meth:`run` to stop; safe to call from any task of the loop, more than once."""
        self._stopping = True
        self._wake()
        self._wake_flusher()

    def stats(self) -> SchedulerStats:
        p50, p99 = self.lag_percentiles()
        return SchedulerStats(
            started=self._started,
            completed=self._completed,
            failed=self._failed,
            in_flight=len(self._running),
            overruns=self._overruns,
            skipped=self._skipped,
            lag_p50_ms=p50,
            lag_p99_ms=p99,
            crashed=self._crashed,
        )

    def lag_percentiles(self) -> tuple[float | None, float | None]:
        """Median and 99th percentile (nearest rank) of recent schedule lags, in ms."""
        count = min(self._lag_count, len(self._lags))
        if count == 0:
            return None, None
        ordered = sorted(self._lags[:count])
        return _rank(ordered, 50) / 1000, _rank(ordered, 99) / 1000

    # --- Dispatching -----------------------------------------------------------------------

    async def _dispatch(self, probe: Probe) -> None:
        now = self._clock()
        due: list[tuple[int, int]] = []
        for index, entry in enumerate(self._checks):
            interval = entry.check.interval
            due.append((first_due(now, interval, stagger_offset(entry.check_id, interval)), index))
        heapq.heapify(due)
        while not self._stopping:
            now = self._clock()
            while due and due[0][0] <= now and len(self._running) < self._max:
                planned, index = due[0]
                interval = self._checks[index].check.interval
                following = planned + interval
                if following <= now:
                    missed = (now - following) // interval + 1
                    self._skipped += missed
                    following += missed * interval
                heapq.heapreplace(due, (following, index))
                if index in self._running:
                    self._overruns += 1
                    continue
                self._launch(probe, index, planned)
            if not due:
                await self._sleep(None)
            elif len(self._running) >= self._max and due[0][0] <= now:
                await self._sleep(None)  # woken when a probe finishes
            else:
                await self._sleep((due[0][0] - self._clock()) / 1_000_000)

    def _launch(self, probe: Probe, index: int, planned: int) -> None:
        self._running.add(index)
        self._started += 1
        task = asyncio.create_task(self._run_one(probe, index, planned))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_one(self, probe: Probe, index: int, planned: int) -> None:
        entry = self._checks[index]
        instant = self._clock()
        self._lags[self._lag_count % len(self._lags)] = instant - planned
        self._lag_count += 1
        try:
            measurement = await probe(entry.check)
        except Exception:  # a prober's bug: logged, must not stop the others nor count as down
            self._crashed += 1
            log.exception(
                "probe of check %s (service %s) crashed; no result recorded for it",
                entry.check_id,
                entry.service,
            )
            return
        finally:
            self._running.discard(index)
            if len(self._running) == self._max - 1:
                self._wake()
        self._completed += 1
        if measurement.error is not None:
            self._failed += 1
        result = ProbeResult.of(measurement, instant, entry.service, self._location, entry.check_id)
        self._buffer.append(result)
        if len(self._buffer) >= self._batch:
            self._wake_flusher()

    async def _sleep(self, seconds: float | None) -> None:
        """Sleep ``seconds`` (None: until woken), or less when :meth:`_wake` is called."""
        loop = asyncio.get_running_loop()
        self._wakeup = future = loop.create_future()
        timer = None if seconds is None else loop.call_later(max(seconds, 0.0), _resolve, future)
        try:
            await future
        finally:
            if timer is not None:
                timer.cancel()
            self._wakeup = None

    def _wake(self) -> None:
        _resolve(self._wakeup)

    # --- Results ---------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            finished = self._stopping and not self._tasks
            if not finished and len(self._buffer) < self._batch:
                self._flush_wakeup = future = loop.create_future()
                timer = loop.call_later(self._flush_every, _resolve, future)
                try:
                    await future
                finally:
                    timer.cancel()
                    self._flush_wakeup = None
            try:
                await self._flush()
            except Exception as failure:  # raised again by run()
                self._buffer.clear()
                if self._sink_failure is None:
                    self._sink_failure = failure
                    self.stop()
            if finished:
                return

    async def _flush(self) -> None:
        while self._buffer:
            batch = self._buffer[: self._batch]
            del self._buffer[: self._batch]
            await self._sink(batch)

    def _wake_flusher(self) -> None:
        _resolve(self._flush_wakeup)


def _resolve(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


def _rank(ordered: Sequence[int], percent: int) -> int:
    """Nearest-rank percentile of sorted values."""
    position = max(1, -(-percent * len(ordered) // 100))
    return ordered[position - 1]
