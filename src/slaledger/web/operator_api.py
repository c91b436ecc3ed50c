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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from slaledger.core.contract import Contract
from slaledger.core.publication import (
    Impact,
    IncidentStatus,
    IncidentView,
    MaintenanceView,
    incident_json,
    maintenance_json,
)
from slaledger.core.timebase import Clock, format_instant, to_instant
from slaledger.errors import HttpError
from slaledger.store.audit_log import (
    AuditEntry,
    AuditLog,
)
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore, notice_for
from slaledger.store.tokens import TokenStore
from slaledger.web.bearer import AdminToken
from slaledger.web.errors import SERVER_ERRORS, error_responses, field_error, install_error_handlers

log = logging.getLogger("slaledger.web.operator")

OnChange = Callable[[IncidentView | MaintenanceView], None]
View = IncidentView | MaintenanceView
MAX_BODY_BYTES = 1024 * 1024
_ID = re.compile(r"^[1-9][0-9]{0,17}$")


# --- JSON ----------------------------------------------------------------------------------


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


async def _parse(request: Request, model: type[B]) -> B:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise HttpError(413, f"body: larger than {MAX_BODY_BYTES} bytes")
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as error:
        raise HttpError(422, field_error(error)) from None


def _id(text: str, what: str) -> int:
    if not _ID.match(text):
        raise HttpError(404, f"no {what} #{text}")
    return int(text)


def _at(moment: AwareDatetime | None) -> int | None:
    return None if moment is None else to_instant(moment)


# --- The router ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorApi:
    """What the operator API runs on (``app.state.operator``); ``clock`` gives now in
    microseconds."""

    incidents: IncidentStore
    maintenance: MaintenanceStore
    audit: AuditLog
    clock: Clock
    contract: Contract
    on_change: OnChange | None = None

    def changed(self, status: int, body: dict[str, Any], view: View) -> JSONResponse:
        """The answer to a committed write, after ``on_change`` has seen ``view``."""
        if self.on_change is not None:
            try:
                self.on_change(view)
            except Exception:  # the change is committed; a failing hook must not hide it
                log.exception("on_change hook failed for %s #%s", type(view).__name__, view.id)
        return JSONResponse(body, status_code=status)

    def maintenance_body(self, view: MaintenanceView) -> dict[str, Any]:
        notice = notice_for(self.contract, view).message
        return {"maintenance": maintenance_json(view), "notice": notice}


def operator_api(request: Request) -> OperatorApi:
    api: OperatorApi = request.app.state.operator
    return api


Operator = Annotated[OperatorApi, Depends(operator_api)]
TrueOrFalse = Annotated[str | None, Query(description="true or false")]

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["operator"],
    responses=error_responses(401, 403, 422) | SERVER_ERRORS,
)
WRITE = error_responses(400, 404, 408, 409, 413)
"""What a write to an existing record may answer besides the router's errors."""


def mount_operator_api(app: FastAPI, api: OperatorApi, tokens: TokenStore) -> None:
    """Serve the operator API on ``app`` over ``api``'s stores, for ``tokens``' admins."""
    install_error_handlers(app)
    app.state.operator = api
    app.state.tokens = tokens
    app.include_router(router)


def _boolean(name: str, given: str | None) -> bool | None:
    if given not in (None, "true", "false"):
        raise HttpError(422, f"{name}: expected true or false, got {given!r}")
    return None if given is None else given == "true"


@router.post("/incidents", status_code=201, responses=error_responses(400, 408, 413))
async def open_incident(request: Request, token: AdminToken, api: Operator) -> JSONResponse:
    body = await _parse(request, OpenIncident)
    view = await run_in_threadpool(
        lambda: api.incidents.open(
            title=body.title,
            services=body.services,
            impact=body.impact,
            status=body.status,
            started=_at(body.started),
            body=body.body,
            location=body.location,
            actor=token.name,
            now=api.clock(),
        )
    )
    return api.changed(201, {"incident": incident_json(view)}, view)


@router.get("/incidents")
async def list_incidents(
    _token: AdminToken, api: Operator, active: TrueOrFalse = None
) -> JSONResponse:
    which = _boolean("active", active)
    views = await run_in_threadpool(lambda: api.incidents.all(active=which))
    return JSONResponse({"incidents": [incident_json(v) for v in views]})


@router.get("/incidents/{incident_id}", responses=error_responses(404))
async def show_incident(_token: AdminToken, api: Operator, incident_id: str) -> JSONResponse:
    view = await run_in_threadpool(api.incidents.get, _id(incident_id, "incident"))
    return JSONResponse({"incident": incident_json(view)})


async def _history(
    api: OperatorApi,
    subject: Literal["incident", "maintenance"],
    number: int,
    get: Callable[[int], Any],
) -> JSONResponse:
    """The audit entries of one incident or window (404 when it does not exist)."""
    await run_in_threadpool(get, number)
    entries = await run_in_threadpool(api.audit.history, subject, number)
    return JSONResponse({"history": [audit_json(e) for e in entries]})


@router.get("/incidents/{incident_id}/history", responses=error_responses(404))
async def incident_history(_token: AdminToken, api: Operator, incident_id: str) -> JSONResponse:
    number = _id(incident_id, "incident")
    return await _history(api, "incident", number, api.incidents.get)


