"""The publisher on a real store: automatic incidents open and resolve, the snapshot follows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import Run
from slaledger.app import open_stores
from slaledger.core.events import Events
from slaledger.core.publication import StatusSnapshot
from slaledger.core.timebase import to_instant
from slaledger.files.contract_file import load_contract
from slaledger.files.csv_observations import read_observations
from slaledger.status.publisher import Publisher
from slaledger.store.figure_store import FigureStore
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.web.badges import GREY, service_badge
from slaledger.web.public_api import status_document
from slaledger.web.status_page import StatusPage
from slaledger.web.statuspage_api import StatuspageDocuments


def text_of(html: str) -> str:
    """Visible text: inline tags dropped, others a space, whitespace collapsed."""
    inline = re.sub(r"</?(time|strong|em|a|span)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)).strip()


HEADER = "timestamp,service,location,status,error\n"
NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def probes(start: datetime, minutes: int, status: int) -> str:
    rows = []
    for minute in range(minutes):
        at = start + timedelta(minutes=minute, seconds=7)
        for location in ("fra", "ams"):
            rows.append(f"{at:%Y-%m-%dT%H:%M:%SZ},web,{location},{status},\n")
    return "".join(rows)


def test_an_outage_opens_an_incident_and_recovery_resolves_it(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    path = contracts / "live-demo.yaml"
    db = f"sqlite:///{tmp_path / 'store.db'}"
    first = tmp_path / "first.csv"
    first.write_text(
        HEADER
        + probes(NOON - timedelta(hours=1), 50, 200)
        + probes(NOON - timedelta(minutes=10), 10, 500)
    )
    assert run_cli("import", path, first, "--db", db).code == 0
    contract = load_contract(path)
    stores = open_stores(db)
    incidents = IncidentStore(stores.engine, contract)
    publisher = Publisher(
        contract,
        Events(),
        stores,
        incidents,
        MaintenanceStore(stores.engine, contract),
        FigureStore(stores.engine, contract.contract),
    )
    snapshot = publisher.tick(to_instant(NOON))
    (incident,) = snapshot.active_incidents
    assert (incident.title, incident.status, incident.impact, incident.automatic) == (
        "Web application outage",
        "investigating",
        "critical",  # down at both locations that probe it: a major outage
        True,
    )
    assert incident.started == to_instant(NOON - timedelta(minutes=10))
    assert [u.body_html for u in incident.updates] == [
        "<p>Detected automatically: 10 min down (minimum 2m); confirmed by at least 2 "
        "locations.</p>\n"
    ]
    web = next(s for s in snapshot.services if s.id == "web")
    assert web.state == "major-outage"
    assert web.days[-1].day == "2026-11-21"
    assert web.days[-1].incident_ids == (incident.id,)
    assert snapshot.overall == "major-outage"
    # The banner, the service, the incident and /api/v2 say the same.
    page = text_of(StatusPage().page(snapshot).decode())
    assert "Overall status Major outage" in page
    assert "Web application Major outage now · no recent data since 2026-11-21 11:59 UTC" in page
    assert ("Web application outage Investigating · impact: major outage · Web application") in page
    statuspage = StatuspageDocuments(snapshot, "http://status.test")
    assert statuspage.status().model_dump() == {
        "indicator": "critical",
        "description": "Major Service Outage",
    }
    assert statuspage.components[0].status == "major_outage"
    (summary_incident,) = statuspage.summary().incidents
    assert summary_incident.impact == "critical"
    live = json.loads(publisher.live_body)
    assert live["at"] == "2026-11-21T12:00:00Z"
    web_live = next(r for r in live["results"] if r["service"] == "web")
    # An hour of probes in the 29,520 minutes of the month so far.
    assert (web_live["downtime_minutes"], web_live["coverage"]) == (10, "0.203252")

    second = tmp_path / "second.csv"
    second.write_text(HEADER + probes(NOON, 6, 200))
    assert run_cli("import", path, second, "--db", db).code == 0
    # 3 s after the newest probe (12:05:07): fresh data, and the outage is over.
    later = publisher.tick(to_instant(NOON + timedelta(minutes=5, seconds=10)))
    assert later.active_incidents == ()
    assert [(i.status, i.resolved is not None) for i in later.recent_incidents] == [
        ("resolved", True)
    ]
    assert next(s for s in later.services if s.id == "web").state == "operational"


def test_a_service_whose_probes_stopped_says_no_recent_data_since_its_last_result_everywhere(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(
        (contracts / "live-demo.yaml")
        .read_text()
        .replace("    name: Web application\n", "    name: Web application\n    stale_after: 5m\n")
    )
    db = f"sqlite:///{tmp_path / 'store.db'}"
    csv = tmp_path / "probes.csv"
    csv.write_text(HEADER + probes(NOON - timedelta(hours=1), 60, 200))
    assert run_cli("import", path, csv, "--db", db).code == 0
    contract = load_contract(path)
    stores = open_stores(db)
    publisher = Publisher(
        contract,
        Events(),
        stores,
        IncidentStore(stores.engine, contract),
        MaintenanceStore(stores.engine, contract),
        FigureStore(stores.engine, contract.contract),
    )
    newest = to_instant(NOON - timedelta(seconds=53))  # 11:59:07
    fresh = publisher.tick(to_instant(NOON))
    web = next(s for s in fresh.services if s.id == "web")
    assert (web.state, web.stale, web.last_observed) == ("operational", False, newest)
    # api and edge never reported: 2 x their 10 s interval has long passed.
    assert [(s.id, s.state, s.stale) for s in fresh.services[1:]] == [
        ("api", "unknown", True),
        ("edge", "unknown", True),
    ]

    # Probes stopped for 66 minutes: nothing says operational any more.
    later = publisher.tick(to_instant(NOON + timedelta(minutes=66)))
    web = next(s for s in later.services if s.id == "web")
    assert (web.state, web.stale, web.last_observed) == ("unknown", True, newest)
    assert web.month_to_date == 100  # the figure stays, the state does not claim it is now
    assert later.overall == "unknown"

    page = text_of(StatusPage().page(later).decode())
    assert (
        "Status unknown: no recent data No recent data for 3 of 3 services: no probe result "
        "since 2026-11-21 11:59 UTC. Their state is unknown until probes report again; the "
        "figures below stop there. Updated 2026-11-21 13:06 UTC"
    ) in page
    assert "Web application No recent data since 2026-11-21 11:59 UTC Target 99.9 %" in page
    status = status_document(later)
    assert [(s.id, s.state, s.stale, s.last_observed) for s in status.services] == [
        ("web", "unknown", True, "2026-11-21T11:59:07Z"),
        ("api", "unknown", True, None),
        ("edge", "unknown", True, None),
    ]
    statuspage = StatuspageDocuments(later, "http://status.test")
    assert statuspage.status().model_dump() == {
        "indicator": "minor",
        "description": "No Recent Data since 2026-11-21T11:59:07.000Z",
    }
    assert [c.status for c in statuspage.components] == ["degraded_performance"] * 3
    badge = service_badge(later, "web", "30d").decode()
    assert 'aria-label="uptime 30d: 100.00 % · no recent data"' in badge
    assert (
        "<title>Web application — uptime 30d: 100.00 %; no recent data since "
        "2026-11-21T11:59:07Z</title>"
    ) in badge
    assert GREY in badge


def test_nothing_before_effective_from_is_settled_stated_or_published(
    store_url: str, contracts: Path, tmp_path: Path
) -> None:
    """One observation at instant 0 once made the publisher issue a statement for every
    month since 1970; with effective_from, only months from the SLA's start are settled."""
    contract = load_contract(contracts / "live-demo.yaml").model_copy(
        update={"effective_from": datetime(2026, 10, 15, tzinfo=UTC)}
    )
    csv = tmp_path / "probes.csv"
    csv.write_text(
        HEADER
        + "1970-01-01T00:00:00Z,web,fra,200,\n"
        + probes(datetime(2026, 10, 14, 23, 50, tzinfo=UTC), 20, 500)
        + probes(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), 10, 200)
    )
    stores = open_stores(store_url)
    stores.observations.pack_history(read_observations(csv, list(contract.services)))
    figures = FigureStore(stores.engine, contract.contract)
    publisher = Publisher(
        contract,
        Events(),
        stores,
        IncidentStore(stores.engine, contract),
        MaintenanceStore(stores.engine, contract),
        figures,
    )
    now = to_instant(NOON)
    while publisher.maintain(now):
        pass
    assert [s.month for s in stores.statements.months(contract.contract)] == ["2026-10"]
    periods = sorted(figures.periods())
    assert (periods[0], periods[-1]) == ("2026-10", "2026-11-20")
    assert min(p for p in periods if len(p) == 10) == "2026-10-15"
    # October is settled from the 15th: the 10 failing minutes before it do not count.
    statement = json.loads(stores.statements.get(contract.contract, "2026-10").document)
    assert statement["period"] == {"start": "2026-10-15T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    web = next(r for r in statement["results"] if r["service"] == "web")
    assert (web["total_minutes"], web["downtime_minutes"]) == (17 * 1440, 10)
    # Before the SLA starts, the page is built and shows no figures.
    early = publisher.tick(to_instant(datetime(2026, 10, 1, tzinfo=UTC)))
    assert [s.id for s in early.services] == ["web", "api", "edge"]


def test_a_service_keeps_when_it_first_existed_and_when_its_state_last_changed(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    path = contracts / "live-demo.yaml"
    db = f"sqlite:///{tmp_path / 'store.db'}"
    csv = tmp_path / "probes.csv"
    csv.write_text(
        HEADER
        + probes(NOON - timedelta(hours=1), 50, 200)
        + probes(NOON - timedelta(minutes=10), 10, 500)
        + probes(NOON, 6, 200)
    )
    assert run_cli("import", path, csv, "--db", db).code == 0
    contract = load_contract(path)

    def publisher() -> Publisher:
        stores = open_stores(db)
        return Publisher(
            contract,
            Events(),
            stores,
            IncidentStore(stores.engine, contract),
            MaintenanceStore(stores.engine, contract),
            FigureStore(stores.engine, contract.contract),
        )

    def web(snapshot: StatusSnapshot) -> tuple[int | None, int | None]:
        view = next(s for s in snapshot.services if s.id == "web")
        return view.since, view.changed_at

    first_probe = to_instant(NOON - timedelta(hours=1, seconds=-7))
    running = publisher()
    opened = running.tick(to_instant(NOON))
    started = opened.active_incidents[0].started
    assert web(opened) == (first_probe, started)
    # A minute later nothing changed: neither instant moves.
    assert web(running.tick(to_instant(NOON + timedelta(minutes=1)))) == (first_probe, started)
    resolved = running.tick(to_instant(NOON + timedelta(minutes=6)))
    end = resolved.recent_incidents[0].resolved
    assert end is not None
    assert web(resolved) == (first_probe, end)
    # After a restart, the same instants, read from the store.
    restarted = publisher().tick(to_instant(NOON + timedelta(minutes=30)))
    assert web(restarted) == (first_probe, end)
