"""The HTTP API: agents' ingest, month-to-date figures and a health check.

``create_app`` takes every dependency as an argument (contract, events, stores, clock), so
the same app runs under ``slaledger serve`` and in tests with a clock of their own.

- ``POST /api/v1/ingest`` (``Authorization: Bearer <agent token>``): a batch of probe
  results, stored once per ``batch_id``.
- ``GET /api/v1/live``: the current calendar month settled to date, with coverage and
  error budgets; computed at most once per ``cache_seconds`` of the clock.
- ``GET /healthz``.

Errors are JSON ``{"error": "..."}``: 401 for a missing, unknown or non-agent token, 403
for a batch from a location the token is not bound to, 409 for a batch id already stored
with other rows, 422 naming the bad field (an undeclared location, an instant more than
:data:`FUTURE_TOLERANCE` ahead or older than the ingest horizon), 413 for a body over the
size limit, 503 with ``Retry-After`` when the database cannot take a batch (locked,
unreachable, corrupt): the agent sends it again later. Any route meeting a database error
answers 503 JSON, any other failure 500 JSON, never plain text; while the store fails,
every route answers 503 (:mod:`slaledger.web.store_health`) and ``/healthz`` says
``failing``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from slaledger.core.contract import Contract
from slaledger.core.durations import format_duration
from slaledger.core.events import Events
from slaledger.core.live import live_report
from slaledger.core.observations import Observations
from slaledger.core.periods import calendar_month
from slaledger.core.publication import IncidentView, MaintenanceView, StatusSnapshot
from slaledger.core.report import Report
from slaledger.core.settle import service_period, settle
from slaledger.core.timebase import (
    US_PER_DAY,
    US_PER_MINUTE,
    US_PER_SECOND,
    format_instant,
    from_instant,
)
from slaledger.probes.result import ProbeResult, to_observations
from slaledger.store.audit_log import AuditLog
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.observation_store import (
    BatchConflictError,
    IngestResult,
    ObservationStore,
)
from slaledger.store.subscriber_store import SubscriberStore
from slaledger.store.tokens import TokenInfo, TokenStore
from slaledger.web.field_errors import field_error
from slaledger.web.http_guard import BODY_SECONDS, HttpGuard
from slaledger.web.operator_api import operator_router
from slaledger.web.status_page import mount_public_web
from slaledger.web.store_health import (
    CHECK_SECONDS,
    RETRY_AFTER_SECONDS,
    STORE_ERRORS,
    HealthGate,
    StoreHealth,
    first_line,
)
from slaledger.web.subscriptions import MAX_PENDING_CONFIRMATIONS, subscriptions_router

log = logging.getLogger("slaledger.web")

Clock = Callable[[], int]
"""Now, in microseconds since the Unix epoch (UTC)."""

LOAD_MARGIN = US_PER_DAY
"""Data read beyond a period's edges, as ``report --db`` reads it: runs crossing an edge."""
HOT_MARGIN = 2 * 60 * US_PER_SECOND
"""Rows younger than this stay in the hot table at compaction (late probes join them)."""
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_RESULTS = 100_000
LAST_INSTANT = 253_402_300_800_000_000
"""The first instant of the year 10000 (exclusive bound on instants)."""
FUTURE_TOLERANCE = 5 * US_PER_MINUTE
"""How far ahead of the server's clock a probe's instant may be (clock skew)."""
DEFAULT_INGEST_HORIZON = 7 * US_PER_DAY
"""How old a probe's instant may be when it arrives (``serve --ingest-horizon``)."""
STORE_UNAVAILABLE = STORE_ERRORS
"""The database cannot take a write now (the store writes rows through the raw driver too)."""
_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


# --- Wire format ---------------------------------------------------------------------------


class _Wire(BaseModel):
    # Strict: "200" is not 200; unknown fields are ignored so newer agents still get through.
    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False, frozen=True)


class WireResult(_Wire):
    instant: Annotated[int, Field(ge=0, lt=LAST_INSTANT)]
    service: Annotated[str, Field(min_length=1, max_length=200)]
    check_id: Annotated[str, Field(min_length=1, max_length=300)]
    status: Annotated[int, Field(ge=100, le=599)] | None
    error: Literal["timeout", "connect", "dns", "tls", "assertion", "other"] | None
    latency_ms: Annotated[float, Field(ge=0)] | None = None
    retry_after: bool = False


class IngestBody(_Wire):
    batch_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    location: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]
    results: Annotated[list[WireResult], Field(max_length=MAX_RESULTS)]


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


_PATTERNS = {
    "batch_id": "expected 32 lowercase hex digits (a UUID4 hex)",
    "location": "expected a location name of letters, digits, '.', '_' or '-'",
}


# --- Ingest --------------------------------------------------------------------------------


