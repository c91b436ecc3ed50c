"""``percentile`` commitments: a median or nearest-rank percentile over a trailing window.

At an instant ``T`` the window holds the records with ``requested`` in ``[T − window, T)``.
A record's value at ``T`` is ``min(ready, T) − requested``: ``ready − requested`` once it is
ready, ``T − requested`` (a lower bound) while it is not, and +∞ when it ``failed``.

- ``median``: the middle value, or the exact mean of the two middle values for an even count
  (a mean of two whole microseconds may end in half a microsecond: kept as a Fraction);
- ``{percentile: p}``: nearest rank, the ``⌈p/100 · n⌉``-th smallest value (exact).

A window without records has no value and is not judged. A value meets the commitment when
it is strictly under ``below``.

Speed: the records are sorted by ``requested`` once; each window is two ``searchsorted``
calls and one ``np.partition`` of its values. Failed records are kept apart (they are
always the largest), so only their count per window is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import ceil
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from slaledger.core.commitment_results import INFINITE, CommitmentResult, DayResult
from slaledger.core.commitment_spec import Percentile as PercentileSpec
from slaledger.core.contract import Contract
from slaledger.core.periods import Period
from slaledger.core.records import Provisioning as ProvisioningRecord
from slaledger.core.timebase import US_PER_SECOND, from_instant, to_instant

NOT_READY = np.iinfo(np.int64).max
"""``ready`` of a record not (yet) ready: ``min(NOT_READY, T) = T``."""

Statistic = Literal["median"] | Decimal
"""``median``, or the percentile ``p`` of nearest rank, ``0 < p ≤ 100``."""

I64 = NDArray[np.int64]


@dataclass(frozen=True)
class WindowValue:
    """The statistic of one window ending at ``at``."""

    at: int
    count: int
    value_us: Fraction | None
    """Exact microseconds; ``None`` when the window is empty or the value is infinite."""
    infinite: bool = False

    @property
    def judged(self) -> bool:
        return self.count > 0

    def met(self, below: int) -> bool | None:
        """``value < below`` (microseconds); ``None`` for an empty window."""
        if not self.judged:
            return None
        return not self.infinite and self.value_us is not None and self.value_us < below

    @property
    def value_seconds(self) -> str | None:
        """The value in seconds as an exact decimal string, ``"inf"``, or ``None``."""
        if self.infinite:
            return "inf"
        if self.value_us is None:
            return None
        return exact_seconds_text(self.value_us)


def exact_seconds_text(us: Fraction | int) -> str:
    """Microseconds as exact decimal seconds: ``73500000`` → ``"73.5"``, ``90000000`` →
    ``"90"``. The value must have a terminating decimal expansion (a denominator of 2s and
    5s), which every mean of two whole microseconds has."""
    value = Fraction(us) / US_PER_SECOND
    sign = "-" if value < 0 else ""
    value = abs(value)
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
        if places > 30:
            raise ValueError(f"{us} µs has no short exact decimal form")
    digits = str((value * 10**places).numerator).rjust(places + 1, "0")
    if not places:
        return sign + digits
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


@dataclass(frozen=True, eq=False)
class Provisioning:
    """Records as arrays, sorted by ``requested``; failed ones apart (only their times)."""

    requested: I64
    ready: I64
    """``NOT_READY`` where the record is not ready."""
    failed_requested: I64

    @classmethod
    def from_arrays(cls, requested: ArrayLike, ready: ArrayLike, failed: ArrayLike) -> Provisioning:
        """Records from parallel arrays: ``ready`` is ``NOT_READY`` for records not ready."""
        req = np.asarray(requested, dtype=np.int64)
        rdy = np.asarray(ready, dtype=np.int64)
        bad = np.asarray(failed, dtype=bool)
        ok = ~bad
        req_ok, rdy_ok = req[ok], rdy[ok]
        if req_ok.size > 1 and (req_ok[1:] < req_ok[:-1]).any():  # a store's are in order
            order = np.argsort(req_ok)
            req_ok, rdy_ok = req_ok[order], rdy_ok[order]
        return cls(req_ok, rdy_ok, np.sort(req[bad]))

    def __len__(self) -> int:
        return int(self.requested.size + self.failed_requested.size)


def ranks(statistic: Statistic, n: int) -> tuple[int, ...]:
    """The 1-based ranks whose values make the statistic of ``n`` values (``n ≥ 1``)."""
    if statistic == "median":
        return ((n + 1) // 2,) if n % 2 else (n // 2, n // 2 + 1)
    k = ceil(Fraction(statistic) * n / 100)
    return (min(max(k, 1), n),)


def evaluate(
    records: Provisioning, statistic: Statistic, window: int, instants: Sequence[int]
) -> list[WindowValue]:
    """The statistic at each instant ``T`` over ``requested ∈ [T − window, T)``."""
    if not instants:
        return []
    ts = np.asarray(instants, dtype=np.int64)
    lo = np.searchsorted(records.requested, ts - window, side="left")
    hi = np.searchsorted(records.requested, ts, side="left")
    f_lo = np.searchsorted(records.failed_requested, ts - window, side="left")
    f_hi = np.searchsorted(records.failed_requested, ts, side="left")
    values: list[WindowValue] = []
    for at, a, b, fa, fb in zip(
        ts.tolist(), lo.tolist(), hi.tolist(), f_lo.tolist(), f_hi.tolist(), strict=True
    ):
        n_ok = b - a
        n = n_ok + fb - fa
        if n == 0:
            values.append(WindowValue(at, 0, None))
            continue
        wanted = ranks(statistic, n)
        if wanted[-1] > n_ok:  # some of the middle values are failures: +∞
            values.append(WindowValue(at, n, None, infinite=True))
            continue
        part = np.minimum(records.ready[a:b], at)
        part -= records.requested[a:b]
        kth = [k - 1 for k in wanted]
        chosen = np.partition(part, kth)[kth].tolist()
        values.append(WindowValue(at, n, Fraction(sum(chosen), len(chosen))))
    return values


def day_ends(period: Period, zone: ZoneInfo) -> list[int]:
    """The end of each local day of ``period`` (a month): every local midnight ``T`` with
    ``start < T ≤ end``, DST-correct (00:00 of the next local date)."""
    day = from_instant(period.start).astimezone(zone).date() + timedelta(days=1)
    ends: list[int] = []
    while (end := _midnight(day, zone)) <= period.end:
        if end > period.start:
            ends.append(end)
        day += timedelta(days=1)
    return ends


def last_day_ends(at: int, days: int, zone: ZoneInfo) -> list[int]:
    """The ends of the ``days`` local days that ended last at or before ``at``, oldest first."""
    today = from_instant(at).astimezone(zone).date()
    newest = today if _midnight(today, zone) <= at else today - timedelta(days=1)
    return [_midnight(newest - timedelta(days=d), zone) for d in range(days - 1, -1, -1)]


def _midnight(day: date, zone: ZoneInfo) -> int:
    return to_instant(datetime(day.year, day.month, day.day, tzinfo=zone))


SERIES_DAYS = 90
"""Days of the published series (the status page's chart)."""


def provisioning_arrays(records: Sequence[ProvisioningRecord]) -> Provisioning:
    """The records' instants as arrays, sorted by ``requested``."""
    n = len(records)
    requested = np.fromiter((r.requested for r in records), dtype=np.int64, count=n)
    ready = np.fromiter(
        (NOT_READY if r.ready is None else r.ready for r in records), dtype=np.int64, count=n
    )
    failed = np.fromiter((r.failed for r in records), dtype=bool, count=n)
    return Provisioning.from_arrays(requested, ready, failed)


def statistic_of(spec: PercentileSpec) -> Statistic:
    return "median" if spec.statistic.percentile is None else spec.statistic.percentile


def day_results(
    records: Provisioning, spec: PercentileSpec, instants: Sequence[int]
) -> tuple[DayResult, ...]:
    """The commitment as evaluated at each of ``instants``."""
    return tuple(
        DayResult(
            at=value.at,
            count=value.count,
            value_seconds=(
                INFINITE
                if value.infinite
                else None
                if value.value_us is None
                else Decimal(exact_seconds_text(value.value_us))
            ),
            met=value.met(spec.below),
        )
        for value in evaluate(records, statistic_of(spec), spec.window, instants)
    )


def evaluate_percentile(
    name: str,
    spec: PercentileSpec,
    records: Provisioning,
    period: Period,
    zone: ZoneInfo,
    at: int,
) -> CommitmentResult:
    """The commitment ``name`` for ``period`` (a month): one value at the end of each local
    day that has ended by ``at``; met iff every judged day is met (``None``: none judged)."""
    ends = [end for end in day_ends(period, zone) if end <= at]
    days = day_results(records, spec, ends)
    judged = [day.met for day in days if day.met is not None]
    return CommitmentResult(
        commitment=name,
        kind="percentile",
        met=all(judged) if judged else None,
        days=days,
    )


def daily_series(
    records: Provisioning,
    spec: PercentileSpec,
    zone: ZoneInfo,
    at: int,
    days: int = SERIES_DAYS,
) -> tuple[DayResult, ...]:
    """The value at the end of each of the last ``days`` local days ended by ``at``."""
    return day_results(records, spec, last_day_ends(at, days, zone))


def percentile_series(
    contract: Contract,
    records: Sequence[ProvisioningRecord],
    at: int,
    days: int = SERIES_DAYS,
) -> dict[str, tuple[DayResult, ...]]:
    """For publication: each percentile commitment of ``contract`` at the end of each of the
    last ``days`` local days (contract time zone) ended by ``at``, oldest first."""
    specs = {
        name: spec
        for name, spec in contract.commitments.items()
        if isinstance(spec, PercentileSpec)
    }
    if not specs:
        return {}
    arrays = provisioning_arrays(records)
    return {
        name: daily_series(arrays, spec, contract.zone, at, days) for name, spec in specs.items()
    }
