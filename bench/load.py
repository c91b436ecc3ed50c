"""Load benchmark: how fast ``read_observations`` reads a realistic observations CSV.

Run ``.venv/bin/python bench/load.py [--rows N]``. The file is generated in a temporary
directory (not timed), then read three times; the best time counts. The target is at least
1,000,000 rows per second; the exit code is 1 when it is not met.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from slaledger.files.csv_observations import read_observations

TARGET_ROWS_PER_SECOND = 1_000_000
START = 1_790_812_800_000_000  # 2026-10-01T00:00:00Z in microseconds
PROBE_INTERVAL_US = 30_000_000
SERVICES = [f"service-{index:02d}" for index in range(20)]
LOCATIONS = ["fra", "ams", "lon", "nyc", "sin"]


def generate(path: Path, rows: int, seed: int) -> None:
    """Probes of 20 services from 5 locations every 30 s, with jitter and some failures."""
    generator = np.random.default_rng(seed)
    probes_per_round = len(SERVICES) * len(LOCATIONS)
    round_index = np.arange(rows) // probes_per_round
    jitter = generator.integers(0, 2_000_000, rows)
    timestamp = START + round_index * PROBE_INTERVAL_US + jitter
    timestamp -= timestamp % 1000  # probes report milliseconds
    service = np.arange(rows) % len(SERVICES)
    location = (np.arange(rows) // len(SERVICES)) % len(LOCATIONS)
    outcome = generator.random(rows)
    status = np.select(
        [outcome < 0.004, outcome < 0.006, outcome < 0.010, outcome < 0.012],
        [0, 503, 500, 404],
        default=200,
    )
    error = np.where(status == 0, generator.integers(1, 7, rows), 0)
    latency = np.round(generator.gamma(2.0, 40.0, rows), 1)
    retry_after = (status == 503) & (generator.random(rows) < 0.5)
    error_names = [None, "timeout", "connect", "dns", "tls", "assertion", "other"]
    frame = pl.DataFrame(
        {
            "timestamp": pl.Series(timestamp).cast(pl.Datetime("us", "UTC")),
            "service": pl.Series(SERVICES).gather(service),
            # one location in ten is reported empty, meaning "default"
            "location": pl.Series(LOCATIONS).gather(location),
            "status": pl.Series(status),
            "error": pl.Series(error_names, dtype=pl.String).gather(error),
            "latency_ms": pl.Series(latency),
            "retry_after": pl.Series(retry_after),
        }
    ).with_columns(
        pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        pl.when(pl.col("location") != "sin").then(pl.col("location")),
        pl.when(pl.col("status") != 0).then(pl.col("status")),
        pl.when(pl.col("status") != 0).then(pl.col("latency_ms")),
        pl.when(pl.col("retry_after")).then(pl.lit("120")).alias("retry_after"),
    )
    frame.write_csv(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows to generate")
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    parser.add_argument("--repeat", type=int, default=3, help="reads; the best counts")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="slaledger-bench-") as directory:
        path = Path(directory) / "observations.csv"
        generate(path, arguments.rows, arguments.seed)
        size = path.stat().st_size
        timings = []
        for _ in range(arguments.repeat):
            started = time.perf_counter()
            observations = read_observations(path, SERVICES)
            timings.append(time.perf_counter() - started)
            assert len(observations) == arguments.rows
    best = min(timings)
    rate = arguments.rows / best
    print(f"rows:         {arguments.rows:,}")
    print(f"file size:    {size / 1e6:,.1f} MB ({size / arguments.rows:.1f} bytes a row)")
    print(
        f"seconds:      {best:.3f} (best of {arguments.repeat}: "
        + ", ".join(f"{t:.3f}" for t in timings)
        + ")"
    )
    print(f"rows/second:  {rate:,.0f}")
    met = rate >= TARGET_ROWS_PER_SECOND
    print(f"target:       {TARGET_ROWS_PER_SECOND:,} rows/s {'met' if met else 'NOT MET'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
