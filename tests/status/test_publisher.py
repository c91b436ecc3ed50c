"""The publisher on a real store: automatic incidents open and resolve, the snapshot follows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import Run
from slaledger.adapters.contract_file import load_contract
from slaledger.core.events import Events
from slaledger.core.timebase import to_instant
from slaledger.ledger import open_stores
from slaledger.status.publisher import Publisher
from slaledger.store.figure_store import FigureStore
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore

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
        "major",
        True,
    )
    assert incident.started == to_instant(NOON - timedelta(minutes=10))
    assert [u.body_html for u in incident.updates] == [
        "<p>Detected automatically: 10 min down (minimum 2m); confirmed by at least 2 "
        "locations.</p>\n"
    ]
    web = next(s for s in snapshot.services if s.id == "web")
    assert web.state == "partial-outage"
    assert web.days[-1].day == "2026-11-21"
    assert web.days[-1].incident_ids == (incident.id,)
    assert snapshot.overall == "partial-outage"
    live = json.loads(publisher.live_body)
    assert live["at"] == "2026-11-21T12:00:00Z"
    web_live = next(r for r in live["results"] if r["service"] == "web")
    # An hour of probes in the 29,520 minutes of the month so far.
    assert (web_live["downtime_minutes"], web_live["coverage"]) == (10, "0.203252")

    second = tmp_path / "second.csv"
    second.write_text(HEADER + probes(NOON, 6, 200))
    assert run_cli("import", path, second, "--db", db).code == 0
    later = publisher.tick(to_instant(NOON + timedelta(minutes=6)))
    assert later.active_incidents == ()
    assert [(i.status, i.resolved is not None) for i in later.recent_incidents] == [
        ("resolved", True)
    ]
    assert next(s for s in later.services if s.id == "web").state == "operational"
