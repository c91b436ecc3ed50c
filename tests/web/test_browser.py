"""The status page in a real browser: Playwright driving Debian's chromium against a real
server. Never downloads a browser; skips when ``/usr/bin/chromium`` is missing, except under
``CI=true``, where that is a failure. The screenshots in ``docs/`` come from
``test_browser_e2e.py``, against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_server import serving
from browsing import require_chromium
from snapshots import Snapshots, public_app, status_snapshot

DOCS = Path(__file__).resolve().parents[2] / "docs"

require_chromium()

from browsing import launched, watched_page  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(public_app(Snapshots(status_snapshot()))) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as opened:
        yield opened


@pytest.fixture
def page(browser: Browser, url: str) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser, url + "/") as watched:
        yield watched


def test_visitor_sees_services_with_90_bars_each(page: tuple[Page, list[str]]) -> None:
    shown, problems = page
    expect(shown.locator(".overall-text")).to_have_text("Partial outage")
    names = shown.locator("#services article h3")
    expect(names).to_have_text(["API & Search", "Website", "Reports <beta>"])
    for service in ("api", "web", "reports"):
        expect(shown.locator(f"#service-{service} .bars li")).to_have_count(90)
    states = shown.locator("#services article .state")
    expect(states).to_have_text(["Operational now", "Partial outage now", "Operational now"])
    assert problems == []


def test_focusing_a_bar_shows_its_figure(page: tuple[Page, list[str]]) -> None:
    shown, problems = page
    bar = shown.locator("#service-web .bars li").nth(89)
    tip = bar.locator("span")
    expect(tip).to_have_text("2026-11-03: 100.00 %, 1 incident: Elevated errors on <Website>")
    hidden = tip.bounding_box()
    assert hidden is not None
    assert hidden["width"] <= 1
    bar.focus()
    expect(bar).to_be_focused()
    shown_box = tip.bounding_box()
    assert shown_box is not None
    assert shown_box["width"] > 100
    assert shown_box["height"] > 10
    first = shown.locator("#service-api .bars li").first
    first.hover()
    box = first.locator("span").bounding_box()
    assert box is not None
    assert box["width"] > 100
    expect(first.locator("span")).to_have_text("2026-08-06: 99.93 %, no incidents")
    assert problems == []


def test_keyboard_reaches_the_bars(page: tuple[Page, list[str]]) -> None:
    shown, _problems = page
    shown.locator("#service-api h3 a").focus()
    shown.keyboard.press("Tab")
    focused: Any = shown.evaluate("document.activeElement.textContent")
    assert focused == "2026-08-06: 99.93 %, no incidents"


def test_visitor_sees_the_incident_and_its_updates(page: tuple[Page, list[str]]) -> None:
    shown, problems = page
    incident = shown.locator("#incident-7")
    expect(incident.locator("h3")).to_have_text("Elevated errors on <Website>")
    expect(incident.locator(".updates .body")).to_have_text(
        ["Cause found: a bad deploy.", "We are investigating errors on the website."]
    )
    expect(incident.locator(".updates .body a")).to_have_attribute(
        "href", "https://acme.test/deploy"
    )
    expect(incident.locator(".update-head strong")).to_have_text(["Identified", "Investigating"])
    assert problems == []


def test_visitor_sees_maintenance(page: tuple[Page, list[str]]) -> None:
    shown, problems = page
    expect(shown.locator("#maintenance-3")).to_contain_text("Database upgrade · Upcoming")
    expect(shown.locator("#maintenance-3")).to_contain_text(
        "2026-11-10 02:00 UTC to 2026-11-10 04:00 UTC · API & Search"
    )
    expect(shown.locator("#maintenance-2")).to_contain_text("Network & power work · Completed")
    expect(shown.locator("#maintenance-2")).to_contain_text(
        "Emergency maintenance (announced 2 h ahead; the contract asks for 48 h): counted"
    )
    assert problems == []


def test_monthly_history_opens(page: tuple[Page, list[str]]) -> None:
    shown, problems = page
    history = shown.locator("#history details").nth(1)
    history.locator("summary").click()
    rows = history.locator("tbody tr")
    expect(rows).to_have_count(36)
    expect(history.locator("thead th")).to_have_text(
        ["Month", "Availability", "fra", "nyc", "Downtime (min)", "Credit", "Figure"]
    )
    expect(rows.nth(0).locator("th, td")).to_have_text(
        [
            "2026-11",
            "99.752339 % target missed",
            "99.257017 % target missed",
            "98.761695 % target missed",
            "9",
            "10 %",
            "to date",
        ]
    )
    expect(rows.nth(1).locator("th, td")).to_have_text(
        [
            "2026-10",
            "99.919355 % target missed",
            "99.879032 % target missed",
            "99.979839 %",
            "36",
            "0 %",
            "settled: statement of 2026-10",
        ]
    )
    assert problems == []


def test_narrow_screen_shows_30_bars_without_scrolling(browser: Browser, url: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 800})
    shown = context.new_page()
    shown.goto(url + "/")
    visible = shown.locator("#service-api .bars li:visible")
    expect(visible).to_have_count(30)
    width: Any = shown.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_light_and_dark_schemes(browser: Browser, url: str, scheme: Any) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 1400}, color_scheme=scheme)
    shown = context.new_page()
    shown.goto(url + "/")
    background: Any = shown.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(13, 17, 23)")
    context.close()
