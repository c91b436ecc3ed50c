"""Status page benchmark: requests per second and latency of ``/`` and
``/api/v2/summary.json`` on a real server.

Run ``.venv/bin/python bench/status_page.py [--seconds 10] [--connections 32]``. The server
(uvicorn on 127.0.0.1, one worker, uvloop, no access log) runs in its own process pinned to
CPU 0 with a snapshot of 1,000 services (90 days, 12 months, 3 locations each); the load
generator, ``wrk`` (``apt-get install wrk``) with keep-alive connections, is pinned to CPU
1. Each route is measured with ``Accept-Encoding: gzip`` (what browsers and most clients
send) and without, through the cached fast path and, for comparison, through FastAPI's
routing alone (``--no-fast-path`` server). Target: at least 2,000 requests/s with p99
under 50 ms. The exit code is 1 when a gzip run through the fast path misses it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RPS = 2_000
TARGET_P99_MS = 50.0
ROUTES = ("/", "/api/v2/summary.json")


def serve(port: int, fast_path: bool) -> None:
    """The server process: the public surfaces of a 1,000-service snapshot."""
    sys.path.insert(0, str(REPO / "tests" / "web"))
    import uvicorn
    from fastapi import FastAPI
    from snapshots import large_contract, large_snapshot

    from slaledger.web.status_page import mount_public_web

    snapshot = large_snapshot()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    cache = mount_public_web(app, large_contract(), lambda: snapshot)
    if not fast_path:
        app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ != "FastPath"]
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


def _pinned(cpu: int, command: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", str(cpu), *command] if taskset and os.cpu_count() != 1 else command


def _wait(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/v2/status.json", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, seconds: int, connections: int, gzip: bool) -> tuple[float, float, float, str]:
    """Requests/s, p50 and p99 in ms, and transfer/s of one wrk run."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if gzip:
        command[1:1] = ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run(_pinned(1, command), capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    transfer = re.search(r"Transfer/sec:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    if errors:
        print(f"  wrk reported: {errors.group(0)}")
    return rate, p50, p99, transfer


def run(seconds: int, connections: int, port: int) -> bool:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    met = True
    print(
        f"{'server':<10} {'route':<22} {'encoding':<9} {'req/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'transfer/s':>11}"
    )
    for fast_path in (True, False):
        flag = [] if fast_path else ["--no-fast-path"]
        script = [sys.executable, __file__, "--serve", str(port), *flag]
        server = subprocess.Popen(_pinned(0, script))
        try:
            url = f"http://127.0.0.1:{port}"
            _wait(url)
            for route in ROUTES:
                for gzip in (True, False):
                    rate, p50, p99, transfer = wrk(url + route, seconds, connections, gzip)
                    name = "fast path" if fast_path else "FastAPI"
                    encoding = "gzip" if gzip else "identity"
                    print(
                        f"{name:<10} {route:<22} {encoding:<9} {rate:>8,.0f} {p50:>7.2f} "
                        f"{p99:>7.2f} {transfer:>11}",
                        flush=True,
                    )
                    if fast_path and gzip:
                        met &= rate >= TARGET_RPS and p99 < TARGET_P99_MS
        finally:
            server.terminate()
            server.wait(10)
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=18_765)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-fast-path", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options.serve, not options.no_fast_path)
        return
    met = run(options.seconds, options.connections, options.port)
    verdict = "met" if met else "MISSED"
    print(
        f"target ≥ {TARGET_RPS:,} req/s with p99 < {TARGET_P99_MS:.0f} ms (gzip, fast path): "
        f"{verdict}"
    )
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
