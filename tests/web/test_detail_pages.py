"""The incident and maintenance pages (``/incidents/{id}``, ``/maintenance/{id}``) that emails
and feeds link to, on a real server: exact texts, escaping, links from the page, 404 for an
unknown id, and caching like the other pages."""

from __future__ import annotations

import gzip
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from api_server import serving
from snapshots import (
    ACTIVE,
    CONTRACT,
    GENERATED_AT,
    PAST,
    RESOLVED,
    UPCOMING,
    Snapshots,
    public_app,
)
from snapshots import status_snapshot as base_snapshot

from slaledger.core.maintenance_suggest import notice_check
from slaledger.core.publication import MaintenanceView, StatusSnapshot
from slaledger.core.timebase import to_instant
from slaledger.web.snapshot_cache import SnapshotCache
from slaledger.web.status_page import duration, emergency_text

FILE_WINDOW = MaintenanceView(
    id=-1,
    title="Rack move <fra>",
    services=("api", "web", "gone"),
    location=None,
    start=to_instant(datetime(2026, 11, 20, 22, tzinfo=UTC)),
    end=to_instant(datetime(2026, 11, 22, 1, 30, tzinfo=UTC)),
    announced=to_instant(datetime(2026, 10, 1, tzinfo=UTC)),
    kind="scheduled",
    reason="",
)
"""A window of the events file (negative id), with a service no longer in the contract."""


