"""Month-to-date figures: a settled report plus coverage and the error budget left.

*Coverage* is the share, in percent, of the period's elapsed whole minutes (minute buckets
from the period's start that have ended by ``at``, or by the period's end when it is
earlier) with at least one observation of that result (any outcome, any check; every
location for a pooled result, its own location for a per-location one). No elapsed
minute yet → ``None``.

The *error budget* left is what the target still allows:

- minute rules: the whole minutes the target allows in the full period
  (:func:`~slaledger.core.figures.whole_minutes_allowed` of ``total_minutes``) less
  ``downtime_minutes``;
- ``probe-ratio``: ``floor((up + down) × (100 − target) / 100) − down``, the down probes
  the target allows among the probes so far, less those already down.

Negative values say how far over budget a result is.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from slaledger.core.classified import Classified
from slaledger.core.figures import as_fraction, decimal_text, whole_minutes_allowed
from slaledger.core.observations import Observations
from slaledger.core.periods import Period
from slaledger.core.report import Report, Result
from slaledger.core.timebase import US_PER_MINUTE, ceil_minute, floor_minute, format_instant


@dataclass(frozen=True)
class LiveResult:
    result: Result
    covered_minutes: int
    elapsed_minutes: int
    error_budget_minutes: int | None
    error_budget_probes: int | None

    @property
    def coverage(self) -> Fraction | None:
        """Percent of elapsed minutes with an observation; ``None`` before the first one."""
        if self.elapsed_minutes == 0:
            return None
        return Fraction(100 * self.covered_minutes, self.elapsed_minutes)

    def as_dict(self, report_period: Period) -> dict[str, Any]:
        coverage = self.coverage
        return {
            **self.result.as_dict(report_period),
            "coverage": None if coverage is None else decimal_text(coverage),
            "error_budget_minutes": self.error_budget_minutes,
            "error_budget_probes": self.error_budget_probes,
        }


@dataclass(frozen=True)
class LiveReport:
    report: Report
    at: int
    results: tuple[LiveResult, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "contract": self.report.contract,
            "period": self.report.period.as_dict(),
            "at": format_instant(self.at),
            "results": [result.as_dict(self.report.period) for result in self.results],
        }


def elapsed_buckets(period: Period, at: int) -> tuple[int, int]:
    """``[first, end)``: the starts of the period's minute buckets that have ended by ``at``."""
    first = ceil_minute(period.start)
    end = max(first, floor_minute(min(at, period.end)))
    return first, end


def live_report(report: Report, observations: Observations | Classified, at: int) -> LiveReport:
    """``report`` (settled month to date at ``at``) with coverage and error budgets.

    ``observations`` are those the report was settled from (extra rows outside a result's
    period are ignored).
    """
    covered: dict[tuple[Period, bool], dict[tuple[int, int | None], int]] = {}
    results = []
    for result in report.results:
        per_location = result.location is not None
        counts = covered.get((result.period, per_location))
        if counts is None:
            counts = _covered_minutes(observations, result.period, at, per_location=per_location)
            covered[(result.period, per_location)] = counts
        first, end = elapsed_buckets(result.period, at)
        key = _key(observations, result)
        results.append(
            LiveResult(
                result=result,
                covered_minutes=0 if key is None else counts.get(key, 0),
                elapsed_minutes=(end - first) // US_PER_MINUTE,
                error_budget_minutes=_budget_minutes(result),
                error_budget_probes=_budget_probes(result),
            )
        )
    return LiveReport(report=report, at=at, results=tuple(results))


def _budget_minutes(result: Result) -> int | None:
    if result.total_minutes is None or result.downtime_minutes is None:
        return None
    return whole_minutes_allowed(result.target, result.total_minutes) - result.downtime_minutes


def _budget_probes(result: Result) -> int | None:
    if result.total_minutes is not None:
        return None
    judged = result.probes.up + result.probes.down
    allowed = judged * (100 - as_fraction(result.target)) / 100
    return allowed.numerator // allowed.denominator - result.probes.down


def _key(observations: Observations | Classified, result: Result) -> tuple[int, int | None] | None:
    """The (service code, location code or None) of ``result`` in ``observations``."""
    if result.service not in observations.services:
        return None
    service = observations.services.index(result.service)
    if result.location is None:
        return service, None
    if result.location not in observations.locations:
        return None
    return service, observations.locations.index(result.location)


def _covered_minutes(
    observations: Observations | Classified, period: Period, at: int, *, per_location: bool
) -> dict[tuple[int, int | None], int]:
    """Elapsed minutes of ``period`` with an observation, per service (and location)."""
    first, end = elapsed_buckets(period, at)
    minutes = (end - first) // US_PER_MINUTE
    inside = (observations.timestamp >= first) & (observations.timestamp < end)
    if minutes == 0 or not bool(inside.any()):
        return {}
    minute = (observations.timestamp[inside] - first) // US_PER_MINUTE
    service = observations.service[inside].astype(np.int64)
    n_locations = max(len(observations.locations), 1)
    group = (
        service * n_locations + observations.location[inside].astype(np.int64)
        if per_location
        else service
    )
    # One flag per (group, minute): linear in the rows, no sort; groups × minutes bytes.
    present = np.flatnonzero(np.bincount(group))
    dense = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    dense[present] = np.arange(present.size)
    seen = np.zeros(present.size * minutes, dtype=bool)
    seen[dense[group] * minutes + minute] = True
    counts = seen.reshape(present.size, minutes).sum(axis=1)
    covered: dict[tuple[int, int | None], int] = {}
    for value, count in zip(present.tolist(), counts.tolist(), strict=True):
        if per_location:
            covered[(value // n_locations, value % n_locations)] = count
        else:
            covered[(value, None)] = count
    return covered
