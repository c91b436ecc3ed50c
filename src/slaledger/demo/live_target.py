"""The live demo's target service: two ports (one per probing location) whose answers follow
a scripted, repeating timeline of incidents.

Run it as ``python -m slaledger.demo.live_target --fra-port 18081 --ams-port 18082``; the
timeline starts when it starts (or at ``--epoch``, Unix seconds) and repeats every
:data:`CYCLE` seconds. The live demo starts it on a whole minute, so that each scripted
episode fills the minute buckets the rules count in: the 40-second hang stays inside one
bucket (too short for the 2-minute minimum) and a quiet minute keeps it apart from the
outage that follows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

CYCLE = 12 * 60
"""Seconds after which the timeline starts again."""


@dataclass(frozen=True)
class Incident:
    """From ``start`` to ``end`` seconds into the cycle, ``route`` at ``where`` misbehaves."""

    start: int
    end: int
    route: str
    where: frozenset[str]
    behaviour: str  # "500", "503-retry-after", "hang" or "refuse"
    story: str


BOTH = frozenset({"fra", "ams"})
TIMELINE: tuple[Incident, ...] = (
    Incident(60, 90, "api", BOTH, "500", "api: 30 s of 500s (down probes)"),
    Incident(120, 160, "web", BOTH, "hang", "web: hangs for 40 s (too short to count)"),
    Incident(240, 420, "web", BOTH, "500", "web: 3-minute outage seen from both (counted)"),
    Incident(240, 300, "api", BOTH, "503-retry-after", "api: circuit breaker, 503 + Retry-After"),
    Incident(420, 480, "web", frozenset({"ams"}), "500", "web: ams only (not confirmed)"),
    Incident(390, 437, "edge", frozenset({"ams"}), "500", "edge@ams: 47 s down (rounds up)"),
    Incident(480, 540, "web", BOTH, "500", "web: inside maintenance announced 72 h ahead"),
    Incident(600, 660, "edge", frozenset({"ams"}), "500", "edge@ams: emergency maintenance"),
)


def active(incidents: tuple[Incident, ...], route: str, where: str, second: int) -> Incident | None:
    """The incident shaping ``route`` at ``where`` this second of the cycle, if any (none
    before the timeline starts)."""
    if second < 0:
        return None
    for incident in incidents:
        in_time = incident.start <= second % CYCLE < incident.end
        if incident.route == route and where in incident.where and in_time:
            return incident
    return None


def make_app(where: str, started: float, clock: Callable[[], float]) -> web.Application:
    async def answer(request: web.Request) -> web.StreamResponse:
        route = request.match_info["route"]
        incident = active(TIMELINE, route, where, int(clock() - started))
        if incident is None:
            return web.json_response({"status": "ok", "route": route, "location": where})
        if incident.behaviour == "hang":
            await asyncio.sleep(30)
        if incident.behaviour == "503-retry-after":
            return web.Response(status=503, text="breaker open", headers={"Retry-After": "30"})
        return web.Response(status=500, text=incident.story)

    app = web.Application()
    app.router.add_get("/{route}", answer)
    return app


async def serve(
    fra_port: int, ams_port: int, host: str = "127.0.0.1", epoch: float | None = None
) -> None:
    started = time.time() if epoch is None else epoch
    runners = []
    for where, port in (("fra", fra_port), ("ams", ams_port)):
        runner = web.AppRunner(make_app(where, started, time.time), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        runners.append(runner)
    print(f"target: fra on {host}:{fra_port}, ams on {host}:{ams_port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        for runner in runners:
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fra-port", type=int, default=18081)
    parser.add_argument("--ams-port", type=int, default=18082)
    parser.add_argument("--epoch", type=float, help="When the timeline starts, Unix seconds.")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.fra_port, args.ams_port, epoch=args.epoch))


if __name__ == "__main__":
    main()
