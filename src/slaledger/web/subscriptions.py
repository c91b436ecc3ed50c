"""Subscribing to the status page: email double opt-in, unsubscribe, feeds, admin API.

:func:`mount_subscriptions` serves them on an app over a :class:`Subscriptions` (the store,
the clock, the contract, the settings). Public, HTML (plain forms, no JavaScript):

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

Admin (``Authorization: Bearer <admin token>``; JSON, errors ``{"error": "…"}`` as
:mod:`slaledger.web.errors` answers them: 401 for a missing or unknown token, 403 for a
token of another scope, 422 naming the bad field, 503 when the database fails):
``POST``/``GET /api/v1/admin/webhooks``, ``DELETE /api/v1/admin/webhooks/{id}``,
``POST``/``GET /api/v1/admin/accounts``, ``DELETE /api/v1/admin/accounts/{id}``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from slaledger.core.contract import Contract
from slaledger.core.publication import StatusSnapshot
from slaledger.core.timebase import US_PER_HOUR, US_PER_MINUTE, Clock
from slaledger.errors import HttpError, UserError
from slaledger.notify.feeds import ATOM_TYPE, ICALENDAR_TYPE, atom_feed, maintenance_calendar
from slaledger.notify.history_feeds import ATOM_TYPE as HISTORY_ATOM_TYPE
from slaledger.notify.history_feeds import RSS_TYPE, history_atom, history_rss
from slaledger.notify.messages import Site, confirmation_email
from slaledger.notify.webhook_sender import check_url, host_problem, resolved_problem
from slaledger.store.subscriber_store import (
    NewDelivery,
    SubscriberStore,
    normalise_email,
)
from slaledger.store.tokens import TokenStore
from slaledger.web.bearer import AdminToken
from slaledger.web.errors import SERVER_ERRORS, error_responses, field_error, install_error_handlers

TEMPLATES = Path(__file__).with_name("templates")
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


B = TypeVar("B", bound=_Body)


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


class Subscriptions:
    """What the subscription routes run on (``app.state.subscriptions``). ``snapshot`` gives
    the current :class:`StatusSnapshot` (it may block: it runs in a thread); ``wake`` is
    called after a confirmation email is queued (give :meth:`OutboxWorker.wake`).
    ``base_url`` is the status page's public URL, for links."""

    def __init__(
        self,
        store: SubscriberStore,
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
    ) -> None:
        self.store = store
        self.clock = clock
        self.contract = contract
        self.snapshot = snapshot
        self.wake = wake
        self.site = Site.of(contract, base_url)
        self.resend_minutes = resend_minutes
        self.resend_after = resend_minutes * US_PER_MINUTE
        self.confirm_hours = confirm_hours
        self.confirm_age = confirm_hours * US_PER_HOUR
        self.clients = _ClientLimit(client_limit, self.resend_after)
        self.allow_private = allow_private
        self.max_pending = max_pending
        self.resolve_seconds = resolve_seconds
        self.choices = [(key, service.name) for key, service in contract.services.items()]

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = _pages.get_template(f"subscriptions/{name}").render(site=self.site, **values)
        return HTMLResponse(html, status_code=status, headers=PRIVATE_HEADERS)

    def form(
        self, status: int, error: str | None, email: str = "", chosen: tuple[str, ...] = ()
    ) -> HTMLResponse:
        return self.page(
            "subscribe.html",
            status,
            error=error,
            email=email,
            services=self.choices,
            chosen=chosen,
        )

    def invalid_link(self, heading: str, message: str) -> HTMLResponse:
        return self.page("link_invalid.html", 404, heading=heading, message=message)

    async def address_refused(self, url: str) -> str | None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if (problem := host_problem(host)) is not None:
            return problem
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(resolved_problem, host, port), self.resolve_seconds
            )
        except TimeoutError:
            return None  # checked again when it is called

    def check_services(self, services: list[str] | None) -> None:
        """:class:`HttpError` 422 for a service the contract lacks, or an empty list."""
        contract = self.contract
        for index, key in enumerate(services or ()):
            if key not in contract.services:
                known = ", ".join(contract.services)
                raise HttpError(
                    422,
                    f"services.{index}: unknown service {key!r}; "
                    f"contract {contract.contract} has {known}",
                )
        if services is not None and not services:
            raise HttpError(422, "services: expected at least one service, or leave it out")


