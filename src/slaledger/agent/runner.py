"""The agent: the scheduler's results go into the durable queue, the pusher sends them on.

:class:`Agent` wires :class:`~slaledger.probes.scheduler.Scheduler` → a sink that records
the results in the :class:`~slaledger.agent.queue.BatchQueue` as they are made (the
scheduler hands them over every ``flush_interval``, 10 ms; each hand-over is one fsynced
commit) → every ``seal_interval`` (1 s), or once ``batch_size`` results are recorded, they
are sealed into a batch → :class:`Pusher`. A ``kill -9`` therefore loses only the results of
probes still running and of those that ended in the last ``flush_interval`` plus one commit
(docs/cli.md gives the measured figures). Stopping
(:meth:`Agent.stop`, or SIGINT/SIGTERM when :meth:`Agent.run` handles signals) ends probing,
lets running probes finish and puts every result into the queue; then the pusher gets
``drain_timeout`` seconds to send what is queued. A second stop skips that wait. Whatever is
not sent stays in the queue for the next start.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slaledger.agent.pusher import Pusher, PusherStats, Say, count
from slaledger.agent.queue import BatchQueue, QueueError
from slaledger.core.timebase import US_PER_SECOND, Clock, format_instant
from slaledger.probes.result import ProbeResult
from slaledger.probes.scheduler import Probe, ScheduledCheck, Scheduler, SchedulerStats


@dataclass(frozen=True, slots=True)
class AgentStats:
    probes: SchedulerStats
    pushes: PusherStats
    queued_batches: int
    queued_results: int


class Agent:
    """Runs ``checks`` at ``location`` into ``queue``, which ``pusher`` drains.

    ``say`` gets the status line every ``status_interval`` seconds. ``probe``, ``batch_size`` and
    ``flush_interval`` go to the scheduler; recorded results become a batch of at most
    ``batch_size`` every ``seal_interval`` seconds, or sooner when that many are recorded.
    """

    def __init__(
        self,
        checks: Sequence[ScheduledCheck],
        queue: BatchQueue,
        pusher: Pusher,
        *,
        clock: Clock,
        say: Say,
        status_interval: float = 60.0,
        drain_timeout: float = 5.0,
        probe: Probe | None = None,
        batch_size: int = 1000,
        flush_interval: float = 0.01,
        seal_interval: float = 1.0,
    ) -> None:
        self._queue = queue
        self._batch_size = batch_size
        self._seal_interval = seal_interval
        self._pusher = pusher
        self._say = say
        self._status_interval = status_interval
        self._drain_timeout = drain_timeout
        self._scheduler = Scheduler(
            checks,
            queue.location,
            self._sink,
            clock=clock,
            probe=probe,
            batch_size=batch_size,
            flush_interval=flush_interval,
        )
        self._stops = 0
        self._hurry = asyncio.Event()

    def stop(self) -> None:
        """Stop probing and drain; called again, stop without waiting for the drain."""
        self._stops += 1
        self._scheduler.stop()
        if self._stops > 1:
            self._hurry.set()

    def stats(self) -> AgentStats:
        batches, results = self._queue.pending()
        return AgentStats(self._scheduler.stats(), self._pusher.stats(), batches, results)

    async def run(self, *, handle_signals: bool = False) -> AgentStats:
        """Probe and push until :meth:`stop`; the final figures.

        Raises what stopped the agent otherwise: the pusher's
        :class:`~slaledger.agent.pusher.TokenRejectedError`, or :class:`QueueError` when the
        queue cannot be written.
        """
        loop = asyncio.get_running_loop()
        installed = _install_signals(loop, self.stop) if handle_signals else []
        probing = asyncio.create_task(self._scheduler.run())
        pushing = asyncio.create_task(self._pusher.run())
        sealing = asyncio.create_task(self._seal_loop())
        reporting = asyncio.create_task(self._report())
        try:
            await asyncio.wait({probing, pushing, sealing}, return_when=asyncio.FIRST_COMPLETED)
            for early in (pushing, sealing):
                if early.done():  # only by raising: stop probing, then say why
                    self._scheduler.stop()
                    await probing
                    early.result()
            await probing  # raises the sink's failure
            sealing.cancel()
            await asyncio.gather(sealing, return_exceptions=True)
            await self._seal(everything=True)
            self._pusher.finish()
            hurry = asyncio.create_task(self._hurry.wait())
            await asyncio.wait(
                {pushing, hurry}, timeout=self._drain_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            hurry.cancel()
            if pushing.done():
                pushing.result()
        finally:
            for task in (probing, pushing, sealing, reporting):
                task.cancel()
            await asyncio.gather(probing, pushing, sealing, reporting, return_exceptions=True)
            for number in installed:
                loop.remove_signal_handler(number)
        return self.stats()

    async def _sink(self, results: list[ProbeResult]) -> None:
        await self._write(self._queue.record, results)
        if self._queue.recorded() >= self._batch_size:
            await self._seal(everything=False)

    async def _seal_loop(self) -> None:
        while True:
            await asyncio.sleep(self._seal_interval)
            await self._seal(everything=True)

    async def _seal(self, *, everything: bool) -> None:
        """Seal recorded results into batches: all of them, or only full batches."""
        least = 1 if everything else self._batch_size
        while self._queue.recorded() >= least:
            await self._write(self._queue.seal, self._batch_size)
            self._pusher.notify()

    async def _write(self, write: Callable[..., object], *arguments: object) -> None:
        try:
            await asyncio.to_thread(write, *arguments)
        except sqlite3.Error as error:
            raise QueueError(f"cannot write to queue {self._queue.path}: {error}") from None

    async def _report(self) -> None:
        """The status line every ``status_interval`` seconds."""
        previous = self.stats()
        while True:
            await asyncio.sleep(self._status_interval)
            current = self.stats()
            self._say(status_line(previous, current))
            previous = current


def status_line(previous: AgentStats, current: AgentStats) -> str:
    """What happened between two snapshots, and where things stand."""
    probes = current.probes.completed - previous.probes.completed
    failed = current.probes.failed - previous.probes.failed
    crashed = current.probes.crashed - previous.probes.crashed
    crashes = f"{crashed} crashed, " if crashed else ""
    pushed = current.pushes.acknowledged - previous.pushes.acknowledged
    results = current.pushes.results - previous.pushes.results
    duplicates = current.pushes.duplicates - previous.pushes.duplicates
    rejected = current.pushes.rejected - previous.pushes.rejected
    pushes = current.pushes
    if pushes.failing_since is None:
        server = "server ok"
    else:
        server = f"server failing since {_second(pushes.failing_since)}: {pushes.last_error}"
    lag = current.probes.lag_p99_ms
    lag_text = "-" if lag is None else f"{lag:.0f}ms"
    return (
        f"probes {probes} ({failed} failed, {crashes}lag p99 {lag_text}); "
        f"pushed {count(pushed, 'batch', 'batches')} ({count(results, 'result')}, "
        f"{duplicates} duplicate, {rejected} rejected); queued "
        f"{count(current.queued_batches, 'batch', 'batches')} "
        f"({count(current.queued_results, 'result')}); {server}"
    )


def _second(instant: int) -> str:
    return format_instant(instant - instant % US_PER_SECOND)


def _install_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> list[int]:
    installed: list[int] = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, stop)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this platform
            continue
        installed.append(number)
    return installed
