"""Real Statuspage clients against our ``/api/v2`` and history feeds on a real server.

``statuspage-prometheus-exporter`` (PyPI) is run as it runs in production: its checker
reads ``services.json`` at import, fetches ``summary.json`` and turns it into gauges.
The history feeds are read with the standard library's XML parser as feed readers read
Statuspage's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import serving
from fastapi import FastAPI
from snapshots import CONTRACT, PAGE_URL, Snapshots, public_app, status_snapshot

from slaledger.web.subscriptions import Subscriptions, mount_subscriptions

EXPORTER = """
import json, sys
from statuspage_prometheus_exporter.service_checker import SERVICES, check_service_status
result = check_service_status("acme", SERVICES["acme"])
print(json.dumps({key: result.get(key) for key in (
    "status", "raw_status", "success", "incident_metadata", "maintenance_metadata",
    "component_metadata")}))
"""


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    snapshots = Snapshots(status_snapshot())
    app: FastAPI = public_app(snapshots)
    feeds = Subscriptions(
        None,  # type: ignore[arg-type]  # the feeds read no store
        lambda: 0,
        base_url=PAGE_URL,
        contract=CONTRACT,
        snapshot=snapshots,
    )
    mount_subscriptions(app, feeds, None)  # type: ignore[arg-type]  # nor tokens
    with serving(app) as served:
        yield served


def test_prometheus_exporter_reads_the_summary(url: str, tmp_path: Path) -> None:
    pytest.importorskip("statuspage_prometheus_exporter")
    services = tmp_path / "services.json"
    services.write_text(json.dumps({"acme": {"url": url + "/api/v2/summary.json", "name": "Acme"}}))
    done = subprocess.run(
        [sys.executable, "-c", EXPORTER],
        env={"SERVICES_JSON_PATH": str(services), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["success"], result["status"], result["raw_status"]) == (True, 0, "major")
    (incident,) = result["incident_metadata"]
    assert {k: incident[k] for k in ("id", "name", "impact", "shortlink", "started_at")} == {
        "id": "7",
        "name": "Elevated errors on <Website>",
        "impact": "major",
        "shortlink": PAGE_URL + "/incidents/7",
        "started_at": "2026-11-03T11:50:00.000Z",
    }
    assert incident["affected_components"] == ["Website"]
    (window,) = result["maintenance_metadata"]
    assert (window["id"], window["shortlink"]) == ("maintenance-3", PAGE_URL + "/maintenance/3")
    assert [(c["name"], c["status"]) for c in result["component_metadata"]] == [
        ("API & Search", "operational"),
        ("Website", "partial_outage"),
        ("Reports <beta>", "operational"),
    ]


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["Content-Type"], response.read()


def test_history_rss(url: str) -> None:
    content_type, body = _get(url + "/history.rss")
    assert content_type == "application/rss+xml; charset=utf-8"
    channel = ET.fromstring(body).find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Acme <Cloud> SLA Status - Incident History"
    assert channel.findtext("link") == PAGE_URL + "/"
    items = channel.findall("item")
    assert [(i.findtext("title"), i.findtext("link")) for i in items] == [
        ("Elevated errors on <Website>", PAGE_URL + "/incidents/7"),
        ("Database upgrade", PAGE_URL + "/maintenance/3"),
        ("API latency", PAGE_URL + "/incidents/5"),
        ("Network & power work", PAGE_URL + "/maintenance/2"),
    ]
    first = items[0]
    assert first.findtext("guid") == PAGE_URL + "/incidents/7"
    assert first.findtext("pubDate") == "Tue, 03 Nov 2026 11:50:00 +0000"
    assert (first.findtext("description") or "").startswith(
        "<p><small>Nov <var data-var='date'>3</var>, <var data-var='time'>12:20</var> UTC"
        "</small><br><strong>Identified</strong> - "
    )


def test_history_atom(url: str) -> None:
    content_type, body = _get(url + "/history.atom")
    assert content_type == "application/atom+xml; charset=utf-8"
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(body)
    assert feed.findtext("a:id", namespaces=ns) == "tag:status.acme.test,2005:/history"
    assert feed.findtext("a:title", namespaces=ns) == ("Acme <Cloud> SLA Status - Incident History")
    entries = feed.findall("a:entry", ns)
    ids = [e.findtext("a:id", namespaces=ns) for e in entries]
    assert "tag:status.acme.test,2005:Incident/7" in ids
    entry = entries[ids.index("tag:status.acme.test,2005:Incident/7")]
    assert entry.findtext("a:published", namespaces=ns) == "2026-11-03T11:50:00+00:00"
    link = entry.find("a:link", ns)
    assert link is not None
    assert link.get("href") == PAGE_URL + "/incidents/7"
