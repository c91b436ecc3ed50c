"""``slaledger serve``'s process: the API under uvicorn, the embedded local agent and
compaction, in one event loop, until SIGINT or SIGTERM.

The embedded agent is a :class:`~slaledger.probes.scheduler.Scheduler` for the contract's
checks at one location whose sink writes straight into the store. Every
``compact_seconds`` closed days are packed into segments. On SIGINT or SIGTERM the server
stops accepting connections and finishes the requests it is serving, the agent finishes its
running probes and stores their results, then the process exits (a second SIGINT skips
waiting for open requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.timebase import Clock
from slaledger.errors import Problem, UsageError
from slaledger.notify.outbox import Notifier, OutboxWorker
from slaledger.probes.result import ProbeResult
from slaledger.probes.scheduler import ScheduledCheck, Scheduler, checks_for_location
from slaledger.status.publisher_process import PublisherProcess
from slaledger.store.observation_store import ObservationStore
from slaledger.store.tokens import TokenStore
from slaledger.web.app import Publication, create_app
from slaledger.web.ingest import DEFAULT_INGEST_HORIZON, Ingestor
from slaledger.web.snapshot_cache import SnapshotCache

log = logging.getLogger("slaledger.serve")

COMPACT_SECONDS = 600.0
MAX_PENDING = 200_000
"""Results the embedded agent keeps while the store refuses writes; older ones are dropped."""
GRACEFUL_SECONDS = 30
HEAD_SECONDS = 10.0
"""A client has this long to send a request's line and headers, from connecting or from the
previous response; then the connection is closed (uvicorn has no such limit itself)."""
KEEP_ALIVE_SECONDS = 5


@dataclass(frozen=True)
class Listening:
    """Where the server listens and what runs beside it."""

    url: str
    checks: int | None
    """Checks the embedded agent runs, ``None`` when it is off."""


@dataclass(frozen=True)
class Publishing:
    """The status page's moving parts: the publisher process sends a new snapshot every
    minute, the outbox worker sends notifications."""

    publisher: PublisherProcess
    publication: Publication
    worker: OutboxWorker
    notifier: Notifier


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: :func:`serve` handles the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _TimedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's head."""

    head_seconds = HEAD_SECONDS
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head is in: the body has its own limit
            self._cancel_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        self._cancel_head_deadline()
        if not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.head_seconds, self._head_expired)

    def _cancel_head_deadline(self) -> None:
        timer = self._head_timer
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def http_config(
    app: FastAPI,
    *,
    trusted_proxies: Sequence[str] = (),
    head_seconds: float = HEAD_SECONDS,
) -> uvicorn.Config:
    """uvicorn's configuration: ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are read only
    from ``trusted_proxies`` (addresses or networks; none: never), request heads must
    arrive within ``head_seconds``, idle keep-alive connections close after 5 s."""
    protocol = type("TimedH11", (_TimedH11,), {"head_seconds": head_seconds})
    return uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level="warning",
        http=protocol,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) if trusted_proxies else None,
    )


