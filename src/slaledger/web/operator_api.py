"""The operator API under ``/api/v1/admin``: incidents, updates, classification, maintenance.

Every request needs ``Authorization: Bearer <admin token>`` (missing or unknown: 401; an
agent token: 403). Every write is stored with its audit entry in one transaction, under
the token's name; ``on_change`` is called with the new record after the commit. Errors are
JSON ``{"error": "..."}``: 422 naming the field, 404 for an unknown id, 409 for a change the
record's state refuses (already resolved or cancelled), 503 when the database is down.

- ``POST /incidents``, ``GET /incidents[?active=true|false]``, ``GET /incidents/{id}``
- ``POST /incidents/{id}/updates``, ``/classify``, ``/resolve``; ``GET /incidents/{id}/history``
- ``PATCH /incidents/{id}`` (correct title, services, impact, started, resolved),
  ``DELETE /incidents/{id}`` (delete a mistaken incident)
- ``POST /maintenance``, ``GET /maintenance``, ``GET /maintenance/{id}``,
  ``PATCH /maintenance/{id}`` (correct), ``DELETE /maintenance/{id}`` (cancel: kept and
  shown as cancelled), ``DELETE /maintenance/{id}?purge=true`` (delete a mistaken window),
  ``GET /maintenance/{id}/history``
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from slaledger.core.contract import Contract
from slaledger.core.publication import (
    Impact,
    IncidentStatus,
    IncidentView,
    MaintenanceView,
    instant_text,
)
from slaledger.core.timebase import format_instant, to_instant
from slaledger.errors import UserError
from slaledger.store.audit_log import (
    AuditEntry,
    AuditLog,
    ConflictError,
    NotFoundError,
)
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore, notice_for
from slaledger.store.tokens import TokenStore
from slaledger.web.field_errors import field_error

log = logging.getLogger("slaledger.web.operator")

Clock = Callable[[], int]
OnChange = Callable[[IncidentView | MaintenanceView], None]
View = IncidentView | MaintenanceView
MAX_BODY_BYTES = 1024 * 1024
STORE_UNAVAILABLE = (DBAPIError, sqlite3.DatabaseError, psycopg.Error)
"""The database failed (down, locked, corrupt): 503, never a 500."""
_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)
_ID = re.compile(r"^[1-9][0-9]{0,17}$")


# --- JSON ----------------------------------------------------------------------------------


def _instant(value: int | None) -> str | None:
    return None if value is None else instant_text(value)


def incident_json(view: IncidentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "title": view.title,
        "services": list(view.services),
        "status": view.status,
        "impact": view.impact,
        "started": instant_text(view.started),
        "resolved": _instant(view.resolved),
        "automatic": view.automatic,
        "exclusion_cause": view.exclusion_cause,
        "updates": [
            {
                "at": instant_text(u.at),
                "status": u.status,
                "body_html": u.body_html,
                "author": u.author,
            }
            for u in view.updates
        ],
    }


def maintenance_json(view: MaintenanceView) -> dict[str, Any]:
    return {
        "id": view.id,
        "title": view.title,
        "services": view.services if view.services == "*" else list(view.services),
        "location": view.location,
        "start": instant_text(view.start),
        "end": instant_text(view.end),
        "announced": instant_text(view.announced),
        "kind": view.kind,
        "reason": view.reason,
        "cancelled": view.cancelled,
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": format_instant(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "before": entry.before,
        "after": entry.after,
    }


# --- Request bodies ------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Text = Annotated[str, Field(max_length=20_000)]
Services = Literal["*"] | list[Annotated[str, Field(min_length=1, max_length=200)]]


class OpenIncident(_Body):
    title: Annotated[str, Field(max_length=300)]
    services: Services
    impact: Impact
    status: IncidentStatus = "investigating"
    started: AwareDatetime | None = None
    body: Text = ""
    location: str | None = None


class PostUpdate(_Body):
    status: IncidentStatus
    body: Text


class Classify(_Body):
    cause: Annotated[str, Field(min_length=1, max_length=200)]
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class Resolve(_Body):
    resolved: AwareDatetime | None = None
    body: Text = ""


class CreateMaintenance(_Body):
    services: Services
    title: Annotated[str, Field(max_length=300)]
    start: AwareDatetime
    end: AwareDatetime
    location: str | None = None


class EditIncident(_Body):
    title: Annotated[str, Field(max_length=300)] | None = None
    services: Services | None = None
    impact: Impact | None = None
    started: AwareDatetime | None = None
    resolved: AwareDatetime | None = None


class EditMaintenance(_Body):
    title: Annotated[str, Field(max_length=300)] | None = None
    services: Services | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    location: str | None = None


B = TypeVar("B", bound=_Body)


class _RefusedError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _parse(request: Request, model: type[B]) -> B:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise _RefusedError(413, f"body: larger than {MAX_BODY_BYTES} bytes")
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as error:
        raise _RefusedError(422, field_error(error)) from None


def _id(text: str, what: str) -> int:
    if not _ID.match(text):
        raise _RefusedError(404, f"no {what} #{text}")
    return int(text)


def _at(moment: AwareDatetime | None) -> int | None:
    return None if moment is None else to_instant(moment)


# --- The router ----------------------------------------------------------------------------


def operator_router(  # noqa: PLR0915 (one closure per endpoint)
    incidents: IncidentStore,
    maintenance: MaintenanceStore,
    audit: AuditLog,
    tokens: TokenStore,
    clock: Clock,
    contract: Contract,
    on_change: OnChange | None = None,
) -> APIRouter:
    """The operator API over the given stores; ``clock`` gives now in microseconds."""
    router = APIRouter(prefix="/api/v1/admin")

    async def actor_of(request: Request) -> str:
        match = _BEARER.match(request.headers.get("authorization", ""))
        if match is None:
            raise _RefusedError(
                401, "missing bearer token: send Authorization: Bearer <admin token>"
            )
        info = await run_in_threadpool(tokens.identify, match.group(1))
        if info is None:
            raise _RefusedError(401, "unknown or revoked token")
        if info.scope != "admin":
            raise _RefusedError(
                403,
                f"a token with scope {info.scope} cannot use the operator API; use an admin token",
            )
        return info.name

    async def handle(
        request: Request,
        work: Callable[[str], Awaitable[tuple[int, dict[str, Any], View | None]]],
    ) -> JSONResponse:
        try:
            actor = await actor_of(request)
            status, body, changed = await work(actor)
        except _RefusedError as refused:
            return _error(refused.status, refused.message)
        except NotFoundError as error:
            return _error(404, str(error))
        except ConflictError as error:
            return _error(409, str(error))
        except UserError as error:
            return _error(422, str(error))
        except STORE_UNAVAILABLE as error:
            log.warning("operator request failed: %s", str(error).splitlines()[0])
            return _error(503, "the database is unavailable now; try again later")
        if changed is not None and on_change is not None:
            try:
                on_change(changed)
            except Exception:  # the change is committed; a failing hook must not hide it
                log.exception(
                    "on_change hook failed for %s #%s", type(changed).__name__, changed.id
                )
        return JSONResponse(body, status_code=status)

    def incident_reply(status: int, view: IncidentView) -> tuple[int, dict[str, Any], View]:
        return status, {"incident": incident_json(view)}, view

    @router.post("/incidents")
    async def open_incident(request: Request) -> JSONResponse:
        async def work(actor: str) -> tuple[int, dict[str, Any], View | None]:
            body = await _parse(request, OpenIncident)
            view = await run_in_threadpool(
                lambda: incidents.open(
                    title=body.title,
                    services=body.services,
                    impact=body.impact,
                    status=body.status,
                    started=_at(body.started),
                    body=body.body,
                    location=body.location,
                    actor=actor,
                    now=clock(),
                )
            )
            return incident_reply(201, view)

        return await handle(request, work)

    @router.get("/incidents")
    async def list_incidents(request: Request) -> JSONResponse:
        async def work(_actor: str) -> tuple[int, dict[str, Any], View | None]:
            given = request.query_params.get("active")
            if given not in (None, "true", "false"):
                raise _RefusedError(422, f"active: expected true or false, got {given!r}")
            active = None if given is None else given == "true"
            views = await run_in_threadpool(lambda: incidents.all(active=active))
            return 200, {"incidents": [incident_json(v) for v in views]}, None

        return await handle(request, work)

    @router.get("/incidents/{incident_id}")
    async def show_incident(request: Request, incident_id: str) -> JSONResponse:
        async def work(_actor: str) -> tuple[int, dict[str, Any], View | None]:
            view = await run_in_threadpool(incidents.get, _id(incident_id, "incident"))
            return 200, {"incident": incident_json(view)}, None

        return await handle(request, work)

    def history(
        subject: Literal["incident", "maintenance"], text: str, what: str, get: Callable[[int], Any]
    ) -> Callable[[str], Awaitable[tuple[int, dict[str, Any], View | None]]]:
        """The audit entries of one incident or window (404 when it does not exist)."""

        async def work(_actor: str) -> tuple[int, dict[str, Any], View | None]:
            number = _id(text, what)
            await run_in_threadpool(get, number)
            entries = await run_in_threadpool(audit.history, subject, number)
            return 200, {"history": [audit_json(e) for e in entries]}, None

        return work

    @router.get("/incidents/{incident_id}/history")
    async def incident_history(request: Request, incident_id: str) -> JSONResponse:
        return await handle(request, history("incident", incident_id, "incident", incidents.get))

    @router.post("/incidents/{incident_id}/updates")
    async def post_update(request: Request, incident_id: str) -> JSONResponse:
        async def work(actor: str) -> tuple[int, dict[str, Any], View | None]:
            number = _id(incident_id, "incident")
            body = await _parse(request, PostUpdate)
            view = await run_in_threadpool(
                lambda: incidents.add_update(
                    number, status=body.status, body=body.body, actor=actor, now=clock()
                )
            )
            return incident_reply(201, view)

        return await handle(request, work)

    @router.post("/incidents/{incident_id}/classify")
    async def classify(request: Request, incident_id: str) -> JSONResponse:
        async def work(actor: str) -> tuple[int, dict[str, Any], View | None]:
            number = _id(incident_id, "incident")
            body = await _parse(request, Classify)
            view = await run_in_threadpool(
                lambda: incidents.classify(
                    number,
                    cause=body.cause,
                    start=_at(body.start),
                    end=_at(body.end),
                    actor=actor,
                    now=clock(),
                )
            )
            return incident_reply(200, view)

        return await handle(request, work)

    @router.post("/incidents/{incident_id}/resolve")
    async def resolve(request: Request, incident_id: str) -> JSONResponse:
        async def work(actor: str) -> tuple[int, dict[str, Any], View | None]:
            number = _id(incident_id, "incident")
            body = await _parse(request, Resolve)
            view = await run_in_threadpool(
                lambda: incidents.resolve(
                    number, at=_at(body.resolved), body=body.body, actor=actor, now=clock()
                )
            )
            return incident_reply(200, view)

        return await handle(request, work)

    @router.patch("/incidents/{incident_id}")
    async def edit_incident(request: Request, incident_id: str) -> JSONResponse:
        async def work(actor: str) -> tuple[int, dict[str, Any], View | None]:
            number = _id(incident_id, "incident")
            body = await _parse(request, EditIncident)
            view = await run_in_threadpool(
                lambda: incidents.edit(
                    number,
                    title=body.title,
                    services=body.services,
                    impact=body.impact,
                    started=_at(body.started),
                    resolved=_at(body.resolved),
                    actor=actor,
                    now=clock(),
                )
            )
            return incident_reply(200, view)

        return await handle(request, work)

    @router.delete("/incidents/{incident_id}")
    async def delete_incident(request: Request, incident_id: str) -> JSONResponse:
        async def work(actor: str) -> tuple[int, dict[str, Any], View | None]:
            number = _id(incident_id, "incident")
            view = await run_in_threadpool(
                lambda: incidents.delete(number, actor=actor, now=clock())
            )
            return 200, {"deleted": incident_json(view)}, None

        return await handle(request, work)

    def maintenance_reply(status: int, view: MaintenanceView) -> tuple[int, dict[str, Any], View]:
        notice = notice_for(contract, view).message
        return status, {"maintenance": maintenance_json(view), "notice": notice}, view

    @router.post("/maintenance")
    async def create_maintenance(request: Request) -> JSONResponse:
        async def work(actor: str) -> tuple[int, dict[str, Any], View | None]:
            body = await _parse(request, CreateMaintenance)
            view = await run_in_threadpool(
                lambda: maintenance.create(
                    services=body.services,
                    title=body.title,
                    start=to_instant(body.start),
                    end=to_instant(body.end),
                    location=body.location,
                    actor=actor,
                    now=clock(),
                )
            )
            return maintenance_reply(201, view)

        return await handle(request, work)

    @router.get("/maintenance")
    async def list_maintenance(request: Request) -> JSONResponse:
        async def work(_actor: str) -> tuple[int, dict[str, Any], View | None]:
            views = await run_in_threadpool(maintenance.all)
            return 200, {"maintenance": [maintenance_json(v) for v in views]}, None

        return await handle(request, work)

    @router.get("/maintenance/{window_id}")
    async def show_maintenance(request: Request, window_id: str) -> JSONResponse:
        async def work(_actor: str) -> tuple[int, dict[str, Any], View | None]:
            view = await run_in_threadpool(maintenance.get, _id(window_id, "maintenance window"))
            status, body, _view = maintenance_reply(200, view)
            return status, body, None

        return await handle(request, work)

    @router.get("/maintenance/{window_id}/history")
    async def maintenance_history(request: Request, window_id: str) -> JSONResponse:
        work = history("maintenance", window_id, "maintenance window", maintenance.get)
        return await handle(request, work)

    @router.patch("/maintenance/{window_id}")
    async def edit_maintenance(request: Request, window_id: str) -> JSONResponse:
        async def work(actor: str) -> tuple[int, dict[str, Any], View | None]:
            number = _id(window_id, "maintenance window")
            body = await _parse(request, EditMaintenance)
            view = await run_in_threadpool(
                lambda: maintenance.edit(
                    number,
                    title=body.title,
                    services=body.services,
                    start=_at(body.start),
                    end=_at(body.end),
                    location=body.location,
                    actor=actor,
                    now=clock(),
                )
            )
            return maintenance_reply(200, view)

        return await handle(request, work)

    @router.delete("/maintenance/{window_id}")
    async def cancel_maintenance(request: Request, window_id: str) -> JSONResponse:
        async def work(actor: str) -> tuple[int, dict[str, Any], View | None]:
            number = _id(window_id, "maintenance window")
            purge = request.query_params.get("purge")
            if purge not in (None, "true", "false"):
                raise _RefusedError(422, f"purge: expected true or false, got {purge!r}")
            if purge == "true":
                gone = await run_in_threadpool(
                    lambda: maintenance.delete(number, actor=actor, now=clock())
                )
                return 200, {"deleted": maintenance_json(gone)}, None
            view = await run_in_threadpool(
                lambda: maintenance.cancel(number, actor=actor, now=clock())
            )
            return maintenance_reply(200, view)

        return await handle(request, work)

    return router


def _error(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)