class Ingestor:
    """Writes probe results into the store, one write at a time.

    SQLite has one writer per database; serialising this process's writes (API batches,
    the embedded agent, compaction) keeps them from failing on each other's locks.
    """

    def __init__(self, store: ObservationStore, clock: Clock) -> None:
        self.store = store
        self._clock = clock
        self._lock = threading.Lock()

    def ingest(
        self,
        results: Sequence[ProbeResult],
        *,
        batch_id: str | None,
        source: str,
        digest: str | None = None,
    ) -> IngestResult:
        checks = list(dict.fromkeys(result.check_id for result in results))
        code = {name: index for index, name in enumerate(checks)}
        check = np.array([code[r.check_id] for r in results], dtype=np.int32)
        latency = np.array([r.latency_ms for r in results], dtype=np.float32)
        with self._lock:
            return self.store.ingest(
                to_observations(results),
                received_at=self._clock(),
                checks=checks or None,
                check=check,
                latency_ms=latency,
                batch_id=batch_id,
                source=source,
                digest=digest,
            )

    def compact(self) -> int:
        """Pack closed days into segments; returns the rows moved."""
        with self._lock:
            # Rows older than a couple of minutes go into today's segments too, so the hot
            # table (which every read scans row by row) stays small.
            return self.store.compact(self._clock() - HOT_MARGIN, whole_days=False)


def check_location(body: IngestBody, token: TokenInfo, contract: Contract) -> None:
    """:class:`ApiError` 403 when ``token`` is bound to another location than the batch's,
    422 when the contract declares its locations and the batch's is not one of them."""
    if token.location is not None and body.location != token.location:
        raise ApiError(
            403,
            f"location: token {token.name!r} reports for location {token.location}, "
            f"not {body.location}",
        )
    declared = contract.locations
    if declared is not None and body.location not in declared:
        raise ApiError(
            422,
            f"location: {body.location!r} is not a location of contract {contract.contract} "
            f"({', '.join(declared)})",
        )


def check_instants(body: IngestBody, now: int, horizon: int) -> None:
    """:class:`ApiError` 422 naming the first result more than :data:`FUTURE_TOLERANCE` ahead
    of ``now`` or older than ``horizon``, and how many more there are."""
    if not body.results:
        return
    instants = np.fromiter((r.instant for r in body.results), np.int64, len(body.results))
    latest, earliest = now + FUTURE_TOLERANCE, now - horizon
    bad = np.flatnonzero((instants > latest) | (instants < earliest))
    if not bad.size:
        return
    index = int(bad[0])
    instant = int(instants[index])
    if instant > latest:
        why = f"more than {format_duration(FUTURE_TOLERANCE)} ahead of the server's clock"
    else:
        why = f"older than the ingest horizon of {format_duration(horizon)}"
    more = f" ({bad.size - 1} more such results)" if bad.size > 1 else ""
    raise ApiError(
        422,
        f"results.{index}.instant: {format_instant(instant)} is {why} "
        f"({format_instant(now)}){more}",
    )


def batch_digest(body: IngestBody) -> str:
    """SHA-256 of the batch's location and rows as validated (every field, in order): one
    batch id, one content. ``repr`` of the validated values is exact and stable, and five
    times faster than JSON for 100,000 rows."""
    rows = [
        (r.instant, r.service, r.check_id, r.status, r.error, r.latency_ms, r.retry_after)
        for r in body.results
    ]
    return hashlib.sha256(repr((body.location, rows)).encode()).hexdigest()


def checked_batch(
    body: IngestBody, token: TokenInfo, contract: Contract, now: int, horizon: int
) -> tuple[list[ProbeResult], str]:
    """The batch's probe results and digest, once its location, services and instants are
    checked (:class:`ApiError` 403 or 422 otherwise)."""
    check_location(body, token, contract)
    results = probe_results(body, contract)
    check_instants(body, now, horizon)
    return results, batch_digest(body)


def refused_conflict(body: IngestBody, token: TokenInfo, conflict: BatchConflictError) -> ApiError:
    """The 409 for a batch id stored with other rows, logged with who sent it."""
    log.warning(
        "batch %s refused: token %r (location %s) sent other rows under the id of a "
        "batch stored at %s from %s",
        body.batch_id,
        token.name,
        body.location,
        format_instant(conflict.received_at),
        conflict.source,
    )
    return ApiError(
        409,
        f"batch_id: batch {body.batch_id} was already stored with other rows; "
        "a batch id names one content: send new rows under a new id",
    )


