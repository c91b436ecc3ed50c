"""``continuous-failure``: runs of minute buckets that enough locations saw failing.

Works on the sparse set of failing buckets only (down observations are rare), so a month of
one-minute probes for thousands of services costs one pass to find the down rows and a sort
of those few rows.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from slaledger.core.contract import ContinuousFailure
from slaledger.core.durations import format_duration
from slaledger.core.outcomes import DOWN
from slaledger.core.report import Episode, EpisodeStatus
from slaledger.core.rule_input import ResultKey, RuleInput, RuleOutcome
from slaledger.core.timebase import US_PER_MINUTE, ceil_minute

_LOW32 = (1 << 32) - 1


def _bucket_flags(
    keys: NDArray[np.int64],
    base: int,
    row_sets: dict[int, list[tuple[int, int]]],
) -> NDArray[np.bool_]:
    """For sorted ``row << 32 | minute`` keys: whether the bucket starts in its row's set."""
    flags = np.zeros(keys.size, dtype=bool)
    rows = keys >> 32
    for row, pairs in row_sets.items():
        lo, hi = np.searchsorted(rows, [row, row + 1])
        if lo == hi:
            continue
        starts = ((keys[lo:hi] & _LOW32) + base) * US_PER_MINUTE
        for start, end in pairs:
            flags[lo:hi] |= (starts >= start) & (starts < end)
    return flags


def settle_continuous_failure(data: RuleInput, rule: ContinuousFailure) -> dict[ResultKey, RuleOutcome]:
    """Counted minutes and episodes per result for ``rule`` over ``data``."""
    down = np.flatnonzero(data.outcome == DOWN)
    if down.size == 0:
        return {}
    n_locations = max(len(data.locations), 1)
    minute = data.timestamp[down] // US_PER_MINUTE
    base = int(minute.min())
    pair = data.service[down].astype(np.int64) * n_locations + data.location[down]
    # Each failing (service, location, minute) once.
    failing = np.unique(pair << 32 | (minute - base))
    f_pair = failing >> 32
    f_minute = failing & _LOW32
    f_service = f_pair // n_locations
    f_location = f_pair % n_locations

    confirm = 1 if data.per_location else rule.confirm
    rows = f_pair if data.per_location else f_service
    row_minute = rows << 32 | f_minute
    buckets, failing_locations = np.unique(row_minute, return_counts=True)
    confirmed = failing_locations >= confirm
    buckets = buckets[confirmed]
    if buckets.size == 0:
        return {}

    cut = np.zeros(buckets.size, dtype=bool)
    if not data.per_location:
        # A location-bound window removes that location's vote for the buckets it covers.
        loc_sets: dict[int, list[tuple[int, int]]] = {}
        for p in np.unique(f_pair).tolist():
            own = data.windows[p // n_locations]
            name = data.locations[p % n_locations]
            if name in own.by_location:
                loc_sets[p] = own.by_location[name].pairs()
        if loc_sets:
            voided = _bucket_flags(f_pair << 32 | f_minute, base, loc_sets)
            kept, kept_counts = np.unique(row_minute[~voided], return_counts=True)
            slot = np.searchsorted(kept, buckets)
            found = slot < kept.size
            found[found] &= kept[slot[found]] == buckets[found]
            effective = np.zeros(buckets.size, dtype=np.int64)
            effective[found] = kept_counts[slot[found]]
            cut |= effective < confirm

    bucket_rows = buckets >> 32
    row_ids = np.unique(bucket_rows).tolist()

    def row_key(row: int) -> ResultKey:
        if data.per_location:
            return row // n_locations, row % n_locations
        return row, None

    excluded_sets = {
        row: data.excluded_for(*row_key(row)).pairs() for row in row_ids
    }
    cut |= _bucket_flags(buckets, base, {r: p for r, p in excluded_sets.items() if p})
    emergencies = {
        row: [
            (e.start, e.end)
            for e in data.windows[row_key(row)[0]].emergencies
            if e.location is None
            or not data.per_location
            or e.location == data.locations[row % n_locations]
        ]
        for row in row_ids
    }
    in_emergency = _bucket_flags(buckets, base, {r: p for r, p in emergencies.items() if p})

    first_minute = ceil_minute(data.period.start) // US_PER_MINUTE - base
    end_minute = ceil_minute(data.period.end) // US_PER_MINUTE - base
    b_minute = buckets & _LOW32
    in_period = (b_minute >= first_minute) & (b_minute < end_minute)

    starts_run = np.ones(buckets.size, dtype=bool)
    starts_run[1:] = np.diff(buckets) != 1
    run_first = np.flatnonzero(starts_run)
    run_length = np.diff(np.append(run_first, buckets.size))
    counted_bucket = in_period & ~cut
    n_in_period = np.add.reduceat(in_period.astype(np.int64), run_first)
    n_counted = np.add.reduceat(counted_bucket.astype(np.int64), run_first)
    n_emergency = np.add.reduceat((counted_bucket & in_emergency).astype(np.int64), run_first)

    results: dict[ResultKey, list[Episode]] = {}
    totals: dict[ResultKey, int] = {}
    needed = rule.min_buckets
    minimum = format_duration(rule.min_duration)
    for index in np.flatnonzero(n_in_period > 0).tolist():
        first = int(run_first[index])
        row = int(bucket_rows[first])
        key = row_key(row)
        length = int(run_length[index])
        start = (int(b_minute[first]) + base) * US_PER_MINUTE
        end = start + length * US_PER_MINUTE
        period_minutes = int(n_in_period[index])
        counted = int(n_counted[index]) if length >= needed else 0
        status: EpisodeStatus
        if length < needed:
            status, reason = "too-short", f"{length} min down, shorter than the {minimum} minimum"
        elif counted == 0:
            status = "excluded"
            reason = f"{length} min down, all {period_minutes} min in the period excluded"
        else:
            notes = [f"{length} min down (minimum {minimum})"]
            if counted < period_minutes:
                notes.append(f"{period_minutes - counted} min excluded")
            if period_minutes < length:
                notes.append(f"{length - period_minutes} min outside the period")
            status, reason = "counted", "; ".join(notes)
            if n_emergency[index]:
                status = "emergency-maintenance"
                reason += "; during " + _emergency_reason(data, key, start, end)
        if confirm > 1:
            reason += f"; confirmed by at least {confirm} locations"
        results.setdefault(key, []).append(Episode(start, end, counted, status, reason))
        totals[key] = totals.get(key, 0) + counted
    return {key: RuleOutcome(totals[key], tuple(episodes)) for key, episodes in results.items()}


def _emergency_reason(data: RuleInput, key: ResultKey, start: int, end: int) -> str:
    for emergency in data.windows[key[0]].emergencies:
        if emergency.start < end and start < emergency.end:
            return emergency.reason
    return "emergency maintenance"
