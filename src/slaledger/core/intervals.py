"""Half-open interval sets ``[start, end)`` over integer instants, held as sorted arrays.

An :class:`IntervalSet` is always normalised: intervals sorted, non-empty, and neither
overlapping nor touching (touching intervals merge). All operations are exact integer work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slaledger.core.timebase import US_PER_MINUTE

I64 = NDArray[np.int64]


def _normalise(starts: I64, ends: I64) -> tuple[I64, I64]:
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if starts.size == 0:
        return starts, ends
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    # A new interval begins where the start lies beyond everything reached so far.
    begins = np.empty(starts.size, dtype=bool)
    begins[0] = True
    begins[1:] = starts[1:] > reach[:-1]
    first = np.flatnonzero(begins)
    last = np.append(first[1:], starts.size) - 1
    return starts[first], reach[last]


@dataclass(frozen=True, eq=False)
class IntervalSet:
    """A union of half-open intervals; build with :meth:`of` or :meth:`from_arrays`."""

    starts: I64
    ends: I64

    @classmethod
    def empty(cls) -> IntervalSet:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64))

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, int]]) -> IntervalSet:
        pairs = list(pairs)
        starts = np.array([p[0] for p in pairs], dtype=np.int64)
        ends = np.array([p[1] for p in pairs], dtype=np.int64)
        return cls.from_arrays(starts, ends)

    @classmethod
    def from_arrays(cls, starts: I64, ends: I64) -> IntervalSet:
        return cls(*_normalise(np.asarray(starts, np.int64), np.asarray(ends, np.int64)))

    def __len__(self) -> int:
        return int(self.starts.size)

    def __bool__(self) -> bool:
        return self.starts.size > 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        return np.array_equal(self.starts, other.starts) and np.array_equal(self.ends, other.ends)

    def __hash__(self) -> int:
        return hash((self.starts.tobytes(), self.ends.tobytes()))

    def __repr__(self) -> str:
        return f"IntervalSet({self.pairs()!r})"

    def pairs(self) -> list[tuple[int, int]]:
        return list(zip(self.starts.tolist(), self.ends.tolist(), strict=True))

    def total(self) -> int:
        """Summed length of the intervals."""
        return int((self.ends - self.starts).sum())

    def union(self, other: IntervalSet) -> IntervalSet:
        return IntervalSet.from_arrays(
            np.concatenate([self.starts, other.starts]), np.concatenate([self.ends, other.ends])
        )

    def complement_within(self, start: int, end: int) -> IntervalSet:
        """``[start, end)`` less this set."""
        clipped = self.clip(start, end)
        starts = np.concatenate([[start], clipped.ends])
        ends = np.concatenate([clipped.starts, [end]])
        return IntervalSet.from_arrays(starts, ends)

    def clip(self, start: int, end: int) -> IntervalSet:
        """The part of this set inside ``[start, end)``."""
        starts = np.maximum(self.starts, start)
        ends = np.minimum(self.ends, end)
        keep = ends > starts
        return IntervalSet(starts[keep], ends[keep])

    def intersection(self, other: IntervalSet) -> IntervalSet:
        return at_least([self, other], 2)

    def difference(self, other: IntervalSet) -> IntervalSet:
        if not self or not other:
            return self
        lo = int(min(self.starts[0], other.starts[0]))
        hi = int(max(self.ends[-1], other.ends[-1]))
        return self.intersection(other.complement_within(lo, hi))

    def contains(self, points: NDArray[np.int64]) -> NDArray[np.bool_]:
        """For each point, whether it lies in the set."""
        if not self:
            return np.zeros(np.shape(points), dtype=bool)
        slot = np.searchsorted(self.starts, points, side="right") - 1
        inside = slot >= 0
        inside &= points < self.ends[np.maximum(slot, 0)]
        return inside

    def minute_starts_in(self, start: int, end: int) -> int:
        """How many minute buckets beginning in ``[start, end)`` begin inside this set."""
        clipped = self.clip(start, end)
        first = -((-clipped.starts) // US_PER_MINUTE)
        last = -((-clipped.ends) // US_PER_MINUTE)
        return int((last - first).sum())


def at_least(sets: Sequence[IntervalSet], k: int) -> IntervalSet:
    """Where at least ``k`` of ``sets`` overlap (``k=1``: union, ``k=len``: intersection)."""
    if k <= 0:
        raise ValueError("k must be at least 1")
    if len(sets) < k:
        return IntervalSet.empty()
    starts = np.concatenate([s.starts for s in sets])
    ends = np.concatenate([s.ends for s in sets])
    if starts.size == 0:
        return IntervalSet.empty()
    times = np.concatenate([starts, ends])
    deltas = np.concatenate([np.ones(starts.size, np.int64), -np.ones(ends.size, np.int64)])
    # At equal instants, ends (-1) come before starts (+1): half-open intervals that touch
    # do not overlap.
    order = np.lexsort((deltas, times))
    times, deltas = times[order], deltas[order]
    depth = np.cumsum(deltas)
    enter = (depth >= k) & (np.concatenate([[0], depth[:-1]]) < k)
    leave = (depth < k) & (np.concatenate([[0], depth[:-1]]) >= k)
    return IntervalSet.from_arrays(times[enter], times[leave])