def probe_results(body: IngestBody, contract: Contract) -> list[ProbeResult]:
    """The batch as probe results; :class:`ApiError` 422 for a service the contract lacks
    or one the contract does not probe from the batch's location."""
    results = []
    for index, row in enumerate(body.results):
        if row.service not in contract.services:
            known = ", ".join(contract.services)
            raise ApiError(
                422,
                f"results.{index}.service: unknown service {row.service!r}; "
                f"contract {contract.contract} has {known}",
            )
        allowed = contract.locations_of(row.service)
        if allowed is not None and body.location not in allowed:
            raise ApiError(
                422,
                f"results.{index}.service: service {row.service} is not probed from location "
                f"{body.location!r} ({', '.join(allowed)})",
            )
        results.append(
            ProbeResult(
                instant=row.instant,
                service=row.service,
                location=body.location,
                check_id=row.check_id,
                status=row.status,
                error=row.error,
                latency_ms=float("nan") if row.latency_ms is None else row.latency_ms,
                retry_after=row.retry_after,
            )
        )
    return results


# --- Live figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cached:
    computed_at: int
    body: bytes


EventsSource = Callable[[], Events]
"""The windows in force now (the events file's and the operators')."""


class LiveFigures:
    """The month-to-date JSON, settled at most once per ``cache_seconds`` of the clock."""

    def __init__(
        self,
        contract: Contract,
        events: EventsSource,
        store: ObservationStore,
        clock: Clock,
        cache_seconds: float,
    ) -> None:
        self._contract = contract
        self._events = events
        self._store = store
        self._clock = clock
        self._ttl = int(cache_seconds * US_PER_SECOND)
        self._lock = threading.Lock()
        self._cached: _Cached | None = None
        self.settlements = 0
        """How many times the figures were computed (for tests and metrics)."""

    def body(self) -> bytes:
        with self._lock:  # readers arriving during a settlement wait for its result
            now = self._clock()
            cached = self._cached
            if cached is not None and 0 <= now - cached.computed_at < self._ttl:
                return cached.body
            body = JSONResponse(content=self.compute(now)).body
            self._cached = _Cached(now, bytes(body))
            self.settlements += 1
            return self._cached.body

    def compute(self, now: int) -> dict[str, Any]:
        """The current calendar month (in the contract's zone) settled at ``now``."""
        contract = self._contract
        local = from_instant(now).astimezone(contract.zone)
        month = (local.year, local.month)
        month_period = calendar_month(*month, contract.zone)
        if contract.start is not None and now < contract.start:  # not in force yet
            empty = Report(contract=contract.contract, period=month_period, results=())
            return live_report(empty, Observations.empty(), now).as_dict()
        periods = [service_period(s, month_period, now) for s in contract.services.values()]
        observations = self._store.load(
            min(p.start for p in periods) - LOAD_MARGIN,
            max(p.end for p in periods) + LOAD_MARGIN,
            services=list(contract.services),
        )
        report = settle(contract, observations, self._events(), month, at=now, known_until=now)
        return live_report(report, observations, now).as_dict()


# --- The app -------------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    match = _BEARER.match(request.headers.get("authorization", ""))
    return None if match is None else match.group(1)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"body: larger than {MAX_BODY_BYTES} bytes; send smaller batches")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"body: larger than {MAX_BODY_BYTES} bytes; send smaller batches")
        chunks.append(chunk)
    return b"".join(chunks)


