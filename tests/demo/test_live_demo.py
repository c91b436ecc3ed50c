"""The live demo's pieces: the scripted target on real ports, its events, its status lines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from slaledger.adapters.contract_file import load_contract
from slaledger.adapters.events_file import load_events
from slaledger.core.windows import resolve_windows
from slaledger.demo.live import events_yaml, status_lines
from slaledger.demo.live_target import CYCLE, TIMELINE, active, make_app

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


def test_events_are_one_scheduled_and_one_emergency_window(tmp_path: Path) -> None:
    contract = load_contract(EXAMPLES / "live-demo.yaml")
    path = tmp_path / "events.yaml"
    path.write_text(events_yaml(datetime(2026, 11, 21, 12, 0, tzinfo=UTC)))
    windows = resolve_windows(contract, load_events(path, contract))
    assert windows["web"].everywhere.pairs() == [
        (1795262880000000, 1795262940000000)  # 12:08 to 12:09, excluded
    ]
    assert [(e.location, e.reason) for e in windows["edge"].emergencies] == [
        (
            "ams",
            "emergency maintenance 'Emergency router patch': announced 0m before its start, "
            "less than the 48h notice",
        )
    ]


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
    assert status_lines(live, 65) == [
        "t+01:05",
        "  now: api: 30 s of 500s (down probes)",
        "  edge@ams     99.990000 %  target 99.99 %  down   1 min  probes 10/2/0",
    ]