def subscriptions(request: Request) -> Subscriptions:
    found: Subscriptions = request.app.state.subscriptions
    return found


Subs = Annotated[Subscriptions, Depends(subscriptions)]

pages = APIRouter(include_in_schema=False)
"""The public pages and feeds (HTML, Atom, RSS, iCalendar: not API operations)."""
admin = APIRouter(
    prefix="/api/v1/admin",
    tags=["subscriptions"],
    responses=error_responses(401, 403, 422) | SERVER_ERRORS,
)


def mount_subscriptions(app: FastAPI, subscriptions: Subscriptions, tokens: TokenStore) -> None:
    """Serve the routes above on ``app``, the admin ones for ``tokens``' admins."""
    install_error_handlers(app)
    app.state.subscriptions = subscriptions
    app.state.tokens = tokens
    app.include_router(pages)
    app.include_router(admin)


def _body(model: type[B], raw: bytes) -> B:
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise HttpError(422, field_error(error)) from None


# --- Email subscriptions -------------------------------------------------------------------


@pages.get("/subscribe")
def subscribe_form(subs: Subs) -> HTMLResponse:
    return subs.form(200, None)


@pages.post("/subscribe")
async def subscribe(request: Request, subs: Subs) -> HTMLResponse:
    now = subs.clock()
    client = request.client.host if request.client is not None else "unknown"
    if not subs.clients.allow(client, now):
        return subs.form(429, f"Too many requests; try again in {subs.resend_minutes} minutes.")
    fields = await request.form()
    text = fields.get("email")
    chosen = tuple(dict.fromkeys(str(value) for value in fields.getlist("services")))
    typed = text if isinstance(text, str) else ""
    try:
        email = normalise_email(typed)
    except UserError as error:
        return subs.form(422, error.problems[0].message, typed, chosen)
    unknown = [key for key in chosen if key not in subs.contract.services]
    if unknown:
        return subs.form(422, f"Unknown service {unknown[0]!r}.", typed, chosen)
    services = chosen or None
    store = subs.store
    pending = await run_in_threadpool(store.pending_confirmations, now - subs.confirm_age)
    if pending >= subs.max_pending:
        return subs.form(
            429,
            "Too many subscriptions are waiting for confirmation; try again in an hour.",
            typed,
            chosen,
        )

    def compose(confirm: str, unsubscribe: str) -> NewDelivery:
        message = confirmation_email(subs.site, confirm, unsubscribe, services)
        return NewDelivery("email", "subscription.confirm", email, message.to_json())

    queued = await run_in_threadpool(
        lambda: store.subscribe(
            email, services, now, resend_after=subs.resend_after, compose=compose
        )
    )
    if queued:
        subs.wake()
    return subs.page(
        "check_inbox.html",
        email=email,
        services=subs.site.services_text(services),
        resend_minutes=subs.resend_minutes,
    )


@pages.get("/subscribe/confirm")
async def confirm(subs: Subs, token: str = "") -> HTMLResponse:
    subscriber = None
    if token:
        subscriber = await run_in_threadpool(
            lambda: subs.store.confirm(token, subs.clock(), max_age=subs.confirm_age)
        )
    if subscriber is None:
        return subs.invalid_link(
            "Link expired",
            "This confirmation link was already used, was replaced by a newer one, or is "
            f"older than {subs.confirm_hours} hours. If you confirmed before, you are "
            "subscribed; if not, subscribe again.",
        )
    return subs.page(
        "confirmed.html",
        email=subscriber.email,
        services=subs.site.services_text(subscriber.services),
    )


@pages.get("/unsubscribe")
async def unsubscribe_page(subs: Subs, token: str = "") -> HTMLResponse:
    subscriber = None
    if token:
        subscriber = await run_in_threadpool(subs.store.by_unsubscribe_token, token)
    if subscriber is None:
        return subs.invalid_link(
            "Not subscribed",
            "This unsubscribe link is no longer valid: the address is not subscribed.",
        )
    return subs.page("unsubscribe.html", email=subscriber.email, token=token)


