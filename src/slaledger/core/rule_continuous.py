"""``continuous-failure``: runs of minute buckets that enough locations saw failing.

Works on the sparse set of failing buckets only (down observations are rare), so a month of
one-minute probes for thousands of services costs one pass to find the down rows and a sort
of those few rows. Buckets are keyed ``row << 32 | minute``, where a row is a service (or a
service and location, for per-location results) and minutes count from the earliest one seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slaledger.core.contract import ContinuousFailure
from slaledger.core.durations import format_duration
from slaledger.core.intervals import IntervalSet
from slaledger.core.outages import notes_between
from slaledger.core.outcomes import DOWN
from slaledger.core.report import Episode, EpisodeStatus
from slaledger.core.rule_input import ResultKey, RuleInput, RuleOutcome
from slaledger.core.timebase import US_PER_MINUTE, ceil_minute

_LOW32 = (1 << 32) - 1
Keys = NDArray[np.int64]


@dataclass(frozen=True)
class _Buckets:
    """Confirmed-down buckets, sorted, with what cuts them out of the count."""

    keys: Keys
    base: int
    cut: NDArray[np.bool_]
    in_emergency: NDArray[np.bool_]
    recorded: NDArray[np.bool_]
    """Buckets a recorded outage fails (at one location at least)."""

    @property
    def rows(self) -> Keys:
        return self.keys >> 32

    @property
    def minutes(self) -> Keys:
        return self.keys & _LOW32


def _in_sets(
    keys: Keys, base: int, row_sets: dict[int, list[tuple[int, int]]]
) -> NDArray[np.bool_]:
    """For sorted bucket keys: whether each bucket starts inside its row's intervals."""
    flags = np.zeros(keys.size, dtype=bool)
    rows = keys >> 32
    for row, pairs in row_sets.items():
        lo, hi = np.searchsorted(rows, [row, row + 1])
        starts = ((keys[lo:hi] & _LOW32) + base) * US_PER_MINUTE
        for start, end in pairs:
            flags[lo:hi] |= (starts >= start) & (starts < end)
    return flags


