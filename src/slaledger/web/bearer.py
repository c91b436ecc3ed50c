"""The one bearer-token scheme: ``Authorization: Bearer <token>``, checked against the token
store the app was built with (``app.state.tokens``).

:class:`RequireToken` is the FastAPI dependency: it answers the :class:`TokenInfo` of a
token of its scope, else raises :class:`~slaledger.errors.HttpError` 401 (no token, an
unknown or revoked one) or, for a token of another scope, 403 (401 for ingest, as agents
expect).
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from slaledger.errors import HttpError
from slaledger.store.tokens import Scope, TokenInfo, TokenStore
from slaledger.web.errors import RETRY_AFTER, STORE_ERRORS, first_line

log = logging.getLogger("slaledger.web")

_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


def bearer_token(request: Request) -> str | None:
    """The request's bearer token, ``None`` when it sends none."""
    match = _BEARER.match(request.headers.get("authorization", ""))
    return None if match is None else match.group(1)


def token_store(request: Request) -> TokenStore:
    store: TokenStore = request.app.state.tokens
    return store


class RequireToken:
    """A dependency: the token of ``scope`` the request sends, or an :class:`HttpError`.

    ``purpose`` completes "a token with scope agent cannot …"; ``unavailable``, when given,
    is the 503's message if the token store cannot be read (else the database error goes to
    the app's handler: its own 503)."""

    def __init__(
        self,
        scope: Scope,
        purpose: str,
        *,
        other_scope_status: int = 403,
        unavailable: str | None = None,
    ) -> None:
        self.scope = scope
        self.purpose = purpose
        self.other_scope_status = other_scope_status
        self.unavailable = unavailable

    async def __call__(
        self, request: Request, tokens: Annotated[TokenStore, Depends(token_store)]
    ) -> TokenInfo:
        token = bearer_token(request)
        if token is None:
            raise HttpError(
                401, f"missing bearer token: send Authorization: Bearer <{self.scope} token>"
            )
        try:
            info = await run_in_threadpool(tokens.identify, token)
        except STORE_ERRORS as error:
            if self.unavailable is None:
                raise
            log.warning("token check failed, the database is unavailable: %s", first_line(error))
            raise HttpError(503, self.unavailable, RETRY_AFTER) from None
        if info is None:
            raise HttpError(401, "unknown or revoked token")
        if info.scope != self.scope:
            raise HttpError(
                self.other_scope_status,
                f"a token with scope {info.scope} cannot {self.purpose}; use an {self.scope} token",
            )
        return info


AdminToken = Annotated[TokenInfo, Depends(RequireToken("admin", "use the operator API"))]
"""The admin token of a request to ``/api/v1/admin/…``."""
