"""The real ``slaledger agent`` in a subprocess, probing a local target and pushing to the
stand-in server (see ``test_pusher.py``): killed with -9 and restarted on the same queue, with
the server failing, hanging up and going away. Every result arrives exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web
from click.testing import CliRunner
from test_pusher import LOCAL, TOKEN, Lines, Mode, StandIn, run, stand_in

from slaledger.agent.pusher import Pusher
from slaledger.agent.queue import BatchQueue
from slaledger.agent.runner import Agent, AgentStats
from slaledger.cli.agent import command
from slaledger.core.checks import Check, HttpCheck
from slaledger.probes.result import Measurement
from slaledger.probes.scheduler import ScheduledCheck, stagger_offset, wall_clock

AGENT = (sys.executable, "-m", "slaledger", "agent")
SECOND = 1_000_000
CONTRACT = """\
contract: agent-test
name: Agent test
services:
  api:
    name: API
    target: "99.9"
    downtime: {{rule: probe-ratio}}
    checks:
      - {{id: api-ok, type: http, url: "{target}/ok", interval: 1s, timeout: 500ms}}
      - {{id: api-fail, type: http, url: "{target}/fail", interval: 1s, timeout: 500ms}}
      - {{type: http, url: "{target}/ok", interval: 1s, timeout: 500ms, locations: [ams]}}
  web:
    name: Web
    target: "99.9"
    downtime: {{rule: probe-ratio}}
    checks:
      - {{type: http, url: "http://{local}:{refused}/", interval: 1s, timeout: 500ms}}
"""
CHECKS = ("api-ok", "api-fail", "web:http:0")


def now() -> int:
    return time.time_ns() // 1000


@dataclass
class Target:
    """What the agent probes: ``/ok`` answers 200, ``/fail`` 500; each request's arrival."""

    arrivals: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    async def handle(self, request: web.Request) -> web.Response:
        self.arrivals[request.path].append(now())
        return web.Response(status=200 if request.path == "/ok" else 500, text="x")


@asynccontextmanager
async def target() -> AsyncIterator[tuple[Target, int]]:
    state = Target()
    app = web.Application()
    app.router.add_get("/{path}", state.handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, LOCAL, 0)
    await site.start()
    server = cast(asyncio.base_events.Server, site._server)
    try:
        yield state, int(server.sockets[0].getsockname()[1])
    finally:
        await runner.cleanup()


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return int(sock.getsockname()[1])