def _unavailable(what: str, error: BaseException) -> ApiError:
    # Not a health failure by itself: a busy database refuses a batch now and then, and the
    # agent sends it again; the health check reads the store to tell a broken one.
    log.warning("%s failed, the database is unavailable: %s", what, first_line(error))
    return ApiError(
        503,
        "the store cannot take the batch now; send it again later",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@dataclass(frozen=True)
class Publication:
    """What the status page, public APIs, operator API and subscriptions run on."""

    snapshots: Callable[[], StatusSnapshot]
    live: Callable[[], bytes]
    """The month to date, computed with each snapshot (``GET /api/v1/live``)."""
    incidents: IncidentStore
    maintenance: MaintenanceStore
    audit: AuditLog
    subscribers: SubscriberStore
    on_change: Callable[[IncidentView | MaintenanceView], None]
    """Called after each operator write (queues notifications)."""
    wake: Callable[[], None]
    """Wakes the outbox worker after a confirmation email is queued."""
    public_url: str
    problem: Callable[[], str | None] = lambda: None
    """Why the snapshots are not current (the publisher cannot build them), else ``None``."""
    allow_private_webhooks: bool = False
    """Webhook URLs may name private and loopback addresses (trusted networks only)."""
    max_pending_confirmations: int = MAX_PENDING_CONFIRMATIONS
    """Email subscriptions awaiting confirmation, across all clients, before new ones wait."""


def create_app(  # noqa: PLR0915 (one closure per endpoint)
    contract: Contract,
    events: Events | EventsSource,
    store: ObservationStore,
    tokens: TokenStore,
    clock: Clock,
    *,
    ingestor: Ingestor | None = None,
    cache_seconds: float = 60.0,
    publication: Publication | None = None,
    health_seconds: float = CHECK_SECONDS,
    ingest_horizon: int = DEFAULT_INGEST_HORIZON,
    body_seconds: float = BODY_SECONDS,
) -> FastAPI:
    """The API for ``contract``. Pass ``ingestor`` to share its write lock with other
    writers of the same store (the embedded agent, compaction); ``publication`` adds the
    status page, public and operator APIs and subscriptions. ``ingest_horizon`` (in
    microseconds) is how old a probe's instant may be when it arrives; ``body_seconds`` how
    long a request body may pause before it is refused (408)."""
    writer = ingestor or Ingestor(store, clock)
    windows: EventsSource = events if callable(events) else (lambda: events)
    live = LiveFigures(contract, windows, store, clock, cache_seconds)
    app = FastAPI(title="slaledger", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.live = live
    app.state.ingestor = writer
    health = StoreHealth(
        store.engine,
        publisher=None if publication is None else publication.problem,
        ttl=health_seconds,
    )
    app.state.health = health

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else error.headers
        return JSONResponse({"error": error.message}, status_code=error.status, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(error.detail)}, status_code=error.status_code, headers=error.headers
        )

    async def store_error(request: Request, error: Exception) -> JSONResponse:
        health.failed(error)
        log.warning("%s %s: the store failed", request.method, request.url.path)
        return JSONResponse(
            {"error": "the store is failing now: figures are not current; try again later"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    for kind in STORE_ERRORS:
        app.add_exception_handler(kind, store_error)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, _error: Exception) -> JSONResponse:
        return JSONResponse({"error": "internal error; it is logged"}, status_code=500)

    @app.post("/api/v1/ingest")
    async def ingest(request: Request) -> JSONResponse:
        token = _bearer(request)
        if token is None:
            raise ApiError(401, "missing bearer token: send Authorization: Bearer <agent token>")
        try:
            info = await run_in_threadpool(tokens.identify, token)
        except STORE_UNAVAILABLE as error:
            raise _unavailable("token check", error) from None
        if info is None:
            raise ApiError(401, "unknown or revoked token")
        if info.scope != "agent":
            raise ApiError(
                401, f"a token with scope {info.scope} cannot ingest; use an agent token"
            )
        raw = await _read_body(request)
        try:
            body = IngestBody.model_validate_json(raw)
        except ValidationError as error:
            raise ApiError(422, field_error(error, _PATTERNS)) from None
        results, digest = checked_batch(body, info, contract, clock(), ingest_horizon)
        try:
            outcome = await run_in_threadpool(
                lambda: writer.ingest(
                    results,
                    batch_id=body.batch_id,
                    source=f"agent {body.location}",
                    digest=digest,
                )
            )
        except STORE_UNAVAILABLE as error:  # locked, unreachable, out of space: try again later
            raise _unavailable(f"batch {body.batch_id}", error) from None
        except BatchConflictError as conflict:
            raise refused_conflict(body, info, conflict) from None
        return JSONResponse(
            {
                "batch_id": body.batch_id,
                "received": outcome.received,
                "stored": outcome.stored,
                "duplicate": outcome.duplicate_batch,
            }
        )

    # With a publisher, the month to date comes with its snapshots: settled in its process,
    # never in this one.
    month_to_date_body = live.body if publication is None else publication.live

    @app.get("/api/v1/live")
    def month_to_date() -> Response:
        return Response(month_to_date_body(), media_type="application/json")

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        problem = health.problem()
        if problem is None:
            return JSONResponse({"status": "ok"})
        return JSONResponse(
            {"status": "failing", "error": problem},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )

    if publication is not None:
        _publish(app, contract, tokens, clock, publication)
    app.add_middleware(HealthGate, health=health)  # outermost: before the cached fast path
    # Outside the health gate too: CORS, HEAD and body limits apply to every answer.
    app.add_middleware(HttpGuard, body_seconds=body_seconds)
    return app


def _publish(
    app: FastAPI, contract: Contract, tokens: TokenStore, clock: Clock, publication: Publication
) -> None:
    app.state.public = mount_public_web(
        app, contract, publication.snapshots, page_url=publication.public_url
    )
    app.include_router(
        operator_router(
            publication.incidents,
            publication.maintenance,
            publication.audit,
            tokens,
            clock,
            contract,
            on_change=publication.on_change,
        )
    )
    app.include_router(
        subscriptions_router(
            publication.subscribers,
            tokens,
            clock,
            base_url=publication.public_url,
            contract=contract,
            snapshot=publication.snapshots,
            wake=publication.wake,
            allow_private=publication.allow_private_webhooks,
            max_pending=publication.max_pending_confirmations,
        )
    )
