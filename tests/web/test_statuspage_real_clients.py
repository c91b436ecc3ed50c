"""Real Statuspage clients, installed by ``scripts/test-clients.sh`` (``make test`` runs it),
against our ``/api/v2`` on a real server:

- PyPI's ``statuscheck`` (in a venv of its own: it pins click 7 and httpx 0.16);
- npm's ``statuspage.io`` under node;
- npm's ``@statuspage/status-widget``, Atlassian's web component, in chromium on a page
  served from another origin (another port), reading our server across origins.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from api_server import serving
from snapshots import PAGE_URL, Snapshots, public_app, status_snapshot

CLIENTS = Path(__file__).with_name("clients")
NODE_MODULES = CLIENTS / "node_modules"
STATUSCHECK = CLIENTS / ".venv" / "bin" / "python"


def require(path: Path, what: str) -> None:
    """Skip without ``path``; under ``CI=true``, fail instead."""
    if path.exists():
        return
    message = f"{path} is missing: scripts/test-clients.sh installs {what}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(public_app(Snapshots(status_snapshot()))) as served:
        yield served


def test_statuscheck_reads_the_summary(url: str) -> None:
    require(STATUSCHECK, "statuscheck")
    done = subprocess.run(
        [str(STATUSCHECK), str(CLIENTS / "statuscheck_run.py"), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "Current Acme status: Major outage",
        "Registered events:",
        "- [identified] Elevated errors on <Website>",
        "  Affected components:",
        "    - Website [Partial outage]",
        "- [scheduled] Database upgrade",
        "  Affected components:",
        "    - API & Search [Operational]",
        "",
        f"More: {url}",
    ]


def _node() -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is missing: scripts/test-clients.sh installs it", pytrace=False)
        pytest.skip("node is missing: scripts/test-clients.sh installs it")
    return node


def test_statuspage_io_reads_every_document(url: str) -> None:
    require(NODE_MODULES / "statuspage.io", "npm's statuspage.io")
    done = subprocess.run(
        [_node(), str(CLIENTS / "statuspage_io.js"), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    read: dict[str, Any] = json.loads(done.stdout)
    assert read["status"]["status"] == {
        "indicator": "major",
        "description": "Partial System Outage",
    }
    assert read["summary"]["page"]["url"] == PAGE_URL
    assert [c["id"] for c in read["components"]["components"]] == ["api", "web", "reports"]
    assert [i["id"] for i in read["incidents"]["incidents"]] == ["7", "5"]
    assert [i["id"] for i in read["unresolved"]["incidents"]] == ["7"]
    assert [m["id"] for m in read["upcoming"]["scheduled_maintenances"]] == ["maintenance-3"]
    # statuspage.io 3.3.8's getAll() and getActive() ask for upcoming.json (its own bug).
    assert read["maintenances"] == read["active"] == read["upcoming"]
    update = read["unresolved"]["incidents"][0]["incident_updates"][-1]
    assert update["affected_components"] == [
        {
            "code": "web",
            "name": "Website",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_origin(tmp_path: Path, url: str) -> Iterator[str]:
    """A page on another origin (its own port) embedding the widget pointed at ``url``."""
    require(NODE_MODULES / "@statuspage" / "status-widget", "npm's @statuspage/status-widget")
    widget = NODE_MODULES / "@statuspage" / "status-widget" / "dist" / "index.js"
    shutil.copy(widget, tmp_path / "status-widget.js")
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><title>Embedding</title>"
        '<link rel="icon" href="data:,">'
        '<script src="/status-widget.js"></script></head><body>'
        f'<statuspage-widget id="basic" src="{url}"></statuspage-widget>'
        f'<statuspage-widget id="badge" src="{url}" appearance="badge"></statuspage-widget>'
        "</body></html>"
    )
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *args: _Quiet(*args, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_status_widget_renders_our_status_from_another_origin(url: str, other_origin: str) -> None:
    from browsing import launched, watched_page

    with launched() as browser, watched_page(browser, other_origin) as (page, problems):
        basic = page.locator("#basic")
        basic.locator("text=Partial System Outage").wait_for(timeout=15_000)
        shown = basic.evaluate(
            """element => {
                const link = element.shadowRoot.querySelector('a');
                const dot = element.shadowRoot.querySelector('.status-indicator');
                return [link.textContent, link.href, dot.className];
            }"""
        )
        assert [" ".join(shown[0].split()), shown[1], shown[2]] == [
            "Partial System Outage",
            url + "/",  # the widget links to the page it reads
            "status-indicator major",
        ]
        # The widget's own bundle ends by calling Parcel's loader, which it does not ship;
        # it renders all the same. Nothing else goes wrong (no CORS or network error).
        assert problems == ["page error: parcelRequire is not defined"]
