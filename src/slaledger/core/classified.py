"""Classified observations, and the long-term tier's minute runs that stand in for them.

Raw observations, once classified up/down/excluded, are collapsed per (service, location)
and minute bucket into *runs*: consecutive observations with the same outcome. A run keeps
its first and last instants and how many observations it holds. Settling runs gives exactly
the figures of settling the observations they came from, because every rule reads
observations only through

- the minute bucket (continuous-failure): the same for all of a run;
- the first observation of each change of outcome (first-fail): a run's first instant;
- counts on either side of the period's edges and window edges (probe counts): the same
  for all of a run unless an edge falls strictly inside it (``first < edge <= last``).

That last case cannot be settled from runs; :func:`check_runs_separable` refuses it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from slaledger.core.contract import OutcomeRule
from slaledger.core.intervals import IntervalSet
from slaledger.core.observations import Observations
from slaledger.core.outcomes import classify
from slaledger.core.timebase import US_PER_MINUTE, format_instant

RANK = np.array([0, 2, 1], dtype=np.int8)
"""Order of outcomes at one instant (up, excluded, down), as first-fail reads them."""


@dataclass(frozen=True, eq=False)
class Classified:
    """Observations with their outcome; ``weight``/``last`` are set where rows are runs.

    A row with ``weight`` w stands for w observations with that outcome between its
    ``timestamp`` (the first) and ``last``, inside one minute bucket.
    """

    timestamp: NDArray[np.int64]
    service: NDArray[np.int32]
    location: NDArray[np.int16]
    outcome: NDArray[np.int8]
    services: tuple[str, ...]
    locations: tuple[str, ...]
    weight: NDArray[np.int64] | None = None
    last: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.timestamp.size)

    def take(self, rows: NDArray[np.intp] | NDArray[np.bool_]) -> Classified:
        return Classified(
            timestamp=self.timestamp[rows],
            service=self.service[rows],
            location=self.location[rows],
            outcome=self.outcome[rows],
            services=self.services,
            locations=self.locations,
            weight=None if self.weight is None else self.weight[rows],
            last=None if self.last is None else self.last[rows],
        )

    @classmethod
    def concat(cls, parts: Sequence[Classified]) -> Classified:
        """Join sets, re-coding services and locations to shared tables; rows become runs
        (weight 1, last = first) as soon as one part holds runs."""
        nonempty = [p for p in parts if len(p)]
        if len(nonempty) == 1:
            return nonempty[0]  # nothing to join: an empty part adds no rows
        services = tuple(dict.fromkeys(name for p in parts for name in p.services))
        locations = tuple(dict.fromkeys(name for p in parts for name in p.locations))
        s_index = {name: i for i, name in enumerate(services)}
        l_index = {name: i for i, name in enumerate(locations)}
        runs = any(p.weight is not None for p in parts)

        def recode(part: Classified) -> tuple[NDArray[np.int32], NDArray[np.int16]]:
            s_map = np.array([s_index[n] for n in part.services] or [0], dtype=np.int32)
            l_map = np.array([l_index[n] for n in part.locations] or [0], dtype=np.int16)
            return s_map[part.service], l_map[part.location]

        coded = [recode(p) for p in parts]
        return cls(
            timestamp=_join([p.timestamp for p in parts], np.int64),
            service=_join([c[0] for c in coded], np.int32),
            location=_join([c[1] for c in coded], np.int16),
            outcome=_join([p.outcome for p in parts], np.int8),
            services=services,
            locations=locations,
            weight=_join([_weights(p) for p in parts], np.int64) if runs else None,
            last=_join([p.timestamp if p.last is None else p.last for p in parts], np.int64)
            if runs
            else None,
        )


def _weights(part: Classified) -> NDArray[np.int64]:
    return np.ones(len(part), np.int64) if part.weight is None else part.weight


def _join(arrays: list[NDArray[Any]], dtype: type) -> Any:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.empty(0, dtype)


def classify_observations(
    observations: Observations, rules_of: Mapping[str, Sequence[OutcomeRule]]
) -> Classified:
    """Outcomes of ``observations`` by each service's rules (``rules_of[name]``)."""
    outcome = classify(observations, [rules_of[name] for name in observations.services])
    return Classified(
        timestamp=observations.timestamp,
        service=observations.service,
        location=observations.location,
        outcome=outcome,
        services=observations.services,
        locations=observations.locations,
    )