@pages.post("/unsubscribe")
async def unsubscribe(request: Request, subs: Subs) -> HTMLResponse:
    fields = await request.form()
    posted = fields.get("token")
    token = posted if isinstance(posted, str) else request.query_params.get("token", "")
    subscriber = await run_in_threadpool(subs.store.unsubscribe, token) if token else None
    return subs.page("unsubscribed.html", email=None if subscriber is None else subscriber.email)


# --- Feeds ---------------------------------------------------------------------------------


@pages.get("/feed.atom")
async def atom(subs: Subs) -> Response:
    current = await run_in_threadpool(subs.snapshot)
    return Response(atom_feed(current, subs.site), media_type=ATOM_TYPE, headers=FEED_HEADERS)


@pages.get("/history.atom")
async def history_atom_feed(subs: Subs) -> Response:
    current = await run_in_threadpool(subs.snapshot)
    body = history_atom(current, subs.site)
    return Response(body, media_type=HISTORY_ATOM_TYPE, headers=FEED_HEADERS)


@pages.get("/history.rss")
async def history_rss_feed(subs: Subs) -> Response:
    current = await run_in_threadpool(subs.snapshot)
    return Response(history_rss(current, subs.site), media_type=RSS_TYPE, headers=FEED_HEADERS)


@pages.get("/maintenance.ics")
async def calendar(subs: Subs) -> Response:
    current = await run_in_threadpool(subs.snapshot)
    text = maintenance_calendar(current, subs.site)
    return Response(text.encode(), media_type=ICALENDAR_TYPE, headers=FEED_HEADERS)


# --- Admin ---------------------------------------------------------------------------------


@admin.post("/webhooks", status_code=201, responses=error_responses(400, 408, 413))
async def add_webhook(request: Request, _token: AdminToken, subs: Subs) -> JSONResponse:
    body = _body(WebhookBody, await request.body())
    try:
        check_url(body.url)
    except ValueError as error:
        raise HttpError(422, f"url: {error}") from None
    if not subs.allow_private and (refused := await subs.address_refused(body.url)) is not None:
        raise HttpError(
            422, f"url: refused: {refused} (allowed only with --allow-private-webhooks)"
        )
    subs.check_services(body.services)
    secret = body.secret or SECRET_PREFIX + secrets.token_urlsafe(32)
    services = None if body.services is None else tuple(body.services)
    webhook = await run_in_threadpool(
        lambda: subs.store.add_webhook(body.url, secret, services, subs.clock())
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


@admin.get("/webhooks")
async def list_webhooks(_token: AdminToken, subs: Subs) -> JSONResponse:
    hooks = await run_in_threadpool(subs.store.webhooks)
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


@admin.delete("/webhooks/{webhook_id}", status_code=204, responses=error_responses(404))
async def remove_webhook(_token: AdminToken, subs: Subs, webhook_id: int) -> Response:
    if not 0 < webhook_id <= MAX_ID or not await run_in_threadpool(
        subs.store.remove_webhook, webhook_id
    ):
        raise HttpError(404, f"no webhook {webhook_id}")
    return Response(status_code=204)


@admin.post("/accounts", status_code=201, responses=error_responses(400, 408, 409, 413))
async def add_account(request: Request, _token: AdminToken, subs: Subs) -> JSONResponse:
    body = _body(AccountBody, await request.body())
    holder = await run_in_threadpool(
        lambda: subs.store.add_account_holder(body.account, body.email, body.name, subs.clock())
    )
    return JSONResponse(
        {"id": holder.id, "account": holder.account, "email": holder.email, "name": holder.name},
        status_code=201,
    )


@admin.get("/accounts")
async def list_accounts(_token: AdminToken, subs: Subs) -> JSONResponse:
    holders = await run_in_threadpool(subs.store.account_holders)
    return JSONResponse(
        [{"id": h.id, "account": h.account, "email": h.email, "name": h.name} for h in holders]
    )


@admin.delete("/accounts/{holder_id}", status_code=204, responses=error_responses(404))
async def remove_account(_token: AdminToken, subs: Subs, holder_id: int) -> Response:
    if not 0 < holder_id <= MAX_ID or not await run_in_threadpool(
        subs.store.remove_account_holder, holder_id
    ):
        raise HttpError(404, f"no account holder {holder_id}")
    return Response(status_code=204)
