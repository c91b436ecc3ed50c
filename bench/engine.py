"""Engine benchmark: settle 1,000 services x 3 locations x one month of one-minute probes.

About 134 million observations are held in memory and settled once per downtime rule. Prints
observations per second, the time as a ratio to one numpy pass over the same arrays (the
memory-bandwidth floor), and peak memory. Run: ``.venv/bin/python bench/engine.py``.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from slaledger.core.contract import Contract
from slaledger.core.events import Events, MaintenanceWindow
from slaledger.core.observations import Observations
from slaledger.core.settle import settle
from slaledger.core.timebase import US_PER_MINUTE, to_instant

RULES: dict[str, dict[str, Any]] = {
    "continuous-failure": {"rule": "continuous-failure", "min_duration": "5m", "confirm": 2},
    "first-fail-to-first-success": {"rule": "first-fail-to-first-success", "confirm": 1},
    "probe-ratio": {"rule": "probe-ratio"},
}


def make_observations(services: int, locations: int, seed: int) -> Observations:
    """A month (October 2026) of one probe per service, location and minute, group-major.

    Mostly 200s; isolated failures at a rate of 1e-4; every service has one outage of 3 to 40
    minutes seen from all locations.
    """
    rng = np.random.default_rng(seed)
    start = to_instant(datetime(2026, 10, 1, tzinfo=UTC))
    minutes = 31 * 1440
    groups = services * locations
    n = groups * minutes
    jitter = rng.integers(0, 20_000_000, size=minutes, dtype=np.int64)
    one_group = start + np.arange(minutes, dtype=np.int64) * US_PER_MINUTE + jitter
    timestamp = np.tile(one_group, groups)
    service = np.repeat(np.arange(services, dtype=np.int32), locations * minutes)
    location = np.tile(np.repeat(np.arange(locations, dtype=np.int16), minutes), services)
    status = np.full(n, 200, dtype=np.int16)
    error = np.zeros(n, dtype=np.int8)
    noise = rng.integers(0, n, size=n // 10_000)
    status[noise] = 503
    outage_start = rng.integers(0, minutes - 60, size=services)
    outage_length = rng.integers(3, 41, size=services)
    for s in range(services):
        for loc in range(locations):
            base = (s * locations + loc) * minutes + int(outage_start[s])
            error[base : base + int(outage_length[s])] = 2
    return Observations(
        timestamp=timestamp,
        service=service,
        location=location,
        status=status,
        error=error,
        retry_after=np.zeros(n, dtype=bool),
        services=tuple(f"svc-{i:04d}" for i in range(services)),
        locations=tuple(f"loc-{i}" for i in range(locations)),
    )


def contract_for(rule: dict[str, Any], services: int) -> Contract:
    return Contract.model_validate(
        {
            "contract": "bench",
            "name": "Engine benchmark",
            "services": {
                f"svc-{i:04d}": {
                    "name": f"Service {i}",
                    "target": "99.9",
                    "downtime": rule,
                    "maintenance": {"notice": "48h"},
                }
                for i in range(services)
            },
            "credits": {
                "basis": "monthly-fee",
                "mode": "automatic",
                "tiers": [{"below": "99.9", "credit": 10}, {"below": "99.0", "credit": 25}],
            },
        }
    )


def numpy_pass(observations: Observations) -> float:
    """Seconds for one reduction over every column: the floor any engine pays."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for column in (
            observations.timestamp,
            observations.service,
            observations.location,
            observations.status,
            observations.error,
            observations.retry_after,
        ):
            np.add.reduce(column, dtype=np.int64)
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--locations", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    began = time.perf_counter()
    observations = make_observations(args.services, args.locations, args.seed)
    size = len(observations)
    data_bytes = sum(
        getattr(observations, c).nbytes
        for c in ("timestamp", "service", "location", "status", "error", "retry_after")
    )
    print(
        f"generated {size:,} observations ({data_bytes / 2**30:.2f} GiB) "
        f"in {time.perf_counter() - began:.1f} s"
    )
    floor = numpy_pass(observations)
    print(f"one numpy pass over all columns: {floor:.3f} s")
    events = Events(
        maintenance=(
            MaintenanceWindow(
                services="*",
                start=datetime(2026, 10, 14, 2, tzinfo=UTC),
                end=datetime(2026, 10, 14, 3, tzinfo=UTC),
                announced=datetime(2026, 10, 10, 9, tzinfo=UTC),
                title="Database upgrade",
            ),
        )
    )
    total = 0.0
    for name, rule in RULES.items():
        contract = contract_for(rule, args.services)
        began = time.perf_counter()
        report = settle(contract, observations, events, (2026, 10))
        elapsed = time.perf_counter() - began
        total += elapsed
        missed = sum(1 for r in report.results if r.met is False)
        print(
            f"{name:28s} {elapsed:6.2f} s  {size / elapsed / 1e6:7.1f} M obs/s  "
            f"{elapsed / floor:5.1f}x numpy pass  results {len(report.results)}, missed {missed}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"all three rules: {total:.2f} s (budget 20 s); peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