def outcomes_fingerprint(rules: Sequence[OutcomeRule]) -> str:
    """16 hex digits naming a classification: runs made under other rules cannot be reused."""
    text = json.dumps([rule.model_dump(mode="json") for rule in rules], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def collapse_runs(data: Classified) -> Classified:
    """Runs of equal outcomes per (service, location, minute bucket), in (service, location,
    time, outcome rank) order."""
    if len(data) == 0:
        return Classified.concat([data, _empty_runs(data)])
    n = max(len(data.locations), 1)
    group = data.service.astype(np.int64) * n + data.location
    order = np.lexsort((RANK[data.outcome], data.timestamp, group))
    ts, grp, out = data.timestamp[order], group[order], data.outcome[order]
    minute = ts // US_PER_MINUTE
    starts = np.ones(ts.size, dtype=bool)
    starts[1:] = (grp[1:] != grp[:-1]) | (minute[1:] != minute[:-1]) | (out[1:] != out[:-1])
    first = np.flatnonzero(starts)
    ends = np.append(first[1:], ts.size)
    return Classified(
        timestamp=ts[first],
        service=data.service[order][first],
        location=data.location[order][first],
        outcome=out[first],
        services=data.services,
        locations=data.locations,
        weight=(ends - first).astype(np.int64),
        last=ts[ends - 1],
    )


def _empty_runs(data: Classified) -> Classified:
    return Classified(
        timestamp=np.empty(0, np.int64),
        service=np.empty(0, np.int32),
        location=np.empty(0, np.int16),
        outcome=np.empty(0, np.int8),
        services=data.services,
        locations=data.locations,
        weight=np.empty(0, np.int64),
        last=np.empty(0, np.int64),
    )


@dataclass(frozen=True)
class SplitRun:
    """A run that an edge (a period's or a window's) falls strictly inside."""

    service: str
    location: str
    first: int
    last: int
    edge: int

    def __str__(self) -> str:
        return (
            f"{self.service} at {self.location}: the edge {format_instant(self.edge)} falls "
            f"inside the minute whose observations ({format_instant(self.first)} to "
            f"{format_instant(self.last)}) are kept only as a count"
        )


def split_run(data: Classified, service: int, edges: Sequence[int]) -> SplitRun | None:
    """The first run of ``service`` that an edge splits (``first < edge <= last``), if any."""
    if data.last is None or not edges:
        return None
    rows = np.flatnonzero((data.service == service) & (data.last > data.timestamp))
    if rows.size == 0:
        return None
    cuts = np.unique(np.asarray(edges, dtype=np.int64))
    first, last = data.timestamp[rows], data.last[rows]
    split = np.searchsorted(cuts, first, side="right") != np.searchsorted(cuts, last, "right")
    if not split.any():
        return None
    row = int(rows[np.argmax(split)])
    edge = int(cuts[np.searchsorted(cuts, data.timestamp[row], side="right")])
    return SplitRun(
        data.services[service],
        data.locations[int(data.location[row])],
        int(data.timestamp[row]),
        int(data.last[row]),
        edge,
    )


def edges_of(excluded: Sequence[IntervalSet], period: tuple[int, int]) -> list[int]:
    """Every instant where membership can change: the period's and the windows' edges."""
    edges = list(period)
    for intervals in excluded:
        for start, end in intervals.pairs():
            edges += (start, end)
    return edges
