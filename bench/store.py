"""Store benchmark: ingest rate into SQLite and PostgreSQL, and ``report --db`` for a month.

Ingest: one-minute batches of 3,000 observations (1,000 services x 3 locations) through the
hot table with its unique (time, service, location, check) index, as agents send them, plus
larger batches. Report: a month of 1,000 services x 3 locations at one-minute resolution
(133.9 million observations) packed into day segments, then read and settled by the same
path as ``slaledger report --db``. Tier: that month moved to minute runs by retention, its
size, and the month settled again from the runs (same report).
Run: ``.venv/bin/python bench/store.py [--services N]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime

import numpy as np
import psycopg
from sqlalchemy import func, select, text

from engine import contract_for, make_observations
from slaledger.app import open_store, open_stores
from slaledger.core.events import Events
from slaledger.core.observations import Observations
from slaledger.core.periods import calendar_month
from slaledger.core.settle import settle, settle_classified
from slaledger.core.timebase import US_PER_DAY, US_PER_MINUTE
from slaledger.store.tiers import load_classified, retain

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def minute_batch(services: int, locations: int, minute: int, base: int) -> Observations:
    n = services * locations
    return Observations(
        timestamp=np.full(n, base + minute * US_PER_MINUTE, dtype=np.int64)
        + np.arange(n, dtype=np.int64),
        service=np.repeat(np.arange(services, dtype=np.int32), locations),
        location=np.tile(np.arange(locations, dtype=np.int16), services),
        status=np.full(n, 200, dtype=np.int16),
        error=np.zeros(n, dtype=np.int8),
        retry_after=np.zeros(n, dtype=bool),
        services=tuple(f"svc-{i:04d}" for i in range(services)),
        locations=tuple(f"loc-{i}" for i in range(locations)),
    )


def bench_ingest(url: str, label: str) -> None:
    store = open_store(url)
    base = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp()) * 1_000_000
    for batch_minutes, batches in ((1, 40), (20, 4)):
        parts = [minute_batch(1000, 3, m, base) for m in range(batches * batch_minutes)]
        began = time.perf_counter()
        stored = 0
        for b in range(batches):
            chunk = Observations.concat(parts[b * batch_minutes : (b + 1) * batch_minutes])
            stored += store.ingest(chunk, received_at=0, batch_id=uuid.uuid4().hex).stored
        elapsed = time.perf_counter() - began
        base += batches * batch_minutes * US_PER_MINUTE
        print(
            f"{label:10s} ingest, batches of {3000 * batch_minutes:>6,}: "
            f"{stored:>9,} rows in {elapsed:5.2f} s = {stored / elapsed:>9,.0f} rows/s"
        )


def bench_report(url: str, label: str, services: int) -> None:
    store = open_store(url)
    observations = make_observations(services, 3, seed=1)
    began = time.perf_counter()
    for lo in range(0, services, 50):
        keep = (observations.service >= lo) & (observations.service < lo + 50)
        store.pack_history(observations.take(keep))
    packed = time.perf_counter() - began
    print(f"{label:10s} packed {len(observations):,} observations in {packed:.1f} s")
    del observations
    contract = contract_for(
        {"rule": "continuous-failure", "min_duration": "5m", "confirm": 2}, services
    )
    period = calendar_month(2026, 10, contract.zone)
    began = time.perf_counter()
    loaded = store.load(period.start - US_PER_DAY, period.end + US_PER_DAY, list(contract.services))
    read = time.perf_counter() - began
    report = settle(contract, loaded, Events(), (2026, 10))
    total = time.perf_counter() - began
    print(
        f"{label:10s} report --db: read {len(loaded):,} observations in {read:.2f} s, "
        f"settled in {total - read:.2f} s, total {total:.2f} s (budget 10 s); "
        f"{len(report.results)} results"
    )


def _bytes(url: str, table: str) -> tuple[int, int]:
    engine = open_stores(url).observations._engine
    with engine.connect() as connection:
        rows, size = connection.execute(
            select(func.count(), func.coalesce(func.sum(func.length(text("data"))), 0)).select_from(
                text(table)
            )
        ).one()
    return int(rows), int(size)


def bench_tier(url: str, label: str, services: int) -> None:
    """The month just packed, moved to the long-term tier and settled again from it."""
    stores = open_stores(url)
    contract = contract_for(
        {"rule": "continuous-failure", "min_duration": "5m", "confirm": 2}, services
    )
    period = calendar_month(2026, 10, contract.zone)
    span = (period.start - US_PER_DAY, period.end + US_PER_DAY)
    before = settle_classified(
        contract, load_classified(stores, contract, *span), Events(), (2026, 10)
    )
    segment_rows, segment_bytes = _bytes(url, "segments")
    began = time.perf_counter()
    outcome = retain(stores, contract, now=period.end + 500 * US_PER_DAY)
    rolled = time.perf_counter() - began
    run_rows, run_bytes = _bytes(url, "minute_runs")
    print(
        f"{label:10s} retain: {outcome.days_rolled_up} days to minute runs in {rolled:.1f} s; "
        f"segments {segment_rows:,} rows {segment_bytes / 2**20:,.1f} MiB -> minute runs "
        f"{run_rows:,} rows {run_bytes / 2**20:,.1f} MiB "
        f"({run_bytes / max(run_rows, 1):,.0f} bytes per series-day)"
    )
    began = time.perf_counter()
    data = load_classified(stores, contract, *span)
    read = time.perf_counter() - began
    after = settle_classified(contract, data, Events(), (2026, 10))
    total = time.perf_counter() - began
    same = after.as_dict() == before.as_dict()
    print(
        f"{label:10s} report --db from minute runs: read {len(data):,} runs in {read:.2f} s, "
        f"total {total:.2f} s; same report as from raw: {same}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--skip-tier", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        targets = [("sqlite", f"sqlite:///{os.path.join(folder, 'bench.db')}")]
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        try:
            with psycopg.connect(PG_DSN, autocommit=True) as connection:
                connection.execute(f"CREATE SCHEMA {schema}")
            targets.append(
                (
                    "postgresql",
                    f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}",
                )
            )
        except psycopg.Error as error:
            print(f"PostgreSQL not reachable ({error}); SQLite only")
            schema = ""
        try:
            for label, url in targets:
                bench_ingest(url, label)
            if not args.skip_report:
                for label, url in targets:
                    report_url = url.replace("bench.db", "report.db")
                    if label == "postgresql":
                        with psycopg.connect(PG_DSN, autocommit=True) as connection:
                            connection.execute(f"CREATE SCHEMA {schema}_r")
                        report_url = url.replace(schema, schema + "_r")
                    bench_report(report_url, label, args.services)
                    if not args.skip_tier:
                        bench_tier(report_url, label, args.services)
        finally:
            if schema:
                with psycopg.connect(PG_DSN, autocommit=True) as connection:
                    connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                    connection.execute(f"DROP SCHEMA IF EXISTS {schema}_r CASCADE")


if __name__ == "__main__":
    main()
