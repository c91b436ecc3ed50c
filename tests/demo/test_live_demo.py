"""The live demo's pieces: the scripted target on real ports, its events, its status lines."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiohttp import web

from slaledger.app import open_stores
from slaledger.core.contract import Contract
from slaledger.core.observations import ERROR_CODES, Observations
from slaledger.core.settle import settle
from slaledger.core.timebase import US_PER_DAY, format_instant, to_instant
from slaledger.core.windows import resolve_windows
from slaledger.demo.live import LOCATIONS, LiveDemo, events_yaml, status_lines, timeline_epoch
from slaledger.demo.live_target import CYCLE, TIMELINE, active, make_app
from slaledger.files.contract_file import load_contract
from slaledger.files.events_file import load_events
from slaledger.store.audit_log import AuditLog
from slaledger.store.database import connect
from slaledger.store.figure_store import FigureStore
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore
from slaledger.store.record_store import RecordStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"


def test_timeline_repeats_and_is_location_specific() -> None:
    assert active(TIMELINE, "web", "fra", 0) is None
    assert active(TIMELINE, "web", "fra", -30) is None  # before the timeline starts
    assert active(TIMELINE, "web", "fra", 300).behaviour == "500"  # type: ignore[union-attr]
    assert active(TIMELINE, "web", "fra", 300 + CYCLE) is not None
    assert active(TIMELINE, "web", "fra", 450) is None  # only ams fails then
    assert active(TIMELINE, "web", "ams", 450) is not None
    assert active(TIMELINE, "api", "fra", 250).behaviour == "503-retry-after"  # type: ignore[union-attr]


def test_target_answers_by_the_timeline() -> None:
    async def scenario() -> list[tuple[int, str | None]]:
        second = [0.0]
        runner = web.AppRunner(make_app("fra", 0.0, lambda: second[0]))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        seen = []
        async with aiohttp.ClientSession() as session:
            for at, route in ((10, "web"), (300, "web"), (250, "api")):
                second[0] = at
                async with session.get(f"http://127.0.0.1:{port}/{route}") as answer:
                    seen.append((answer.status, answer.headers.get("Retry-After")))
        await runner.cleanup()
        return seen

    assert asyncio.run(scenario()) == [(200, None), (500, None), (503, "30")]


def test_events_file_holds_the_scheduled_window(tmp_path: Path) -> None:
    contract = load_contract(EXAMPLES / "live-demo.yaml")
    path = tmp_path / "events.yaml"
    path.write_text(events_yaml(datetime(2026, 11, 21, 12, 0, tzinfo=UTC)))
    windows = resolve_windows(contract, load_events(path, contract))
    assert windows["web"].everywhere.pairs() == [
        (1795262880000000, 1795262940000000)  # 12:08 to 12:09, excluded
    ]
    assert windows["edge"].emergencies == []


def test_the_operator_is_told_the_late_window_is_emergency_maintenance(tmp_path: Path) -> None:
    demo = LiveDemo(EXAMPLES / "live-demo.yaml", tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    said = demo.announce_emergency(now)
    first, second = said.splitlines()
    assert first == (
        "  operator: slaledger maintenance create … → created maintenance #1 'Emergency router "
        f"patch' (edge at ams; {now + timedelta(minutes=10):%Y-%m-%dT%H:%M:%SZ} → "
        f"{now + timedelta(minutes=11):%Y-%m-%dT%H:%M:%SZ}; emergency)"
    )
    assert second.startswith("    emergency maintenance: announced 9m")
    assert second.endswith(
        " before its start; edge needs 48h notice — this window counts as downtime"
    )
    contract = load_contract(EXAMPLES / "live-demo.yaml")
    stored = MaintenanceStore(connect(demo.db), contract).events()
    emergencies = resolve_windows(contract, stored)["edge"].emergencies
    assert [e.location for e in emergencies] == ["ams"]


def test_status_lines() -> None:
    live = {
        "results": [
            {
                "service": "edge",
                "location": "ams",
                "target": "99.99",
                "availability": "99.990000",
                "downtime_minutes": 1,
                "probes": {"up": 10, "down": 2, "excluded": 0},
            }
        ]
    }
    incidents = {"active": [{"id": 3, "title": "api is down", "status": "investigating"}]}
    assert status_lines(live, 65, incidents) == [
        "t+01:05",
        "  now: api: 30 s of 500s (down probes)",
        "  open incident #3: api is down (investigating)",
        "  edge@ams     99.990000 %  target 99.99 %  down   1 min  probes 10/2/0",
    ]


def test_the_timeline_starts_on_a_whole_minute_after_the_startup_time() -> None:
    assert timeline_epoch(datetime(2026, 12, 5, 18, 30, 0, tzinfo=UTC)) == datetime(
        2026, 12, 5, 18, 31, tzinfo=UTC
    )
    assert timeline_epoch(datetime(2026, 12, 5, 18, 30, 40, 5, tzinfo=UTC)) == datetime(
        2026, 12, 5, 18, 32, tzinfo=UTC
    )
    assert timeline_epoch(datetime(2026, 12, 5, 18, 29, 40, tzinfo=UTC)) == datetime(
        2026, 12, 5, 18, 30, tzinfo=UTC
    )


def _scripted_probes(contract: Contract, epoch: int, phase: int) -> Observations:
    """What the two agents see over one cycle of the timeline, probing every 10 s from
    ``phase`` seconds after the timeline starts (a hang times out)."""
    services = tuple(contract.services)
    rows: list[tuple[int, int, int, int, int, bool]] = []
    for s, (name, service) in enumerate(contract.services.items()):
        for check in service.checks:
            where = check.locations[0]
            for second in range(phase, CYCLE, 10):
                incident = active(TIMELINE, name, where, second)
                behaviour = None if incident is None else incident.behaviour
                status = {None: 200, "500": 500, "503-retry-after": 503}.get(behaviour, 0)
                error = ERROR_CODES["timeout"] if behaviour == "hang" else 0
                at = epoch + second * 1_000_000
                rows.append((at, s, LOCATIONS.index(where), status, error, status == 503))
    rows.sort()
    return Observations(
        timestamp=np.array([r[0] for r in rows], np.int64),
        service=np.array([r[1] for r in rows], np.int32),
        location=np.array([r[2] for r in rows], np.int16),
        status=np.array([r[3] for r in rows], np.int16),
        error=np.array([r[4] for r in rows], np.int8),
        retry_after=np.array([r[5] for r in rows], bool),
        services=services,
        locations=LOCATIONS,
    )


def test_the_hang_and_the_outage_are_separate_episodes(tmp_path: Path) -> None:
    contract = load_contract(EXAMPLES / "live-demo.yaml")
    epoch = datetime(2026, 12, 5, 18, 31, tzinfo=UTC)
    path = tmp_path / "events.yaml"
    path.write_text(events_yaml(epoch))
    events = load_events(path, contract)
    for phase in range(10):  # wherever in its 10 s the agents' first probe falls
        probes = _scripted_probes(contract, to_instant(epoch), phase)
        web = next(r for r in settle(contract, probes, events, (2026, 12)).results)
        assert web.service == "web"
        assert [
            (format_instant(e.start), format_instant(e.end), e.status, e.counted_minutes)
            for e in web.episodes
        ] == [
            ("2026-12-05T18:33:00Z", "2026-12-05T18:34:00Z", "too-short", 0),  # the hang
            ("2026-12-05T18:35:00Z", "2026-12-05T18:38:00Z", "counted", 3),  # the outage
            ("2026-12-05T18:39:00Z", "2026-12-05T18:40:00Z", "too-short", 0),  # maintenance
        ], phase
        assert web.downtime_minutes == 3


class _ServerStartingError(Exception):
    pass


class _UntilServe(LiveDemo):
    """The live demo up to the moment it would start ``slaledger serve``."""

    started: list[str]

    def _start(self, name: str, command: list[str]) -> None:
        self.started = [*getattr(self, "started", []), name]
        if name == "server":
            raise _ServerStartingError


def test_the_store_holds_the_demos_past_before_serve_starts(tmp_path: Path) -> None:
    now = datetime(2026, 12, 5, 18, 30, tzinfo=UTC)
    said: list[str] = []
    demo = _UntilServe(EXAMPLES / "live-demo.yaml", tmp_path / "live", say=said.append)
    with pytest.raises(_ServerStartingError):
        demo.start(now, clock=lambda: now)
    assert demo.started == ["target", "server"]
    assert said[0].startswith(
        "  seeded 4,705,560 probes of the last 90 days, 4 past incidents, 3 maintenance "
        "windows, 3,688 records for the commitments and the statement of 2026-11 in "
    )
    contract = load_contract(EXAMPLES / "live-demo.yaml")
    stores = open_stores(demo.db)
    today = to_instant(datetime(2026, 12, 5, tzinfo=UTC))
    # 90 days of probes every 10 s: 6 series (3 services at 2 locations), up to now.
    assert stores.minutes.first_instant() == today - 90 * US_PER_DAY
    probes = stores.observations.load(today - 90 * US_PER_DAY, to_instant(now))
    assert len(probes) == 6 * (90 * 8640 + 18 * 360 + 180)
    assert (
        stores.observations.load(to_instant(now), to_instant(now) + US_PER_DAY).timestamp.size == 0
    )

    incidents = IncidentStore(stores.engine, contract).all()
    assert [(i.title, i.status, len(i.updates)) for i in incidents] == [
        ("Web application returning errors", "resolved", 3),
        ("Public API timeouts", "resolved", 4),
        ("Amsterdam PoP unreachable", "resolved", 2),
        ("Elevated API error rate", "resolved", 2),
    ]
    assert format_instant(incidents[0].started) == "2026-12-03T09:14:00Z"
    assert format_instant(incidents[0].resolved or 0) == "2026-12-03T09:28:00Z"

    windows = MaintenanceStore(stores.engine, contract).all()
    assert [(w.title, format_instant(w.start), w.kind) for w in windows] == [
        ("Switch replacement", "2026-09-21T02:00:00Z", "scheduled"),
        ("Database upgrade", "2026-10-19T22:00:00Z", "scheduled"),
        ("Load balancer upgrade", "2026-12-14T06:00:00Z", "scheduled"),
    ]
    actions = [e.action for e in AuditLog(stores.engine).entries(limit=1000)]
    assert sorted(set(actions)) == [
        "incident.open",
        "incident.resolve",
        "incident.update",
        "maintenance.create",
    ]
    assert actions.count("maintenance.create") == 3
    assert actions.count("incident.open") == 4

    # The commitments' records: 120 days of tickets, DDoS events and provisioning requests.
    assert RecordStore(stores.engine).stamp("live-demo")[0] == 3688

    statement = stores.statements.get("live-demo", "2026-11")
    assert statement is not None
    results = {(r["service"], r["location"]): r for r in json.loads(statement.document)["results"]}
    assert results[("edge", "ams")]["downtime_minutes"] == 6  # Amsterdam PoP unreachable
    assert results[("api", None)]["probes"]["down"] == 300  # API timeouts, 25 min from 2
    assert results[("web", None)]["downtime_minutes"] == 0

    # The status page's bars are settled already: every day of the 90, and the months.
    periods = FigureStore(stores.engine, "live-demo").periods()
    assert {"2026-09-06", "2026-12-04", "2026-09", "2026-10", "2026-11"} <= set(periods)
    assert len([p for p in periods if len(p) == 10]) == 90


def test_status_lines_before_the_timeline_starts() -> None:
    assert status_lines({"results": []}, -21) == ["t-00:21", "  now: all quiet"]
