"""End to end in a real browser: the real ``slaledger serve`` process over a real SQLite store,
a real SMTP server (aiosmtpd), and Playwright driving Debian's chromium.

A week of observations of ``examples/contracts/live-demo.yaml`` is imported with
``slaledger import`` (outages included, so the bars have figures of every colour), the server
is started with a publisher tick every second, an operator opens an incident with two
Markdown updates and schedules two maintenance windows through the operator API with an
admin token made by ``slaledger token create``. A visitor then sees the services, 90 bars
each, the incident and its updates, the maintenance and their pages, subscribes by email and
follows the confirmation link from the email the SMTP server received; no console errors,
page errors or failed requests anywhere.

Never downloads a browser; skips when ``/usr/bin/chromium`` is missing, except under
``CI=true``, where that is a failure. ``SLALEDGER_SCREENSHOTS=1`` writes the light and dark
screenshots in ``docs/`` from this server.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from browsing import require_chromium

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
CONTRACT = REPO / "examples" / "contracts" / "live-demo.yaml"
DAYS_IMPORTED = 7
"""Six closed days and today up to the import."""
SUBSCRIBER = "visitor@example.test"
RUNBOOK = "https://example.com/runbook"

require_chromium()

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402
from browsing import launched, watched_page  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402

pytestmark = pytest.mark.slow


# --- Helpers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str) -> str:
    """Runs the real ``slaledger`` command; its stdout (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-m", "slaledger", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def wait_until(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Polls ``check`` until it holds; fails naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def call(
    url: str, method: str = "GET", body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    """A JSON request; the status and the decoded answer."""
    request = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(body).encode()
    )
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@dataclass
class Mailbox:
    """The local SMTP server's received messages."""

    messages: list[EmailMessage] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, subject: str, timeout: float = 20.0) -> EmailMessage:
        def found() -> EmailMessage | None:
            return next((m for m in self.messages if m["Subject"] == subject), None)

        with self.arrived:
            assert self.arrived.wait_for(lambda: found() is not None, timeout), (
                f"no email {subject!r}; got {[m['Subject'] for m in self.messages]}"
            )
            message = found()
        assert message is not None
        return message