class LocalSink:
    """The embedded agent's sink: results go straight into the store (no HTTP, no token).

    A failed write keeps the results and retries them with the next batch (rows already
    stored are skipped by the store), so a briefly locked or unreachable database loses
    nothing; beyond ``max_pending`` results the oldest are dropped, with a warning.
    """

    def __init__(self, ingestor: Ingestor, location: str, max_pending: int = MAX_PENDING) -> None:
        self._ingestor = ingestor
        self._source = f"local agent {location}"
        self._max = max_pending
        self.pending: list[ProbeResult] = []

    async def __call__(self, results: list[ProbeResult]) -> None:
        self.pending.extend(results)
        try:
            await asyncio.to_thread(
                self._ingestor.ingest, self.pending, batch_id=None, source=self._source
            )
        except Exception:
            log.exception("storing %d probe results failed; retrying later", len(self.pending))
            if len(self.pending) > self._max:
                dropped = len(self.pending) - self._max
                del self.pending[:dropped]
                log.warning("dropped the %d oldest probe results not yet stored", dropped)
        else:
            self.pending = []


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port); a clear error if not."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(
            Problem(f"cannot listen on {host}:{port}: {reason}", field="--host")
        ) from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(
    contract: Contract,
    events: Events,
    store: ObservationStore,
    tokens: TokenStore,
    clock: Clock,
    *,
    host: str,
    port: int,
    location: str,
    probes: bool,
    announce: Callable[[Listening], None],
    compact_seconds: float = COMPACT_SECONDS,
    publish: Callable[[str], Publishing] | None = None,
    ingest_horizon: int = DEFAULT_INGEST_HORIZON,
    trusted_proxies: Sequence[str] = (),
) -> None:
    """Run the server until SIGINT or SIGTERM; ``announce`` is called once it listens.

    ``publish`` builds the status page's parts given the URL the server listens on.
    """
    sock = listen(host, port)
    try:
        ingestor = Ingestor(store, clock)
        publishing = None if publish is None else publish(url_of(sock))
        if publishing is None:
            app = create_app(
                contract,
                events,
                store,
                tokens,
                clock,
                ingestor=ingestor,
                ingest_horizon=ingest_horizon,
            )
        else:
            app = create_app(
                contract,
                publishing.publisher.events,
                store,
                tokens,
                clock,
                ingestor=ingestor,
                publication=publishing.publication,
                ingest_horizon=ingest_horizon,
            )
            cache: SnapshotCache = app.state.public
            publishing.publisher.on_snapshot = lambda _snapshot: cache.warm()
            # The first snapshot is built before the first request can ask for it.
            publishing.notifier.catch_up(publishing.publisher.start())
            cache.warm()
        checks = checks_for_location(contract.services, location) if probes else None
        announce(Listening(url_of(sock), None if checks is None else len(checks)))
        asyncio.run(
            _main(
                app,
                sock,
                ingestor,
                checks,
                location,
                clock,
                compact_seconds,
                publishing,
                trusted_proxies,
            )
        )
    finally:
        if publishing is not None:
            publishing.publisher.stop()
        sock.close()


async def _main(
    app: FastAPI,
    sock: socket.socket,
    ingestor: Ingestor,
    checks: Sequence[ScheduledCheck] | None,
    location: str,
    clock: Clock,
    compact_seconds: float,
    publishing: Publishing | None,
    trusted_proxies: Sequence[str],
) -> None:
    server = _Server(http_config(app, trusted_proxies=trusted_proxies))
    stopping = asyncio.Event()
    sink = LocalSink(ingestor, location)
    scheduler = None if checks is None else Scheduler(checks, location, sink, clock=clock)

    def stop() -> None:
        if stopping.is_set():
            server.force_exit = True
        stopping.set()
        server.should_exit = True
        if scheduler is not None:
            scheduler.stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(server.serve(sockets=[sock]), name="http")]
    if scheduler is not None:
        tasks.append(asyncio.create_task(scheduler.run(), name="agent"))
    tasks.append(asyncio.create_task(_compact(ingestor, compact_seconds, stopping), name="compact"))
    if publishing is not None:
        tasks.append(asyncio.create_task(publishing.worker.run(stopping), name="outbox"))
    try:
        # Until a signal, or until a part ends on its own (which only an error makes it do).
        waiter = asyncio.create_task(stopping.wait())
        await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stop()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        waiter.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if publishing is not None:
        await publishing.notifier.drain()
    if sink.pending:
        log.warning("%d probe results could not be stored before shutdown", len(sink.pending))
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def _compact(ingestor: Ingestor, every: float, stopping: asyncio.Event) -> None:
    """Pack closed days now and then every ``every`` seconds, until ``stopping``."""
    while not stopping.is_set():
        try:
            moved = await asyncio.to_thread(ingestor.compact)
            if moved:
                log.info("packed %d observations of closed days into segments", moved)
        except Exception:
            log.exception("compaction failed; trying again in %.0f s", every)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every)
