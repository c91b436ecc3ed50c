"""The publisher in a process of its own.

Settling the month to date for a thousand services takes tens of CPU-seconds a minute, in
numpy and Python code that holds the interpreter lock; run in the server's process it would
stall the page for seconds at a time. In a child process it uses the other core and sends
each new :class:`StatusSnapshot` back through a pipe; the server swaps it in and serves
cached bytes, never waiting on a settlement.

The child runs two loops: :meth:`Publisher.tick` every ``every_seconds`` (automatic
incidents and the snapshot) and :meth:`Publisher.maintain` beside it (figures, statements,
retention), so catching up on years of history never delays a snapshot.

The child's parts are built in the child by ``build`` (see
:meth:`slaledger.app.Root.publisher_process`): it opens its own database connections.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from slaledger.core.events import Events, merge_events
from slaledger.core.publication import StatusSnapshot
from slaledger.core.timebase import Clock
from slaledger.status.publisher import Publisher

log = logging.getLogger("slaledger.publisher")

FIRST_SNAPSHOT_SECONDS = 900.0
"""How long the server waits for the first snapshot (a large store's first settlement)."""
RESTART_SECONDS = 5.0
_STOP = "stop"
_FAILED = "failed"
LATE_FACTOR = 3
"""A snapshot more than this many refresh intervals old (plus a minute) is not current."""


Build = Callable[[], tuple[Publisher, Clock]]
"""Builds the child's publisher and clock, in the child: picklable (the composition root
passes a module-level function with its settings)."""


def _child(build: Build, every_seconds: float, pipe: Connection) -> None:
    """The child's main: tick and send snapshots until the parent says stop (or goes away)."""
    # The server stops this process itself, after its own shutdown (Ctrl-C and a SIGTERM
    # sent to the whole process group reach us too); if the server dies, the pipe ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    publisher, clock = build()
    stopping = threading.Event()

    def maintain() -> None:
        while not stopping.is_set():
            try:
                written = publisher.maintain(clock())
            except Exception:
                log.exception("figures and retention failed; trying again later")
                written = 0
            if not written:
                stopping.wait(every_seconds)

    threading.Thread(target=maintain, name="maintain", daemon=True).start()
    try:
        while True:
            started = time.monotonic()
            try:
                snapshot = publisher.tick(clock())
                built = time.monotonic() - started
                pipe.send((snapshot, publisher.live_body))
                log.info(
                    "snapshot of %d services built in %.2f s, sent in %.2f s",
                    len(snapshot.services),
                    built,
                    time.monotonic() - started - built,
                )
            except (BrokenPipeError, EOFError):
                return
            except Exception as error:
                log.exception("building the snapshot failed; trying again")
                lines = str(error).strip().splitlines()
                reason = lines[0] if lines else type(error).__name__
                try:
                    pipe.send((_FAILED, f"the publisher cannot build the figures: {reason}"))
                except (BrokenPipeError, EOFError, OSError):
                    return
            wait = max(0.0, every_seconds - (time.monotonic() - started))
            if pipe.poll(wait):
                return  # the only message the parent sends is stop
    finally:
        stopping.set()


class PublisherProcess:
    """The server's side: starts the child, keeps the latest snapshot, restarts a child that
    died, stops it on shutdown. ``on_snapshot`` runs on each new snapshot (warm the page
    cache, say), in the receiving thread."""

    def __init__(
        self,
        build: Build,
        file_events: Events,
        every_seconds: float = 60.0,
        events: Callable[[], Events] | None = None,
        on_snapshot: Callable[[StatusSnapshot], None] | None = None,
    ) -> None:
        self.build = build
        self.file_events = file_events
        self.every_seconds = every_seconds
        self.on_snapshot = on_snapshot
        self._events = events
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None
        self._snapshot: StatusSnapshot | None = None
        self._live = b""
        self._stopping = threading.Event()
        self._receiver: threading.Thread | None = None
        self._received = time.monotonic()
        self._failure: str | None = None

    def events(self) -> Events:
        """The windows in force: the events file's and the operators' (read here, in the
        server's process, for the live figures)."""
        stored = Events() if self._events is None else self._events()
        return merge_events(self.file_events, stored)

    def live(self) -> bytes:
        """The month to date (``GET /api/v1/live``) of the latest snapshot."""
        return self._live

    def latest(self) -> StatusSnapshot:
        if self._snapshot is None:
            raise RuntimeError("no snapshot yet")
        return self._snapshot

    def problem(self) -> str | None:
        """Why the latest snapshot is not current (its last build failed, or none came for
        several refresh intervals), else ``None``."""
        if self._failure is not None:
            return self._failure
        late = time.monotonic() - self._received
        if self._snapshot is not None and late > LATE_FACTOR * self.every_seconds + 60:
            return f"the publisher has sent no figures for {late:.0f} s"
        return None

    def _spawn(self) -> Connection:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_child,
            args=(self.build, self.every_seconds, theirs),
            name="slaledger-publisher",
            daemon=True,
        )
        process.start()
        theirs.close()
        self._process, self._pipe = process, ours
        return ours

    def start(self, timeout: float = FIRST_SNAPSHOT_SECONDS) -> StatusSnapshot:
        """Start the child and wait for its first snapshot."""
        pipe = self._spawn()
        deadline = time.monotonic() + timeout
        while True:
            if not pipe.poll(max(0.0, deadline - time.monotonic())):
                self.stop()
                raise RuntimeError(f"the publisher built no snapshot within {timeout:.0f} s")
            first: StatusSnapshot | str
            first, live = pipe.recv()
            if not isinstance(first, str):
                break
            log.warning("%s", live)  # a failed first build: the child tries again
        self._snapshot, self._live = first, live
        self._received = time.monotonic()
        self._receiver = threading.Thread(target=self._receive, name="snapshots", daemon=True)
        self._receiver.start()
        return first

    def _receive(self) -> None:
        while not self._stopping.is_set():
            pipe = self._pipe
            assert pipe is not None
            try:
                snapshot: StatusSnapshot | str
                snapshot, live = pipe.recv()
            except (EOFError, OSError):
                if self._stopping.wait(1.0):  # the server is shutting down
                    return
                log.error("the publisher process ended; starting it again")
                time.sleep(RESTART_SECONDS)
                if not self._stopping.is_set():
                    if self._process is not None:
                        self._process.join(1)
                    self._spawn()
                continue
            if isinstance(snapshot, str):  # (_FAILED, reason)
                self._failure = str(live)
                continue
            self._snapshot, self._live = snapshot, live
            self._received, self._failure = time.monotonic(), None
            if self.on_snapshot is not None:
                try:
                    self.on_snapshot(snapshot)
                except Exception:
                    log.exception("handling a new snapshot failed")

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        pipe, process = self._pipe, self._process
        if pipe is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                pipe.send(_STOP)
        if process is not None:
            process.join(timeout)
            if process.is_alive():  # it ignores SIGTERM (see _child)
                process.kill()
                process.join(5)
        if pipe is not None:
            pipe.close()