def observations(now: datetime) -> tuple[str, dict[str, str]]:
    """A CSV of one probe a minute per service at ``fra`` and ``ams`` from midnight
    ``DAYS_IMPORTED - 1`` days ago until ``now``, with three outages; and the days (by name)
    the outages were on."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    day = {back: (today - timedelta(days=back)) for back in range(DAYS_IMPORTED)}
    outages = [
        # Web application down 30 minutes yesterday everywhere: amber (target 99.9 missed)
        ("web", ("fra", "ams"), day[1] + timedelta(hours=10), 30, "503"),
        # Public API down 90 minutes three days ago everywhere: red (under 95 %)
        ("api", ("fra", "ams"), day[3] + timedelta(hours=14), 90, "500"),
        # Edge down 10 minutes at fra five days ago
        ("edge", ("fra",), day[5] + timedelta(hours=6), 10, ""),
    ]
    rows = ["timestamp,service,location,status,error,latency_ms,retry_after"]
    moment = day[DAYS_IMPORTED - 1]
    while moment < now:
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        for service in ("web", "api", "edge"):
            for location in ("fra", "ams"):
                status, error = "200", ""
                for down_service, places, start, minutes, code in outages:
                    if (
                        service == down_service
                        and location in places
                        and start <= moment < start + timedelta(minutes=minutes)
                    ):
                        status, error = code, "" if code else "connect"
                rows.append(f"{stamp},{service},{location},{status},{error},12.5,")
        moment += timedelta(minutes=1)
    names = {"web": day[1].strftime("%Y-%m-%d"), "api": day[3].strftime("%Y-%m-%d")}
    return "\n".join(rows) + "\n", names


def minute(moment: datetime) -> str:
    return moment.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- The site ------------------------------------------------------------------------------


@dataclass
class Site:
    url: str
    mailbox: Mailbox
    incident: dict[str, Any]
    scheduled: dict[str, Any]
    emergency: dict[str, Any]
    outage_days: dict[str, str]
    log: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("e2e")
    db = f"sqlite:///{folder / 'store.db'}"
    now = datetime.now(UTC)
    csv, outage_days = observations(now)
    (folder / "observations.csv").write_text(csv)
    imported = cli("import", str(CONTRACT), str(folder / "observations.csv"), "--db", db)
    assert re.fullmatch(r".*: \d+ observations read, \d+ stored \(0 already present\)\n", imported)
    token = cli("token", "create", "--scope", "admin", "--name", "ops-e2e", "--db", db).strip()

    mailbox = Mailbox()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "slaledger", "serve", str(CONTRACT)),
                *("--db", db, "--port", str(port), "--public-url", url, "--no-probes"),
                *("--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port)),
                *("--smtp-from", "status@status.example.test", "--refresh-seconds", "1"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:

        def healthy() -> bool:
            assert server.poll() is None, "slaledger serve ended:\n" + log.read_text()
            try:
                return call(url + "/healthz") == (200, {"status": "ok"})
            except OSError:
                return False

        wait_until("the server to answer", healthy)
        assert f"slaledger serve: listening on {url}\n" in log.read_text()
        site = Site(url, mailbox, {}, {}, {}, outage_days, log)
        operate(site, token, now)
        wait_for_snapshot(site)
        yield site
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        controller.stop()


def operate(site: Site, token: str, now: datetime) -> None:
    """What an operator does through the operator API: an incident with two updates, a
    scheduled and an emergency maintenance window."""
    admin = site.url + "/api/v1/admin"
    status, opened = call(
        admin + "/incidents",
        "POST",
        {
            "title": "Elevated errors on the web application",
            "services": ["web"],
            "impact": "major",
            "body": f"We are **investigating** errors; see [the runbook]({RUNBOOK}).",
        },
        token,
    )
    assert status == 201, opened
    number = opened["incident"]["id"]
    status, updated = call(
        f"{admin}/incidents/{number}/updates",
        "POST",
        {"status": "identified", "body": "Cause: a **bad deploy**, rolled back at 01:00."},
        token,
    )
    assert status == 201, updated
    site.incident.update(updated["incident"])
    assert [u["status"] for u in site.incident["updates"]] == ["investigating", "identified"]
    assert site.incident["updates"][0]["body_html"] == (
        f'<p>We are <strong>investigating</strong> errors; see <a href="{RUNBOOK}" '
        'rel="nofollow noopener">the runbook</a>.</p>\n'
    )

    start = now + timedelta(days=3)
    status, scheduled = call(
        admin + "/maintenance",
        "POST",
        {
            "services": ["api"],
            "title": "Database upgrade",
            "start": minute(start),
            "end": minute(start + timedelta(hours=2)),
        },
        token,
    )
    assert status == 201, scheduled
    assert scheduled["maintenance"]["kind"] == "scheduled"
    assert re.fullmatch(
        r"scheduled maintenance: announced 7[01]h\d+m(\d+s)? before its start; api needs 48h "
        r"notice — excluded from downtime",
        scheduled["notice"],
    ), scheduled["notice"]
    site.scheduled.update(scheduled["maintenance"])

    soon = now + timedelta(hours=2)
    status, emergency = call(
        admin + "/maintenance",
        "POST",
        {
            "services": ["edge"],
            "title": "Edge router reboot",
            "start": minute(soon),
            "end": minute(soon + timedelta(minutes=30)),
            "location": "fra",
        },
        token,
    )
    assert status == 201, emergency
    assert emergency["maintenance"]["kind"] == "emergency"
    assert re.fullmatch(
        r"emergency maintenance: announced 1h\d+m(\d+s)? before its start; edge needs 48h "
        r"notice — this window counts as downtime",
        emergency["notice"],
    ), emergency["notice"]
    site.emergency.update(emergency["maintenance"])


def wait_for_snapshot(site: Site) -> None:
    """Until a snapshot shows the operator's changes and every imported closed day's figure
    (the publisher fills figures in a little at a time)."""

    def ready() -> bool:
        status = call(site.url + "/api/v1/status")[1]
        active = [item["id"] for item in status["active_incidents"]]
        upcoming = [item["id"] for item in status["upcoming_maintenance"]]
        if active != [site.incident["id"]] or len(upcoming) != 2:
            return False
        uptime = call(site.url + "/api/v1/uptime")[1]
        return all(
            day["availability"] is not None
            for service in uptime["services"]
            for day in service["days"][-DAYS_IMPORTED:]
        )

    wait_until("a snapshot with the incident, maintenance and every day's figure", ready)


# --- The browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as opened:
        yield opened


@dataclass
class Visit:
    page: Page
    problems: list[str]


@pytest.fixture
def visit(browser: Browser, site: Site) -> Iterator[Visit]:
    """A fresh browser context on the page, recording console errors and warnings, page
    errors and failed requests."""
    with watched_page(browser, site.url + "/") as (page, problems):
        yield Visit(page, problems)


def test_visitor_sees_services_and_their_bars(site: Site, visit: Visit) -> None:
    page = visit.page
    expect(page.locator("h1")).to_have_text("Live demo SaaS: status")
    expect(page.locator(".overall-text")).to_have_text("Partial outage")
    expect(page.locator("#services article h3")).to_have_text(
        ["Web application", "Public API", "Edge network (per PoP)"]
    )
    # One imported probe a minute under a contract that checks every 10 s: by the time the
    # page is read the newest result may be more than 20 s old, and the page says so.
    stale = r"( · no recent data since \d{4}-\d\d-\d\d \d\d:\d\d UTC)?"
    quiet = re.compile(r"(Operational now|No recent data since \d{4}-\d\d-\d\d \d\d:\d\d UTC)")
    expect(page.locator("#services article .state")).to_have_text(
        [re.compile("Partial outage now" + stale), quiet, quiet]
    )
    for service in ("web", "api", "edge"):
        bars = page.locator(f"#service-{service} .bars li")
        expect(bars).to_have_count(90)
        expect(page.locator(f"#service-{service} .bars li.n")).to_have_count(90 - DAYS_IMPORTED)
    web = page.locator("#service-web .bars li")
    expect(web.nth(88)).to_have_class("w")
    expect(web.nth(88)).to_have_text(f"{site.outage_days['web']}: 97.91 %, no incidents")
    expect(web.nth(89)).to_have_class("i")
    expect(web.nth(89)).to_have_text(
        re.compile(
            r"\d{4}-\d\d-\d\d: 100\.00 %, 1 incident: Elevated errors on the web application"
        )
    )
    api = page.locator("#service-api .bars li")
    expect(api.nth(86)).to_have_class("d")
    expect(api.nth(86)).to_have_text(f"{site.outage_days['api']}: 93.75 %, no incidents")
    expect(page.locator("#service-web .figures")).to_contain_text("Target99.9 %")
    web.nth(88).focus()
    tip = web.nth(88).locator("span").bounding_box()
    assert tip is not None
    assert tip["width"] > 100
    assert visit.problems == []


def test_visitor_sees_the_incident_and_its_updates(site: Site, visit: Visit) -> None:
    page = visit.page
    number = site.incident["id"]
    incident = page.locator(f"#incident-{number}")
    expect(incident.locator("h3")).to_have_text("Elevated errors on the web application")
    expect(incident.locator(".meta")).to_contain_text(
        "Identified · impact: partial outage · Web application"
    )
    expect(incident.locator(".update-head strong")).to_have_text(["Identified", "Investigating"])
    expect(incident.locator(".update-head")).to_have_text(
        [
            re.compile(r"^Identified · \d{4}-\d\d-\d\d \d\d:\d\d UTC · ops-e2e$"),
            re.compile(r"^Investigating · \d{4}-\d\d-\d\d \d\d:\d\d UTC · ops-e2e$"),
        ]
    )
    bodies = incident.locator(".updates .body")
    expect(bodies).to_have_text(
        [
            "Cause: a bad deploy, rolled back at 01:00.",
            "We are investigating errors; see the runbook.",
        ]
    )
    expect(bodies.nth(0).locator("strong")).to_have_text("bad deploy")
    expect(bodies.nth(1).locator("strong")).to_have_text("investigating")
    link = bodies.nth(1).locator("a")
    expect(link).to_have_attribute("href", RUNBOOK)
    expect(link).to_have_attribute("rel", "nofollow noopener")

    # its page, from the page's link
    incident.get_by_role("link", name="Details of Elevated errors on the web application").click()
    expect(page).to_have_url(f"{site.url}/incidents/{number}")
    expect(page.locator("h1")).to_have_text("Elevated errors on the web application")
    facts = page.locator(".facts dd")
    expect(facts.nth(0)).to_have_text("Identified")
    expect(facts.nth(1)).to_have_text("partial outage")
    expect(facts.nth(2)).to_have_text("Web application")
    expect(facts.nth(4)).to_have_text(re.compile(r"^Not yet: going on for (under 1 min|\d+ min)$"))
    expect(facts.nth(5)).to_have_text("By an operator")
    expect(facts.nth(6)).to_have_text(
        "Not classified as an exclusion: downtime during this incident counts"
    )
    expect(page.locator(".updates .body")).to_have_text(
        [
            "Cause: a bad deploy, rolled back at 01:00.",
            "We are investigating errors; see the runbook.",
        ]
    )
    page.locator(".facts a", has_text="Web application").click()
    expect(page).to_have_url(f"{site.url}/services/web")
    expect(page.locator("h1")).to_have_text("Web application")
    assert visit.problems == []


def test_visitor_sees_maintenance(site: Site, visit: Visit) -> None:
    page = visit.page
    planned, urgent = site.scheduled["id"], site.emergency["id"]
    expect(page.locator("#maintenance .maintenance")).to_have_count(2)
    scheduled = page.locator(f"#maintenance-{planned}")
    expect(scheduled).to_contain_text("Database upgrade · Upcoming")
    expect(scheduled).to_contain_text(" · Public API")
    expect(scheduled).to_contain_text(
        re.compile(r"Scheduled maintenance, announced [-\d]+ [:\d]+ UTC: excluded from uptime\.")
    )
    emergency = page.locator(f"#maintenance-{urgent}")
    expect(emergency).to_contain_text("Edge router reboot · Upcoming · emergency")
    expect(emergency).to_contain_text(" · Edge network (per PoP) at fra")
    expect(emergency).to_contain_text(
        re.compile(
            r"Emergency maintenance \(announced 1h\d+m(\d+s)? before its start; edge needs 48h "
            r"notice\): counted as downtime\."
        )
    )

    emergency.get_by_role("link", name="Edge router reboot").click()
    expect(page).to_have_url(f"{site.url}/maintenance/{urgent}")
    expect(page.locator("h1")).to_have_text("Edge router reboot")
    facts = page.locator(".facts dd")
    expect(facts.nth(0)).to_have_text("Upcoming · emergency")
    expect(facts.nth(1)).to_have_text(re.compile(r" to .* UTC \(30 min\)$"))
    expect(facts.nth(2)).to_have_text("Edge network (per PoP)")
    expect(facts.nth(3)).to_have_text("fra")
    expect(facts.nth(5)).to_have_text(
        re.compile(
            r"^Emergency maintenance \(announced 1h\d+m(\d+s)? before its start; edge needs "
            r"48h notice\): counted as downtime\.$"
        )
    )
    page.goto(f"{site.url}/maintenance/{planned}")
    expect(page.locator("h1")).to_have_text("Database upgrade")
    expect(page.locator(".facts dd").nth(1)).to_have_text(re.compile(r"\(2 h\)$"))
    expect(page.locator(".facts dd").nth(5)).to_have_text(
        "Scheduled maintenance, announced with the contract's notice: excluded from uptime."
    )
    assert visit.problems == []


def test_visitor_subscribes_and_confirms_from_the_email(site: Site, visit: Visit) -> None:
    page = visit.page
    form = page.locator("form.subscribe")
    form.get_by_label("Email address").fill(SUBSCRIBER)
    form.get_by_label("Web application").check()
    form.get_by_role("button", name="Subscribe by email").click()
    expect(page).to_have_url(f"{site.url}/subscribe")
    expect(page.locator("h1")).to_have_text("Check your inbox")
    expect(page.locator("main")).to_contain_text(
        f"If {SUBSCRIBER} can receive email, a confirmation link is on its way. Follow it to "
        "start receiving incident and maintenance updates of Web application."
    )

    message = site.mailbox.wait_for("Confirm your subscription to Live demo SaaS status updates")
    assert message["To"] == SUBSCRIBER
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    links = re.findall(r"\S+/subscribe/confirm\?token=\S+", str(body.get_content()))
    assert len(links) == 1
    assert links[0].startswith(f"{site.url}/subscribe/confirm?token=")

    page.goto(links[0])
    expect(page.locator("h1")).to_have_text("Subscription confirmed")
    expect(page.locator("main")).to_contain_text(
        f"{SUBSCRIBER} now receives incident and maintenance updates of Web application."
    )
    page.get_by_role("link", name="Back to the Live demo SaaS status page").click()
    expect(page).to_have_url(f"{site.url}/")
    assert visit.problems == []
    # the link works once: a second visit is a 404 page (which the console reports)
    page.goto(links[0])
    expect(page.locator("h1")).to_have_text("Link expired")
    assert visit.problems == [
        "error: Failed to load resource: the server responded with a status of 404 (Not Found) "
        f"({links[0]})"
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(browser: Browser, site: Site, scheme: Any) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 1400}, color_scheme=scheme)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(site.url + "/")
    background: Any = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(13, 17, 23)")
    if os.environ.get("SLALEDGER_SCREENSHOTS") == "1":
        page.locator("#service-web .bars li").nth(88).focus()
        page.screenshot(path=str(DOCS / f"status-page-{scheme}.png"), full_page=False)
    assert problems == []
    context.close()
