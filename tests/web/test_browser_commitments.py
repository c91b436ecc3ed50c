"""The commitments section in a real browser (Debian's chromium, driven by Playwright): the
tables, the provisioning chart drawn as inline SVG with its accessible name, on a narrow
screen too, and nothing going wrong in the console. Skips without ``/usr/bin/chromium``
(a failure under ``CI=true``), like the other browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import serving
from browsing import require_chromium
from snapshots import Snapshots, public_app
from test_commitments_page import EXAMPLES, published

from slaledger.files.contract_file import load_contract

require_chromium()

from browsing import launched, watched_page  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    snapshot, _ = published("hosting-pop", Path(tmp_path_factory.mktemp("browser")))
    contract = load_contract(EXAMPLES / "hosting-pop.yaml")
    with serving(public_app(Snapshots(snapshot), contract)) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as opened:
        yield opened


@pytest.fixture
def page(browser: Browser, url: str) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser, url + "/") as watched:
        yield watched


def test_visitor_sees_every_commitment_and_its_months(page: tuple[Page, list[str]]) -> None:
    shown, problems = page
    titles = shown.locator("#commitments article h3")
    expect(titles).to_have_text(
        [
            "Support first response, tier-1",
            "Support first response, tier-2",
            "Hardware swap",
            "DDoS mitigation",
            "VPS provisioning",
        ]
    )
    october = shown.locator("#commitment-ddos-mitigation tbody tr").nth(1)
    expect(october.locator("th, td")).to_have_text(
        ["2026-10", "not met", "15", "14", "1", "5", "settled"]
    )
    swap = shown.locator("#commitment-hardware-swap tbody tr").nth(1)
    expect(swap.locator("td").nth(4)).to_have_text("2")
    assert problems == []


def test_the_chart_is_drawn_and_named(page: tuple[Page, list[str]]) -> None:
    shown, problems = page
    chart = shown.get_by_role(
        "img",
        name="VPS provisioning: median of the trailing 30 days, at the end of each of the "
        "last 90 days",
    )
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 500
    assert box["height"] > 120
    line = chart.locator("polyline.values")
    expect(line).to_have_count(1)
    line_box = line.bounding_box()
    assert line_box is not None
    assert line_box["width"] > 300  # 75 judged days of 90
    target = chart.locator("line.target").bounding_box()
    assert target is not None
    # The 62 s median runs below the 90 s target line (SVG y grows downwards).
    assert line_box["y"] > target["y"]
    assert problems == []


def test_a_narrow_screen_scales_the_chart_down(browser: Browser, url: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 800})
    shown = context.new_page()
    shown.goto(url + "/")
    chart = shown.locator("#commitment-vps-provisioning svg")
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] <= 360
    width = shown.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    context.close()
