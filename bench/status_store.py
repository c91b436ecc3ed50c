"""The year-long store of the status page benchmark (``bench/status_page.py``): a contract
of N services at 3 locations, raw observations for the month to date and the month before,
minute runs for the 11 months before those, and the published figures. See that module's
docstring for why each tier is filled the way it is."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, insert, select

from engine import contract_for
from slaledger.core.classified import classify_observations, collapse_runs, outcomes_fingerprint
from slaledger.core.contract import Contract
from slaledger.core.observations import Observations
from slaledger.core.periods import calendar_month
from slaledger.core.settle import outcome_rules
from slaledger.core.timebase import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, to_instant
from slaledger.store import schema
from slaledger.store.minute_tier import DayRuns, pack_runs

RULE = {"rule": "continuous-failure", "min_duration": "5m", "confirm": 2}
LOCATIONS = 3
NOW = to_instant(datetime(2026, 11, 20, 12, tzinfo=UTC))
"""The fixed "now": the month to date is 19.5 days."""
HISTORY_MONTHS = 12
SEED = 1


# --- The store -----------------------------------------------------------------------------


def bench_contract(services: int) -> Contract:
    return contract_for(RULE, services)


def _month_start_day(year: int, month: int, contract: Contract) -> int:
    return calendar_month(year, month, contract.zone).start // US_PER_DAY


def _months_back(year: int, month: int, count: int) -> tuple[int, int]:
    index = year * 12 + month - 1 - count
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Layout:
    """Which days are in which tier (days since the epoch)."""

    first_day: int
    """The first day of history: the month 12 months before now's."""
    raw_from: int
    """The first day kept raw: the previous month's first."""
    today: int

    @classmethod
    def of(cls, now: int, contract: Contract) -> Layout:
        current = datetime.fromtimestamp(now / 1e6, UTC).astimezone(contract.zone)
        first = _months_back(current.year, current.month, HISTORY_MONTHS)
        previous = _months_back(current.year, current.month, 1)
        return cls(
            _month_start_day(*first, contract),
            _month_start_day(*previous, contract),
            now // US_PER_DAY,
        )


