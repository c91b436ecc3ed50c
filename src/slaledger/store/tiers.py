"""The store read and kept as settlement needs it: raw observations where they are kept,
minute runs where only those are, retention, and statements."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from slaledger.core.classified import (
    Classified,
    classify_observations,
    collapse_runs,
    outcomes_fingerprint,
)
from slaledger.core.contract import Contract
from slaledger.core.settle import outcome_rules
from slaledger.core.timebase import US_PER_DAY, format_instant
from slaledger.errors import ConcurrentChangeError, Problem, UsageError, UserError
from slaledger.store.minute_tier import MinuteTier
from slaledger.store.observation_store import ObservationStore
from slaledger.store.segments import day_of
from slaledger.store.statements import StatementStore

LOAD_MARGIN = US_PER_DAY
"""Data read beyond a period's edges, so runs that cross an edge are judged whole."""


@dataclass(frozen=True)
class Stores:
    """Everything kept in one database: raw observations, minute runs, statements."""

    engine: Engine
    observations: ObservationStore
    minutes: MinuteTier
    statements: StatementStore

    @classmethod
    def of(cls, engine: Engine) -> Stores:
        return cls(engine, ObservationStore(engine), MinuteTier(engine), StatementStore(engine))


def load_classified(stores: Stores, contract: Contract, start: int, end: int) -> Classified:
    """Observations of ``[start, end)`` classified by ``contract``: raw ones where they are
    still kept, minute runs where only those are."""
    rules = outcome_rules(contract)
    names = list(contract.services)
    raw = stores.observations.load(start, end, services=names)
    classified = classify_observations(raw, rules)
    kept = stores.minutes.load(start, end, services=names)
    if len(kept.runs) == 0:
        return classified
    for service, fingerprints in sorted(kept.fingerprints.items()):
        if fingerprints != {outcomes_fingerprint(rules[service])}:
            raise UserError(
                Problem(
                    "expected the outcome rules these months' minute runs were classified "
                    "with; their raw observations are pruned, so they cannot be classified "
                    "again under changed rules",
                    source=contract.contract,
                    field=f"services.{service}.outcomes",
                )
            )
    return Classified.concat([classified, kept.runs])


MIN_RAW_DAYS = 62
"""Raw days kept at least: a live month, a trailing 30-day window before it, a day's grace
and the load margin (their edges fall inside minutes, which runs cannot split)."""
DEFAULT_RAW_DAYS = 400
DEFAULT_MINUTE_DAYS = 1827
"""Five years, counting two leap days."""


def check_retention(raw_days: int, minute_days: int) -> None:
    if raw_days < MIN_RAW_DAYS or minute_days < raw_days:
        raise UsageError(
            Problem(
                f"expected {MIN_RAW_DAYS} <= raw days <= minute days, got {raw_days} and "
                f"{minute_days}",
                field="--raw-days",
            )
        )


@dataclass(frozen=True)
class RetainOutcome:
    days_rolled_up: int
    """Days whose raw segments became minute runs."""
    minute_rows_pruned: int


def retain(
    stores: Stores,
    contract: Contract,
    *,
    now: int,
    raw_days: int = DEFAULT_RAW_DAYS,
    minute_days: int = DEFAULT_MINUTE_DAYS,
) -> RetainOutcome:
    """Apply retention: raw days older than ``raw_days`` become minute runs (classified by
    ``contract``), minute runs older than ``minute_days`` are deleted."""
    check_retention(raw_days, minute_days)
    rules = outcome_rules(contract)
    names = list(contract.services)
    stores.observations.compact(now)
    rolled = 0
    for day in stores.minutes.raw_days_before(day_of(now) - raw_days, names):
        for _attempt in range(5):
            sizes = stores.minutes.segment_sizes(day, names)
            raw = stores.observations.load(day * US_PER_DAY, (day + 1) * US_PER_DAY, names)
            runs = collapse_runs(classify_observations(raw, rules))
            fingerprints = {name: outcomes_fingerprint(rules[name]) for name in raw.services}
            if stores.minutes.replace_raw_day(day, runs, fingerprints, sizes):
                rolled += 1
                break
        else:
            date = format_instant(day * US_PER_DAY)[:10]
            raise ConcurrentChangeError(
                Problem(f"day {date} kept changing while it was rolled up; try again")
            )
    pruned = stores.minutes.prune_before(day_of(now) - minute_days)
    return RetainOutcome(rolled, pruned)
