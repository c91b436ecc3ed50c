"""``/api/v1/statements``: every monthly statement of the contract, chained and signed, and
the provider's public key, for anyone to download and check offline
(``slaledger statement verify``).

- ``GET /api/v1/statements``: the chain, oldest first: each month with its SHA-256, its
  predecessor's, its signature and key id, and where to download it.
- ``GET /api/v1/statements/key``: the public key (PEM) that signs them; 404 when this
  server signs nothing (no ``--signing-key``).
- ``GET /api/v1/statements/{month}``: the statement file, byte for byte as issued (the
  signed bytes verbatim after ``"statement":``), with its SHA-256 as the ``ETag``.

Statements not chained yet (stored before the chain, see docs/deployment.md) are left out
until ``slaledger statement chain`` or the next issue chains them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from slaledger.errors import HttpError
from slaledger.store.statements import Statement, StatementStore
from slaledger.web.errors import SERVER_ERRORS, error_responses, install_error_handlers

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CACHE = {"Cache-Control": "public, max-age=300"}


@dataclass(frozen=True)
class PublishedStatements:
    """What the statements routes run on (``app.state.statements``)."""

    contract: str
    store: StatementStore
    public_key_pem: bytes | None
    """The signing key's public half; ``None`` when the server signs nothing."""


def published_statements(request: Request) -> PublishedStatements:
    statements: PublishedStatements = request.app.state.statements
    return statements


Statements = Annotated[PublishedStatements, Depends(published_statements)]

router = APIRouter(prefix="/api/v1/statements", tags=["statements"])


def mount_statements_api(app: FastAPI, statements: PublishedStatements) -> None:
    """Serve the statements and the public key on ``app``."""
    install_error_handlers(app)
    app.state.statements = statements
    app.include_router(router)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatementOut(_Out):
    month: str = Field(description="YYYY-MM in the contract's time zone.")
    sha256: str = Field(description="SHA-256 of the statement's canonical (signed) bytes.")
    previous_month: str | None = Field(description="The chained predecessor; null: first.")
    previous_sha256: str | None
    signature: str | None = Field(description="Ed25519 signature, hex; null: unsigned.")
    key_id: str | None = Field(description="First 16 hex digits of the key's SHA-256.")
    issued_at: str
    url: str = Field(description="The statement file, as issued.")


class StatementsOut(_Out):
    contract: str
    key_url: str | None = Field(description="The public key; null: this server signs nothing.")
    statements: list[StatementOut] = Field(description="Oldest first.")


def _out(statement: Statement) -> StatementOut:
    assert statement.sha256 is not None
    return StatementOut(
        month=statement.month,
        sha256=statement.sha256,
        previous_month=statement.previous_month,
        previous_sha256=statement.previous_sha256,
        signature=statement.signature,
        key_id=statement.key_id,
        issued_at=statement.statement()["issued_at"],
        url=f"/api/v1/statements/{statement.month}",
    )


@router.get("", summary="Every chained monthly statement", responses=SERVER_ERRORS)
async def list_statements(statements: Statements) -> StatementsOut:
    found = await run_in_threadpool(statements.store.months, statements.contract)
    return StatementsOut(
        contract=statements.contract,
        key_url=None if statements.public_key_pem is None else "/api/v1/statements/key",
        statements=[_out(s) for s in found if s.chained],
    )


@router.get(
    "/key",
    summary="The provider's public key (PEM) that signs the statements",
    response_class=Response,
    responses=error_responses(404, 500, 503, _404="This server signs no statements"),
)
def public_key(statements: Statements) -> Response:
    if statements.public_key_pem is None:
        raise HttpError(404, "this server signs no statements (serve --signing-key)")
    return Response(statements.public_key_pem, media_type="application/x-pem-file", headers=CACHE)


@router.get(
    "/{month}",
    summary="A month's statement file, byte for byte as issued",
    response_class=Response,
    responses=error_responses(404, 422, 500, 503, _404="No statement of that month"),
)
async def statement_file(month: str, statements: Statements) -> Response:
    if not _MONTH.match(month):
        raise HttpError(422, f"month: expected YYYY-MM, got {month[:80]!r}")
    found = await run_in_threadpool(statements.store.get, statements.contract, month)
    if found is None or not found.chained:
        raise HttpError(404, f"no statement of {statements.contract} for {month}")
    name = f"statement-{statements.contract}-{month}.json"
    return Response(
        found.file_bytes(),
        media_type="application/json",
        headers={
            **CACHE,
            "ETag": f'"{found.sha256}"',
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