def day_observations(day: int, services: int, until: int | None = None) -> Observations:
    """One probe per service, location and minute of ``day`` (until ``until``), group-major."""
    rng = np.random.default_rng([SEED, day])
    end = (day + 1) * US_PER_DAY if until is None else min(until, (day + 1) * US_PER_DAY)
    minutes = max((end - day * US_PER_DAY) // US_PER_MINUTE, 0)
    groups = services * LOCATIONS
    n = groups * minutes
    jitter = rng.integers(0, 20_000_000, size=minutes, dtype=np.int64)
    one_group = day * US_PER_DAY + np.arange(minutes, dtype=np.int64) * US_PER_MINUTE + jitter
    status = np.full(n, 200, dtype=np.int16)
    error = np.zeros(n, dtype=np.int8)
    status[rng.integers(0, max(n, 1), size=n // 10_000)] = 503
    hit = np.flatnonzero(rng.random(services) < 1 / 30)
    starts = rng.integers(0, max(minutes - 3, 1), size=hit.size)
    lengths = rng.integers(3, 41, size=hit.size)
    for service, start, length in zip(hit.tolist(), starts.tolist(), lengths.tolist(), strict=True):
        for location in range(LOCATIONS):
            base = (service * LOCATIONS + location) * minutes
            error[base + start : base + min(start + length, minutes)] = 2
    return Observations(
        timestamp=np.tile(one_group, groups),
        service=np.repeat(np.arange(services, dtype=np.int32), LOCATIONS * minutes),
        location=np.tile(np.repeat(np.arange(LOCATIONS, dtype=np.int16), minutes), services),
        status=status,
        error=error,
        retry_after=np.zeros(n, dtype=bool),
        services=tuple(f"svc-{i:04d}" for i in range(services)),
        locations=tuple(f"loc-{i}" for i in range(LOCATIONS)),
    )


def _ids(engine: Engine, table: Any) -> dict[str, int]:
    with engine.connect() as connection:
        return {name: key for key, name in connection.execute(select(table.c.id, table.c.name))}


def write_minute_tier(engine: Engine, contract: Contract, days: range, services: int) -> int:
    """``days`` as minute runs, one row per (service, location, day); returns bytes written."""
    rules = outcome_rules(contract)
    fingerprints = {name: outcomes_fingerprint(rules[name]) for name in contract.services}
    service_ids, location_ids = _ids(engine, schema.services), _ids(engine, schema.locations)
    written = 0
    for day in days:
        observations = day_observations(day, services)
        classified = classify_observations(observations, rules)
        minutes = 1440
        first = observations.timestamp[:minutes]
        weight = np.ones(minutes, dtype=np.int64)
        if day == days.start:  # one probe per minute bucket: every run is one observation
            runs = collapse_runs(classified)
            assert runs.weight is not None
            assert runs.last is not None
            assert np.array_equal(runs.timestamp, observations.timestamp)
            assert np.array_equal(runs.last, observations.timestamp)
            assert np.array_equal(runs.outcome, classified.outcome)
            assert bool(np.all(runs.weight == 1))
        blobs: dict[bytes, bytes] = {}
        rows = []
        for group in range(services * LOCATIONS):
            outcome = classified.outcome[group * minutes : (group + 1) * minutes]
            key = outcome.tobytes()
            blob = blobs.get(key)
            if blob is None:
                blob = blobs[key] = pack_runs(day, DayRuns(first, first, outcome, weight))
            service = observations.services[group // LOCATIONS]
            rows.append(
                {
                    "service_id": service_ids[service],
                    "location_id": location_ids[observations.locations[group % LOCATIONS]],
                    "day": day,
                    "rows": minutes,
                    "outcomes": fingerprints[service],
                    "data": blob,
                }
            )
            written += len(blob)
        with engine.begin() as connection:
            connection.execute(insert(schema.minute_runs), rows)
    return written


@contextmanager
def _step(what: str) -> Iterator[None]:
    print(f"  {what} ...", end="", flush=True)
    began = time.perf_counter()
    yield
    print(f" {time.perf_counter() - began:.1f} s", flush=True)


def build_store(url: str, services: int) -> None:
    """A year of history at ``url`` (see the module's docstring), and its figures."""
    from slaledger.app import Root, Settings
    from slaledger.core.events import Events

    contract = bench_contract(services)
    root = Root(Settings(db_url=url, public_url="http://127.0.0.1"), clock=lambda: NOW)
    engine = root.engine
    store = root.observations()
    layout = Layout.of(NOW, contract)
    series = services * LOCATIONS
    raw_days = layout.today - layout.raw_from
    with _step(f"raw segments: {raw_days} days x {series:,} series, pack_history"):
        for day in range(layout.raw_from, layout.today):
            store.pack_history(day_observations(day, services))
    with _step("today until 12:00 into the hot table: 12 hourly ingest batches"):
        today = day_observations(layout.today, services, until=NOW)
        hour = (today.timestamp - layout.today * US_PER_DAY) // US_PER_HOUR
        for h in range(int(hour.max()) + 1 if len(today) else 0):
            store.ingest(today.take(hour == h), received_at=NOW, batch_id=uuid.uuid4().hex)
    tier_days = range(layout.first_day, layout.raw_from)
    with _step(f"minute runs: {len(tier_days)} days x {series:,} series"):
        size = write_minute_tier(engine, contract, tier_days, services)
    print(f"  minute runs: {size / 2**20:,.0f} MiB ({size / len(tier_days) / series:,.0f} B/row)")
    publisher = root.publisher(contract, Events(), root.site(contract))
    job = publisher.figures_job
    due = len(job.due(NOW))
    with _step(f"figures backfill by FiguresJob: {due} periods (the publisher's maintenance loop)"):
        for _ in range(due // job.budget + 3):
            if not job.due(NOW):
                break
            job.run(NOW)
    with engine.connect() as connection:
        figures = connection.execute(select(func.count()).select_from(schema.figures)).scalar()
        statements = connection.execute(
            select(func.count()).select_from(schema.statements)
        ).scalar()
    left = len(job.due(NOW))
    print(f"  {figures:,} figures, {statements} statements; periods still due: {left}")
    engine.dispose()
