"""Agents' ingest: ``POST /api/v1/ingest`` (``Authorization: Bearer <agent token>``), a batch
of probe results stored once per ``batch_id``.

Refusals are :class:`~slaledger.errors.HttpError` errors, answered as JSON ``{"error": "..."}``:
401 for a missing, unknown or non-agent token, 403 for a batch from a location the token is
not bound to, 409 for a batch id already stored with other rows, 422 naming the bad field
(an undeclared location, an instant more than :data:`FUTURE_TOLERANCE` ahead or older than
the ingest horizon), 413 for a body over the size limit, 503 with ``Retry-After`` when the
database cannot take a batch (locked, unreachable, corrupt): the agent sends it again later.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from slaledger.core.contract import Contract
from slaledger.core.durations import format_duration
from slaledger.core.timebase import (
    US_PER_DAY,
    US_PER_MINUTE,
    US_PER_SECOND,
    Clock,
    format_instant,
)
from slaledger.errors import HttpError
from slaledger.probes.result import ProbeResult, to_observations
from slaledger.store.observation_store import (
    BatchConflictError,
    IngestResult,
    ObservationStore,
)
from slaledger.store.tokens import TokenInfo
from slaledger.web.bearer import RequireToken
from slaledger.web.errors import (
    RETRY_AFTER,
    SERVER_ERRORS,
    STORE_ERRORS,
    error_responses,
    field_error,
    first_line,
)

log = logging.getLogger("slaledger.web")

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
CANNOT_TAKE = "the store cannot take the batch now; send it again later"


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
    """:class:`HttpError` 403 when ``token`` is bound to another location than the batch's,
    422 when the contract declares its locations and the batch's is not one of them."""
    if token.location is not None and body.location != token.location:
        raise HttpError(
            403,
            f"location: token {token.name!r} reports for location {token.location}, "
            f"not {body.location}",
        )
    declared = contract.locations
    if declared is not None and body.location not in declared:
        raise HttpError(
            422,
            f"location: {body.location!r} is not a location of contract {contract.contract} "
            f"({', '.join(declared)})",
        )


def check_instants(body: IngestBody, now: int, horizon: int) -> None:
    """:class:`HttpError` 422 naming the first result more than :data:`FUTURE_TOLERANCE` ahead
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
    raise HttpError(
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
    checked (:class:`HttpError` 403 or 422 otherwise)."""
    check_location(body, token, contract)
    results = probe_results(body, contract)
    check_instants(body, now, horizon)
    return results, batch_digest(body)


def refused_conflict(body: IngestBody, token: TokenInfo, conflict: BatchConflictError) -> HttpError:
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
    return HttpError(
        409,
        f"batch_id: batch {body.batch_id} was already stored with other rows; "
        "a batch id names one content: send new rows under a new id",
    )


def probe_results(body: IngestBody, contract: Contract) -> list[ProbeResult]:
    """The batch as probe results; :class:`HttpError` 422 for a service the contract lacks
    or one the contract does not probe from the batch's location."""
    results = []
    for index, row in enumerate(body.results):
        if row.service not in contract.services:
            known = ", ".join(contract.services)
            raise HttpError(
                422,
                f"results.{index}.service: unknown service {row.service!r}; "
                f"contract {contract.contract} has {known}",
            )
        allowed = contract.locations_of(row.service)
        if allowed is not None and body.location not in allowed:
            raise HttpError(
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


# --- The route -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestService:
    """What the ingest route runs on (``app.state.ingest``)."""

    contract: Contract
    writer: Ingestor
    clock: Clock
    horizon: int = DEFAULT_INGEST_HORIZON
    """How old a probe's instant may be when it arrives, in microseconds."""


def ingest_service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


AgentToken = Annotated[
    TokenInfo,
    Depends(RequireToken("agent", "ingest", other_scope_status=401, unavailable=CANNOT_TAKE)),
]

router = APIRouter(tags=["ingest"])


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HttpError(413, f"body: larger than {MAX_BODY_BYTES} bytes; send smaller batches")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HttpError(413, f"body: larger than {MAX_BODY_BYTES} bytes; send smaller batches")
        chunks.append(chunk)
    return b"".join(chunks)


def _unavailable(what: str, error: BaseException) -> HttpError:
    # Not a health failure by itself: a busy database refuses a batch now and then, and the
    # agent sends it again; the health check reads the store to tell a broken one.
    log.warning("%s failed, the database is unavailable: %s", what, first_line(error))
    return HttpError(503, CANNOT_TAKE, RETRY_AFTER)


@router.post(
    "/api/v1/ingest",
    summary="Store a batch of probe results",
    responses=error_responses(400, 401, 403, 408, 409, 413, 422) | SERVER_ERRORS,
)
async def ingest(
    request: Request,
    token: AgentToken,
    service: Annotated[IngestService, Depends(ingest_service)],
) -> JSONResponse:
    raw = await _read_body(request)
    try:
        body = IngestBody.model_validate_json(raw)
    except ValidationError as error:
        raise HttpError(422, field_error(error, _PATTERNS)) from None
    contract, writer = service.contract, service.writer
    results, digest = checked_batch(body, token, contract, service.clock(), service.horizon)
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
        raise refused_conflict(body, token, conflict) from None
    return JSONResponse(
        {
            "batch_id": body.batch_id,
            "received": outcome.received,
            "stored": outcome.stored,
            "duplicate": outcome.duplicate_batch,
        }
    )
