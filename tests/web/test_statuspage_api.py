"""The Statuspage-compatible ``/api/v2`` documents: Statuspage's field names and values."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from api_server import request, serving
from snapshots import PAGE_URL, Snapshots, public_app, status_snapshot

from slaledger.core.publication import ServiceState
from slaledger.core.timebase import to_instant
from slaledger.web.statuspage_api import html_text, timestamp

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
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
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
        "created_at": "2023-12-01T00:00:00.000Z",
        "updated_at": "2026-11-03T11:50:00.000Z",
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
        "body": "Cause found: a bad deploy (https://acme.test/deploy).",
        "incident_id": "7",
        "created_at": "2026-11-03T12:20:00.000Z",
        "updated_at": "2026-11-03T12:20:00.000Z",
        "display_at": "2026-11-03T12:20:00.000Z",
        "affected_components": [
            {
                "code": "web",
                "name": "Website",
                "old_status": "partial_outage",
                "new_status": "partial_outage",
            }
        ],
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }
    assert incident["incident_updates"][1]["affected_components"] == [
        {
            "code": "web",
            "name": "Website",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
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
        ("degraded", "degraded_performance", "minor", "Partially Degraded Service"),
        ("partial-outage", "partial_outage", "major", "Partial System Outage"),
        ("major-outage", "major_outage", "critical", "Major Service Outage"),
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


def test_shortlinks_are_pages_that_exist(url: str) -> None:
    summary = get(url + "/api/v2/summary.json")
    incidents = get(url + "/api/v2/incidents.json")["incidents"]
    windows = get(url + "/api/v2/scheduled-maintenances.json")["scheduled_maintenances"]
    links = [i["shortlink"] for i in incidents] + [m["shortlink"] for m in windows]  # type: ignore[attr-defined]
    assert links == [
        PAGE_URL + "/incidents/7",
        PAGE_URL + "/incidents/5",
        PAGE_URL + "/maintenance/3",
        PAGE_URL + "/maintenance/2",
    ]
    for link in links:  # the same paths on the server itself
        with urllib.request.urlopen(url + link.removeprefix(PAGE_URL)) as page:
            assert page.status == 200
    assert summary["page"]["url"] == PAGE_URL  # type: ignore[index]


def test_no_updated_at_before_created_at(url: str) -> None:
    documents = [
        get(url + "/api/v2" + path)
        for path in ("/summary.json", "/incidents.json", "/scheduled-maintenances.json")
    ]

    def pairs(value: object) -> Iterator[tuple[str, str]]:
        if isinstance(value, dict):
            if "created_at" in value and "updated_at" in value:
                yield value["created_at"], value["updated_at"]
            for item in value.values():
                yield from pairs(item)
        elif isinstance(value, list):
            for item in value:
                yield from pairs(item)

    found = [pair for document in documents for pair in pairs(document)]
    assert len(found) > 10
    assert [pair for pair in found if pair[1] < pair[0]] == []


def test_html_text_keeps_link_targets() -> None:
    assert (
        html_text(
            '<p>See <a href="https://acme.test/x">the report</a> or '
            '<a href="https://acme.test/y">https://acme.test/y</a>.</p>'
        )
        == "See the report (https://acme.test/x) or https://acme.test/y."
    )


def test_html_text() -> None:
    assert html_text("<p>One &amp; <em>two</em></p><ul><li>a</li><li>b</li></ul>") == (
        "One & two\na\nb"
    )


def test_timestamps_pad_the_year_to_four_digits() -> None:
    assert timestamp(to_instant(datetime(26, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC))) == (
        "0026-03-04T05:06:07.890Z"
    )
    assert timestamp(to_instant(datetime(2026, 10, 9, 12, 40, 30, tzinfo=UTC))) == (
        "2026-10-09T12:40:30.000Z"
    )
