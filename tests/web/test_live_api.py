"""``GET /api/v1/live`` on a real server: month-to-date figures equal to a settlement of the
stored observations, with coverage and budgets; one settlement per minute of the clock."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Set
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import pytest
from api_server import CONTRACT, START, Api, Clock, post, request, serving, started_api

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.figures import decimal_text
from slaledger.core.settle import settle
from slaledger.core.timebase import US_PER_MINUTE, to_instant
from slaledger.store.database import connect, migrate
from slaledger.store.observation_store import ObservationStore
from slaledger.store.tokens import TokenStore
from slaledger.web.app import create_app

NOON = START - 40 * US_PER_MINUTE - 30_000_000
"""2026-10-09T12:00:00Z; the clock reads 12:40:30."""
ELAPSED = 8 * 1440 + 12 * 60 + 40
"""Whole minutes of October elapsed at 12:40:30 on the 9th: 12 280 (coverage's divisor)."""
LIVE_FIELDS = ("coverage", "error_budget_minutes", "error_budget_probes")


@pytest.fixture
def api(store_url: str) -> Iterator[Api]:
    with started_api(store_url) as running:
        yield running


def probes(service: str, minutes: range, down: Set[int] = frozenset()) -> list[dict[str, Any]]:
    """One probe a minute at ``NOON + minute``; those in ``down`` answer 500."""
    return [
        {
            "instant": NOON + minute * US_PER_MINUTE,
            "service": service,
            "check_id": f"{service}:http:0",
            "status": 500 if minute in down else 200,
            "error": None,
            "latency_ms": 20.0,
            "retry_after": False,
        }
        for minute in minutes
    ]


def send(api: Api, location: str, results: list[dict[str, Any]]) -> None:
    body = {"batch_id": uuid.uuid4().hex, "location": location, "results": results}
    reply = post(f"{api.url}/api/v1/ingest", body, api.token_for(location))
    assert (reply.status, reply.body["stored"]) == (200, len(results))


def live(api: Api) -> dict[str, Any]:
    reply = request(f"{api.url}/api/v1/live")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    return reply.body  # type: ignore[no-any-return]


def by_result(figures: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(r["service"], r["location"]): r for r in figures["results"]}


def test_live_figures_are_the_month_settled_to_date_with_coverage_and_budgets(api: Api) -> None:
    send(api, "fra", probes("api", range(40), down={5, 6}))
    send(api, "fra", probes("web", range(40), down={10, 11, 12}))
    send(api, "fra", probes("edge", range(40), down={20}))
    send(api, "ams", probes("edge", range(30, 40)))
    figures = live(api)
    assert (figures["contract"], figures["at"], figures["period"]) == (
        "web-test",
        "2026-10-09T12:40:30Z",
        {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
    )
    results = by_result(figures)
    assert list(results) == [("api", None), ("web", None), ("edge", "ams"), ("edge", "fra")]
    assert results[("api", None)] == {
        "service": "api",
        "location": None,
        "rule": "probe-ratio",
        "target": "99.5",
        "total_minutes": None,
        "downtime_minutes": None,
        "excluded_minutes": None,
        "availability": "95.000000",
        "met": False,
        "credit_percent": 0,
        "probes": {"up": 38, "down": 2, "excluded": 0},
        "episodes": [],
        "coverage": "0.325733",  # 40 of ELAPSED minutes
        "error_budget_minutes": None,
        "error_budget_probes": -2,  # floor(40 × 0.5 / 100) = 0 allowed, 2 down
    }
    assert decimal_text(Fraction(100 * 40, ELAPSED)) == "0.325733"
    live_figures = {key: tuple(r[f] for f in LIVE_FIELDS) for key, r in results.items()}
    assert live_figures == {
        ("api", None): ("0.325733", None, -2),
        ("web", None): ("0.325733", 44 - 3, None),  # 44.64 allowed; 12:10-12:12 down
        ("edge", "ams"): ("0.081433", 4, None),  # 10 of ELAPSED minutes; 4.464 allowed
        ("edge", "fra"): ("0.325733", 4 - 1, None),  # 12:20 → 12:21, one minute
    }
    # Everything else is the settlement of the stored observations at the clock's instant.
    stored = api.store.load(START - 40 * 1440 * US_PER_MINUTE, START + 1440 * US_PER_MINUTE)
    report = settle(CONTRACT, stored, Events(), (2026, 10), at=START).as_dict()
    assert [{k: v for k, v in r.items() if k not in LIVE_FIELDS} for r in figures["results"]] == (
        report["results"]
    )


def test_figures_are_settled_once_a_minute_however_many_read_them(api: Api) -> None:
    send(api, "fra", probes("api", range(10)))
    first = request(f"{api.url}/api/v1/live")
    live_state = api.app.state.live
    assert live_state.settlements == 1
    send(api, "fra", probes("api", range(10, 20), down={15}))
    api.clock.advance(59.999999)
    cached = request(f"{api.url}/api/v1/live")
    assert (cached.body, live_state.settlements) == (first.body, 1)
    assert by_result(cached.body)[("api", None)]["probes"]["up"] == 10

    api.clock.advance(0.000001)
    replies: list[dict[str, Any]] = []

    def read() -> None:
        replies.append(request(f"{api.url}/api/v1/live").body)

    readers = [threading.Thread(target=read) for _ in range(16)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert live_state.settlements == 2
    assert all(reply == replies[0] for reply in replies)
    assert replies[0]["at"] == "2026-10-09T12:41:30Z"
    assert by_result(replies[0])[("api", None)]["probes"] == {"up": 19, "down": 1, "excluded": 0}


def test_the_month_is_the_contract_zones_month(tmp_path: Any) -> None:
    berlin = Contract.model_validate(
        {**json.loads(CONTRACT.model_dump_json()), "timezone": "Europe/Berlin"}
    )
    engine = connect(f"sqlite:///{tmp_path / 'berlin.db'}")
    migrate(engine)
    # 23:30 UTC on 31 October is 00:30 on 1 November in Berlin (CET).
    clock = Clock(to_instant(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)))
    app = create_app(berlin, Events(), ObservationStore(engine), TokenStore(engine), clock)
    with serving(app) as url:
        figures = request(f"{url}/api/v1/live").body
    assert (figures["at"], figures["period"]) == (
        "2026-10-31T23:30:00Z",
        {"start": "2026-10-31T23:00:00Z", "end": "2026-11-30T23:00:00Z"},
    )
    api_result = figures["results"][0]
    # 30 minutes elapsed, no probe: coverage 0; the whole budget is left.
    assert (api_result["coverage"], api_result["error_budget_probes"]) == ("0.000000", 0)
    assert [r["error_budget_minutes"] for r in figures["results"][1:]] == [43, 4]
    engine.dispose()


def test_before_effective_from_the_month_to_date_has_no_figures(store_url: str) -> None:
    later = CONTRACT.model_copy(update={"effective_from": datetime(2026, 12, 1, tzinfo=UTC)})
    with started_api(store_url, later) as api:
        send(api, "fra", probes("api", range(10)))
        reply = request(f"{api.url}/api/v1/live")
        assert (reply.status, reply.body["results"]) == (200, [])
        assert reply.body["period"] == {
            "start": "2026-10-01T00:00:00Z",
            "end": "2026-11-01T00:00:00Z",
        }
