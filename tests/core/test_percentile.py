"""``percentile`` commitments: hand-worked windows, DST-correct day ends, and a plain oracle."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import ceil
from zoneinfo import ZoneInfo

import numpy as np
from builders import instant
from hypothesis import given, settings
from hypothesis import strategies as st

from slaledger.core.commitment_spec import Percentile as PercentileSpec
from slaledger.core.percentile import (
    NOT_READY,
    Provisioning,
    Statistic,
    WindowValue,
    daily_series,
    day_ends,
    evaluate,
    evaluate_percentile,
    exact_seconds_text,
    last_day_ends,
    provisioning_arrays,
    ranks,
)
from slaledger.core.periods import Period, calendar_month
from slaledger.core.records import Provisioning as Record
from slaledger.core.timebase import US_PER_DAY, US_PER_SECOND, format_instant

S = US_PER_SECOND
BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def records(rows: list[tuple[str, float | None, bool]]) -> Provisioning:
    """Rows of (requested, seconds until ready or None, failed)."""
    requested = [instant(r) for r, _, _ in rows]
    ready = [
        NOT_READY if seconds is None else at + int(seconds * S)
        for at, (_, seconds, _) in zip(requested, rows, strict=True)
    ]
    return Provisioning.from_arrays(requested, ready, [f for _, _, f in rows])


def one(provisioning: Provisioning, statistic: Statistic, at: str, window: int) -> WindowValue:
    return evaluate(provisioning, statistic, window, [instant(at)])[0]


# ---- hand-worked -----------------------------------------------------------------------------


def test_median_of_an_even_count_is_the_exact_mean_of_the_middle_two() -> None:
    data = records(
        [
            ("2026-10-01T08:00:00Z", 60, False),
            ("2026-10-01T09:00:00Z", 87, False),
            ("2026-10-01T10:00:00Z", 60.000001, False),  # 60 000 001 µs
            ("2026-10-01T11:00:00Z", 120, False),
        ]
    )
    value = one(data, "median", "2026-10-02T00:00:00Z", 30 * US_PER_DAY)
    # Sorted: 60, 60.000001, 87, 120 → (60.000001 + 87) / 2 = 73.5000005
    assert value == WindowValue(instant("2026-10-02T00:00:00Z"), 4, Fraction(147_000_001, 2))
    assert value.value_seconds == "73.5000005"
    assert value.met(90 * S) is True


def test_median_of_an_odd_count_and_the_strict_bound() -> None:
    data = records(
        [
            ("2026-10-01T08:00:00Z", 10, False),
            ("2026-10-01T09:00:00Z", 90, False),
            ("2026-10-01T10:00:00Z", 200, False),
        ]
    )
    value = one(data, "median", "2026-10-02T00:00:00Z", 30 * US_PER_DAY)
    assert (value.count, value.value_seconds) == (3, "90")
    assert value.met(90 * S) is False  # exactly 90 s is not under 90 s
    assert value.met(90 * S + 1) is True


def test_not_ready_at_the_end_of_the_day_counts_what_has_elapsed() -> None:
    # Requested 23:59:00, ready 00:01:00 the next day: at 00:00 it has waited 60 s so far.
    data = records(
        [
            ("2026-10-01T23:59:00Z", 120, False),
            ("2026-10-01T23:58:00Z", None, False),  # never ready: 120 s at 00:00
            ("2026-10-01T12:00:00Z", 30, False),
        ]
    )
    at = "2026-10-02T00:00:00Z"
    assert one(data, "median", at, 30 * US_PER_DAY).value_seconds == "60"
    assert one(data, Decimal(100), at, 30 * US_PER_DAY).value_seconds == "120"
    # A day later the first one was ready after 120 s; the other has waited 24 h 2 min.
    later = one(data, Decimal(100), "2026-10-03T00:00:00Z", 30 * US_PER_DAY)
    assert later.value_seconds == "86520"


def test_failed_records_are_infinite() -> None:
    data = records(
        [
            ("2026-10-01T08:00:00Z", 10, False),
            ("2026-10-01T09:00:00Z", None, True),
            ("2026-10-01T10:00:00Z", 5, True),  # a ready time does not rescue a failure
        ]
    )
    value = one(data, "median", "2026-10-02T00:00:00Z", 30 * US_PER_DAY)
    assert (value.count, value.value_us, value.infinite, value.value_seconds) == (
        3,
        None,
        True,
        "inf",
    )
    assert value.met(90 * S) is False
    assert one(data, Decimal("33.3"), "2026-10-02T00:00:00Z", 30 * US_PER_DAY).value_seconds == "10"


def test_nearest_rank() -> None:
    assert ranks(Decimal(95), 20) == (19,)  # 0.95 × 20 = 19 exactly
    assert ranks(Decimal(95), 21) == (20,)  # ⌈19.95⌉
    assert ranks(Decimal("0.1"), 1) == (1,)
    assert ranks(Decimal(100), 7) == (7,)
    assert ranks(Decimal(50), 4) == (2,)
    assert ranks("median", 4) == (2, 3)
    assert ranks("median", 5) == (3,)


def test_window_is_half_open_and_empty_windows_are_not_judged() -> None:
    data = records([("2026-10-01T00:00:00Z", 10, False), ("2026-10-02T00:00:00Z", 20, False)])
    # [T − 1 d, T) at T = 10-02 00:00 holds the first (at its start) but not the second.
    value = one(data, "median", "2026-10-02T00:00:00Z", US_PER_DAY)
    assert (value.count, value.value_seconds) == (1, "10")
    empty = one(data, "median", "2026-10-05T00:00:00Z", US_PER_DAY)
    assert (empty.count, empty.value_seconds, empty.met(90 * S)) == (0, None, None)


def test_exact_seconds_text() -> None:
    assert exact_seconds_text(90 * S) == "90"
    assert exact_seconds_text(Fraction(147_000_001, 2)) == "73.5000005"
    assert exact_seconds_text(1) == "0.000001"
    assert exact_seconds_text(Fraction(1, 2)) == "0.0000005"
    assert exact_seconds_text(0) == "0"
    assert exact_seconds_text(-1_500_000) == "-1.5"


# ---- day ends ------------------------------------------------------------------------------


def test_day_ends_of_october_in_berlin_cross_the_dst_change() -> None:
    ends = day_ends(calendar_month(2026, 10, BERLIN), BERLIN)
    assert len(ends) == 31
    assert format_instant(ends[0]) == "2026-10-01T22:00:00Z"  # 00:00 CEST on 10-02
    assert format_instant(ends[23]) == "2026-10-24T22:00:00Z"  # 00:00 CEST on 10-25
    assert format_instant(ends[24]) == "2026-10-25T23:00:00Z"  # 00:00 CET: a 25-hour day
    assert format_instant(ends[-1]) == "2026-10-31T23:00:00Z"  # 00:00 CET on 11-01
    assert ends[24] - ends[23] == 25 * 3_600 * S


def test_day_ends_of_december_roll_into_january() -> None:
    ends = day_ends(calendar_month(2026, 12, UTC), UTC)
    assert format_instant(ends[-1]) == "2027-01-01T00:00:00Z"


def test_day_ends_of_a_month_in_force_from_mid_month() -> None:
    period = Period(instant("2026-10-15T12:00:00Z"), instant("2026-11-01T00:00:00Z"))
    ends = day_ends(period, UTC)
    assert (format_instant(ends[0]), len(ends)) == ("2026-10-16T00:00:00Z", 17)


def test_last_day_ends() -> None:
    at = instant("2026-10-15T10:00:00Z")
    ends = last_day_ends(at, 90, UTC)
    assert len(ends) == 90
    assert format_instant(ends[-1]) == "2026-10-15T00:00:00Z"
    assert format_instant(ends[0]) == "2026-07-18T00:00:00Z"
    # Exactly at midnight, the day that just ended is the newest.
    assert last_day_ends(instant("2026-10-15T00:00:00Z"), 1, UTC) == [
        instant("2026-10-15T00:00:00Z")
    ]
    # In Berlin, 2026-10-15T10:00Z is 12:00 local; the newest end is 00:00 CEST (22:00Z).
    assert format_instant(last_day_ends(at, 1, BERLIN)[0]) == "2026-10-14T22:00:00Z"


# ---- the plain oracle --------------------------------------------------------------------------


def oracle(
    rows: list[tuple[int, int | None, bool]], statistic: Statistic, window: int, at: int
) -> tuple[int, Fraction | None, bool]:
    """(count, value, infinite) by the words of the rule, with sorted lists."""
    values: list[int | None] = []
    for requested, ready, failed in rows:
        if not at - window <= requested < at:
            continue
        if failed:
            values.append(None)
        elif ready is None or ready > at:
            values.append(at - requested)
        else:
            values.append(ready - requested)
    if not values:
        return 0, None, False
    finite = sorted(v for v in values if v is not None)
    ordered: list[int | None] = [*finite, *([None] * (len(values) - len(finite)))]
    n = len(ordered)
    if statistic == "median":
        middle = [ordered[n // 2]] if n % 2 else [ordered[n // 2 - 1], ordered[n // 2]]
    else:
        middle = [ordered[ceil(Fraction(statistic) * n / 100) - 1]]
    if any(v is None for v in middle):
        return n, None, True
    return n, Fraction(sum(v for v in middle if v is not None), len(middle)), False


MINUTE = 60 * S
row_strategy = st.tuples(
    st.integers(0, 20 * 24 * 60),  # requested, in minutes
    st.one_of(st.none(), st.integers(0, 300 * S)),  # time to ready, µs
    st.booleans() | st.just(False),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(row_strategy, max_size=60),
    statistic=st.one_of(
        st.just("median"),
        st.decimals(min_value=Decimal("0.1"), max_value=Decimal(100), places=1),
    ),
    window_days=st.integers(1, 10),
    offsets=st.lists(st.integers(0, 22 * 24 * 60), min_size=1, max_size=6),
)
def test_evaluate_equals_the_plain_rule(
    rows: list[tuple[int, int | None, bool]],
    statistic: Statistic,
    window_days: int,
    offsets: list[int],
) -> None:
    base = instant("2026-10-01T00:00:00Z")
    spelled = [
        (base + m * MINUTE, None if d is None else base + m * MINUTE + d, f) for m, d, f in rows
    ]
    data = Provisioning.from_arrays(
        np.array([r for r, _, _ in spelled], dtype=np.int64),
        np.array([NOT_READY if d is None else d for _, d, _ in spelled], dtype=np.int64),
        np.array([f for _, _, f in spelled], dtype=bool),
    )
    window = window_days * US_PER_DAY
    instants = [base + m * MINUTE for m in offsets]
    got = [(v.count, v.value_us, v.infinite) for v in evaluate(data, statistic, window, instants)]
    assert got == [oracle(spelled, statistic, window, at) for at in instants]


# ---- the commitment's result ---------------------------------------------------------------


def provisioning(ident: str, requested: str, ready: str | None, failed: bool = False) -> Record:
    data: dict[str, object] = {
        "kind": "provisioning",
        "id": ident,
        "location": "fra",
        "requested": requested,
        "failed": failed,
    }
    if ready is not None:
        data["ready"] = ready
    return Record.model_validate(data)


OCTOBER = calendar_month(2026, 10, UTC)
MEDIAN_90S = PercentileSpec.model_validate(
    {
        "kind": "percentile",
        "records": "provisioning",
        "statistic": "median",
        "below": "90s",
        "window": "30d",
    }
)


def test_settled_month_has_one_value_per_local_day_ended_by_the_evaluation_instant() -> None:
    records = provisioning_arrays(
        [
            provisioning("vps-1", "2026-10-01T10:00:00Z", "2026-10-01T10:01:00Z"),  # 60 s
            provisioning("vps-2", "2026-10-01T11:00:00Z", "2026-10-01T11:01:27Z"),  # 87 s
            provisioning("vps-3", "2026-10-02T09:00:00Z", "2026-10-02T09:03:00Z"),  # 180 s
            provisioning("vps-4", "2026-10-02T10:00:00Z", None, failed=True),  # +inf
            provisioning("vps-5", "2026-10-02T23:59:00Z", None),  # 60 s at 00:00, then more
        ]
    )
    at = instant("2026-10-04T12:00:00Z")
    result = evaluate_percentile("vps-provisioning", MEDIAN_90S, records, OCTOBER, UTC, at)
    assert result.as_dict() == {
        "commitment": "vps-provisioning",
        "kind": "percentile",
        "met": False,
        "days": [
            # 60, 87 → 73.5
            {"at": "2026-10-02T00:00:00Z", "count": 2, "value_seconds": "73.5", "met": True},
            # 60, 60, 87, 180, inf → 87
            {"at": "2026-10-03T00:00:00Z", "count": 5, "value_seconds": "87", "met": True},
            # vps-5 never ready: 86 460 s at 10-04 00:00; 60, 87, 180, 86460, inf → 180
            {"at": "2026-10-04T00:00:00Z", "count": 5, "value_seconds": "180", "met": False},
        ],
    }
    before = evaluate_percentile(
        "vps-provisioning", MEDIAN_90S, records, OCTOBER, UTC, instant("2026-10-01T23:00:00Z")
    )
    assert (before.met, before.days) == (None, ())


def test_an_empty_month_is_not_judged() -> None:
    records = provisioning_arrays([])
    result = evaluate_percentile(
        "vps-provisioning",
        MEDIAN_90S,
        records,
        calendar_month(2026, 11, UTC),
        UTC,
        instant("2026-12-01T00:00:00Z"),
    )
    assert result.met is None
    assert len(result.days) == 30
    assert result.days[0].as_dict() == {
        "at": "2026-11-02T00:00:00Z",
        "count": 0,
        "value_seconds": None,
        "met": None,
    }


def test_daily_series_of_ninety_days() -> None:
    records = provisioning_arrays(
        [provisioning("vps-1", "2026-10-01T10:00:00Z", "2026-10-01T10:01:00Z")]
    )
    series = daily_series(records, MEDIAN_90S, UTC, instant("2026-10-15T10:00:00Z"))
    assert len(series) == 90
    # The last 15 ends are 10-01 00:00 (nothing requested yet) to 10-15 00:00.
    assert [day.as_dict()["value_seconds"] for day in series[-15:]] == [None] + ["60"] * 14
    assert series[-15].as_dict()["count"] == 0
