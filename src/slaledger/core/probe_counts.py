"""Counting a period's probes per result: up, down, and excluded (by outcome or window)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from slaledger.core.intervals import IntervalSet
from slaledger.core.outcomes import CHUNK_ROWS, EXCLUDED
from slaledger.core.report import ProbeCounts
from slaledger.core.rule_input import ResultKey, RuleInput

_OUTSIDE = 3

WindowScope = tuple[IntervalSet, NDArray[np.bool_] | None, int | None]
"""Excluded time, the services it applies to (``None``: all), and a location code or any."""


def window_scopes(
    data: RuleInput,
) -> list[WindowScope]:
    """Excluded windows grouped by scope: (time, which services or all, location code or any).

    Services sharing the same excluded time (a ``"*"`` window, say) share one scope.
    """
    scopes: dict[tuple[tuple[tuple[int, int], ...], str | None], list[int]] = {}
    location: str | None
    for index, own in enumerate(data.windows):
        if own.everywhere:
            scopes.setdefault((tuple(own.everywhere.pairs()), None), []).append(index)
        for location, excluded in own.by_location.items():
            if location in data.locations:
                scopes.setdefault((tuple(excluded.pairs()), location), []).append(index)
    result: list[WindowScope] = []
    for (pairs, location), services in scopes.items():
        member: NDArray[np.bool_] | None = None
        if len(services) < len(data.windows):
            member = np.zeros(len(data.windows), dtype=bool)
            member[services] = True
        code = None if location is None else data.locations.index(location)
        result.append((IntervalSet.of(pairs), member, code))
    return result


def _mask(
    scopes: list[WindowScope],
    data: RuleInput,
    lo: int,
    hi: int,
) -> NDArray[np.bool_]:
    mask = np.zeros(hi - lo, dtype=bool)
    for excluded, member, code in scopes:
        inside = excluded.contains(data.timestamp[lo:hi])
        if member is not None:
            inside &= member[data.service[lo:hi]]
        if code is not None:
            inside &= data.location[lo:hi] == code
        mask |= inside
    return mask


def count_probes(data: RuleInput) -> dict[ResultKey, ProbeCounts]:
    """Probe counts per result for observations inside the period (keys with any probe)."""
    scopes = window_scopes(data)
    n_locations = max(len(data.locations), 1)
    n_keys = len(data.windows) * (n_locations if data.per_location else 1)
    counts = np.zeros(n_keys * 4, dtype=np.int64)
    size = data.timestamp.size
    for lo in range(0, size, CHUNK_ROWS):
        hi = min(size, lo + CHUNK_ROWS)
        category = data.outcome[lo:hi].astype(np.int32)
        if scopes:
            category[_mask(scopes, data, lo, hi)] = EXCLUDED
        timestamp = data.timestamp[lo:hi]
        category[(timestamp < data.period.start) | (timestamp >= data.period.end)] = _OUTSIDE
        codes = data.service[lo:hi].astype(np.int32)
        if data.per_location:
            codes *= n_locations
            codes += data.location[lo:hi]
        codes *= 4
        codes += category
        if data.weight is None:
            counts += np.bincount(codes, minlength=n_keys * 4)
        else:  # float64 sums of int64 weights: exact below 2**53 observations
            weights = data.weight[lo:hi].astype(np.float64)
            counts += np.bincount(codes, weights, minlength=n_keys * 4).astype(np.int64)
    table = counts.reshape(n_keys, 4)
    result: dict[ResultKey, ProbeCounts] = {}
    for index in np.flatnonzero(table[:, :3].sum(axis=1)).tolist():
        up, down, excluded = (int(v) for v in table[index, :3])
        key: ResultKey = (
            (index // n_locations, index % n_locations) if data.per_location else (index, None)
        )
        result[key] = ProbeCounts(up=up, down=down, excluded=excluded)
    return result