def write_contract(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "contract.yaml"
    text = CONTRACT.format(target=f"http://{LOCAL}:{port}", local=LOCAL, refused=refused_port())
    path.write_text(text, encoding="utf-8")
    return path


class AgentProcess:
    """``slaledger agent`` with its output in files."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.out = tmp_path / f"{name}.out"
        self.err = tmp_path / f"{name}.err"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *args: str | Path, env: dict[str, str] | None = None) -> None:
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = await asyncio.create_subprocess_exec(
                *AGENT, *map(str, args), stdout=out, stderr=err, env={**os.environ, **(env or {})}
            )

    async def wait(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    @property
    def lines(self) -> list[str]:
        return self.out.read_text().splitlines()


def queued(path: Path) -> dict[str, bytes]:
    """The batches in a queue file, read by another process as the agent runs."""
    reader = sqlite3.connect(path, timeout=5)
    try:
        rows = reader.execute("SELECT batch_id, payload FROM batches ORDER BY seq").fetchall()
    finally:
        reader.close()
    return {batch_id: bytes(payload) for batch_id, payload in rows}


async def until(condition: Callable[[], bool], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.05)


def slots(instants: list[int], check_id: str) -> list[int]:
    """Which planned start (numbered from the epoch) each result belongs to."""
    offset = stagger_offset(check_id, SECOND)
    return [(instant - offset + SECOND // 2) // SECOND for instant in instants]


@dataclass
class Outages:
    """What happened in :func:`outages`: when the first agent was killed, what its queue
    held then, when the second one was started, and the servers."""

    killed: int = 0
    queued: dict[str, bytes] = field(default_factory=dict)
    restarted: int = 0
    server: StandIn = field(default_factory=StandIn)
    probed: Target = field(default_factory=Target)


async def outages(tmp_path: Path, first: AgentProcess, second: AgentProcess) -> Outages:
    """Agent one pushes, sees answers lost and the server go away, and is killed with -9;
    agent two starts on the same queue, drains it, sees the server go and come back, and
    is stopped with SIGTERM."""
    queue = tmp_path / "fra.queue"
    marks = Outages()
    async with target() as (marks.probed, port), stand_in() as server:
        marks.server = server
        contract = write_contract(tmp_path, port)
        common = (
            *(contract, "--location", "fra", "--server", server.url, "--queue", queue),
            *("--status-interval", "1", "--max-backoff", "0.4"),
        )
        await first.start(*common, env={"SLALEDGER_AGENT_TOKEN": TOKEN})

        # Pushing; then answers get lost after the server stored the batch.
        await until(lambda: len(server.stored) >= 3, 15, "the server has 3 results")
        server.mode = "store-then-fail"
        await until(lambda: server.duplicates >= 1, 10, "a batch was sent twice")

        # The server goes away: results pile up in the queue; then kill -9.
        await server.down()
        await until(lambda: len(queued(queue)) >= 2, 10, "2 batches are queued")
        marks.killed = now()
        first.signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        marks.queued = queued(queue)

        # Back with the server up: the queue drains, each batch under its first id.
        server.mode = "ok"
        await server.up()
        marks.restarted = now()
        await second.start(*common, "--token", TOKEN)
        await until(lambda: set(marks.queued) <= set(server.batches), 15, "the queue was sent")
        await until(lambda: not queued(queue), 10, "the queue is empty")

        # The server goes away under the running agent, and comes back.
        await asyncio.sleep(0.5)
        await server.down()
        await until(lambda: len(queued(queue)) >= 2, 10, "2 batches are queued again")
        await server.up()
        await until(lambda: not queued(queue), 10, "the queue drained again")
        await asyncio.sleep(0.5)

        second.signal(signal.SIGTERM)
        assert await second.wait() == 0
    return marks


@pytest.mark.slow
def test_kill_9_restart_and_server_outages_lose_nothing_and_store_once(tmp_path: Path) -> None:
    first, second = AgentProcess(tmp_path, "first"), AgentProcess(tmp_path, "second")
    marks: Outages = run(outages(tmp_path, first, second), limit=90)
    server = marks.server

    # Exactly once: no result twice, all from fra, every queued batch under its own id.
    assert len(server.stored) == len(set(server.stored))
    assert {location for location, *_ in server.stored} == {"fra"}
    assert server.duplicates >= 1
    for batch_id, payload in marks.queued.items():
        assert server.batches[batch_id]["results"] == json.loads(payload)
    assert_nothing_lost(marks)

    # What the agents said.
    queue = tmp_path / "fra.queue"
    start = (
        f"slaledger agent at fra: probing 3 checks of 2 services (api, web) every 1s; pushing to "
        f"{server.url}/api/v1/ingest; queue {queue} holds"
    )
    assert first.lines[0] == f"{start} 0 results in 0 batches"
    assert re.fullmatch(re.escape(start) + r" \d+ results? in \d+ batch(es)?", second.lines[0])
    status = re.compile(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ probes \d+ \(\d+ failed, lag p99 \d+ms\); "
        r"pushed \d+ batch(es)? \(\d+ results?, \d+ duplicate, 0 rejected\); "
        r"queued \d+ batch(es)? \(\d+ results?\); server (ok|failing since \S+Z: .+)"
    )
    assert all(status.fullmatch(line) for line in second.lines[1:-1])
    assert len(second.lines) >= 4
    assert second.lines[-1] == f"stopped: every result pushed; queue {queue} is empty"
    assert "Connection refused; results stay queued" in second.err.read_text()


def assert_nothing_lost(marks: Outages) -> None:
    """Each check has a result for every planned start but those the first agent had not
    yet put into its queue when it was killed (at most its last flush interval) and those
    before the second one started; and the target saw no more probes than that."""
    killed, restarted = marks.killed, marks.restarted
    by_check: dict[str, list[int]] = defaultdict(list)
    outcomes: dict[str, set[tuple[int | None, str | None]]] = defaultdict(set)
    for batch in marks.server.batches.values():
        for r in batch["results"]:
            by_check[r["check_id"]].append(r["instant"])
            outcomes[r["check_id"]].add((r["status"], r["error"]))
    assert sorted(by_check) == sorted(CHECKS)
    assert outcomes == {
        "api-ok": {(200, None)},
        "api-fail": {(500, "assertion")},
        "web:http:0": {(None, "connect")},
    }
    for check_id, instants in by_check.items():
        numbered = slots(instants, check_id)
        assert len(numbered) == len(set(numbered)), check_id
        missing = set(range(min(numbered), max(numbered) + 1)) - set(numbered)
        resumed = min(instant for instant in instants if instant >= restarted)
        for slot in missing:
            planned = slot * SECOND + stagger_offset(check_id, SECOND)
            assert killed - 2 * SECOND <= planned < resumed, (check_id, slot)
        assert len(missing) <= (resumed - killed) // SECOND + 2
    for check_id, path in (("api-ok", "/ok"), ("api-fail", "/fail")):
        arrivals = marks.probed.arrivals[path]
        after = [i for i in by_check[check_id] if i >= restarted]
        assert len(after) == len([t for t in arrivals if t >= restarted])
        before = [i for i in by_check[check_id] if i < killed]
        lost = len([t for t in arrivals if t < killed]) - len(before)
        assert 0 <= lost <= 2


FAST_CHECKS = 20
FAST_CONTRACT = """\
contract: agent-fast
name: Agent test, 200 probes a second
services:
  api:
    name: API
    target: "99.9"
    downtime: {{rule: probe-ratio}}
    checks:
{checks}
"""


@pytest.mark.slow
def test_kill_9_loses_only_the_results_of_its_last_milliseconds(tmp_path: Path) -> None:
    """200 probes a second; killed with -9 mid-run. Every probe the target saw before the
    kill is at the server or in the queue (what the next start sends), but those that ended
    in the last few milliseconds or were still running: no more than one per check, all
    started less than 100 ms before the kill."""
    queue = tmp_path / "fra.queue"
    agent = AgentProcess(tmp_path, "agent")
    marks: dict[str, Any] = {}

    async def scenario() -> None:
        async with target() as (probed, port), stand_in() as server:
            contract = tmp_path / "fast.yaml"
            url = f"http://{LOCAL}:{port}/ok"
            check = "      - {{id: ok-{}, type: http, url: '{}', interval: 100ms, timeout: 90ms}}\n"
            checks = "".join(check.format(n, url) for n in range(FAST_CHECKS))
            contract.write_text(FAST_CONTRACT.format(checks=checks), encoding="utf-8")
            await agent.start(
                contract, "--location", "fra", "--server", server.url, "--queue", queue,
                env={"SLALEDGER_AGENT_TOKEN": TOKEN},
            )  # fmt: skip
            await until(lambda: len(probed.arrivals["/ok"]) >= 600, 20, "600 probes were made")
            await until(lambda: len(server.stored) >= 200, 10, "200 results reached the server")
            await asyncio.sleep(0.537)  # anywhere in the seal and flush cycles
            marks["killed"] = now()
            agent.signal(signal.SIGKILL)
            assert await agent.wait() == -signal.SIGKILL
            marks["arrivals"] = list(probed.arrivals["/ok"])
            marks["server"] = server

    run(scenario(), limit=60)
    killed: int = marks["killed"]
    server: StandIn = marks["server"]
    with BatchQueue(queue, "fra", wall_clock) as reopened:  # seals what was recorded
        left = [r for _, payload in reopened.oldest(100_000) for r in json.loads(payload)]
    results = [r for batch in server.batches.values() for r in batch["results"]] + left
    assert len(results) == len({(r["check_id"], r["instant"]) for r in results})
    # Each result's instant is its probe's start, a moment before the target sees it.
    made = sorted(instant for instant in marks["arrivals"] if instant < killed)
    kept = sorted(r["instant"] for r in results)
    assert len(kept) <= len(made)
    lost = len(made) - len(kept)
    assert 0 <= lost <= FAST_CHECKS, (lost, len(made))
    # Matched in time order, every probe that reached the target more than 100 ms before
    # the kill has its result.
    assert all(arrival >= kept_instant for arrival, kept_instant in zip(made, kept, strict=False))
    assert len(kept) >= len([instant for instant in made if instant < killed - 100_000])
    print(f"kill -9 at {len(made)} probes made: {lost} lost")


def test_sigterm_with_the_server_away_keeps_every_result_queued(tmp_path: Path) -> None:
    queue = tmp_path / "fra.queue"
    agent = AgentProcess(tmp_path, "agent")
    marks: dict[str, Any] = {}

    async def scenario() -> None:
        async with target() as (probed, port):
            server = StandIn()
            await server.up()
            await server.down()
            contract = write_contract(tmp_path, port)
            await agent.start(
                contract, "--location", "fra", "--server", server.url, "--queue", queue,
                env={"SLALEDGER_AGENT_TOKEN": TOKEN},
            )  # fmt: skip
            await until(lambda: len(probed.arrivals["/ok"]) >= 2, 15, "2 probes were made")
            agent.signal(signal.SIGTERM)
            assert await agent.wait() == 0
            marks["probed"] = probed

    run(scenario(), limit=30)
    probed: Target = marks["probed"]
    batches = queued(queue)
    results = [r for payload in batches.values() for r in json.loads(payload)]
    counts = Counter(r["check_id"] for r in results)
    assert counts["api-ok"] == len(probed.arrivals["/ok"])
    assert counts["api-fail"] == len(probed.arrivals["/fail"])
    assert agent.lines[-1] == (
        f"stopped: queue {queue} keeps {len(results)} results in {len(batches)} batches for "
        "the next start"
    )


def test_a_wrong_token_stops_the_agent_with_one_error_line(tmp_path: Path) -> None:
    agent = AgentProcess(tmp_path, "agent")
    queue = tmp_path / "fra.queue"

    async def scenario() -> str:
        async with target() as (_, port), stand_in() as server:
            contract = write_contract(tmp_path, port)
            await agent.start(
                contract, "--location", "fra", "--server", server.url, "--queue", queue,
                "--token", "wrong",
            )  # fmt: skip
            assert await asyncio.wait_for(agent.wait(), 20) == 2
            return server.url

    url = run(scenario(), limit=30)
    assert agent.err.read_text().splitlines()[-1] == (
        f"error: the server at {url}/api/v1/ingest refused the agent token (401: unknown agent "
        "token); check --token or SLALEDGER_AGENT_TOKEN"
    )
    assert queued(queue)  # the results made so far wait for a right token


def test_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    contract = write_contract(tmp_path, 9)
    monkeypatch.delenv("SLALEDGER_AGENT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    server = ("--server", "http://127.0.0.1:9")
    cases = {
        ("--location", "fra", "--server", "ftp://x"): (
            "error: --server: expected an http:// or https:// URL, got 'ftp://x'"
        ),
        ("--location", "fra", *server): (
            "error: no agent token: give --token or set SLALEDGER_AGENT_TOKEN"
        ),
        ("--location", "f r a", *server, "--token", "t"): (
            "error: --location: expected a location name like fra or us-east, got 'f r a'"
        ),
        ("--location", "fra", *server, "--token", "a b"): (
            "error: --token: expected a token without spaces"
        ),
    }
    for args, message in cases.items():
        done = CliRunner().invoke(command, [str(contract), *args])
        assert (done.exit_code, done.stdout, done.stderr) == (2, "", message + "\n"), args
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(
        "contract: elsewhere\nname: Elsewhere\nservices:\n  api:\n    name: API\n"
        '    target: "99.9"\n    downtime: {rule: probe-ratio}\n    checks:\n'
        "      - {type: tcp, host: 127.0.0.1, port: 9, locations: [ams, sin]}\n"
    )
    done = CliRunner().invoke(
        command, [str(elsewhere), "--location", "fra", *server, "--token", "t"]
    )
    assert (done.exit_code, done.stderr) == (
        2,
        f"error: {elsewhere}: no check runs at location fra\n",
    )
    assert sorted(tmp_path.iterdir()) == [contract, elsewhere]


# --- The runner in this process, with a stand-in probe -------------------------------------


class Probe:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, check: Check) -> Measurement:
        self.count += 1
        return Measurement(200, None, 1.5)


def fast_checks() -> list[ScheduledCheck]:
    check = HttpCheck(type="http", url="http://127.0.0.1:9/", interval="100ms", timeout="50ms")
    return [ScheduledCheck(f"check-{i}", "api", check) for i in range(3)]


async def run_agent(tmp_path: Path, mode: Mode, stops: int) -> tuple[AgentStats, Probe, StandIn]:
    probe, lines = Probe(), Lines()
    async with stand_in() as server:
        server.mode = mode
        with BatchQueue(tmp_path / "fra.queue", "fra", wall_clock) as queue:
            pusher = Pusher(queue, server.url, TOKEN, say=lines, clock=wall_clock, timeout=30)
            agent = Agent(
                fast_checks(), queue, pusher, clock=wall_clock, say=lines, drain_timeout=30,
                probe=probe, flush_interval=0.05,
            )  # fmt: skip
            running = asyncio.create_task(agent.run())
            await until(lambda: probe.count >= 9, 5, "9 probes")
            for _ in range(stops):
                agent.stop()
                await asyncio.sleep(0.2)
            stats = await asyncio.wait_for(running, 2)
    return stats, probe, server


def test_stop_queues_every_result_and_drains_the_queue(tmp_path: Path) -> None:
    stats, probe, server = run(run_agent(tmp_path, "ok", stops=1))
    assert (stats.probes.completed, stats.probes.in_flight) == (probe.count, 0)
    assert (stats.pushes.results, stats.queued_batches, stats.queued_results) == (probe.count, 0, 0)
    assert len(server.stored) == len(set(server.stored)) == probe.count


def test_a_second_stop_skips_the_drain(tmp_path: Path) -> None:
    """The server hangs: the drain would wait up to 30 s; a second stop ends it at once."""
    stats, probe, server = run(run_agent(tmp_path, "hang", stops=2))
    assert (stats.pushes.acknowledged, stats.queued_results) == (0, probe.count)
    assert server.batches == {}
    with BatchQueue(tmp_path / "fra.queue", "fra", wall_clock) as queue:
        assert queue.pending() == (stats.queued_batches, probe.count)


def test_the_token_is_said_to_go_unencrypted_only_off_this_machine() -> None:
    from slaledger.cli.agent import _plain_text_over_network as unencrypted

    assert not unencrypted("http://127.0.0.1:8080")
    assert not unencrypted("http://[::1]:8080")
    assert not unencrypted("http://localhost:8080")
    assert not unencrypted("https://sla.example.com")
    assert unencrypted("http://sla.example.com")
    assert unencrypted("http://10.0.0.7:8080")
