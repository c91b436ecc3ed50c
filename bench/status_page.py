"""Status page benchmark: requests per second and latency of ``/`` and
``/api/v2/summary.json`` on a real server, over a store with a year of history.

Run ``.venv/bin/python bench/status_page.py [--services 1000] [--seconds 10]
[--connections 32] [--postgresql] [--keep DIR] [--fabricated]``.

Default mode (a real store): a contract of ``--services`` services (continuous-failure rule,
5 min, confirm 2) measured from 3 locations, "now" fixed at 2026-11-20T12:00Z, and a year of
history in a fresh SQLite store in a temporary folder (or a schema of its own in PostgreSQL
with ``--postgresql``; ``--keep DIR`` keeps the SQLite file and reuses it on the next run):

- today (00:00 to 12:00): the hot table, through ``ObservationStore.ingest`` in hourly
  batches, as agents send them;
- the rest of November and all of October: raw observations at one-minute resolution
  packed into day segments with ``ObservationStore.pack_history`` (the default retention
  keeps 400 days raw, and the publisher's tick reads the month to date plus the 31 days
  before it, so what a tick reads is in the form production holds it);
- November 2025 to September 2026 (11 months): the long-term tier, ``minute_runs``. One
  probe a minute for 1000 x 3 series over a year is 1.5 billion observations, too many to
  generate and pack here, so these days are generated a day at a time, classified by the
  contract's rules (``classify_observations``) and written as runs in the tier's own format
  (``pack_runs``), as retention would leave them. With one probe per minute bucket every run
  is one observation: the first day is checked against ``collapse_runs``. Rows are written
  directly rather than through ``MinuteTier.replace_raw_day`` (which would also delete the
  day's raw segments) because that method groups a day with one pass over all of its runs
  per (service, location): seconds per day at 1000 services.

Probes mostly answer 200; isolated 503s at a rate of 1e-4; about one day in 30 each service
has an outage of 3 to 40 minutes seen from every location.

Then the published figures are filled in by the real ``FiguresJob`` (statements of the 12
past months, figures per month and per day for 90 days, service-wide and per location): in
production the once-a-minute tick does this 12 periods at a time over its first minutes. The
server process (uvicorn on 127.0.0.1, one worker, no access log, pinned to CPU 0) runs
``slaledger.app.Root.serve`` as ``slaledger serve --no-probes`` does, its settings' clock
starting at "now". Its publisher process (inheriting CPU 0, the worst
case: in production it has the other core) builds the first snapshot before the server
listens and a new one every ``--every`` seconds (60, as in production), logging how long
each took, while ``wrk`` (``apt-get install wrk``, keep-alive connections, pinned to CPU 1)
loads ``/`` and ``/api/v2/summary.json``, each with ``Accept-Encoding: gzip`` and without.
The table counts the snapshots built during each load run (after each one the server renders
the page again); ``--every 1`` keeps the publisher busy all along.

Building the store is dominated by the figures backfill (each past month settles two months
of data three times): about 3 minutes at 100 services, so expect about half an hour at
1,000; ``--keep DIR`` builds it once and reuses it.

``--fabricated``: the earlier mode, a fabricated 1,000-service snapshot (90 days, 12 months,
3 locations each, from ``tests/web/snapshots.py``) served by the public web alone, through
the cached fast path and through FastAPI's routing alone.

Target: at least 2,000 requests/s with p99 under 50 ms; the exit code is 1 when a gzip run
(through the fast path) misses it.
"""

from __future__ import annotations

import argparse
import gzip as gzip_codec
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from status_store import HISTORY_MONTHS, LOCATIONS, NOW, bench_contract, build_store

REPO = Path(__file__).resolve().parents[1]
TARGET_RPS = 2_000
TARGET_P99_MS = 50.0
ROUTES = ("/", "/api/v2/summary.json")
PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


# --- The servers ---------------------------------------------------------------------------


def serve_fabricated(port: int, fast_path: bool) -> None:
    """The public surfaces of a fabricated 1,000-service snapshot."""
    sys.path.insert(0, str(REPO / "tests" / "web"))
    import uvicorn
    from fastapi import FastAPI
    from snapshots import large_contract, large_snapshot  # type: ignore[import-not-found]

    from slaledger.web.status_page import mount_public_web

    snapshot = large_snapshot()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    cache = mount_public_web(app, large_contract(), lambda: snapshot)
    if not fast_path:
        app.user_middleware = [
            m for m in app.user_middleware if getattr(m.cls, "__name__", "") != "FastPath"
        ]
    started = time.perf_counter()
    cache.warm()
    print(f"rendered in {time.perf_counter() - started:.2f} s", file=sys.stderr, flush=True)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
        lifespan="off",
        backlog=4096,
    )


