"""Subscribing on a real server over SQLite and PostgreSQL, with a real SMTP server: double
opt-in through the emailed link, one-click unsubscribe, the feeds, and the admin API."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from api_server import CONTRACT, START, Clock, serving
from fastapi import FastAPI

from slaledger.core.publication import IncidentUpdate, IncidentView, MaintenanceView, StatusSnapshot
from slaledger.core.timebase import US_PER_MINUTE
from slaledger.notify.email_sender import EmailSender, SmtpSettings
from slaledger.notify.messages import Site as MessageSite
from slaledger.notify.outbox import Notifier, OutboxWorker
from slaledger.notify.webhook_sender import WebhookSender
from slaledger.store.database import connect, migrate
from slaledger.store.subscriber_store import SubscriberStore
from slaledger.store.tokens import TokenStore
from slaledger.web.subscriptions import Subscriptions, mount_subscriptions

INCIDENT = IncidentView(
    id=1,
    title="API down",
    services=("api",),
    status="investigating",
    impact="critical",
    started=START,
    resolved=None,
    automatic=False,
    exclusion_cause=None,
    updates=(IncidentUpdate(START, "investigating", "<p>Looking.</p>", "ops"),),
)
WINDOW = MaintenanceView(
    id=2,
    title="Edge, reboot",
    services=("edge",),
    location="fra",
    start=START + 60 * US_PER_MINUTE,
    end=START + 90 * US_PER_MINUTE,
    announced=START,
    kind="emergency",
    reason="Short notice.",
)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 OK"


@dataclass
class Site:
    url: str
    store: SubscriberStore
    clock: Clock
    mailbox: Mailbox
    outbox: OutboxWorker
    notifier: Notifier
    admin: str
    agent: str

    def send(self) -> None:
        async def go() -> None:
            await self.outbox.run_once()

        asyncio.run(go())

    def mail(self) -> list[EmailMessage]:
        return list(self.mailbox.messages)


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    headers: dict[str, str]


def call(
    url: str,
    *,
    data: bytes | None = None,
    method: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.read().decode(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode(), dict(error.headers))


def form(url: str, fields: list[tuple[str, str]]) -> Reply:
    return call(
        url,
        data=urllib.parse.urlencode(fields).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def admin(url: str, token: str | None, payload: Any = None, method: str = "POST") -> Reply:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if payload is None else json.dumps(payload).encode()
    return call(url, data=data, method=method, headers=headers)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def link(message: EmailMessage, label: str) -> str:
    found = re.search(rf"^{label}: (\S+)$", body_text(message), re.MULTILINE)
    assert found is not None, body_text(message)
    return found.group(1)


def snapshot_now() -> StatusSnapshot:
    return StatusSnapshot(
        generated_at=START,
        contract="web-test",
        title="Web test",
        timezone="UTC",
        overall="major-outage",
        services=(),
        active_incidents=(INCIDENT,),
        recent_incidents=(),
        upcoming_maintenance=(WINDOW,),
        past_maintenance=(),
    )


@pytest.fixture
def site(store_url: str) -> Iterator[Site]:
    engine = connect(store_url)
    migrate(engine)
    store = SubscriberStore(engine)
    tokens = TokenStore(engine)
    clock = Clock(START)
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings = SmtpSettings("127.0.0.1", controller.port, from_address="status@web-test.example")
    outbox = OutboxWorker(store, clock, email=EmailSender(settings), webhooks=WebhookSender())
    app = FastAPI()
    try:
        with serving(app) as url:
            subscriptions = Subscriptions(
                store,
                clock,
                base_url=url,
                contract=CONTRACT,
                snapshot=snapshot_now,
                resend_minutes=10,
            )
            mount_subscriptions(app, subscriptions, tokens)
            notifier = Notifier(store, MessageSite.of(CONTRACT, url), clock)
            yield Site(
                url,
                store,
                clock,
                mailbox,
                outbox,
                notifier,
                tokens.create("admin", "ops", START),
                tokens.create("agent", "a", START, location="fra"),
            )
    finally:
        controller.stop()
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_double_opt_in_through_the_emailed_link(site: Site) -> None:
    page = form(f"{site.url}/subscribe", [("email", "Ana@Example.com"), ("services", "api")])
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-store"
    assert "<h1>Check your inbox</h1>" in page.body
    assert (
        "<p>If <strong>ana@example.com</strong> can receive email, a confirmation link is on "
        "its way. Follow it to start receiving incident and maintenance updates of API.</p>"
    ) in page.body
    site.notifier.enqueue_for(INCIDENT, START)  # before confirming: not for ana
    site.send()
    [confirmation] = site.mail()
    assert confirmation["To"] == "ana@example.com"
    assert confirmation["Subject"] == "Confirm your subscription to Web test status updates"
    confirm_url = link(confirmation, "Confirm your subscription")
    assert confirm_url.startswith(f"{site.url}/subscribe/confirm?token=")
    # The same address again within 10 minutes: the same page, no second email.
    assert form(f"{site.url}/subscribe", [("email", "ana@example.com")]).status == 200
    site.send()
    assert len(site.mail()) == 1

    confirmed = call(confirm_url)
    assert confirmed.status == 200
    assert "<h1>Subscription confirmed</h1>" in confirmed.body
    assert (
        "<p><strong>ana@example.com</strong> now receives incident and maintenance updates of "
        "API.</p>"
    ) in confirmed.body
    again = call(confirm_url)
    assert again.status == 404
    assert "<h1>Link expired</h1>" in again.body

    resolved = IncidentView(**{**INCIDENT.__dict__, "status": "resolved", "resolved": START + 1})
    assert site.notifier.enqueue_for(resolved, START) == 1
    assert site.notifier.enqueue_for(WINDOW, START) == 0  # edge: not ana's service
    site.send()
    update = site.mail()[-1]
    assert update["Subject"] == "[Web test] Resolved: API down"
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = link(update, "Unsubscribe")
    assert update["List-Unsubscribe"] == f"<{unsubscribe_url}>"

    # The link opens a page with one button; a GET alone changes nothing.
    landing = call(unsubscribe_url)
    assert landing.status == 200
    assert (
        "<p>Stop sending status updates of Web test to <strong>ana@example.com</strong>?</p>"
        in (landing.body)
    )
    assert len(site.store.subscribers()) == 1
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(unsubscribe_url).query)["token"][0]
    assert f'<input type="hidden" name="token" value="{token}">' in landing.body
    done = form(f"{site.url}/unsubscribe", [("token", token)])
    assert done.status == 200
    assert (
        "<p><strong>ana@example.com</strong> no longer receives status updates of Web test.</p>"
        in (done.body)
    )
    assert site.store.subscribers(confirmed_only=False) == []
    assert call(unsubscribe_url).status == 404


def test_rfc_8058_one_click_post(site: Site) -> None:
    form(f"{site.url}/subscribe", [("email", "bo@example.com")])
    site.send()
    call(link(site.mail()[0], "Confirm your subscription"))
    site.notifier.enqueue_for(INCIDENT, START)
    site.send()
    target = site.mail()[-1]["List-Unsubscribe"].strip("<>")
    reply = form(target, [("List-Unsubscribe", "One-Click")])
    assert reply.status == 200
    assert site.store.subscribers() == []
    assert form(target, [("List-Unsubscribe", "One-Click")]).status == 200  # idempotent


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            [("email", "not-an-address")],
            "expected an email address like name@example.com, got &#39;not-an-address&#39;",
        ),
        ([], "expected an email address, got nothing"),
        ([("email", "a@example.com"), ("services", "nope")], "Unknown service &#39;nope&#39;."),
    ],
)
def test_bad_subscriptions_show_the_form_again(
    site: Site, fields: list[tuple[str, str]], message: str
) -> None:
    reply = form(f"{site.url}/subscribe", fields)
    assert reply.status == 422
    assert f'<p role="alert" class="error">{message}</p>' in reply.body
    assert '<form method="post"' in reply.body
    assert site.store.subscribers(confirmed_only=False) == []


def test_the_standalone_form_works_without_javascript(site: Site) -> None:
    page = call(f"{site.url}/subscribe")
    assert page.status == 200
    assert f'<form method="post" action="{site.url}/subscribe">' in page.body
    assert '<input type="checkbox" name="services" value="edge"> Edge' in page.body
    assert "<script" not in page.body


def test_feeds(site: Site) -> None:
    atom = call(f"{site.url}/feed.atom")
    assert atom.status == 200
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(atom.body)
    ns = "{http://www.w3.org/2005/Atom}"
    assert [e.findtext(f"{ns}title") for e in feed.findall(f"{ns}entry")] == [
        "Investigating: API down",
        "Emergency maintenance: Edge, reboot",
    ]
    ics = call(f"{site.url}/maintenance.ics")
    assert ics.status == 200
    assert ics.headers["content-type"] == "text/calendar; charset=utf-8"
    lines = ics.body.split("\r\n")
    assert lines[7:12] == [
        f"UID:maintenance-2.web-test@{urllib.parse.urlsplit(site.url).hostname}",
        "DTSTAMP:20261009T124030Z",
        "DTSTART:20261009T134030Z",
        "DTEND:20261009T141030Z",
        "CREATED:20261009T124030Z",
    ]
    assert "SUMMARY:Maintenance: Edge\\, reboot" in lines


def test_admin_webhooks_and_accounts(site: Site) -> None:
    hooks = f"{site.url}/api/v1/admin/webhooks"
    missing = admin(hooks, None, {"url": "https://hooks.example/x"})
    assert (missing.status, json.loads(missing.body)) == (
        401,
        {"error": "missing bearer token: send Authorization: Bearer <admin token>"},
    )
    assert missing.headers["www-authenticate"] == "Bearer"
    assert admin(hooks, "sl_nope", {}).status == 401
    wrong = admin(hooks, site.agent, {"url": "https://hooks.example/x"})
    assert (wrong.status, json.loads(wrong.body)) == (
        403,
        {"error": "a token with scope agent cannot use the operator API; use an admin token"},
    )
    bad = admin(hooks, site.admin, {"url": "https://hooks.example/x", "services": ["nope"]})
    assert (bad.status, json.loads(bad.body)) == (
        422,
        {"error": "services.0: unknown service 'nope'; contract web-test has api, web, edge"},
    )
    bad_url = admin(hooks, site.admin, {"url": "file:///etc/passwd"})
    assert json.loads(bad_url.body) == {
        "error": "url: expected an http or https URL, got 'file:///etc/passwd'"
    }
    assert json.loads(admin(hooks, site.admin, {"url": 5}).body) == {
        "error": "url: input should be a valid string, got 5"
    }
    created = admin(hooks, site.admin, {"url": "https://hooks.example/x", "services": ["api"]})
    assert created.status == 201
    hook = json.loads(created.body)
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", hook["secret"])
    assert hook == {
        "id": hook["id"],
        "url": "https://hooks.example/x",
        "secret": hook["secret"],
        "services": ["api"],
    }
    listed = admin(hooks, site.admin, method="GET")
    assert json.loads(listed.body) == [
        {"id": hook["id"], "url": "https://hooks.example/x", "services": ["api"]}
    ]
    assert admin(f"{hooks}/{hook['id']}", site.admin, method="DELETE").status == 204
    gone = admin(f"{hooks}/{hook['id']}", site.admin, method="DELETE")
    assert (gone.status, json.loads(gone.body)) == (404, {"error": f"no webhook {hook['id']}"})

    accounts = f"{site.url}/api/v1/admin/accounts"
    made = admin(accounts, site.admin, {"account": "globex", "email": "Ops@Globex.example"})
    assert made.status == 201
    holder = json.loads(made.body)
    assert holder == {
        "id": holder["id"],
        "account": "globex",
        "email": "ops@globex.example",
        "name": None,
    }
    twice = admin(accounts, site.admin, {"account": "globex", "email": "ops@globex.example"})
    assert (twice.status, json.loads(twice.body)) == (
        409,
        {"error": "email: ops@globex.example is already a contact of account 'globex'"},
    )
    assert admin(accounts, site.admin, {"account": "x", "email": "nope"}).status == 422
    assert json.loads(admin(accounts, site.admin, method="GET").body) == [holder]
    site.notifier.enqueue_for(WINDOW, START)
    site.send()
    [notice] = site.mail()
    assert notice["To"] == "ops@globex.example"
    # Python folds this subject right after "Subject:"; unfolding leaves the space.
    assert notice["Subject"].lstrip() == (
        "[Web test] Emergency maintenance: Edge, reboot (2026-10-09 13:40-14:10 UTC)"
    )
    assert admin(f"{accounts}/{holder['id']}", site.admin, method="DELETE").status == 204
