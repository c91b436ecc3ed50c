"""``first-fail-to-first-success``: down from a location's first failed probe to its first
successful one, combined across locations, cut by exclusions, rounded up once per interval."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slaledger.core.contract import FirstFailToFirstSuccess
from slaledger.core.intervals import IntervalSet, at_least
from slaledger.core.outages import notes_between
from slaledger.core.outcomes import CHUNK_ROWS, DOWN, UP
from slaledger.core.report import Episode, EpisodeStatus
from slaledger.core.rule_input import ResultKey, RuleInput, RuleOutcome
from slaledger.core.timebase import US_PER_MINUTE

_RANK = np.array([0, 2, 1], dtype=np.int8)
"""Order of outcomes at one instant: up, then excluded, then down. Probes of one location
that disagree at the same instant leave it down from that instant (the pessimistic reading,
as continuous-failure fails a bucket on any down probe)."""


def _grouped_in_time(
    service: NDArray[np.int32],
    location: NDArray[np.int16],
    timestamp: NDArray[np.int64],
    outcome: NDArray[np.int8],
    n: int,
) -> bool:
    """Whether rows are sorted by (service, location), time, and outcome rank."""
    size = timestamp.size
    for lo in range(0, size, CHUNK_ROWS):
        hi = min(size, lo + CHUNK_ROWS + 1)
        group = service[lo:hi].astype(np.int64) * n + location[lo:hi]
        step = group[1:] - group[:-1]
        tick = timestamp[lo + 1 : hi] - timestamp[lo : hi - 1]
        if (step < 0).any() or ((step == 0) & (tick < 0)).any():
            return False
        ties = np.flatnonzero((step == 0) & (tick == 0))
        if ties.size:
            rank = _RANK[outcome[lo:hi]]
            if (rank[ties] > rank[ties + 1]).any():
                return False
    return True


def location_intervals(data: RuleInput) -> dict[tuple[int, int], IntervalSet]:
    """Per (service, location): from each first down probe to the next up probe.

    ``excluded`` probes neither open nor close an interval; one still open when the data
    ends runs to the end of the period. Rows already sorted by (service, location, time), as
    the store and most exports deliver them, are read in place; others are sorted first.
    """
    n = max(len(data.locations), 1)
    service, location, timestamp, outcome = (
        data.service,
        data.location,
        data.timestamp,
        data.outcome,
    )
    if not _grouped_in_time(service, location, timestamp, outcome, n):
        group = service.astype(np.int64) * n + location
        rows = np.flatnonzero(np.isin(group, np.unique(group[outcome == DOWN])))
        order = rows[np.lexsort((_RANK[outcome[rows]], timestamp[rows], group[rows]))]
        service, location, timestamp, outcome = (
            service[order],
            location[order],
            timestamp[order],
            outcome[order],
        )
    return _intervals_in_sorted(service, location, timestamp, outcome, n, data.open_intervals_end)


def _intervals_in_sorted(
    service: NDArray[np.int32],
    location: NDArray[np.int16],
    timestamp: NDArray[np.int64],
    outcome: NDArray[np.int8],
    n: int,
    period_end: int,
) -> dict[tuple[int, int], IntervalSet]:
    """Down intervals from rows sorted by (group, time), visiting only down/excluded rows.

    A maximal stretch of consecutive down-or-excluded rows of one group holds one down
    interval: it opens at the stretch's first down row and closes at the row after the
    stretch (an up row) when that row is in the same group.
    """
    marked = np.flatnonzero(outcome != UP)
    if marked.size == 0:
        return {}
    group = service[marked].astype(np.int64) * n + location[marked]
    is_down = outcome[marked] == DOWN
    first = np.ones(marked.size, dtype=bool)
    first[1:] = (np.diff(marked) != 1) | (np.diff(group) != 0)
    stretch = np.flatnonzero(first)
    position = np.arange(marked.size)
    first_down = np.minimum.reduceat(np.where(is_down, position, marked.size), stretch)
    has_down = first_down < marked.size
    last = np.append(stretch[1:], marked.size) - 1
    stretch_group = group[stretch][has_down]
    starts = timestamp[marked[first_down[has_down]]]
    after = marked[last[has_down]] + 1
    ends = np.full(starts.size, period_end, dtype=np.int64)
    inside = after < timestamp.size
    after_group = np.full(after.size, -1, dtype=np.int64)
    after_group[inside] = service[after[inside]].astype(np.int64) * n + location[after[inside]]
    closes = after_group == stretch_group
    ends[closes] = timestamp[after[closes]]
    ends = np.maximum(ends, starts)

    result: dict[tuple[int, int], IntervalSet] = {}
    bounds = np.flatnonzero(np.diff(stretch_group)) + 1
    for chunk in np.split(np.arange(starts.size), bounds):
        if chunk.size:
            g = int(stretch_group[chunk[0]])
            result[(g // n, g % n)] = IntervalSet.from_arrays(starts[chunk], ends[chunk])
    return result


def with_outages(
    probed: dict[tuple[int, int], IntervalSet], outages: Mapping[tuple[int, int], IntervalSet]
) -> dict[tuple[int, int], IntervalSet]:
    """The probes' down intervals per (service, location), each merged (union) with the
    recorded outages there: the merged intervals are what the rule rounds and combines."""
    merged = dict(probed)
    for key, spans in outages.items():
        merged[key] = merged[key].union(spans) if key in merged else spans
    return merged


def settle_first_fail(
    data: RuleInput, rule: FirstFailToFirstSuccess
) -> dict[ResultKey, RuleOutcome]:
    """Counted minutes and episodes per result for ``rule`` over ``data``."""
    probed = location_intervals(data)
    per_location = with_outages(probed, data.outages)
    confirm = 1 if data.per_location else rule.confirm
    grouped: dict[ResultKey, tuple[list[IntervalSet], list[IntervalSet]]] = {}
    for (service, location), raw in per_location.items():
        key: ResultKey = (service, location) if data.per_location else (service, None)
        own = data.windows[service]
        name = data.locations[location]
        kept = (
            raw
            if data.per_location
            else raw.difference(own.by_location.get(name, IntervalSet.empty()))
        )
        raws, effectives = grouped.setdefault(key, ([], []))
        raws.append(raw)
        effectives.append(kept)
    with_recorded = {service for service, _ in data.outages}
    outcomes: dict[ResultKey, RuleOutcome] = {}
    for key, (raws, effectives) in grouped.items():
        down = at_least(raws, confirm)
        # Episodes are the down intervals that touch the period, reported unclipped.
        touching = (down.ends > data.period.start) & (down.starts < data.period.end)
        if not touching.any():
            continue
        shown = IntervalSet(down.starts[touching], down.ends[touching])
        counted_time = (
            at_least(effectives, confirm)
            .clip(data.period.start, data.period.end)
            .difference(data.excluded_for(*key))
        )
        sources = (
            _Sources(
                _union_for(probed, key),
                _union_for(data.outages, key),
                tuple(_sets_for(data.outages, key)),
            )
            if key[0] in with_recorded
            else None
        )
        outcomes[key] = _episodes(data, key, shown, counted_time, confirm, sources)
    return outcomes


_PROBED = "from first failed to first successful probe"


@dataclass(frozen=True)
class _Sources:
    """Where a result's down time came from: the probes, and recorded outages."""

    probes: IntervalSet
    outages: IntervalSet
    recorded: tuple[IntervalSet, ...]
    """The outage sets themselves, with their notes."""

    def origin(self, start: int, end: int) -> str:
        """How an episode ``[start, end)`` was seen, for its reason."""
        from_probes = bool(self.probes.clip(start, end))
        if not self.outages.clip(start, end):
            return _PROBED
        notes = notes_between(self.recorded, start, end)
        if not from_probes:
            return f"in a recorded outage{notes}"
        return f"{_PROBED}, merged with a recorded outage{notes}"


