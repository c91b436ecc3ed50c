"""The status page on a real server: what it shows, escaping, caching (one render per
snapshot, ETag, 304, gzip), the per-service pages, static files and the CSS contrast."""

from __future__ import annotations

import gzip
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from api_server import serving
from snapshots import GENERATED_AT, Snapshots, public_app, status_snapshot

from slaledger.web.snapshot_cache import SnapshotCache, accepts_gzip, etag_matches

SNAPSHOT = status_snapshot()
CSS = Path(__file__).resolve().parents[2] / "src/slaledger/web/static/status.css"


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    call = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=10) as response:
            return response.status, _lower(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers.items()), error.read()


@pytest.fixture
def served() -> Iterator[tuple[str, Snapshots]]:
    snapshots = Snapshots(status_snapshot())
    with serving(public_app(snapshots)) as url:
        yield url, snapshots


def text_of(html: str) -> str:
    """Visible text: inline tags dropped, others a space, whitespace collapsed."""
    inline = re.sub(r"</?(time|strong|em|a|span)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)).strip()


def test_page_shows_status_services_incident_and_maintenance(
    served: tuple[str, Snapshots],
) -> None:
    url, _ = served
    status, headers, body = fetch(url + "/")
    html = body.decode()
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    text = text_of(html)
    assert "Acme <Cloud> SLA: status" not in html  # escaped
    assert "<title>Acme &lt;Cloud&gt; SLA: status</title>" in html
    assert "Partial outage Updated 2026-11-03 12:34 UTC" in text
    assert (
        "API &amp; Search Operational now Public REST API at api.acme.test Target 99.9 % "
        "This month 100.000000 % Downtime still allowed 3 min"
    ) in text
    assert (
        "Website Partial outage now Target 99.95 % This month 99.752339 % (under target) "
        "Downtime still allowed none (8 min over)"
    ) in text
    assert "Reports &lt;beta&gt; Operational now" in text
    assert html.count('<li tabindex="0"') == 270
    assert (
        '<li tabindex="0" class="i"><span>2026-11-03: 100.00 %, 1 incident: '
        "Elevated errors on &lt;Website&gt;</span></li>"
    ) in html
    assert '<li tabindex="0" class="n"><span>2026-08-06: no data, no incidents</span></li>' in html
    # the sanitised update bodies as HTML; everything else escaped
    assert '<div class="body"><p>Cause found: a <a href="https://acme.test/deploy">' in html
    assert "Ops &lt;oncall&gt;" in html
    assert '<h3 id="incident-7-title">Elevated errors on &lt;Website&gt;</h3>' in html
    assert (
        "Database upgrade · Upcoming 2026-11-10 02:00 UTC to 2026-11-10 04:00 UTC · "
        "API &amp; Search Scheduled maintenance, announced 2026-11-01 09:00 UTC: "
        "excluded from uptime."
    ) in text
    assert (
        "Network &amp; power work · Completed · emergency 2026-10-20 01:00 UTC to "
        "2026-10-20 01:30 UTC · "
        "All services at fra Emergency maintenance (announced 2 h ahead; the contract asks "
        "for 48 h): counted as downtime."
    ) in text
    assert "API latency Resolved · impact: degraded performance · API &amp; Search" in text


def test_page_has_landmarks_subscribe_form_and_feed_links(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    html = fetch(url + "/")[2].decode()
    for landmark in ("<header", '<nav aria-label="Sections">', '<main id="main"', "<footer"):
        assert landmark in html
    assert '<form class="subscribe" method="post" action="/subscribe">' in html
    assert '<input id="email" name="email" type="email" autocomplete="email" required>' in html
    assert '<input type="checkbox" name="services" value="web"> Website' in html
    assert '<a href="/feed.atom">Atom feed</a>' in html
    assert '<a href="/maintenance.ics">maintenance calendar</a>' in html
    assert "<script" not in html


def test_settled_months_show_their_figures(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    html = fetch(url + "/services/web")[2].decode()
    rows = [text_of(row) for row in re.findall(r"<tr>.*?</tr>", html)]
    assert rows[0] == "Month Availability fra nyc Downtime (min) Credit Figure"
    assert rows[1] == (
        "2026-11 99.752339 % target missed 99.257017 % target missed "
        "98.761695 % target missed 9 10 % to date"
    )
    assert rows[2] == (
        "2026-10 99.919355 % target missed 99.879032 % target missed 99.979839 % 36 0 % "
        "settled: statement of 2026-10"
    )
    assert '<a href="/api/v1/statements/2026-10">settled<span class="visually-hidden">' in html
    assert len(rows) == 1 + 36
    status, _, body = fetch(url + "/services/nope")
    assert status == 404
    assert "No service &#39;nope&#39; on this page." in body.decode()


def test_one_render_per_snapshot_etag_and_304(served: tuple[str, Snapshots]) -> None:
    url, snapshots = served
    first = fetch(url + "/")
    for _ in range(5):
        again = fetch(url + "/")
        assert again[2] == first[2]
    etag = first[1]["etag"]
    assert re.fullmatch(r'"[0-9a-f]{20}"', etag)
    assert first[1]["cache-control"] == "public, max-age=60"
    status, headers, body = fetch(url + "/", {"If-None-Match": etag})
    assert (status, body, headers["etag"]) == (304, b"", etag)
    assert fetch(url + "/", {"If-None-Match": f'"other", W/{etag}'})[0] == 304
    # a new snapshot: new figures, new ETag, the old one no longer matches
    snapshots.current = replace(status_snapshot(GENERATED_AT + 60_000_000), overall="operational")
    status, headers, body = fetch(url + "/", {"If-None-Match": etag})
    assert status == 200
    assert headers["etag"] != etag
    assert "All systems operational" in body.decode()


def test_renders_once_per_snapshot_under_concurrent_requests() -> None:
    from concurrent.futures import ThreadPoolExecutor

    snapshots = Snapshots(status_snapshot())
    app = public_app(snapshots)
    with serving(app) as url, ThreadPoolExecutor(16) as pool:
        bodies = set(pool.map(lambda _: fetch(url + "/")[2], range(64)))
        assert len(bodies) == 1
        cache = next(m.kwargs["cache"] for m in app.user_middleware if "cache" in m.kwargs)
        assert cache.renders == 1
        snapshots.current = status_snapshot(GENERATED_AT + 60_000_000)
        list(pool.map(lambda _: fetch(url + "/"), range(64)))
        assert cache.renders == 2


def test_gzip_when_asked(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    plain = fetch(url + "/")
    status, headers, body = fetch(url + "/", {"Accept-Encoding": "gzip, deflate"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == plain[2]
    assert headers["etag"] == plain[1]["etag"][:-1] + '-gz"'
    assert "content-encoding" not in fetch(url + "/", {"Accept-Encoding": "gzip;q=0"})[1]


def test_head_and_fast_path_equal_fastapi_route(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    call = urllib.request.Request(url + "/", method="HEAD")
    with urllib.request.urlopen(call, timeout=10) as response:
        assert response.status == 200
        assert response.read() == b""
    # ``/?x`` goes through the fast path too; ``/services/web`` through FastAPI only
    assert fetch(url + "/?x=1")[2] == fetch(url + "/")[2]


def test_static_css(served: tuple[str, Snapshots]) -> None:
    url, _ = served
    status, headers, body = fetch(url + "/static/status.css")
    assert status == 200
    assert headers["content-type"] == "text/css; charset=utf-8"
    assert body == CSS.read_bytes()
    assert fetch(url + "/static/missing.css")[0] == 404


def test_cache_keeps_within_its_limits() -> None:
    cache = SnapshotCache(lambda: SNAPSHOT, max_entries=3, max_bytes=5_000)
    for key in "abcd":
        cache.get(key, lambda _snapshot: b"x" * 1000)
    assert cache.renders == 4
    cache.get("b", lambda _snapshot: b"")  # still kept: a, the oldest, went
    cache.get("a", lambda _snapshot: b"y" * 1000)
    assert cache.renders == 5
    cache.get("big", lambda _snapshot: b"z" * 10_000)  # larger than the budget: not kept
    cache.get("big", lambda _snapshot: b"z" * 10_000)
    assert cache.renders == 7


def test_header_helpers() -> None:
    assert accepts_gzip("gzip, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("br, deflate")
    assert etag_matches("*", '"a"')
    assert etag_matches('W/"a"', '"a"')
    assert not etag_matches('"b"', '"a"')


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, two: str) -> float:
    high, low = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", [0, 1])
def test_css_contrast_meets_wcag_aa(scheme: int) -> None:
    blocks = re.findall(r":root \{([^}]*)\}", CSS.read_text())
    colours = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6});", blocks[scheme]))
    for text in ("fg", "muted", "link"):
        assert _contrast(colours[text], colours["bg"]) >= 4.5, text
        assert _contrast(colours[text], colours["panel"]) >= 4.5, text
    assert _contrast(colours["tip-fg"], colours["tip-bg"]) >= 4.5
    assert _contrast(colours["bg"], colours["link"]) >= 4.5  # the button
    for bar in ("met", "missed", "down", "incident", "none", "maint"):
        assert _contrast(colours[bar], colours["bg"]) >= 3, bar