def serve_store(port: int, url: str, services: int, every: float) -> None:
    """``slaledger serve --no-probes`` over the store at ``url``, its clock starting at
    :data:`NOW`; the publisher process logs each snapshot's build time."""
    from slaledger.app import Root, Settings
    from slaledger.core.events import Events
    from slaledger.web.server import Listening

    logging.basicConfig(
        level=logging.INFO, format="%(created).3f %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("slaledger.publisher").setLevel(logging.INFO)
    contract = bench_contract(services)
    settings = Settings(
        db_url=url, public_url=f"http://127.0.0.1:{port}", every_seconds=every, clock_start=NOW
    )

    def announce(listening: Listening) -> None:
        print(f"  listening on {listening.url}", file=sys.stderr, flush=True)

    Root(settings).serve(
        contract,
        Events(),
        host="127.0.0.1",
        port=port,
        location="bench",
        probes=False,
        announce=announce,
    )


# --- Load ----------------------------------------------------------------------------------


def _pinned(cpu: int, command: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", str(cpu), *command] if taskset and os.cpu_count() != 1 else command


def _wait(url: str, server: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/api/v2/status.json", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def _warm(url: str) -> dict[tuple[str, bool], int]:
    """Each route once per encoding (renders the page before wrk starts); body sizes."""
    sizes = {}
    for route in ROUTES:
        for gzip in (True, False):
            headers = {"Accept-Encoding": "gzip"} if gzip else {}
            request = urllib.request.Request(url + route, headers=headers)
            with urllib.request.urlopen(request, timeout=300) as response:
                body = response.read()
                if gzip and response.headers.get("Content-Encoding") == "gzip":
                    assert gzip_codec.decompress(body)
            sizes[(route, gzip)] = len(body)
    return sizes


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if found is None:
        raise SystemExit(f"unexpected latency from wrk: {text!r}")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]


def wrk(url: str, seconds: int, connections: int, gzip: bool) -> tuple[float, float, float, str]:
    """Requests/s, p50 and p99 in ms, and transfer/s of one wrk run."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if gzip:
        command[1:1] = ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run(_pinned(1, command), capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    transfer = re.search(r"Transfer/sec:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    if errors:
        print(f"  wrk reported: {errors.group(0)}")
    return rate, p50, p99, transfer


HEADER = (
    f"{'server':<11} {'route':<22} {'encoding':<9} {'req/s':>8} {'p50 ms':>7} "
    f"{'p99 ms':>7} {'transfer/s':>11}"
)


@dataclass(frozen=True)
class Run:
    """One wrk run: its line of the table and when it ran (wall clock)."""

    text: str
    began: float
    ended: float


def _load(name: str, url: str, seconds: int, connections: int) -> tuple[bool, list[Run]]:
    met, runs = True, []
    for route in ROUTES:
        for gzip in (True, False):
            began = time.time()
            rate, p50, p99, transfer = wrk(url + route, seconds, connections, gzip)
            text = (
                f"{name:<11} {route:<22} {'gzip' if gzip else 'identity':<9} {rate:>8,.0f} "
                f"{p50:>7.2f} {p99:>7.2f} {transfer:>11}"
            )
            print(text, flush=True)
            runs.append(Run(text, began, time.time()))
            if gzip:
                met &= rate >= TARGET_RPS and p99 < TARGET_P99_MS
    return met, runs


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(120)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def run_fabricated(seconds: int, connections: int, port: int) -> tuple[bool, list[str]]:
    met, lines = True, [HEADER]
    print(HEADER)
    for fast_path in (True, False):
        flag = [] if fast_path else ["--no-fast-path"]
        script = [sys.executable, __file__, "--fabricated", "--serve", str(port), *flag]
        server = subprocess.Popen(_pinned(0, script))
        try:
            url = f"http://127.0.0.1:{port}"
            _wait(url, server, 120)
            name = "fast path" if fast_path else "FastAPI"
            ok, done = _load(name, url, seconds, connections)
            met &= ok or not fast_path
            lines += [run.text for run in done]
        finally:
            _stop(server)
    return met, lines


def _snapshot_record(line: str) -> dict[str, float]:
    """When a snapshot began and how long it took, from the publisher's log line
    (``2026-11-22 01:58:12,345 INFO slaledger.publisher: snapshot of … built in 3.20 s``)."""
    logged = datetime.strptime(" ".join(line.split()[:2]), "%Y-%m-%d %H:%M:%S,%f")
    seconds = float(line.split(" built in ")[1].split(maxsplit=1)[0])
    return {"start": logged.replace(tzinfo=UTC).timestamp() - seconds, "seconds": seconds}


def run_store(
    options: argparse.Namespace, url: str, label: str, folder: Path
) -> tuple[bool, list[str]]:
    ticks = folder / "server.log"
    ticks.unlink(missing_ok=True)
    script = [
        sys.executable,
        __file__,
        "--serve",
        str(options.port),
        "--url",
        url,
        "--services",
        str(options.services),
        "--every",
        str(options.every),
    ]
    print(
        f"server (CPU 0) and its publisher process (CPU 0 too, the worst case): "
        f"Root.serve, snapshots every {options.every:.0f} s"
    )
    log = ticks.open("wb")
    server = subprocess.Popen(_pinned(0, script), stderr=log)
    try:
        address = f"http://127.0.0.1:{options.port}"
        _wait(address, server, 1800)
        sizes = _warm(address)
        for route in ROUTES:
            print(
                f"  {route}: {sizes[(route, True)]:,} bytes gzip, "
                f"{sizes[(route, False)]:,} bytes identity"
            )

        print(HEADER)
        met, runs = _load(label, address, options.seconds, options.connections)
    finally:
        _stop(server)
        log.close()
    records = [
        _snapshot_record(line)
        for line in ticks.read_text(errors="replace").splitlines()
        if " built in " in line
    ]
    for kind, record in zip(("first", "second"), records, strict=False):
        print(f"  {kind} snapshot: {record['seconds']:.2f} s (in the publisher process)")
    background = records[1:]
    if background:
        seconds = [r["seconds"] for r in background]
        print(
            f"  background ticks while serving: {len(seconds)}, "
            f"{min(seconds):.2f} to {max(seconds):.2f} s each"
        )

    def during(run: Run) -> int:
        return sum(
            1
            for r in background
            if r["start"] < run.ended and r["start"] + r["seconds"] > run.began
        )

    header = f"{HEADER} {'bg ticks':>8}"
    return met, [header, *(f"{run.text} {during(run):>8}" for run in runs)]


def _postgresql() -> tuple[str, Callable[[], None]]:
    import psycopg

    schema_name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema_name}")

    def drop() -> None:
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema_name} CASCADE")

    base = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    return f"{base}?options=-csearch_path%3D{schema_name}", drop


def run_real(options: argparse.Namespace) -> tuple[bool, list[str]]:
    print(
        f"a real store: {options.services:,} services x {LOCATIONS} locations, now "
        f"2026-11-20T12:00Z; raw observations for the month to date and the month before, "
        f"minute runs for the {HISTORY_MONTHS - 1} months before those"
    )
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(options.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        drop: Callable[[], None] = lambda: None  # noqa: E731
        if options.postgresql:
            url, drop = _postgresql()
            label = "postgresql"
        else:
            path = folder / f"status-bench-{options.services}.db"
            url, label = f"sqlite:///{path}", "sqlite"
        try:
            if options.postgresql or not path.exists():
                began = time.perf_counter()
                print(f"building the store ({label}):")
                build_store(url, options.services)
                print(f"  store built in {time.perf_counter() - began:.0f} s")
            else:
                print(f"reusing {path}")
            if not options.postgresql:
                print(f"  SQLite file: {path.stat().st_size / 2**30:.2f} GiB")
            return run_store(options, url, label, folder)
        finally:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=18_765)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between ticks")
    parser.add_argument("--postgresql", action="store_true", help="PostgreSQL, not SQLite")
    parser.add_argument("--keep", help="folder to keep (and reuse) the SQLite store in")
    parser.add_argument("--fabricated", action="store_true", help="a fabricated snapshot")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--no-fast-path", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve and options.fabricated:
        serve_fabricated(options.serve, not options.no_fast_path)
        return
    if options.serve:
        serve_store(options.serve, options.url, options.services, options.every)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    load = os.getloadavg()
    if options.fabricated:
        met, lines = run_fabricated(options.seconds, options.connections, options.port)
    else:
        met, lines = run_real(options)
    after = os.getloadavg()
    print("\nsummary")
    print("\n".join(lines))
    print(f"load average before {load[0]:.2f}, after {after[0]:.2f} (1 min)")
    verdict = "met" if met else "MISSED"
    print(f"target ≥ {TARGET_RPS:,} req/s with p99 < {TARGET_P99_MS:.0f} ms (gzip): {verdict}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