def _row_key(data: RuleInput, row: int) -> ResultKey:
    n = max(len(data.locations), 1)
    return (row // n, row % n) if data.per_location else (row, None)


def _confirmed(data: RuleInput, confirm: int) -> _Buckets | None:
    """Buckets at least ``confirm`` locations fail, and which of them exclusions cut."""
    down = np.flatnonzero(data.outcome == DOWN)
    n = max(len(data.locations), 1)
    pairs = data.service[down].astype(np.int64) * n + data.location[down]
    minute = data.timestamp[down] // US_PER_MINUTE
    recorded = _outage_buckets(data.outages, n)
    if recorded is not None:
        pairs = np.concatenate([pairs, recorded[0]])
        minute = np.concatenate([minute, recorded[1]])
    if minute.size == 0:
        return None
    base = int(minute.min())
    # Each failing (service, location, minute) once.
    failing = np.unique(pairs << 32 | (minute - base))
    pair, f_minute = failing >> 32, failing & _LOW32
    row_minute = (pair if data.per_location else pair // n) << 32 | f_minute
    keys, votes = np.unique(row_minute, return_counts=True)
    confirmed = votes >= confirm
    keys = keys[confirmed]
    if keys.size == 0:
        return None
    cut = np.zeros(keys.size, dtype=bool)
    if not data.per_location:
        cut |= _voided_by_location_windows(data, failing, row_minute, keys, base, confirm)
    row_ids = np.unique(keys >> 32).tolist()
    excluded = {row: data.excluded_for(*_row_key(data, row)).pairs() for row in row_ids}
    cut |= _in_sets(keys, base, {row: pairs for row, pairs in excluded.items() if pairs})
    emergencies: dict[int, list[tuple[int, int]]] = {}
    for row in row_ids:
        service, location = _row_key(data, row)
        spans = [
            (e.start, e.end)
            for e in data.windows[service].emergencies
            if e.location is None or location is None or e.location == data.locations[location]
        ]
        if spans:
            emergencies[row] = spans
    recorded_keys = np.empty(0, dtype=np.int64)
    if recorded is not None:
        row = recorded[0] if data.per_location else recorded[0] // n
        recorded_keys = row << 32 | (recorded[1] - base)
    return _Buckets(
        keys, base, cut, _in_sets(keys, base, emergencies), np.isin(keys, recorded_keys)
    )


def _outage_buckets(
    outages: Mapping[tuple[int, int], IntervalSet], n: int
) -> tuple[Keys, Keys] | None:
    """(service × n + location, minute) of every minute bucket a recorded outage overlaps:
    each fails as a failed probe inside it would."""
    pairs: list[Keys] = []
    minutes: list[Keys] = []
    for (service, location), spans in outages.items():
        first = spans.starts // US_PER_MINUTE
        last = -((-spans.ends) // US_PER_MINUTE)  # exclusive
        for lo, hi in zip(first.tolist(), last.tolist(), strict=True):
            minutes.append(np.arange(lo, hi, dtype=np.int64))
            pairs.append(np.full(hi - lo, service * n + location, dtype=np.int64))
    if not minutes:
        return None
    return np.concatenate(pairs), np.concatenate(minutes)


def _voided_by_location_windows(
    data: RuleInput, failing: Keys, row_minute: Keys, keys: Keys, base: int, confirm: int
) -> NDArray[np.bool_]:
    """Confirmed buckets that fewer than ``confirm`` locations fail outside their own windows."""
    n = max(len(data.locations), 1)
    pair_sets: dict[int, list[tuple[int, int]]] = {}
    for pair in np.unique(failing >> 32).tolist():
        own = data.windows[pair // n]
        name = data.locations[pair % n]
        if name in own.by_location:
            pair_sets[pair] = own.by_location[name].pairs()
    if not pair_sets:
        return np.zeros(keys.size, dtype=bool)
    voided = _in_sets(failing, base, pair_sets)
    kept, kept_votes = np.unique(row_minute[~voided], return_counts=True)
    votes = np.zeros(keys.size, dtype=np.int64)
    if kept.size:
        slot = np.minimum(np.searchsorted(kept, keys), kept.size - 1)
        hit = kept[slot] == keys
        votes[hit] = kept_votes[slot[hit]]
    return votes < confirm


def settle_continuous_failure(
    data: RuleInput, rule: ContinuousFailure
) -> dict[ResultKey, RuleOutcome]:
    """Counted minutes and episodes per result for ``rule`` over ``data``."""
    confirm = 1 if data.per_location else rule.confirm
    buckets = _confirmed(data, confirm)
    if buckets is None:
        return {}
    first_minute = ceil_minute(data.period.start) // US_PER_MINUTE - buckets.base
    end_minute = ceil_minute(data.period.end) // US_PER_MINUTE - buckets.base
    minutes = buckets.minutes
    in_period = (minutes >= first_minute) & (minutes < end_minute)
    run_starts = np.ones(buckets.keys.size, dtype=bool)
    run_starts[1:] = np.diff(buckets.keys) != 1
    run_first = np.flatnonzero(run_starts)
    run_length = np.diff(np.append(run_first, buckets.keys.size))
    counted = in_period & ~buckets.cut
    n_in_period = np.add.reduceat(in_period.astype(np.int64), run_first)
    n_counted = np.add.reduceat(counted.astype(np.int64), run_first)
    n_recorded = np.add.reduceat(buckets.recorded.astype(np.int64), run_first)
    during = np.flatnonzero(counted & buckets.in_emergency)
    # The first counted bucket in emergency maintenance of each run, if any.
    first_during = np.full(run_first.size, -1, dtype=np.int64)
    if during.size:
        slot = np.minimum(np.searchsorted(during, run_first), during.size - 1)
        inside = (during[slot] >= run_first) & (during[slot] < run_first + run_length)
        first_during[inside] = during[slot[inside]]

    episodes: dict[ResultKey, list[Episode]] = {}
    for index in np.flatnonzero(n_in_period > 0).tolist():
        first = int(run_first[index])
        key = _row_key(data, int(buckets.rows[first]))
        start = (int(minutes[first]) + buckets.base) * US_PER_MINUTE
        episode = _episode(
            data,
            rule,
            key,
            start,
            length=int(run_length[index]),
            period_minutes=int(n_in_period[index]),
            counted=int(n_counted[index]),
            emergency_at=(
                (int(minutes[first_during[index]]) + buckets.base) * US_PER_MINUTE
                if first_during[index] >= 0
                else None
            ),
            confirm=confirm,
            recorded=(
                _recorded_notes(data, key, start, start + int(run_length[index]) * US_PER_MINUTE)
                if n_recorded[index]
                else None
            ),
        )
        episodes.setdefault(key, []).append(episode)
    return {
        key: RuleOutcome(sum(e.counted_minutes for e in found), tuple(found))
        for key, found in episodes.items()
    }


def _episode(
    data: RuleInput,
    rule: ContinuousFailure,
    key: ResultKey,
    start: int,
    *,
    length: int,
    period_minutes: int,
    counted: int,
    emergency_at: int | None,
    confirm: int,
    recorded: str | None = None,
) -> Episode:
    end = start + length * US_PER_MINUTE
    minimum = format_duration(rule.min_duration)
    status: EpisodeStatus
    if length < rule.min_buckets:
        counted = 0
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
        if emergency_at is not None:
            status = "emergency-maintenance"
            reason += "; during " + _emergency_reason(data, key, emergency_at)
    if recorded is not None:
        reason += f"; includes a recorded outage{recorded}"
    if confirm > 1:
        reason += f"; confirmed by at least {confirm} locations"
    return Episode(start, end, counted, status, reason)


def _recorded_notes(data: RuleInput, key: ResultKey, start: int, end: int) -> str:
    """The notes of the recorded outages of ``key`` overlapping ``[start, end)``."""
    sets = [
        spans
        for (service, location), spans in data.outages.items()
        if service == key[0] and (key[1] is None or location == key[1])
    ]
    return notes_between(sets, start, end)


def _emergency_reason(data: RuleInput, key: ResultKey, bucket_start: int) -> str:
    """The reason of the emergency maintenance a counted bucket starts in."""
    for emergency in data.windows[key[0]].emergencies:
        if emergency.start <= bucket_start < emergency.end:
            return emergency.reason
    return "emergency maintenance"
