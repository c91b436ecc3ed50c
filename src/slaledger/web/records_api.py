"""``POST /api/v1/admin/records``: operator records (tickets, hardware swaps, DDoS events,
provisioning requests, outages, claims) stored for the contract, in batches.

The body is ``{"records": [ … ]}``, each a record object of the records format
(``docs/semantics.md``), at most :data:`MAX_RECORDS` of them and :data:`MAX_BODY_BYTES`
bytes. Each is validated as ``slaledger records import`` validates a line, and checked
against the contract (its services and locations, each record once per batch); the first
mistake is a 422 naming it (``records[3].replaced: expected …, got …``) and nothing of the
batch is stored. Otherwise the batch is stored in one transaction: a record stored before
with the same content is unchanged, one whose content changed replaces it (audited under the
token's name). The answer counts them: ``{"new": 2, "replaced": 1, "unchanged": 0}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from slaledger.core.contract import Contract
from slaledger.core.record_checks import check_batch
from slaledger.core.timebase import Clock
from slaledger.errors import HttpError, RecordsError
from slaledger.files.records_jsonl import parse_records
from slaledger.store.record_store import RecordStore
from slaledger.store.tokens import TokenStore
from slaledger.web.bearer import AdminToken
from slaledger.web.errors import SERVER_ERRORS, error_responses, install_error_handlers

MAX_BODY_BYTES = 32 * 1024 * 1024
"""Largest batch body (~100,000 tickets)."""
MAX_RECORDS = 100_000
"""Most records in one batch."""


@dataclass(frozen=True)
class RecordsApi:
    """What the records route runs on (``app.state.records``)."""

    store: RecordStore
    contract: Contract
    clock: Clock


def records_api(request: Request) -> RecordsApi:
    api: RecordsApi = request.app.state.records
    return api


Records = Annotated[RecordsApi, Depends(records_api)]

router = APIRouter(prefix="/api/v1/admin")


def mount_records_api(app: FastAPI, api: RecordsApi, tokens: TokenStore) -> None:
    """Serve ``POST /api/v1/admin/records`` on ``app`` for ``tokens``' admins."""
    install_error_handlers(app)
    app.state.records = api
    app.state.tokens = tokens
    app.include_router(router)


def _batch(raw: bytes) -> list[Any]:
    if len(raw) > MAX_BODY_BYTES:
        raise HttpError(413, f"body: larger than {MAX_BODY_BYTES} bytes; send smaller batches")
    try:
        body = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HttpError(422, f"body: not valid JSON ({error})") from None
    except RecursionError:
        raise HttpError(422, "body: nested too deeply") from None
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise HttpError(422, 'body: expected an object {"records": [record, …]}')
    extra = sorted(set(body) - {"records"})
    if extra:
        raise HttpError(422, f"{extra[0]}: unknown field")
    items: list[Any] = body["records"]
    if not 1 <= len(items) <= MAX_RECORDS:
        raise HttpError(422, f"records: expected 1 to {MAX_RECORDS} records, got {len(items)}")
    return items


def _store(api: RecordsApi, items: list[Any], actor: str) -> dict[str, int]:
    # The records file reader validates each record, so a batch is refused exactly as the
    # same records on the lines of a file would be (record i on line i + 1).
    text = "\n".join(json.dumps(item, ensure_ascii=False) for item in items)
    try:
        records = parse_records(text, "body")
    except RecordsError as error:
        problem = error.problems[0]
        index = (problem.line or 1) - 1
        where = f"records[{index}]" + (f".{problem.field}" if problem.field else "")
        raise HttpError(422, f"{where}: {problem.message}") from None
    now = api.clock()
    mistakes = check_batch(api.contract, records, now)
    if mistakes:
        first = mistakes[0]
        raise HttpError(422, f"records[{first.index}].{first.field}: {first.message}")
    outcome = api.store.store(api.contract.contract, records, now=now, actor=actor)
    return {"new": outcome.new, "replaced": outcome.replaced, "unchanged": outcome.unchanged}


@router.post("/records", responses=error_responses(400, 401, 403, 408, 413, 422) | SERVER_ERRORS)
async def store_records(request: Request, token: AdminToken, api: Records) -> JSONResponse:
    """Store a batch of records, all or nothing; counts of new, replaced and unchanged."""
    items = _batch(await request.body())
    counts = await run_in_threadpool(_store, api, items, token.name)
    return JSONResponse(counts)
