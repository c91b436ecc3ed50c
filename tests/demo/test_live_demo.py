"""The live demo's pieces: the scripted target on real ports, its events, its status lines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from slaledger.adapters.contract_file import load_contract
from slaledger.adapters.events_file import load_events
from slaledger.core.windows import resolve_windows
from slaledger.demo.live import LiveDemo, events_yaml, status_lines
from slaledger.demo.live_target import CYCLE, TIMELINE, active, make_app
from slaledger.store.database import connect
from slaledger.store.maintenance_store import MaintenanceStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"


def test_timeline_repeats_and_is_location_specific() -> None:
    assert active(TIMELINE, "web", "fra", 0) is None
    assert active(TIMELINE, "web", "fra", 200).behaviour == "500"  # type: ignore[union-attr]
    assert active(TIMELINE, "web", "fra", 200 + CYCLE) is not None
    assert active(TIMELINE, "web", "fra", 400) is None  # only ams fails then
    assert active(TIMELINE, "web", "ams", 400) is not None
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
            for at, route in ((10, "web"), (200, "web"), (250, "api")):
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
