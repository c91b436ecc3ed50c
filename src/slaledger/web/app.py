"""The FastAPI app: ``create_app`` builds it from every dependency given as an argument
(contract, events, stores, clock), so the same app runs under ``slaledger serve`` and in
tests with a clock of their own.

- ``POST /api/v1/ingest``: agents' batches (:mod:`slaledger.web.ingest`);
- ``GET /api/v1/live``: the month to date (:mod:`slaledger.web.live`);
- ``GET /healthz``: ``ok``, or ``failing`` with why;
- with a :class:`Publication`: the status page, public APIs, badges and feeds, the operator
  API and subscriptions.

The routers are module-level; their stores and services are put on ``app.state`` here and
injected into each endpoint as dependencies. Errors are JSON ``{"error": "..."}``
(:mod:`slaledger.web.errors`): any route meeting a database error answers 503 JSON, any
other failure 500 JSON, never plain text; while the store fails, every route answers 503
(:mod:`slaledger.web.store_health`) and ``/healthz`` says ``failing``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.publication import IncidentView, MaintenanceView, StatusSnapshot
from slaledger.core.timebase import Clock
from slaledger.store.audit_log import AuditLog
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.observation_store import ObservationStore
from slaledger.store.record_store import RecordStore
from slaledger.store.subscriber_store import SubscriberStore
from slaledger.store.tokens import TokenStore
from slaledger.web import ingest, live
from slaledger.web.errors import InternalErrors, install_error_handlers
from slaledger.web.http_guard import BODY_SECONDS, HttpGuard
from slaledger.web.ingest import DEFAULT_INGEST_HORIZON, Ingestor, IngestService
from slaledger.web.live import EventsSource, LiveFigures
from slaledger.web.operator_api import OperatorApi, mount_operator_api
from slaledger.web.records_api import RecordsApi, mount_records_api
from slaledger.web.statements_api import PublishedStatements, mount_statements_api
from slaledger.web.status_page import mount_public_web
from slaledger.web.store_health import (
    CHECK_SECONDS,
    RETRY_AFTER_SECONDS,
    HealthGate,
    StoreHealth,
)
from slaledger.web.subscriptions import (
    MAX_PENDING_CONFIRMATIONS,
    Subscriptions,
    mount_subscriptions,
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
    records: RecordStore | None = None
    """Where ``POST /api/v1/admin/records`` stores records; ``None``: the route is absent."""
    statements: PublishedStatements | None = None
    """The chained statements and public key (``/api/v1/statements``); ``None``: absent."""


health_router = APIRouter(include_in_schema=False)


@health_router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    health: StoreHealth = request.app.state.health
    problem = health.problem()
    if problem is None:
        return JSONResponse({"status": "ok"})
    return JSONResponse(
        {"status": "failing", "error": problem},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
    )


def create_app(
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
    figures = LiveFigures(contract, windows, store, clock, cache_seconds)
    app = FastAPI(title="slaledger", docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    app.state.tokens = tokens
    app.state.live = figures
    app.state.ingest = IngestService(contract, writer, clock, ingest_horizon)
    # With a publisher, the month to date comes with its snapshots: settled in its process,
    # never in this one.
    app.state.month_to_date = figures.body if publication is None else publication.live
    app.state.health = StoreHealth(
        store.engine,
        publisher=None if publication is None else publication.problem,
        ttl=health_seconds,
    )
    app.include_router(ingest.router)
    app.include_router(live.router)
    app.include_router(health_router)
    if publication is not None:
        _publish(app, contract, tokens, clock, publication)
    app.add_middleware(HealthGate, health=app.state.health)  # before the cached fast path
    # Outside the health gate too: CORS, HEAD and body limits apply to every answer.
    app.add_middleware(HttpGuard, body_seconds=body_seconds)
    app.add_middleware(InternalErrors)  # outermost: whatever fails is a JSON 500
    return app


def _publish(
    app: FastAPI, contract: Contract, tokens: TokenStore, clock: Clock, publication: Publication
) -> None:
    app.state.public = mount_public_web(
        app, contract, publication.snapshots, page_url=publication.public_url
    )
    operator = OperatorApi(
        publication.incidents,
        publication.maintenance,
        publication.audit,
        clock,
        contract,
        on_change=publication.on_change,
    )
    mount_operator_api(app, operator, tokens)
    if publication.records is not None:
        mount_records_api(app, RecordsApi(publication.records, contract, clock), tokens)
    if publication.statements is not None:
        mount_statements_api(app, publication.statements)
    subscriptions = Subscriptions(
        publication.subscribers,
        clock,
        base_url=publication.public_url,
        contract=contract,
        snapshot=publication.snapshots,
        wake=publication.wake,
        allow_private=publication.allow_private_webhooks,
        max_pending=publication.max_pending_confirmations,
    )
    mount_subscriptions(app, subscriptions, tokens)
