import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slaledger.core.intervals import IntervalSet, at_least

pairs = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 200)).map(lambda p: (min(p), max(p))),
    max_size=12,
)


def points(s: IntervalSet) -> set[int]:
    return {t for a, b in s.pairs() for t in range(a, b)}


def test_normalises_overlapping_and_touching_intervals() -> None:
    s = IntervalSet.of([(10, 20), (5, 12), (20, 25), (30, 30), (40, 50)])
    assert s.pairs() == [(5, 25), (40, 50)]
    assert s.total() == 30


def test_difference_cuts_a_hole() -> None:
    s = IntervalSet.of([(0, 100)]).difference(IntervalSet.of([(10, 20), (90, 200)]))
    assert s.pairs() == [(0, 10), (20, 90)]


def test_clip_and_contains() -> None:
    s = IntervalSet.of([(0, 10), (20, 30)])
    assert s.clip(5, 25).pairs() == [(5, 10), (20, 25)]
    assert s.contains(np.array([0, 9, 10, 19, 20, 30])).tolist() == [
        True,
        True,
        False,
        False,
        True,
        False,
    ]


def test_minute_starts_count_buckets_starting_inside() -> None:
    minute = 60_000_000
    s = IntervalSet.of([(30_000_000, 3 * minute)])  # 00:00:30 to 00:03:00
    assert s.minute_starts_in(0, 10 * minute) == 2  # buckets 00:01 and 00:02
    assert s.minute_starts_in(2 * minute, 10 * minute) == 1


def test_at_least_k_of_n() -> None:
    a = IntervalSet.of([(0, 10)])
    b = IntervalSet.of([(5, 15)])
    c = IntervalSet.of([(8, 20)])
    assert at_least([a, b, c], 1).pairs() == [(0, 20)]
    assert at_least([a, b, c], 2).pairs() == [(5, 15)]
    assert at_least([a, b, c], 3).pairs() == [(8, 10)]
    assert not at_least([a, b], 3)
    with pytest.raises(ValueError, match="at least 1"):
        at_least([a], 0)


def test_touching_intervals_do_not_overlap() -> None:
    assert not IntervalSet.of([(0, 10)]).intersection(IntervalSet.of([(10, 20)]))


@settings(max_examples=200, deadline=None)
@given(pairs, pairs)
def test_set_algebra_matches_point_sets(
    left: list[tuple[int, int]], right: list[tuple[int, int]]
) -> None:
    a, b = IntervalSet.of(left), IntervalSet.of(right)
    assert points(a.union(b)) == points(a) | points(b)
    assert points(a.intersection(b)) == points(a) & points(b)
    assert points(a.difference(b)) == points(a) - points(b)
    assert points(a.complement_within(0, 200)) == set(range(200)) - points(a)
    assert a.total() == len(points(a))
    probe = np.arange(-1, 202, dtype=np.int64)
    assert set(probe[a.contains(probe)].tolist()) == points(a)
