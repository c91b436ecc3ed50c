"""``slaledger serve`` as a real process: tokens from the CLI, agents' batches over HTTP, live
figures equal to ``report --db``, and no acknowledged batch lost or doubled by a kill -9."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError

from conftest import Run
from slaledger.cli.serve import location_warnings
from slaledger.core.observations import ERROR_CODES
from slaledger.core.timebase import to_instant
from slaledger.files.contract_file import load_contract
from slaledger.store import schema
from slaledger.store.database import connect
from slaledger.store.observation_store import ObservationStore
from slaledger.store.tokens import TokenInfo

MINUTE = 60_000_000
DAY = 1440 * MINUTE
LIVE_FIELDS = ("coverage", "error_budget_minutes", "error_budget_probes")
SERVE = (sys.executable, "-m", "slaledger", "serve")


class Served:
    """A ``slaledger serve --no-probes`` subprocess and the URL it printed."""

    def __init__(
        self,
        contract: Path,
        db: str,
        port: int = 0,
        extra: tuple[str, ...] = ("--no-probes", "--refresh-seconds", "1"),
    ) -> None:
        self.process = subprocess.Popen(
            [*SERVE, str(contract), "--db", db, "--port", str(port), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as waiting:
            waiting.register(self.process.stdout, selectors.EVENT_READ)
            assert waiting.select(30), "slaledger serve printed nothing in 30 s"
        first = self.process.stdout.readline()
        prefix = "slaledger serve: listening on "
        assert first.startswith(prefix), first + self.process.stderr.read()  # type: ignore[union-attr]
        self.url = first[len(prefix) :].strip()
        self.port = int(self.url.rsplit(":", 1)[1])
        self.banner = [first, *(self.process.stdout.readline() for _ in range(7))]

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=20)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


@pytest.fixture
def serving() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(contract: Path, db: str, port: int = 0) -> Served:
        served = Served(contract, db, port)
        started.append(served)
        return served

    yield start
    for served in started:
        served.kill()


def post(url: str, body: Any, token: str | None, timeout: float = 10) -> tuple[int, Any]:
    call = urllib.request.Request(
        f"{url}/api/v1/ingest", data=json.dumps(body).encode(), method="POST"
    )
    call.add_header("Content-Type", "application/json")
    if token is not None:
        call.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def probe(at: int, service: str, status: int | None = 200) -> dict[str, Any]:
    return {
        "instant": at,
        "service": service,
        "check_id": f"{service}:http:0",
        "status": status,
        "error": "connect" if status is None else None,
        "latency_ms": 31.5,
        "retry_after": False,
    }


def agent_token(
    run_cli: Callable[..., Run], db: str, name: str = "agent-fra", location: str = "fra"
) -> str:
    created = run_cli(
        "token", "create", "--scope", "agent", "--name", name, "--location", location, "--db", db
    )
    assert created.code == 0, created.err
    assert created.err == (
        f"agent token {name!r} for location {location} created; store it now, it cannot be "
        "shown again\n"
    )
    return created.out.strip()


def test_serve_ingests_from_agents_and_its_live_figures_equal_report_db(
    run_cli: Callable[..., Run], serving: Callable[..., Served], contracts: Path, tmp_path: Path
) -> None:
    contract = contracts / "heft-io.yaml"
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    tokens = {where: agent_token(run_cli, db, f"agent-{where}", where) for where in ("fra", "ams")}
    token = tokens["fra"]
    server = serving(contract, db)
    assert server.banner[1:] == [
        f"  contract heft-io, database {db}\n",
        "  embedded agent: off (--no-probes)\n",
        f"  ingest: POST {server.url}/api/v1/ingest with an agent token (2 exist; create one "
        f"with: slaledger token create --scope agent --name NAME --location LOCATION --db {db})\n",
        f"  status page: {server.url}/  (public API: {server.url}/api/v1/openapi.json)\n",
        f"  live figures: GET {server.url}/api/v1/live\n",
        f"  operators: {server.url}/api/v1/admin/... with an admin token, or slaledger "
        "incident / slaledger maintenance\n",
        "  subscriber emails: queued, not sent (no --smtp-host)\n",
    ]
    assert get(f"{server.url}/healthz") == {"status": "ok"}

    # Thirty minutes of probes from two locations, until two minutes ago; tracking-api
    # fails at both for six minutes (a counted episode: confirm 2, at least 5 minutes).
    start = (time.time_ns() // 1000 // MINUTE - 31) * MINUTE
    for location in ("fra", "ams"):
        results = [
            probe(
                start + m * MINUTE + 7_000_000,
                service,
                503 if service == "tracking-api" and 10 <= m < 16 else 200,
            )
            for m in range(30)
            for service in ("tracking-js", "tracking-api", "data-api")
        ]
        batch = {"batch_id": uuid.uuid4().hex, "location": location, "results": results}
        status, body = post(server.url, batch, tokens[location])
        assert (status, body) == (
            200,
            {"batch_id": batch["batch_id"], "received": 90, "stored": 90, "duplicate": False},
        )
        assert post(server.url, batch, tokens[location]) == (
            200,
            {"batch_id": batch["batch_id"], "received": 90, "stored": 0, "duplicate": True},
        )
    refused = {"batch_id": uuid.uuid4().hex, "location": "fra", "results": [probe(start, "cdn")]}
    assert post(server.url, refused, None) == (
        401,
        {"error": "missing bearer token: send Authorization: Bearer <agent token>"},
    )
    assert post(server.url, refused, token) == (
        422,
        {
            "error": "results.0.service: unknown service 'cdn'; contract heft-io has "
            "tracking-js, static-app, tracking-api, data-api, authentication, site-sharing"
        },
    )

    # The month to date comes with the publisher's snapshots: wait for one after the batches.
    posted = time.time_ns() // 1000
    deadline = time.monotonic() + 30
    live = get(f"{server.url}/api/v1/live")
    while instant(live["at"]) < posted and time.monotonic() < deadline:
        time.sleep(0.2)
        live = get(f"{server.url}/api/v1/live")
    month = live["period"]["start"][:7]
    report = run_cli("report", contract, "--db", db, "--month", month, "--format", "json")
    assert report.code == 0, report.err
    settled = json.loads(report.out)
    assert (live["contract"], live["period"]) == (settled["contract"], settled["period"])
    assert [
        {k: v for k, v in r.items() if k not in LIVE_FIELDS} for r in live["results"]
    ] == settled["results"]
    api = next(r for r in live["results"] if r["service"] == "tracking-api")
    if start >= instant(live["period"]["start"]):  # the whole half hour lies in this month
        assert (api["downtime_minutes"], api["probes"]) == (
            6,
            {"up": 48, "down": 12, "excluded": 0},
        )
        # 99.9 % allows a thousandth of the month's minutes (43 or 44 whole ones); six are gone.
        assert api["error_budget_minutes"] == api["total_minutes"] // 1000 - 6
    assert server.stop(signal.SIGINT) == 0


def instant(text: str) -> int:
    return to_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))


def test_a_kill_minus_9_loses_no_acknowledged_batch_and_stores_none_twice(
    run_cli: Callable[..., Run], serving: Callable[..., Served], contracts: Path, tmp_path: Path
) -> None:
    contract = contracts / "heft-io.yaml"
    path = tmp_path / "serve.db"
    db = f"sqlite:///{path}"
    token = agent_token(run_cli, db)
    server = serving(contract, db)
    # Twenty minutes of probes around the last midnight (UTC): the restarted server packs
    # the closed day's rows into segments, the rest stay hot rows.
    base = (time.time_ns() // 1000 // DAY) * DAY - 10 * MINUTE
    batches = [
        {
            "batch_id": uuid.uuid4().hex,
            "location": "fra",
            "results": [
                probe(base + (n * 20 + i) * 1_000_000, service)
                for i in range(20)
                for service in ("tracking-js", "data-api")
            ],
        }
        for n in range(60)
    ]
    acknowledged: set[str] = set()
    enough = threading.Event()

    def agent() -> None:
        """Sends every batch once, as fast as it can; keeps going when the server is gone."""
        for batch in batches:
            try:
                status, body = post(server.url, batch, token, timeout=5)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                continue
            if status == 200:
                assert body["stored"] == 40
                acknowledged.add(batch["batch_id"])
            if len(acknowledged) == 15:
                enough.set()

    sender = threading.Thread(target=agent)
    sender.start()
    assert enough.wait(30)
    server.kill()
    sender.join(60)
    assert 15 <= len(acknowledged) < len(batches)

    # Restarted on the same port, the server is sent again what was not acknowledged, and
    # (as when an acknowledgement is lost) a few batches that were.
    again = serving(contract, db, server.port)
    assert again.url == server.url
    for batch in batches:
        if batch["batch_id"] not in acknowledged:
            status, body = post(again.url, batch, token)
            assert status == 200
            assert (body["stored"], body["duplicate"]) in {(40, False), (0, True)}
    for batch in [b for b in batches if b["batch_id"] in acknowledged][:3]:
        assert post(again.url, batch, token) == (
            200,
            {"batch_id": batch["batch_id"], "received": 40, "stored": 0, "duplicate": True},
        )
    assert again.stop(signal.SIGTERM) == 0

    engine = create_engine(db)
    with engine.connect() as connection:
        batch_ids = set(connection.execute(select(schema.ingest_batches.c.batch_id)).scalars())
        hot = connection.execute(select(func.count()).select_from(schema.observations)).scalar()
        packed = connection.execute(select(func.sum(schema.segments.c.rows))).scalar()
    engine.dispose()
    assert batch_ids == {batch["batch_id"] for batch in batches}
    assert (hot + packed, bool(packed)) == (60 * 40, True)
    stored = ObservationStore(connect(db)).load(base, base + 20 * MINUTE)
    sent = [r["instant"] for batch in batches for r in batch["results"]]
    assert sorted(stored.timestamp.tolist()) == sorted(sent)


def test_the_embedded_agent_probes_the_contracts_checks_into_the_store(
    serving: Callable[..., Served], tmp_path: Path
) -> None:
    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen(64)
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        contract = tmp_path / "lab.yaml"
        common = "interval: 200ms, timeout: 100ms"
        port, refused = listening.getsockname()[1], closed.getsockname()[1]
        contract.write_text(
            "contract: lab\nname: Lab\nservices:\n  db:\n    name: Database port\n"
            '    target: "99.9"\n    downtime: {rule: continuous-failure, min_duration: 5m}\n'
            "    checks:\n"
            f"      - {{type: tcp, host: 127.0.0.1, port: {port}, {common}}}\n"
            f"      - {{type: tcp, id: refused, host: 127.0.0.1, port: {refused}, {common},"
            " locations: [lab]}\n"
            f"      - {{type: tcp, id: elsewhere, host: 127.0.0.1, port: 9, {common},"
            " locations: [fra]}\n"
        )
        db = f"sqlite:///{tmp_path / 'lab.db'}"
        server = Served(contract, db, extra=("--location", "lab"))
        try:
            assert server.banner[2] == "  embedded agent at location lab: 2 checks\n"
            engine = create_engine(db)
            deadline = time.monotonic() + 20
            while probed(engine) != {"db:tcp:0": 3, "refused": 3}:
                assert time.monotonic() < deadline, probed(engine)
                time.sleep(0.2)
            assert server.stop(signal.SIGTERM) == 0
        finally:
            server.kill()
    o, c = schema.observations.c, schema.checks.c
    query = (
        select(c.name, schema.locations.c.name, o.status, o.error)
        .select_from(schema.observations)
        .join(schema.checks, c.id == o.check_id)
        .join(schema.locations, schema.locations.c.id == o.location_id)
        .distinct()
    )
    with engine.connect() as connection:
        kinds = sorted(tuple(row) for row in connection.execute(query))
    engine.dispose()
    assert kinds == [("db:tcp:0", "lab", 0, 0), ("refused", "lab", 0, ERROR_CODES["connect"])]


def probed(engine: Any) -> dict[str, int]:
    """Stored probes per check name, counted up to 3."""
    o, c = schema.observations.c, schema.checks.c
    query = (
        select(c.name, func.count())
        .select_from(schema.observations)
        .join(schema.checks, c.id == o.check_id)
        .group_by(c.name)
    )
    try:
        with engine.connect() as connection:
            counts = dict(connection.execute(query).all())
    except OperationalError:  # no tables until the server has migrated the database
        return {}
    return {name: min(count, 3) for name, count in counts.items()}


def test_token_commands_list_and_revoke(run_cli: Callable[..., Run], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'tokens.db'}"
    assert run_cli("token", "list", "--db", db).out == "no tokens\n"
    agent_token(run_cli, db, "agent-fra")
    admin = run_cli("token", "create", "--scope", "admin", "--name", "ops", "--db", db)
    assert admin.code == 0
    listed = run_cli("token", "list", "--db", db).out.splitlines()
    assert [line.split()[:3] for line in listed] == [
        ["name", "scope", "location"],
        ["agent-fra", "agent", "fra"],
        ["ops", "admin", "-"],
    ]
    assert "sl_" not in "".join(listed)
    revoked = run_cli("token", "revoke", "ops", "--db", db)
    assert (revoked.code, revoked.out) == (0, "revoked token 'ops'\n")
    again = run_cli("token", "revoke", "ops", "--db", db)
    assert (again.code, again.out, again.err) == (2, "", "error: NAME: no token named 'ops'\n")
    unplaced = run_cli("token", "create", "--scope", "agent", "--name", "agent-x", "--db", db)
    assert (unplaced.code, unplaced.err) == (
        2,
        "error: --location: an agent token reports for one location; give it, e.g. --location "
        "fra\n",
    )
    taken = run_cli(
        "token",
        "create",
        "--scope",
        "agent",
        "--name",
        "agent-fra",
        "--location",
        "fra",
        "--db",
        db,
    )
    assert (taken.code, taken.out, taken.err) == (
        2,
        "",
        "error: --name: a token named 'agent-fra' already exists; revoke it first or pick "
        "another name\n",
    )


def test_serve_refuses_an_embedded_agent_at_an_undeclared_location(
    run_cli: Callable[..., Run], tmp_path: Path
) -> None:
    contract = tmp_path / "lab.yaml"
    contract.write_text(
        "contract: lab\nname: Lab\nlocations: [fra]\nservices:\n  db:\n    name: Database\n"
        '    target: "99.9"\n    downtime: {rule: probe-ratio}\n'
        "    checks: [{type: tcp, host: 127.0.0.1, port: 9}]\n"
    )
    db = f"sqlite:///{tmp_path / 'lab.db'}"
    run = run_cli("serve", contract, "--db", db, "--port", "0")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: --location: 'local' is not a location of contract lab (fra): the embedded "
        "agent would report from it; give --location one of them, or --no-probes\n"
    )
    horizon = run_cli("serve", contract, "--db", db, "--no-probes", "--ingest-horizon", "7")
    assert (horizon.code, horizon.err) == (
        2,
        "error: --ingest-horizon: expected a duration like 90s, 5m, 48h or 30d, got '7'\n",
    )


def test_serve_warns_about_open_contracts_and_tokens_bound_to_no_location(
    contracts: Path,
) -> None:
    heft = load_contract(contracts / "heft-io.yaml")
    open_contract = heft.model_copy(update={"locations": None})
    agents = [
        TokenInfo("agent-fra", "agent", 0, "fra"),
        TokenInfo("old-1", "agent", 0, None),
        TokenInfo("old-2", "agent", 0, None),
    ]
    assert location_warnings(heft, agents[:1]) == []
    assert location_warnings(open_contract, agents) == [
        "contract heft-io declares no locations: any agent token can report from anywhere, "
        "under any location name; declare them with a top-level locations: [fra, ams]",
        "agent tokens old-1, old-2 bound to no location (created before locations): each may "
        "report for any declared location; re-create it with slaledger token create --scope "
        "agent --location LOCATION (docs/operations.md)",
    ]


def test_a_bad_trusted_proxy_is_one_line(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    done = run_cli(
        "serve", contracts / "heft-io.yaml", "--db", db, "--port", "0", "--trusted-proxy", "proxy"
    )
    assert done.code == 2
    assert done.err == (
        "error: --trusted-proxy: expected an IP address or network (10.0.0.1, 10.0.0.0/8), "
        "got 'proxy'\n"
    )