@router.post("/incidents/{incident_id}/updates", status_code=201, responses=WRITE)
async def post_update(
    request: Request, token: AdminToken, api: Operator, incident_id: str
) -> JSONResponse:
    number = _id(incident_id, "incident")
    body = await _parse(request, PostUpdate)
    view = await run_in_threadpool(
        lambda: api.incidents.add_update(
            number, status=body.status, body=body.body, actor=token.name, now=api.clock()
        )
    )
    return api.changed(201, {"incident": incident_json(view)}, view)


@router.post("/incidents/{incident_id}/classify", responses=WRITE)
async def classify(
    request: Request, token: AdminToken, api: Operator, incident_id: str
) -> JSONResponse:
    number = _id(incident_id, "incident")
    body = await _parse(request, Classify)
    view = await run_in_threadpool(
        lambda: api.incidents.classify(
            number,
            cause=body.cause,
            start=_at(body.start),
            end=_at(body.end),
            actor=token.name,
            now=api.clock(),
        )
    )
    return api.changed(200, {"incident": incident_json(view)}, view)


@router.post("/incidents/{incident_id}/resolve", responses=WRITE)
async def resolve(
    request: Request, token: AdminToken, api: Operator, incident_id: str
) -> JSONResponse:
    number = _id(incident_id, "incident")
    body = await _parse(request, Resolve)
    view = await run_in_threadpool(
        lambda: api.incidents.resolve(
            number, at=_at(body.resolved), body=body.body, actor=token.name, now=api.clock()
        )
    )
    return api.changed(200, {"incident": incident_json(view)}, view)


@router.patch("/incidents/{incident_id}", responses=WRITE)
async def edit_incident(
    request: Request, token: AdminToken, api: Operator, incident_id: str
) -> JSONResponse:
    number = _id(incident_id, "incident")
    body = await _parse(request, EditIncident)
    view = await run_in_threadpool(
        lambda: api.incidents.edit(
            number,
            title=body.title,
            services=body.services,
            impact=body.impact,
            started=_at(body.started),
            resolved=_at(body.resolved),
            actor=token.name,
            now=api.clock(),
        )
    )
    return api.changed(200, {"incident": incident_json(view)}, view)


@router.delete("/incidents/{incident_id}", responses=error_responses(404, 409))
async def delete_incident(token: AdminToken, api: Operator, incident_id: str) -> JSONResponse:
    number = _id(incident_id, "incident")
    view = await run_in_threadpool(
        lambda: api.incidents.delete(number, actor=token.name, now=api.clock())
    )
    return JSONResponse({"deleted": incident_json(view)})


@router.post("/maintenance", status_code=201, responses=error_responses(400, 408, 413))
async def create_maintenance(request: Request, token: AdminToken, api: Operator) -> JSONResponse:
    body = await _parse(request, CreateMaintenance)
    view = await run_in_threadpool(
        lambda: api.maintenance.create(
            services=body.services,
            title=body.title,
            start=to_instant(body.start),
            end=to_instant(body.end),
            location=body.location,
            actor=token.name,
            now=api.clock(),
        )
    )
    return api.changed(201, api.maintenance_body(view), view)


@router.get("/maintenance")
async def list_maintenance(_token: AdminToken, api: Operator) -> JSONResponse:
    views = await run_in_threadpool(api.maintenance.all)
    return JSONResponse({"maintenance": [maintenance_json(v) for v in views]})


@router.get("/maintenance/{window_id}", responses=error_responses(404))
async def show_maintenance(_token: AdminToken, api: Operator, window_id: str) -> JSONResponse:
    view = await run_in_threadpool(api.maintenance.get, _id(window_id, "maintenance window"))
    return JSONResponse(api.maintenance_body(view))


@router.get("/maintenance/{window_id}/history", responses=error_responses(404))
async def maintenance_history(_token: AdminToken, api: Operator, window_id: str) -> JSONResponse:
    number = _id(window_id, "maintenance window")
    return await _history(api, "maintenance", number, api.maintenance.get)


@router.patch("/maintenance/{window_id}", responses=WRITE)
async def edit_maintenance(
    request: Request, token: AdminToken, api: Operator, window_id: str
) -> JSONResponse:
    number = _id(window_id, "maintenance window")
    body = await _parse(request, EditMaintenance)
    view = await run_in_threadpool(
        lambda: api.maintenance.edit(
            number,
            title=body.title,
            services=body.services,
            start=_at(body.start),
            end=_at(body.end),
            location=body.location,
            actor=token.name,
            now=api.clock(),
        )
    )
    return api.changed(200, api.maintenance_body(view), view)


@router.delete("/maintenance/{window_id}", responses=error_responses(404, 409))
async def cancel_maintenance(
    token: AdminToken, api: Operator, window_id: str, purge: TrueOrFalse = None
) -> JSONResponse:
    number = _id(window_id, "maintenance window")
    if _boolean("purge", purge):
        gone = await run_in_threadpool(
            lambda: api.maintenance.delete(number, actor=token.name, now=api.clock())
        )
        return JSONResponse({"deleted": maintenance_json(gone)})
    view = await run_in_threadpool(
        lambda: api.maintenance.cancel(number, actor=token.name, now=api.clock())
    )
    return api.changed(200, api.maintenance_body(view), view)
