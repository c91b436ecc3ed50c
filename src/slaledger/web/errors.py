"""The web boundary: every error the HTTP API answers is JSON ``{"error": "…"}``.

Routes and dependencies raise :class:`~slaledger.errors.HttpError` (or a store's
:class:`~slaledger.errors.UserError`); :func:`install_error_handlers` turns each into its
answer, and :class:`InternalErrors`, the app's outermost layer, turns anything else into a
500 logged with its traceback. What is mapped:

- :class:`HttpError`: its status, message and headers (a 401 says ``WWW-Authenticate:
  Bearer``);
- a store's ``NotFoundError`` 404, ``ConflictError`` and ``DuplicateError`` 409, any other
  :class:`UserError` 422, each with its one line;
- a path or query parameter FastAPI cannot read: 422, worded by :func:`field_error` like
  every other invalid input;
- a database error (locked, unreachable, corrupt): 503 with ``Retry-After``, and the store's
  health is told (:mod:`slaledger.web.store_health`);
- an unknown path or method: Starlette's 404 or 405, with its text as the message.

:func:`error_responses` documents them in the OpenAPI document, all with :class:`ErrorOut`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slaledger.errors import HttpError, UserError
from slaledger.store.audit_log import ConflictError, NotFoundError
from slaledger.store.subscriber_store import DuplicateError

log = logging.getLogger("slaledger.web")

SHOWN_INPUT = 80
"""Longest input quoted in a message."""
STORE_UNAVAILABLE = "the database is unavailable now; try again later"
INTERNAL_ERROR = "internal error; it is logged"
STORE_ERRORS = (SQLAlchemyError, DBAPIError, sqlite3.DatabaseError, psycopg.Error)
"""What a failing database raises: locked, unreachable, corrupt, out of space."""
RETRY_AFTER_SECONDS = 5
RETRY_AFTER = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class ErrorOut(BaseModel):
    """Every error answer of the API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    error: str


DESCRIPTIONS: dict[int, str] = {
    400: "Bad request (a malformed Content-Length)",
    401: "Missing, unknown or revoked bearer token",
    403: "The token may not do this",
    404: "No such record",
    408: "The request body stopped arriving",
    409: "The record's state refuses the change",
    413: "Request body too large",
    422: "Invalid input, naming the field",
    500: "Internal error (logged)",
    503: "The store is unavailable or the figures are not current; see Retry-After",
}


def error_responses(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for ``statuses``, each an :class:`ErrorOut`; ``described`` words
    a status's description for one route (``_404="Unknown service"``)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description = described.get(f"_{status}", DESCRIPTIONS[status])
        out[status] = {"model": ErrorOut, "description": description}
    return out


SERVER_ERRORS = error_responses(500, 503)
"""What any route may answer: an internal error, or a store that cannot answer now."""


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def error_body(message: str) -> bytes:
    """``{"error": message}`` as every error answer writes it (compact UTF-8 JSON)."""
    return json.dumps({"error": message}, ensure_ascii=False, separators=(",", ":")).encode()


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    answer = dict(headers or {})
    if status == 401:
        answer.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse({"error": message}, status_code=status, headers=answer or None)


def field_error(
    error: ValidationError | Sequence[Any], patterns: Mapping[str, str] | None = None
) -> str:
    """The first validation problem in one line naming its field: ``results.3.error: input
    should be …, got 'x'``. ``patterns`` words what a field's pattern expects
    (``{"batch_id": "expected 32 lowercase hex digits"}``). Path and query parameters are
    named without their source (``webhook_id``, not ``path.webhook_id``)."""
    problems = error.errors() if isinstance(error, ValidationError) else error
    first = problems[0]
    loc = list(first["loc"])
    if len(loc) > 1 and loc[0] in ("path", "query", "header", "cookie", "body"):
        loc = loc[1:]
    where = ".".join(str(part) for part in loc) or "body"
    kind = first["type"]
    if kind == "missing":
        return f"{where}: required"
    if kind == "json_invalid":
        return f"body: not valid JSON ({first.get('ctx', {}).get('error', first['msg'])})"
    if kind == "extra_forbidden":
        return f"{where}: unknown field"
    if kind == "model_type":
        return "body: expected a JSON object"
    if kind == "string_pattern_mismatch" and patterns and where in patterns:
        message = patterns[where]
    else:
        message = first["msg"][0].lower() + first["msg"][1:]
    shown = repr(first.get("input"))
    shown = shown if len(shown) <= SHOWN_INPUT else shown[: SHOWN_INPUT - 3] + "..."
    return f"{where}: {message}, got {shown}"


# --- Handlers ------------------------------------------------------------------------------


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HttpError)
    return error_response(error.status, error.message, error.headers)


async def _starlette_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return error_response(error.status_code, str(error.detail), error.headers)


async def _invalid_parameter(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return error_response(422, field_error(error.errors()))


async def _user_error(_request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, NotFoundError):
        status = 404
    elif isinstance(error, ConflictError | DuplicateError):
        status = 409
    else:
        status = 422
    return error_response(status, str(error))


async def _store_error(request: Request, error: Exception) -> JSONResponse:
    health = getattr(request.app.state, "health", None)
    if health is not None:
        health.failed(error)
    log.warning(
        "%s %s: the database failed: %s", request.method, request.url.path, first_line(error)
    )
    return error_response(503, STORE_UNAVAILABLE, RETRY_AFTER)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error :func:`error_responses` names as JSON (idempotent). Put
    :class:`InternalErrors` outermost too, for the 500."""
    if HttpError in app.exception_handlers:
        return
    app.add_exception_handler(HttpError, _http_error)
    app.add_exception_handler(HTTPException, _starlette_error)
    app.add_exception_handler(RequestValidationError, _invalid_parameter)
    app.add_exception_handler(UserError, _user_error)
    for kind in STORE_ERRORS:
        app.add_exception_handler(kind, _store_error)


class InternalErrors:
    """ASGI middleware: an exception no handler answered is logged with its traceback and
    answered ``500 {"error": "internal error; it is logged"}`` (when no answer has started;
    else the connection is closed by the server)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            if started:
                raise
            body = error_body(INTERNAL_ERROR)
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
