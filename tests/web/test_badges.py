"""SVG uptime badges: figures per period, truncation, colours, escaping, errors."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from xml.etree import ElementTree

import pytest
from api_server import serving
from snapshots import Snapshots, public_app, status_snapshot

from slaledger.web.badges import GREEN, GREY, RED, badge_svg, period_figure, truncated

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(public_app(Snapshots(status_snapshot()))) as served:
        yield served


def badge(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["content-type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read().decode()


def parts(svg: str) -> tuple[str, list[str], str, str]:
    """The spoken label, the two texts, the value's colour and the title."""
    root = ElementTree.fromstring(svg)
    texts = [text.text or "" for text in root.iter(f"{SVG}text")]
    colour = list(root.iter(f"{SVG}rect"))[1].get("fill") or ""
    title = root.find(f"{SVG}title")
    return root.get("aria-label") or "", texts, colour, "" if title is None else title.text or ""


@pytest.mark.parametrize(
    ("service", "period", "texts", "colour"),
    [
        ("api", "30d", ["uptime 30d", "99.99 %"], GREEN),
        ("api", "90d", ["uptime 90d", "99.99 %"], GREEN),
        ("api", "month", ["uptime 2026-11", "100.00 %"], GREEN),
        ("web", "month", ["uptime 2026-11", "99.75 %"], RED),
        ("web", "year", ["uptime 2026", "99.94 %"], RED),
        ("reports", "30d", ["uptime 30d", "100.00 %"], GREEN),
    ],
)
def test_badges(url: str, service: str, period: str, texts: list[str], colour: str) -> None:
    status, media_type, svg = badge(f"{url}/badge/{service}.svg?period={period}")
    assert (status, media_type) == (200, "image/svg+xml")
    spoken, shown, fill, _ = parts(svg)
    assert shown == texts
    assert spoken == f"{texts[0]}: {texts[1]}"
    assert fill == colour


def test_default_period_and_escaped_title(url: str) -> None:
    svg = badge(f"{url}/badge/api.svg")[2]
    assert "<title>API &amp; Search — uptime 30d: 99.99 %</title>" in svg
    assert parts(svg)[3] == "API & Search — uptime 30d: 99.99 %"
    assert parts(badge(f"{url}/badge/reports.svg")[2])[3] == "Reports <beta> — uptime 30d: 100.00 %"


def test_errors(url: str) -> None:
    assert badge(f"{url}/badge/nope.svg")[:2] == (404, "application/json")
    status, _, body = badge(f"{url}/badge/api.svg?period=week")
    assert status == 422
    assert body == '{"error":"period: expected one of 30d, 90d, month, year, got \'week\'"}'


def test_no_data_is_grey() -> None:
    snapshot = status_snapshot()
    reports = replace(snapshot.services[2], month_to_date=None)
    changed = replace(snapshot, services=(*snapshot.services[:2], reports))
    with serving(public_app(Snapshots(changed))) as served:
        svg = badge(f"{served}/badge/reports.svg?period=month")[2]
    assert parts(svg)[1:3] == (["uptime 2026-11", "no data"], GREY)


def test_truncation_never_rounds_up_to_a_met_target() -> None:
    assert truncated(Fraction("99.98999"), 2) == "99.98"
    assert truncated(Fraction("99.996"), 2) == "99.99"
    assert truncated(Fraction(100), 2) == "100.00"
    assert truncated(Fraction("5.5"), 3) == "5.500"


def test_thirty_days_is_the_mean_of_the_daily_figures() -> None:
    view = status_snapshot().services[0]
    label, figure = period_figure(view, "30d", "UTC", status_snapshot().generated_at)
    known = [day.availability for day in view.days[-30:] if day.availability is not None]
    assert label == "uptime 30d"
    assert figure == sum(known, Fraction(0)) / 30
    assert view.target == Decimal("99.9")


def test_badge_svg_escapes_every_text() -> None:
    svg = badge_svg('a<b>"', "1 & 2", GREEN, "<x>").decode()
    assert 'aria-label="a&lt;b&gt;&quot;: 1 &amp; 2"' in svg
    assert "<title>&lt;x&gt;</title>" in svg
    ElementTree.fromstring(svg)