def _sets_for(
    intervals: Mapping[tuple[int, int], IntervalSet], key: ResultKey
) -> list[IntervalSet]:
    """The sets of the locations ``key`` stands for (one, or all when ``key[1]`` is None)."""
    return [
        spans
        for (service, location), spans in intervals.items()
        if service == key[0] and (key[1] is None or location == key[1])
    ]


def _union_for(intervals: Mapping[tuple[int, int], IntervalSet], key: ResultKey) -> IntervalSet:
    """The union over the locations ``key`` stands for."""
    found = _sets_for(intervals, key)
    return at_least(found, 1) if found else IntervalSet.empty()


def _episodes(
    data: RuleInput,
    key: ResultKey,
    shown: IntervalSet,
    counted_time: IntervalSet,
    confirm: int,
    sources: _Sources | None,
) -> RuleOutcome:
    # Every counted piece lies inside exactly one shown episode.
    owner = np.searchsorted(shown.starts, counted_time.starts, side="right") - 1
    lengths = np.zeros(len(shown), dtype=np.int64)
    np.add.at(lengths, owner, counted_time.ends - counted_time.starts)
    emergencies = [
        e
        for e in data.windows[key[0]].emergencies
        if e.location is None or key[1] is None or e.location == data.locations[key[1]]
    ]
    # Emergency maintenance matters only where it overlaps counted time.
    during: dict[int, str] = {}
    for emergency in emergencies:
        hit = (counted_time.starts < emergency.end) & (emergency.start < counted_time.ends)
        for episode_index in owner[hit].tolist():
            during.setdefault(episode_index, emergency.reason)
    episodes: list[Episode] = []
    total = 0
    for index, (start, end, kept_us) in enumerate(
        zip(shown.starts.tolist(), shown.ends.tolist(), lengths.tolist(), strict=True)
    ):
        minutes = -(-kept_us // US_PER_MINUTE)
        total += minutes
        status: EpisodeStatus = "counted" if minutes else "excluded"
        origin = _PROBED if sources is None else sources.origin(start, end)
        reason = f"down {_span(end - start)} {origin}"
        if minutes:
            reason += f"; {_span(kept_us)} counted, rounded up to {minutes} min"
        else:
            reason += "; all of it excluded or outside the period"
        if minutes and index in during:
            status = "emergency-maintenance"
            reason += "; during " + during[index]
        if confirm > 1:
            reason += f"; confirmed by at least {confirm} locations"
        episodes.append(Episode(start, end, minutes, status, reason))
    return RuleOutcome(total, tuple(episodes))


def _span(us: int) -> str:
    seconds, micro = divmod(us, 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    fraction = f".{micro:06d}".rstrip("0") if micro else ""
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02d}{fraction}s"
    return f"{minutes}m{seconds:02d}{fraction}s"
