"""Whether the figures the server publishes are current: the store answers, the publisher
builds snapshots.

:class:`StoreHealth` reads a few small tables now and then (every ``ttl`` seconds at most)
and remembers a database error any request met (a corrupt file, a lost server), for
``hold`` seconds. :class:`HealthGate`, the app's outermost ASGI layer, answers every request
while the store is failing: ``503`` JSON with ``Retry-After`` (agents keep their batches
and send them later), and for the page's own paths a short HTML page saying the figures are
not current. ``GET /healthz`` says the same, as ``ok`` or ``failing``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from html import escape

from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from slaledger.web.errors import RETRY_AFTER_SECONDS, STORE_ERRORS, error_body, first_line

__all__ = ["RETRY_AFTER_SECONDS", "STORE_ERRORS", "HealthGate", "StoreHealth", "first_line"]

log = logging.getLogger("slaledger.health")

CHECK_SECONDS = 5.0
HOLD_SECONDS = 30.0
_TABLES = ("tokens", "incidents", "maintenance", "observations", "segments")
"""Read one row of each: a corrupt page or file header fails the read."""
PAGE_PATHS = ("/services/", "/incidents/", "/maintenance/")
EXEMPT = frozenset({"/healthz", "/static/status.css", "/api/v1/ingest"})
"""Paths the gate lets through: the health check, the 503 page's stylesheet, and ingest,
which answers 503 itself when its write fails (and takes batches again at once)."""

Problem = Callable[[], str | None]
"""Another reason the figures are not current (the publisher failing), else ``None``."""


def _queries() -> list[str]:
    return [f"SELECT 1 FROM {table} LIMIT 1" for table in _TABLES]


class StoreHealth:
    """The store's health as of at most ``ttl`` seconds ago."""

    def __init__(
        self,
        engine: Engine,
        *,
        publisher: Problem | None = None,
        ttl: float = CHECK_SECONDS,
        hold: float = HOLD_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._ttl = ttl
        self._hold = hold
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked: tuple[float, str | None] | None = None
        self._failed: tuple[float, str] | None = None
        self._probing = False

    def probe(self) -> str | None:
        """Read the store now: ``None`` when it answers, else what failed."""
        try:
            file = self._engine.url.database
            if self._engine.dialect.name == "sqlite" and file not in (None, "", ":memory:"):
                self._probe_sqlite()
            else:
                with self._engine.connect() as connection:
                    for query in _queries():
                        connection.execute(text(query)).first()
        except STORE_ERRORS as error:
            return f"the store cannot be read: {first_line(error)}"
        return None

    def _probe_sqlite(self) -> None:
        # A fresh connection: a pooled one keeps its page cache in WAL mode and would not
        # see a file damaged under it.
        dialect = self._engine.dialect
        args, options = dialect.create_connect_args(self._engine.url)
        connection = dialect.loaded_dbapi.connect(*args, **options)
        try:
            connection.execute("PRAGMA busy_timeout=2000")
            for query in ("SELECT count(*) FROM sqlite_master", *_queries()):
                connection.execute(query).fetchone()
        except sqlite3.DatabaseError as error:
            raise sqlite3.DatabaseError(f"(sqlite3.{type(error).__name__}) {error}") from error
        finally:
            connection.close()

    def failed(self, error: BaseException) -> None:
        """A request met a database error: failing for the next ``hold`` seconds (a
        database busy with another writer is not a failure)."""
        if "locked" in str(error) or "could not obtain lock" in str(error):
            return
        message = f"the store failed: {first_line(error)}"
        log.error("%s", message)
        with self._lock:
            self._failed = (self._monotonic(), message)

    def cached(self) -> tuple[bool, str | None]:
        """``(True, problem)`` when known without reading the store (checked less than
        ``ttl`` seconds ago, or a check is running), else ``(False, None)``."""
        now = self._monotonic()
        with self._lock:
            failed, checked, probing = self._failed, self._checked, self._probing
        if failed is not None and now - failed[0] < self._hold:
            return True, failed[1]
        if checked is not None and (now - checked[0] < self._ttl or probing):
            return True, checked[1] if checked[1] is not None else self._other()
        return False, None

    def problem(self) -> str | None:
        """Why the figures are not current, else ``None`` (reads the store at most every
        ``ttl`` seconds; call it off the event loop)."""
        known, found = self.cached()
        if known:
            return found
        with self._lock:
            self._probing = True
        try:
            found = self.probe()
        finally:
            with self._lock:
                previous = self._checked
                self._checked = (self._monotonic(), found)
                self._probing = False
        if found is not None and (previous is None or previous[1] is None):
            log.error("%s", found)
        return found if found is not None else self._other()

    def _other(self) -> str | None:
        return None if self._publisher is None else self._publisher()


def _json_503(message: str) -> tuple[bytes, bytes]:
    return error_body(f"figures are not current: {message}; try again later"), b"application/json"


def _html_503(message: str) -> tuple[bytes, bytes]:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f'<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS}">'
        "<title>Figures are not current</title>"
        '<link rel="stylesheet" href="/static/status.css"></head><body>'
        '<main id="main" class="wrap"><h1>Figures are not current</h1>'
        '<p class="not-current" role="alert">The status figures cannot be brought up to date '
        f"now ({escape(message)}). No state is shown rather than an outdated one; this page "
        f"tries again in {RETRY_AFTER_SECONDS} seconds.</p></main></body></html>"
    )
    return page.encode(), b"text/html; charset=utf-8"


def _is_page(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] in ("GET", "HEAD") and (path == "/" or path.startswith(PAGE_PATHS))


class HealthGate:
    """ASGI middleware: while ``health`` has a problem, every request but those of
    :data:`EXEMPT` gets a 503 (JSON, or HTML for the page's paths)."""

    def __init__(self, app: ASGIApp, health: StoreHealth) -> None:
        self.app = app
        self.health = health

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        known, problem = self.health.cached()
        if not known:
            problem = await run_in_threadpool(self.health.problem)
        if problem is None:
            await self.app(scope, receive, send)
            return
        body, media_type = (_html_503 if _is_page(scope) else _json_503)(problem)
        headers = [
            (b"content-type", media_type),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
