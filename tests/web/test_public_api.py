"""``/api/v1/sla|status|uptime|incidents|maintenance`` on a real server: exact documents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from api_server import request, serving
from snapshots import CONTRACT, Snapshots, public_app, status_snapshot

from slaledger.core.publication import MonthFigure


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(public_app(Snapshots(status_snapshot()))) as served:
        yield served


def get(url: str) -> object:
    reply = request(url)
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "public, max-age=60"
    return reply.body


def test_sla_commitment_until_a_month_is_settled_then_measured(url: str) -> None:
    body = get(url + "/api/v1/sla")
    assert isinstance(body, dict)
    assert [body[key] for key in ("contract", "name", "timezone", "generated_at")] == [
        "acme-sla",
        "Acme <Cloud> SLA",
        "UTC",
        "2026-11-03T12:34:56Z",
    ]
    api, web, reports = body["services"]
    assert api == {
        "id": "api",
        "name": "API & Search",
        "description": "Public REST API at api.acme.test",
        "target": "99.9",
        "window": "calendar-month",
        "per_location": False,
        "rule": {"rule": "continuous-failure", "min_duration": "5m", "confirm": 2},
        "excluded": {
            "scheduled_maintenance_notice": "48h",
            "excludable_causes": ["force-majeure", "customer-misuse"],
            "exclude_from": ["downtime"],
        },
        "basis": "measured",
        "measured": {
            "month": "2026-10",
            "availability": "99.939516",
            "downtime_minutes": 27,
            "met": True,
            "credit_percent": 0,
        },
    }
    assert web["rule"] == {
        "rule": "first-fail-to-first-success",
        "rounding": "ceil-minute",
        "confirm": 1,
    }
    assert web["excluded"]["exclude_from"] == ["downtime", "total"]
    assert web["measured"]["availability"] == "99.919355"
    assert web["measured"]["met"] is False
    assert reports["basis"] == "commitment"
    assert reports["measured"] is None
    assert reports["rule"] == {"rule": "probe-ratio"}
    assert body["credits"] == {
        "basis": "monthly fee of the affected service",
        "mode": "on-request",
        "claim_within": "30d",
        "excluded_plans": [],
        "tiers": [{"below": "99.9", "credit": 10}, {"below": "99.0", "credit": 25}],
    }


def test_sla_basis_follows_the_first_settled_month() -> None:
    snapshot = status_snapshot()
    reports = snapshot.services[2]
    settled = MonthFigure("2026-10", None, None, None, None, 0, settled=True)
    later = replace(reports, months=(*reports.months, settled))
    changed = replace(snapshot, services=(*snapshot.services[:2], later))
    with serving(public_app(Snapshots(changed))) as served:
        body = get(served + "/api/v1/sla")
    assert isinstance(body, dict)
    assert body["services"][2]["basis"] == "measured"
    assert body["services"][2]["measured"] == {
        "month": "2026-10",
        "availability": None,
        "downtime_minutes": None,
        "met": None,
        "credit_percent": 0,
    }
    assert list(CONTRACT.services) == [s["id"] for s in body["services"]]


def test_status(url: str) -> None:
    body = get(url + "/api/v1/status")
    assert isinstance(body, dict)
    assert body["overall"] == "partial-outage"
    assert body["services"] == [
        {
            "id": "api",
            "name": "API & Search",
            "state": "operational",
            "target": "99.9",
            "month_to_date": "100.000000",
            "error_budget_minutes": 3,
            "last_observed": None,
            "stale": False,
        },
        {
            "id": "web",
            "name": "Website",
            "state": "partial-outage",
            "target": "99.95",
            "month_to_date": "99.752339",
            "error_budget_minutes": -8,
            "last_observed": None,
            "stale": False,
        },
        {
            "id": "reports",
            "name": "Reports <beta>",
            "state": "operational",
            "target": "99.5",
            "month_to_date": "99.504678",
            "error_budget_minutes": 0,
            "last_observed": None,
            "stale": False,
        },
    ]
    assert [i["id"] for i in body["active_incidents"]] == [7]
    assert [m["id"] for m in body["upcoming_maintenance"]] == [3]


def test_incidents_with_updates(url: str) -> None:
    body = get(url + "/api/v1/incidents")
    assert isinstance(body, dict)
    active = body["active"][0]
    assert active == {
        "id": 7,
        "title": "Elevated errors on <Website>",
        "services": ["web"],
        "status": "identified",
        "impact": "major",
        "started": "2026-11-03T11:50:00Z",
        "resolved": None,
        "automatic": True,
        "exclusion_cause": None,
        "updates": [
            {
                "at": "2026-11-03T11:55:00Z",
                "status": "investigating",
                "body_html": "<p>We are <em>investigating</em> errors on the website.</p>",
                "author": "Ops <oncall>",
            },
            {
                "at": "2026-11-03T12:20:00Z",
                "status": "identified",
                "body_html": (
                    '<p>Cause found: a <a href="https://acme.test/deploy">bad deploy</a>.</p>'
                ),
                "author": "Ops <oncall>",
            },
        ],
    }
    assert [(i["id"], i["resolved"]) for i in body["resolved"]] == [(5, "2026-10-25T08:40:00Z")]


def test_maintenance(url: str) -> None:
    body = get(url + "/api/v1/maintenance")
    assert isinstance(body, dict)
    assert body["upcoming"] == [
        {
            "id": 3,
            "title": "Database upgrade",
            "services": ["api"],
            "location": None,
            "start": "2026-11-10T02:00:00Z",
            "end": "2026-11-10T04:00:00Z",
            "announced": "2026-11-01T09:00:00Z",
            "kind": "scheduled",
            "reason": "",
            "status": "scheduled",
        },
    ]
    assert body["past"] == [
        {
            "id": 2,
            "title": "Network & power work",
            "services": "*",
            "location": "fra",
            "start": "2026-10-20T01:00:00Z",
            "end": "2026-10-20T01:30:00Z",
            "announced": "2026-10-19T23:00:00Z",
            "kind": "emergency",
            "reason": "announced 2 h ahead; the contract asks for 48 h",
            "status": "completed",
        },
    ]


def test_uptime_of_a_location_by_month(url: str) -> None:
    body = get(url + "/api/v1/uptime?service=web&location=fra&from=2026-09&to=2026-10")
    assert body == {
        "generated_at": "2026-11-03T12:34:56Z",
        "from": "2026-09",
        "to": "2026-10",
        "services": [
            {
                "id": "web",
                "name": "Website",
                "target": "99.95",
                "location": "fra",
                "months": [
                    {
                        "month": "2026-10",
                        "location": "fra",
                        "availability": "99.879032",
                        "downtime_minutes": 54,
                        "met": False,
                        "credit_percent": 10,
                        "settled": True,
                    },
                    {
                        "month": "2026-09",
                        "location": "fra",
                        "availability": "99.958333",
                        "downtime_minutes": 18,
                        "met": True,
                        "credit_percent": 0,
                        "settled": True,
                    },
                ],
                "days": [],
            },
        ],
    }


def test_uptime_days_and_whole_history(url: str) -> None:
    body = get(url + "/api/v1/uptime?service=api&from=2026-11-01&to=2026-11-03")
    assert isinstance(body, dict)
    (api,) = body["services"]
    assert [m["month"] for m in api["months"]] == ["2026-11"]
    assert api["days"] == [
        {"day": "2026-11-01", "availability": "100.000000", "downtime_minutes": 0, "incidents": []},
        {"day": "2026-11-02", "availability": "100.000000", "downtime_minutes": 0, "incidents": []},
        {"day": "2026-11-03", "availability": "100.000000", "downtime_minutes": 0, "incidents": []},
    ]
    everything = get(url + "/api/v1/uptime")
    assert isinstance(everything, dict)
    assert [(s["id"], len(s["months"]), len(s["days"])) for s in everything["services"]] == [
        ("api", 36, 90),
        ("web", 36, 90),
        ("reports", 1, 90),
    ]
    per_location = get(url + "/api/v1/uptime?location=nyc")
    assert isinstance(per_location, dict)
    assert [s["id"] for s in per_location["services"]] == ["web"]
    empty = get(url + "/api/v1/uptime?service=api&from=2026-11&to=2026-10")
    assert isinstance(empty, dict)
    assert empty["services"][0]["months"] == []
    assert empty["services"][0]["days"] == []


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("service=nope", 404, "service: unknown service 'nope'"),
        ("service=api&location=fra", 404, "location: service 'api' has no location 'fra'"),
        ("from=2026-13", 422, "from: expected a date YYYY-MM-DD or a month YYYY-MM, got '2026-13'"),
        ("to=yesterday", 422, "to: expected a date YYYY-MM-DD or a month YYYY-MM, got 'yesterday'"),
    ],
)
def test_uptime_errors(url: str, query: str, status: int, error: str) -> None:
    reply = request(f"{url}/api/v1/uptime?{query}")
    assert (reply.status, reply.body) == (status, {"error": error})


def test_openapi_document_is_precise(url: str) -> None:
    reply = request(url + "/api/v1/openapi.json")
    document = reply.body
    assert reply.status == 200
    assert isinstance(document, dict)
    schemas = document["components"]["schemas"]
    assert schemas["StatusOut"]["properties"]["services"]["items"] == {
        "$ref": "#/components/schemas/ServiceStatusOut"
    }
    availability = schemas["MonthOut"]["properties"]["availability"]["anyOf"][0]
    assert availability["pattern"] == r"^[0-9]{1,3}\.[0-9]{6}$"
    parameters = document["paths"]["/api/v1/uptime"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["service", "location", "from", "to"]
    assert "/" not in document["paths"]
