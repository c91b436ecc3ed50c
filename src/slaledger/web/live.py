"""Month-to-date figures: ``GET /api/v1/live``, the current calendar month settled to date,
with coverage and error budgets.

Without a publisher the figures are settled in this process, at most once per
``cache_seconds`` of the clock (:class:`LiveFigures`); with one, they come with its snapshots
and are never settled here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.live import live_report
from slaledger.core.observations import Observations
from slaledger.core.periods import calendar_month
from slaledger.core.report import Report
from slaledger.core.settle import service_period, settle
from slaledger.core.timebase import US_PER_DAY, US_PER_SECOND, Clock, from_instant
from slaledger.store.observation_store import ObservationStore
from slaledger.web.errors import SERVER_ERRORS

LOAD_MARGIN = US_PER_DAY
"""Data read beyond a period's edges, as ``report --db`` reads it: runs crossing an edge."""

MonthToDate = Callable[[], bytes]
"""The month-to-date JSON (``app.state.month_to_date``)."""


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


router = APIRouter(tags=["live"])


@router.get(
    "/api/v1/live",
    summary="The current calendar month settled to date",
    responses=SERVER_ERRORS,
)
def month_to_date(request: Request) -> Response:
    body: MonthToDate = request.app.state.month_to_date
    return Response(body(), media_type="application/json")
