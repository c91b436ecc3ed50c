"""The live demo: a scripted target service, a server and two agents, all on 127.0.0.1.

Everything runs as the real commands in subprocesses (``slaledger serve``, ``slaledger
agent``, ``slaledger token``), so the demo exercises the same paths a deployment does. Its
store is seeded first (:mod:`slaledger.demo.history`): 90 days of probes, past incidents and
maintenance, last month's statement, so the status page shows a product from its first
second. The scripted timeline starts on the next whole minute (:func:`timeline_epoch`).
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slaledger.core.timebase import to_instant
from slaledger.demo.history import Seeded, seed_store
from slaledger.demo.live_target import CYCLE, TIMELINE, active
from slaledger.files.atomic import atomic_write_text
from slaledger.files.contract_file import load_contract
from slaledger.files.events_file import load_events

LOCATIONS = ("fra", "ams")
STARTUP_SECONDS = 20
"""Time left for the server and the agents to start before the timeline does."""


def timeline_epoch(now: datetime) -> datetime:
    """When the scripted timeline starts: the first whole minute at least
    :data:`STARTUP_SECONDS` after ``now``, so its episodes fill whole minute buckets."""
    later = now + timedelta(seconds=STARTUP_SECONDS)
    floor = later.replace(second=0, microsecond=0)
    return floor if floor == later else floor + timedelta(minutes=1)


@dataclass
class LiveDemo:
    """The processes of one live demo run, started in order and stopped in reverse."""

    contract: Path
    folder: Path
    port: int = 8080
    say: Callable[[str], None] = print
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def db(self) -> str:
        return f"sqlite:///{self.folder / 'live.db'}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _slaledger(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "slaledger", *args]

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((name, process))

    def seed(self, now: datetime, epoch: datetime) -> Seeded:
        """A fresh folder, its events file and a store holding the demo's past up to ``now``."""
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        events = self.folder / "events.yaml"
        atomic_write_text(events, events_yaml(epoch))
        contract = load_contract(self.contract)
        return seed_store(self.db, contract, to_instant(now), load_events(events, contract))

    def start(
        self, now: datetime, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> datetime:
        """Seed the store, then start the target, the server and the agents; returns when the
        timeline starts."""
        seeded = self.seed(now, timeline_epoch(now))
        self.say(
            f"  seeded {seeded.observations:,} probes of the last 90 days, {seeded.incidents} "
            f"past incidents, {seeded.maintenance} maintenance windows, {seeded.records:,} "
            f"records for the commitments and the statement of {seeded.statement} in "
            f"{(clock() - now).total_seconds():.1f} s"
        )
        epoch = timeline_epoch(clock())
        if epoch != timeline_epoch(now):  # seeding took long: the window moves with the timeline
            atomic_write_text(self.folder / "events.yaml", events_yaml(epoch))
        events = self.folder / "events.yaml"
        self._start(
            "target",
            [sys.executable, "-m", "slaledger.demo.live_target", "--epoch", str(epoch.timestamp())],
        )
        self._start(
            "server",
            self._slaledger(
                "serve",
                str(self.contract),
                "--db",
                self.db,
                "--events",
                str(events),
                "--port",
                str(self.port),
                "--no-probes",
            ),
        )
        self._wait_for(f"{self.url}/healthz")
        self.say(self.announce_emergency(epoch))
        for location in LOCATIONS:
            token = subprocess.run(
                self._slaledger(
                    "token",
                    "create",
                    "--scope",
                    "agent",
                    "--name",
                    f"demo-{location}",
                    "--location",
                    location,
                    "--db",
                    self.db,
                ),
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            self._start(
                f"agent-{location}",
                self._slaledger(
                    "agent",
                    str(self.contract),
                    "--location",
                    location,
                    "--server",
                    self.url,
                    "--token",
                    token,
                    "--queue",
                    str(self.folder / f"agent-{location}.queue"),
                ),
            )
        return epoch

    def announce_emergency(self, now: datetime) -> str:
        """The operator schedules the emergency router patch as the demo starts (ten minutes
        ahead, far less than the 48 h notice): slaledger says it will count as downtime."""

        def at(seconds: int) -> str:
            return (now + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

        created = subprocess.run(
            self._slaledger(
                "maintenance",
                "create",
                "--contract",
                str(self.contract),
                "--db",
                self.db,
                "--service",
                "edge",
                "--location",
                "ams",
                "--title",
                "Emergency router patch",
                "--start",
                at(600),
                "--end",
                at(660),
                "--as",
                "demo-operator",
            ),
            capture_output=True,
            text=True,
            check=True,
        )
        return "  operator: slaledger maintenance create … → " + created.stdout.strip().replace(
            "\n", "\n    "
        )

    def _wait_for(self, url: str, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except OSError:  # refused, reset or slow while the server starts
                time.sleep(0.2)
            for name, process in self.processes:
                if process.poll() is not None:
                    log = (self.folder / f"{name}.log").read_text(errors="replace")
                    raise RuntimeError(f"{name} exited: {log.strip().splitlines()[-1:]}")
        raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")

    def live(self) -> dict[str, object]:
        return self._get("/api/v1/live")

    def incidents(self) -> dict[str, object]:
        return self._get("/api/v1/incidents")

    def _get(self, path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as answer:
            data: dict[str, object] = json.loads(answer.read())
            return data

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _name, process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()


def events_yaml(now: datetime) -> str:
    """The window over the timeline's announced maintenance, announced 72 h ahead (scheduled,
    excluded). The emergency one is created by an operator as the demo starts."""

    def at(seconds: int) -> str:
        return (now + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    announced = (now - timedelta(hours=72)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "maintenance:\n"
        f"  - {{services: [web], start: {at(480)}, end: {at(540)}, announced: {announced},\n"
        "     title: Database upgrade}\n"
    )


def status_lines(
    live: dict[str, object], second: int, incidents: dict[str, object] | None = None
) -> list[str]:
    """What the demo prints every half minute: what the target does now, the incidents open
    on the status page, then each result."""
    now = [
        f"  now: {i.story}" for i in TIMELINE if active((i,), i.route, next(iter(i.where)), second)
    ]
    sign = "+" if second >= 0 else "-"
    elapsed = abs(second)
    lines = [f"t{sign}{elapsed // 60:02d}:{elapsed % 60:02d}", *(now or ["  now: all quiet"])]
    listed = [] if incidents is None else incidents.get("active", [])
    assert isinstance(listed, list)
    lines += [f"  open incident #{i['id']}: {i['title']} ({i['status']})" for i in listed]
    results = live.get("results", [])
    assert isinstance(results, list)
    for r in results:
        where = f"{r['service']}@{r['location']}" if r.get("location") else r["service"]
        availability = r.get("availability") or "no data"
        down = r.get("downtime_minutes")
        lines.append(
            f"  {where:10s} {availability:>11} %  target {r['target']:>5} %  "
            f"down {'-' if down is None else down:>3} min  "
            f"probes {r['probes']['up']}/{r['probes']['down']}/{r['probes']['excluded']}"
        )
    return lines


def run_live(contract: Path, folder: Path, minutes: float, port: int) -> None:
    demo = LiveDemo(contract, folder, port)
    started = datetime.now(UTC)
    demo.say(f"live demo: {contract.name} probed from {', '.join(LOCATIONS)} every 10 s")
    try:
        epoch = demo.start(started)
    except BaseException:
        demo.stop()
        raise
    demo.say(f"  status page {demo.url}/  (JSON: {demo.url}/api/v1/live), logs in {folder}/")
    demo.say(
        f"  the timeline of incidents starts at {epoch:%H:%M:%S} UTC and repeats every "
        f"{CYCLE // 60} minutes; Ctrl-C stops"
    )
    deadline = time.monotonic() + minutes * 60
    try:
        while time.monotonic() < deadline:
            time.sleep(min(30.0, max(0.0, deadline - time.monotonic())))
            second = math.floor((datetime.now(UTC) - epoch).total_seconds())
            try:
                demo.say("\n".join(status_lines(demo.live(), second, demo.incidents())))
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                demo.say(f"t+{second}s: server not answering ({error})")
    except KeyboardInterrupt:
        demo.say("stopping")
    finally:
        demo.stop()
    month = started.strftime("%Y-%m")
    program = sys.argv[0] if Path(sys.argv[0]).name == "slaledger" else "slaledger"
    demo.say(
        "settle it yourself: "
        f"{program} report {contract} --db {demo.db} --events {folder / 'events.yaml'} "
        f"--month {month}"
    )
