"""Subscribing to the status page: email double opt-in, unsubscribe, feeds, admin API.

:func:`subscriptions_router` takes every dependency as an argument. Public, HTML (plain
forms, no JavaScript):

- ``GET /subscribe``: a form; ``POST /subscribe`` (form fields ``email`` and any number of
  ``services``; none: all): queues a confirmation email and answers "check your inbox",
  the same page whether or not the address is known. A confirmation goes to one address
  at most once per ``resend_minutes``, and one client may post ``client_limit`` times per
  ``resend_minutes``.
- ``GET /subscribe/confirm?token=…``: confirms, once.
- ``GET /unsubscribe?token=…``: a page with one button, which ``POST``\\s to
  ``/unsubscribe``; the same ``POST`` is RFC 8058's one-click unsubscribe (a mail client
  posting ``List-Unsubscribe=One-Click`` to the ``List-Unsubscribe`` URL). A ``GET`` alone
  unsubscribes nobody: mail scanners follow links.
- ``GET /feed.atom``, ``GET /maintenance.ics``: the feeds; ``GET /history.atom`` and
  ``GET /history.rss``: incident history as Statuspage serves it.

Admin (``Authorization: Bearer <admin token>``; JSON, errors ``{"error": "…"}`` with 401 for
a missing or unknown token, 403 for a token of another scope, 422 naming the bad field):
``POST``/``GET /api/v1/admin/webhooks``, ``DELETE /api/v1/admin/webhooks/{id}``,
``POST``/``GET /api/v1/admin/accounts``, ``DELETE /api/v1/admin/accounts/{id}``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from slaledger.core.contract import Contract
from slaledger.core.publication import StatusSnapshot
from slaledger.core.timebase import US_PER_HOUR, US_PER_MINUTE
from slaledger.errors import UserError
from slaledger.notify.feeds import ATOM_TYPE, ICALENDAR_TYPE, atom_feed, maintenance_calendar
from slaledger.notify.history_feeds import ATOM_TYPE as HISTORY_ATOM_TYPE
from slaledger.notify.history_feeds import RSS_TYPE, history_atom, history_rss
from slaledger.notify.messages import Site, confirmation_email
from slaledger.notify.webhook_sender import check_url, host_problem, resolved_problem
from slaledger.store.subscriber_store import (
    DuplicateError,
    NewDelivery,
    SubscriberStore,
    normalise_email,
)
from slaledger.store.tokens import TokenStore

Clock = Callable[[], int]
TEMPLATES = Path(__file__).with_name("templates")
_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
FEED_HEADERS = {"Cache-Control": "public, max-age=60"}
SECRET_PREFIX = "whsec_"
MAX_PENDING_CONFIRMATIONS = 1000
"""Subscriptions awaiting confirmation, across all clients, beyond which new ones wait."""
RESOLVE_SECONDS = 3.0
"""How long registering a webhook waits for its host name to resolve."""
MAX_ID = 2**63 - 1

_pages = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class WebhookBody(_Body):
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    secret: Annotated[str, Field(min_length=16, max_length=200)] | None = None
    services: list[str] | None = None


class AccountBody(_Body):
    account: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(min_length=1, max_length=254)]
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None


def _error(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _invalid(error: ValidationError) -> JSONResponse:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    if first["type"] == "missing":
        return _error(422, f"{where}: required")
    if first["type"] == "json_invalid":
        return _error(422, "body: not valid JSON")
    message = first["msg"][0].lower() + first["msg"][1:]
    return _error(422, f"{where}: {message}")


class _ClientLimit:
    """At most ``limit`` requests per client per ``window`` µs (in memory, per process)."""

    def __init__(self, limit: int, window: int) -> None:
        self._limit = limit
        self._window = window
        self._seen: dict[str, deque[int]] = {}

    def allow(self, client: str, now: int) -> bool:
        times = self._seen.setdefault(client, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) >= self._limit:
            return False
        times.append(now)
        if len(self._seen) > 10_000:  # forget idle clients
            for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - self._window]:
                del self._seen[key]
        return True


def subscriptions_router(  # noqa: PLR0915 (one closure per endpoint)
    store: SubscriberStore,
    tokens: TokenStore,
    clock: Clock,
    *,
    base_url: str,
    contract: Contract,
    snapshot: Callable[[], StatusSnapshot],
    wake: Callable[[], None] = lambda: None,
    resend_minutes: int = 10,
    confirm_hours: int = 72,
    client_limit: int = 20,
    allow_private: bool = False,
    max_pending: int = MAX_PENDING_CONFIRMATIONS,
    resolve_seconds: float = RESOLVE_SECONDS,
) -> APIRouter:
    """The routes above. ``snapshot`` gives the current :class:`StatusSnapshot` (it may block:
    it runs in a thread); ``wake`` is called after a confirmation email is queued (give
    :meth:`OutboxWorker.wake`). ``base_url`` is the status page's public URL, for links."""
    site = Site.of(contract, base_url)
    resend_after = resend_minutes * US_PER_MINUTE
    confirm_age = confirm_hours * US_PER_HOUR
    clients = _ClientLimit(client_limit, resend_after)
    choices = [(key, service.name) for key, service in contract.services.items()]
    router = APIRouter()

    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = _pages.get_template(f"subscriptions/{name}").render(site=site, **values)
        return HTMLResponse(html, status_code=status, headers=PRIVATE_HEADERS)

    def form(
        status: int, error: str | None, email: str = "", chosen: tuple[str, ...] = ()
    ) -> HTMLResponse:
        return page(
            "subscribe.html", status, error=error, email=email, services=choices, chosen=chosen
        )

    def invalid_link(heading: str, message: str) -> HTMLResponse:
        return page("link_invalid.html", 404, heading=heading, message=message)

    # --- Email subscriptions ------------------------------------------------------------------

    @router.get("/subscribe")
    def subscribe_form() -> HTMLResponse:
        return form(200, None)

    @router.post("/subscribe")
    async def subscribe(request: Request) -> HTMLResponse:
        now = clock()
        client = request.client.host if request.client is not None else "unknown"
        if not clients.allow(client, now):
            return form(429, f"Too many requests; try again in {resend_minutes} minutes.")
        fields = await request.form()
        text = fields.get("email")
        chosen = tuple(dict.fromkeys(str(value) for value in fields.getlist("services")))
        typed = text if isinstance(text, str) else ""
        try:
            email = normalise_email(typed)
        except UserError as error:
            return form(422, error.problems[0].message, typed, chosen)
        unknown = [key for key in chosen if key not in contract.services]
        if unknown:
            return form(422, f"Unknown service {unknown[0]!r}.", typed, chosen)
        services = chosen or None
        pending = await run_in_threadpool(store.pending_confirmations, now - confirm_age)
        if pending >= max_pending:
            return form(
                429,
                "Too many subscriptions are waiting for confirmation; try again in an hour.",
                typed,
                chosen,
            )

        def compose(confirm: str, unsubscribe: str) -> NewDelivery:
            message = confirmation_email(site, confirm, unsubscribe, services)
            return NewDelivery("email", "subscription.confirm", email, message.to_json())

        queued = await run_in_threadpool(
            lambda: store.subscribe(
                email, services, now, resend_after=resend_after, compose=compose
            )
        )
        if queued:
            wake()
        return page(
            "check_inbox.html",
            email=email,
            services=site.services_text(services),
            resend_minutes=resend_minutes,
        )

    @router.get("/subscribe/confirm")
    async def confirm(token: str = "") -> HTMLResponse:
        subscriber = None
        if token:
            subscriber = await run_in_threadpool(
                lambda: store.confirm(token, clock(), max_age=confirm_age)
            )
        if subscriber is None:
            return invalid_link(
                "Link expired",
                "This confirmation link was already used, was replaced by a newer one, or is "
                f"older than {confirm_hours} hours. If you confirmed before, you are "
                "subscribed; if not, subscribe again.",
            )
        return page(
            "confirmed.html",
            email=subscriber.email,
            services=site.services_text(subscriber.services),
        )

    @router.get("/unsubscribe")
    async def unsubscribe_page(token: str = "") -> HTMLResponse:
        subscriber = None
        if token:
            subscriber = await run_in_threadpool(store.by_unsubscribe_token, token)
        if subscriber is None:
            return invalid_link(
                "Not subscribed",
                "This unsubscribe link is no longer valid: the address is not subscribed.",
            )
        return page("unsubscribe.html", email=subscriber.email, token=token)

    @router.post("/unsubscribe")
    async def unsubscribe(request: Request) -> HTMLResponse:
        fields = await request.form()
        posted = fields.get("token")
        token = posted if isinstance(posted, str) else request.query_params.get("token", "")
        subscriber = await run_in_threadpool(store.unsubscribe, token) if token else None
        return page("unsubscribed.html", email=None if subscriber is None else subscriber.email)

    # --- Feeds ----------------------------------------------------------------------------

    @router.get("/feed.atom")
    async def atom() -> Response:
        current = await run_in_threadpool(snapshot)
        return Response(atom_feed(current, site), media_type=ATOM_TYPE, headers=FEED_HEADERS)

    @router.get("/history.atom")
    async def history_atom_feed() -> Response:
        current = await run_in_threadpool(snapshot)
        body = history_atom(current, site)
        return Response(body, media_type=HISTORY_ATOM_TYPE, headers=FEED_HEADERS)

    @router.get("/history.rss")
    async def history_rss_feed() -> Response:
        current = await run_in_threadpool(snapshot)
        return Response(history_rss(current, site), media_type=RSS_TYPE, headers=FEED_HEADERS)

    @router.get("/maintenance.ics")
    async def calendar() -> Response:
        current = await run_in_threadpool(snapshot)
        text = maintenance_calendar(current, site)
        return Response(text.encode(), media_type=ICALENDAR_TYPE, headers=FEED_HEADERS)

    # --- Admin ----------------------------------------------------------------------------

    async def admin_problem(request: Request) -> JSONResponse | None:
        match = _BEARER.match(request.headers.get("authorization", ""))
        if match is None:
            return _error(401, "missing bearer token: send Authorization: Bearer <admin token>")
        scope = await run_in_threadpool(tokens.verify, match.group(1))
        if scope is None:
            return _error(401, "unknown or revoked token")
        if scope != "admin":
            return _error(403, f"a token with scope {scope} cannot do this; use an admin token")
        return None

    async def address_refused(url: str) -> str | None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if (problem := host_problem(host)) is not None:
            return problem
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(resolved_problem, host, port), resolve_seconds
            )
        except TimeoutError:
            return None  # checked again when it is called

    def check_services(services: list[str] | None) -> JSONResponse | None:
        for index, key in enumerate(services or ()):
            if key not in contract.services:
                known = ", ".join(contract.services)
                return _error(
                    422,
                    f"services.{index}: unknown service {key!r}; "
                    f"contract {contract.contract} has {known}",
                )
        if services is not None and not services:
            return _error(422, "services: expected at least one service, or leave it out")
        return None

    @router.post("/api/v1/admin/webhooks")
    async def add_webhook(request: Request) -> JSONResponse:
        if (problem := await admin_problem(request)) is not None:
            return problem
        try:
            body = WebhookBody.model_validate_json(await request.body())
        except ValidationError as error:
            return _invalid(error)
        try:
            check_url(body.url)
        except ValueError as error:
            return _error(422, f"url: {error}")
        if not allow_private and (refused := await address_refused(body.url)) is not None:
            return _error(
                422, f"url: refused: {refused} (allowed only with --allow-private-webhooks)"
            )
        if (problem := check_services(body.services)) is not None:
            return problem
        secret = body.secret or SECRET_PREFIX + secrets.token_urlsafe(32)
        services = None if body.services is None else tuple(body.services)
        webhook = await run_in_threadpool(
            lambda: store.add_webhook(body.url, secret, services, clock())
        )
        return JSONResponse(
            {
                "id": webhook.id,
                "url": webhook.url,
                "secret": webhook.secret,
                "services": None if webhook.services is None else list(webhook.services),
            },
            status_code=201,
        )

    @router.get("/api/v1/admin/webhooks")
    async def list_webhooks(request: Request) -> JSONResponse:
        if (problem := await admin_problem(request)) is not None:
            return problem
        hooks = await run_in_threadpool(store.webhooks)
        return JSONResponse(
            [
                {
                    "id": hook.id,
                    "url": hook.url,
                    "services": None if hook.services is None else list(hook.services),
                }
                for hook in hooks
            ]
        )

    @router.delete("/api/v1/admin/webhooks/{webhook_id}")
    async def remove_webhook(request: Request, webhook_id: int) -> Response:
        if (problem := await admin_problem(request)) is not None:
            return problem
        if not 0 < webhook_id <= MAX_ID or not await run_in_threadpool(
            store.remove_webhook, webhook_id
        ):
            return _error(404, f"no webhook {webhook_id}")
        return Response(status_code=204)

    @router.post("/api/v1/admin/accounts")
    async def add_account(request: Request) -> JSONResponse:
        if (problem := await admin_problem(request)) is not None:
            return problem
        try:
            body = AccountBody.model_validate_json(await request.body())
        except ValidationError as error:
            return _invalid(error)
        try:
            holder = await run_in_threadpool(
                lambda: store.add_account_holder(body.account, body.email, body.name, clock())
            )
        except UserError as error:
            status = 409 if isinstance(error, DuplicateError) else 422
            return _error(status, str(error.problems[0]))
        return JSONResponse(
            {
                "id": holder.id,
                "account": holder.account,
                "email": holder.email,
                "name": holder.name,
            },
            status_code=201,
        )

    @router.get("/api/v1/admin/accounts")
    async def list_accounts(request: Request) -> JSONResponse:
        if (problem := await admin_problem(request)) is not None:
            return problem
        holders = await run_in_threadpool(store.account_holders)
        return JSONResponse(
            [{"id": h.id, "account": h.account, "email": h.email, "name": h.name} for h in holders]
        )

    @router.delete("/api/v1/admin/accounts/{holder_id}")
    async def remove_account(request: Request, holder_id: int) -> Response:
        if (problem := await admin_problem(request)) is not None:
            return problem
        if not 0 < holder_id <= MAX_ID or not await run_in_threadpool(
            store.remove_account_holder, holder_id
        ):
            return _error(404, f"no account holder {holder_id}")
        return Response(status_code=204)

    return router