def status_snapshot(generated_at: int = GENERATED_AT) -> StatusSnapshot:
    """The fabricated snapshot, its resolved incident classified, and a file window."""
    snapshot = base_snapshot(generated_at)
    classified = replace(RESOLVED, exclusion_cause="force-majeure")
    return replace(
        snapshot,
        recent_incidents=(classified,),
        upcoming_maintenance=(UPCOMING, FILE_WINDOW),
    )


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers (lower-case names) and the body as text (gunzipped if it came so)."""
    call = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=10) as response:
            status, items, body = response.status, response.headers.items(), response.read()
    except urllib.error.HTTPError as error:
        status, items, body = error.code, error.headers.items(), error.read()
    found = {name.lower(): value for name, value in items}
    if found.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return status, found, body.decode()


def main_text(html: str) -> str:
    """The visible text of ``<main>``: inline tags dropped, others a space."""
    main = html.split('<main id="main" class="wrap">', 1)[1].split("</main>", 1)[0]
    inline = re.sub(r"</?(time|strong|em|a|span|code)\b[^>]*>", "", main)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)).strip()


@pytest.fixture
def served() -> Iterator[tuple[str, Snapshots]]:
    snapshots = Snapshots(status_snapshot())
    with serving(public_app(snapshots)) as url:
        yield url, snapshots


def test_active_incident_page(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    status, headers, html = fetch(url + "/incidents/7")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Elevated errors on &lt;Website&gt;: Acme &lt;Cloud&gt; SLA</title>" in html
    assert '<h1 id="incident-title">Elevated errors on &lt;Website&gt;</h1>' in html
    assert main_text(html) == (
        "All incidents Elevated errors on &lt;Website&gt; "
        "Status Identified Impact partial outage Services Website "
        "Started 2026-11-03 11:50 UTC Resolved Not yet: going on for 44 min "
        "Opened Automatically: the contract's downtime rule confirmed an outage "
        "Exclusion Not classified as an exclusion: downtime during this incident counts "
        "Updates "
        "Identified · 2026-11-03 12:20 UTC · Ops &lt;oncall&gt; Cause found: a bad deploy. "
        "Investigating · 2026-11-03 11:55 UTC · Ops &lt;oncall&gt; "
        "We are investigating errors on the website."
    )
    # the sanitised bodies as HTML, newest first; the service links to its page
    assert (
        '<div class="body"><p>Cause found: a <a href="https://acme.test/deploy">bad deploy</a>.'
        "</p></div>"
    ) in html
    assert "<p>We are <em>investigating</em> errors on the website.</p>" in html
    assert html.index("Cause found") < html.index("We are")
    assert '<dd><a href="/services/web">Website</a></dd>' in html
    assert '<time datetime="2026-11-03T11:50:00Z">2026-11-03 11:50 UTC</time>' in html
    assert '<a href="/#incidents">All incidents</a>' in html
    assert "<script" not in html


def test_resolved_incident_classified_as_an_exclusion(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    status, _, html = fetch(url + "/incidents/5")
    assert status == 200
    assert main_text(html) == (
        "All incidents API latency "
        "Status Resolved Impact degraded performance Services API &amp; Search "
        "Started 2026-10-25 08:00 UTC Resolved 2026-10-25 08:40 UTC, after 40 min "
        "Opened By an operator "
        "Exclusion Classified as an exclusion, cause force-majeure: the contract allows it, "
        "so the classified time does not count as downtime "
        "Updates "
        "Resolved · 2026-10-25 08:40 UTC · Ops Fixed. "
        "Investigating · 2026-10-25 08:05 UTC · Ops Slow answers from the API."
    )
    assert '<article class="incident impact-minor" id="incident-5"' in html
    assert '<a href="/#incident-history">All incidents</a>' in html


def test_incident_without_updates_on_every_service(served: tuple[str, Snapshots]) -> None:
    url, snapshots = served
    bare = replace(ACTIVE, id=12, services=("api", "web", "reports"), updates=(), impact="none")
    snapshots.current = replace(status_snapshot(), active_incidents=(ACTIVE, bare))
    status, _, html = fetch(url + "/incidents/12")
    assert status == 200
    text = main_text(html)
    assert "Services API &amp; Search, Website, Reports &lt;beta&gt; Started" in text
    assert text.endswith("Updates No updates yet.")
    assert (
        '<a href="/services/api">API &amp; Search</a>, <a href="/services/web">Website</a>, '
        '<a href="/services/reports">Reports &lt;beta&gt;</a>'
    ) in html


def test_upcoming_scheduled_maintenance_page(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    status, headers, html = fetch(url + "/maintenance/3")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Database upgrade: Acme &lt;Cloud&gt; SLA</title>" in html
    assert main_text(html) == (
        "All maintenance Database upgrade "
        "Status Upcoming "
        "Window 2026-11-10 02:00 UTC to 2026-11-10 04:00 UTC (2 h) "
        "Services API &amp; Search Location Every location "
        "Announced 2026-11-01 09:00 UTC "
        "Uptime Scheduled maintenance, announced with the contract's notice: "
        "excluded from uptime."
    )
    assert '<dd><a href="/services/api">API &amp; Search</a></dd>' in html
    assert '<a href="/#maintenance">All maintenance</a>' in html
    assert '<a href="/#past-maintenance">All maintenance</a>' in fetch(url + "/maintenance/2")[2]


def test_past_emergency_maintenance_page(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    status, _, html = fetch(url + "/maintenance/2")
    assert status == 200
    assert main_text(html) == (
        "All maintenance Network &amp; power work "
        "Status Completed · emergency "
        "Window 2026-10-20 01:00 UTC to 2026-10-20 01:30 UTC (30 min) "
        "Services All services Location fra "
        "Announced 2026-10-19 23:00 UTC "
        "Uptime Emergency maintenance (announced 2 h ahead; the contract asks for 48 h): "
        "counted as downtime."
    )


def test_events_file_window_has_a_negative_id(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    status, _, html = fetch(url + "/maintenance/-1")
    assert status == 200
    assert main_text(html) == (
        "All maintenance Rack move &lt;fra&gt; "
        "Status Upcoming "
        "Window 2026-11-20 22:00 UTC to 2026-11-22 01:30 UTC (1 d 3 h 30 min) "
        "Services API &amp; Search, Website, gone Location Every location "
        "Announced 2026-10-01 00:00 UTC "
        "Uptime Scheduled maintenance, announced with the contract's notice: "
        "excluded from uptime."
    )
    # a service no longer on the page is named, not linked
    assert '<a href="/services/web">Website</a>, gone</dd>' in html


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/incidents/99", "No incident &#39;99&#39; on this page."),
        ("/incidents/3", "No incident &#39;3&#39; on this page."),  # a maintenance id
        ("/incidents/-7", "No incident &#39;-7&#39; on this page."),
        ("/incidents/x%3Cb%3E", "No incident &#39;x&lt;b&gt;&#39; on this page."),
        ("/incidents/" + "9" * 40, f"No incident &#39;{'9' * 40}&#39; on this page."),
        ("/maintenance/99", "No maintenance window &#39;99&#39; on this page."),
        ("/maintenance/7", "No maintenance window &#39;7&#39; on this page."),
        ("/maintenance/-2", "No maintenance window &#39;-2&#39; on this page."),
        ("/maintenance/1e3", "No maintenance window &#39;1e3&#39; on this page."),
        ("/maintenance/--1", "No maintenance window &#39;--1&#39; on this page."),
    ],
)
def test_unknown_ids_are_404(served: tuple[str, Snapshots], path: str, message: str) -> None:
    url, _ = served
    status, headers, html = fetch(url + path)
    assert status == 404
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Not found</h1>" in html
    assert f'<p>{message} <a href="/">Back to the status page</a>.</p>' in html


def test_page_links_to_the_detail_pages(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    html = fetch(url + "/")[2]
    assert (
        '<a class="more" href="/incidents/7">Details<span class="visually-hidden"> of '
        "Elevated errors on &lt;Website&gt;</span></a>"
    ) in html
    assert (
        '<a class="more" href="/incidents/5">Details<span class="visually-hidden"> of '
        "API latency</span></a>"
    ) in html
    assert '<strong><a href="/maintenance/3">Database upgrade</a></strong> · Upcoming' in html
    assert '<strong><a href="/maintenance/-1">Rack move &lt;fra&gt;</a></strong>' in html
    assert '<strong><a href="/maintenance/2">Network &amp; power work</a></strong>' in html
    service = fetch(url + "/services/web")[2]
    assert '<a class="more" href="/incidents/7">Details' in service
    # every detail page linked from the page exists
    for path in sorted(set(re.findall(r'href="(/(?:incidents|maintenance)/-?\d+)"', html))):
        assert fetch(url + path)[0] == 200, path


def test_detail_pages_are_cached_per_snapshot(served: tuple[str, Snapshots]) -> None:
    url, snapshots = served
    status, headers, html = fetch(url + "/incidents/7")
    etag = headers["etag"]
    assert headers["cache-control"] == "public, max-age=60"
    assert fetch(url + "/incidents/7", {"If-None-Match": etag})[0] == 304
    maintenance = fetch(url + "/maintenance/3")[1]["etag"]
    assert fetch(url + "/maintenance/3", {"If-None-Match": maintenance})[0] == 304
    _, zipped, unzipped = fetch(url + "/incidents/7", {"Accept-Encoding": "gzip"})
    assert (zipped["content-encoding"], unzipped) == ("gzip", html)
    # a new snapshot: the incident is resolved, the page says so under a new ETag
    later = GENERATED_AT + 60_000_000
    resolved = replace(ACTIVE, status="resolved", resolved=later)
    snapshots.current = replace(
        status_snapshot(later), active_incidents=(), recent_incidents=(resolved,)
    )
    status, headers, html = fetch(url + "/incidents/7", {"If-None-Match": etag})
    assert status == 200
    assert headers["etag"] != etag
    assert "Resolved 2026-11-03 12:35 UTC, after 45 min" in main_text(html)
    # and a window that left the page is a 404
    snapshots.current = replace(status_snapshot(later), past_maintenance=())
    assert fetch(url + "/maintenance/2")[0] == 404
    assert PAST.id == 2


def test_render_counts_once_per_snapshot() -> None:
    snapshots = Snapshots(status_snapshot())
    app = public_app(snapshots)
    with serving(app) as url:
        cache = next(m.kwargs["cache"] for m in app.user_middleware if "cache" in m.kwargs)
        assert isinstance(cache, SnapshotCache)
        before = cache.renders
        for _ in range(5):
            assert fetch(url + "/incidents/7")[0] == 200
            assert fetch(url + "/maintenance/-1")[0] == 200
            assert fetch(url + "/incidents/99")[0] == 404
        assert cache.renders == before + 3


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "under 1 min"),
        (1, "1 min"),
        (60, "1 h"),
        (61, "1 h 1 min"),
        (1440, "1 d"),
        (1530, "1 d 1 h 30 min"),
        (2 * 1440 + 5, "2 d 5 min"),
    ],
)
def test_duration(minutes: int, text: str) -> None:
    assert duration(0, minutes * 60_000_000 + 59_999_999) == text


def test_emergency_text_of_the_operators_notice() -> None:
    hour = 3_600_000_000
    start = GENERATED_AT + 3 * hour
    check = notice_check(CONTRACT, ("api",), start, start + hour, GENERATED_AT)
    assert check.reason == (
        "emergency maintenance: announced 3h before its start; api needs 48h notice — "
        "this window counts as downtime"
    )
    assert emergency_text(check.reason) == (
        "Emergency maintenance (announced 3h before its start; api needs 48h notice): "
        "counted as downtime."
    )
    # scheduled for one service, counted for the other: the consequence names them
    start = GENERATED_AT + 72 * hour
    mixed = notice_check(CONTRACT, ("api", "web"), start, start + hour, GENERATED_AT)
    assert emergency_text(mixed.reason) == (
        "Emergency maintenance (announced 72h before its start; api needs 48h notice, web "
        "excludes no maintenance): this window counts as downtime for web (it is excluded "
        "for api)."
    )
    # a reason alone, as the events file's windows and older views give it
    assert emergency_text("announced 2 h ahead") == (
        "Emergency maintenance (announced 2 h ahead): counted as downtime."
    )
