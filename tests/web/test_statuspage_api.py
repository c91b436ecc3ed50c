"""The Statuspage-compatible ``/api/v2`` documents: Statuspage's field names and values."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from api_server import request, serving
from snapshots import PAGE_URL, Snapshots, public_app, status_snapshot

from slaledger.core.publication import ServiceState
from slaledger.web.statuspage_api import html_text

PAGE = {
    "id": "acme-sla",
    "name": "Acme <Cloud> SLA",
    "url": PAGE_URL,
    "time_zone": "UTC",
    "updated_at": "2026-11-03T12:34:56.000Z",
}
COMPONENT_FIELDS = [
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
]
INCIDENT_FIELDS = [
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
]
UPDATE_FIELDS = [
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(public_app(Snapshots(status_snapshot()))) as served:
        yield served


def get(url: str) -> dict[str, object]:
    reply = request(url)
    assert reply.status == 200
    assert isinstance(reply.body, dict)
    return reply.body


def test_summary(url: str) -> None:
    body = get(url + "/api/v2/summary.json")
    assert list(body) == ["page", "components", "incidents", "scheduled_maintenances", "status"]
    assert body["page"] == PAGE
    assert body["status"] == {"indicator": "major", "description": "Partial System Outage"}
    components = body["components"]
    assert isinstance(components, list)
    assert [list(c) for c in components] == [COMPONENT_FIELDS] * 3
    assert components[1] == {
        "id": "web",
        "name": "Website",
        "status": "partial_outage",
        "created_at": "2026-11-03T12:34:56.000Z",
        "updated_at": "2026-11-03T12:34:56.000Z",
        "position": 2,
        "description": None,
        "showcase": True,
        "start_date": "2023-12-01",
        "group_id": None,
        "page_id": "acme-sla",
        "group": False,
        "only_show_if_degraded": False,
    }
    (incident,) = body["incidents"]  # type: ignore[misc]
    assert list(incident) == INCIDENT_FIELDS
    assert {k: v for k, v in incident.items() if k not in ("incident_updates", "components")} == {
        "id": "7",
        "name": "Elevated errors on <Website>",
        "status": "identified",
        "created_at": "2026-11-03T11:50:00.000Z",
        "updated_at": "2026-11-03T12:20:00.000Z",
        "monitoring_at": None,
        "resolved_at": None,
        "impact": "major",
        "shortlink": "https://status.acme.test/incidents/7",
        "started_at": "2026-11-03T11:50:00.000Z",
        "page_id": "acme-sla",
    }
    assert [list(u) for u in incident["incident_updates"]] == [UPDATE_FIELDS] * 2
    assert incident["incident_updates"][0] == {
        "id": "7-2",
        "status": "identified",
        "body": "Cause found: a bad deploy.",
        "incident_id": "7",
        "created_at": "2026-11-03T12:20:00.000Z",
        "updated_at": "2026-11-03T12:20:00.000Z",
        "display_at": "2026-11-03T12:20:00.000Z",
        "affected_components": None,
    }
    assert incident["incident_updates"][1]["body"] == "We are investigating errors on the website."
    assert [c["id"] for c in incident["components"]] == ["web"]
    (planned,) = body["scheduled_maintenances"]  # type: ignore[misc]
    assert planned["id"] == "maintenance-3"
    assert planned["status"] == "scheduled"
    assert planned["impact"] == "maintenance"
    assert (planned["scheduled_for"], planned["scheduled_until"]) == (
        "2026-11-10T02:00:00.000Z",
        "2026-11-10T04:00:00.000Z",
    )
    assert [c["id"] for c in planned["components"]] == ["api"]


def test_status_components_incidents(url: str) -> None:
    assert get(url + "/api/v2/status.json") == {
        "page": PAGE,
        "status": {"indicator": "major", "description": "Partial System Outage"},
    }
    components = get(url + "/api/v2/components.json")["components"]
    assert [(c["id"], c["status"]) for c in components] == [  # type: ignore[attr-defined]
        ("api", "operational"),
        ("web", "partial_outage"),
        ("reports", "operational"),
    ]
    incidents = get(url + "/api/v2/incidents.json")["incidents"]
    assert [(i["id"], i["status"], i["resolved_at"]) for i in incidents] == [  # type: ignore[attr-defined]
        ("7", "identified", None),
        ("5", "resolved", "2026-10-25T08:40:00.000Z"),
    ]
    unresolved = get(url + "/api/v2/incidents/unresolved.json")["incidents"]
    assert [i["id"] for i in unresolved] == ["7"]  # type: ignore[attr-defined]


def test_scheduled_maintenances(url: str) -> None:
    found = get(url + "/api/v2/scheduled-maintenances.json")["scheduled_maintenances"]
    assert [(m["id"], m["status"]) for m in found] == [  # type: ignore[attr-defined]
        ("maintenance-3", "scheduled"),
        ("maintenance-2", "completed"),
    ]
    past = found[1]  # type: ignore[index]
    assert [(u["status"], u["body"]) for u in past["incident_updates"]] == [
        ("completed", "Maintenance completed."),
        ("in_progress", "Maintenance in progress."),
        (
            "scheduled",
            "Network & power work: Emergency maintenance (announced 2 h ahead; the contract "
            "asks for 48 h): counted as downtime.",
        ),
    ]
    assert past["resolved_at"] == "2026-10-20T01:30:00.000Z"
    assert [c["id"] for c in past["components"]] == ["api", "web", "reports"]
    upcoming = get(url + "/api/v2/scheduled-maintenances/upcoming.json")
    assert [m["id"] for m in upcoming["scheduled_maintenances"]] == ["maintenance-3"]  # type: ignore[attr-defined]
    assert get(url + "/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"] == []


@pytest.mark.parametrize(
    ("state", "component", "indicator", "description"),
    [
        ("operational", "operational", "none", "All Systems Operational"),
        ("degraded", "degraded_performance", "minor", "Minor Service Outage"),
        ("partial-outage", "partial_outage", "major", "Partial System Outage"),
        ("major-outage", "major_outage", "critical", "Major System Outage"),
        ("maintenance", "under_maintenance", "maintenance", "Service Under Maintenance"),
        ("unknown", "degraded_performance", "minor", "Status Unknown"),
    ],
)
def test_state_mapping(
    state: ServiceState, component: str, indicator: str, description: str
) -> None:
    snapshot = status_snapshot()
    services = tuple(replace(view, state=state) for view in snapshot.services)
    changed = replace(snapshot, overall=state, services=services)
    with serving(public_app(Snapshots(changed))) as served:
        body = get(served + "/api/v2/summary.json")
    assert body["status"] == {"indicator": indicator, "description": description}
    assert {c["status"] for c in body["components"]} == {component}  # type: ignore[attr-defined]


def test_html_text() -> None:
    assert html_text("<p>One &amp; <em>two</em></p><ul><li>a</li><li>b</li></ul>") == (
        "One & two\na\nb"
    )
