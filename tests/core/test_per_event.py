"""``per-event`` commitments: coverage by peak, the strict threshold, months of detection."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from builders import instant
from hypothesis import given, settings
from hypothesis import strategies as st

from slaledger.core.commitment_spec import PerEvent
from slaledger.core.per_event import (
    MET,
    MISSED,
    NOT_COVERED,
    NOT_MITIGATED,
    PENDING,
    counts,
    covered,
    evaluate_per_event,
    event_statuses,
    in_period,
    month_met,
)
from slaledger.core.periods import Period
from slaledger.core.records import Ddos
from slaledger.core.timebase import US_PER_SECOND

S = US_PER_SECOND
T0 = instant("2026-10-07T10:00:00Z")


def statuses(elapsed: list[int | None], peaks: list[str], *, at: int = T0 + 3600 * S) -> list[int]:
    detected = np.full(len(elapsed), T0, dtype=np.int64)
    mitigated = np.array([NOT_MITIGATED if e is None else T0 + e for e in elapsed], np.int64)
    cover = covered([Decimal(p) for p in peaks], Decimal("1"))
    return event_statuses(detected, mitigated, cover, 2 * S, at).tolist()


def test_activation_of_exactly_two_seconds_is_missed() -> None:
    assert statuses([2 * S - 1, 2 * S, 2 * S + 1, 0], ["3.2"] * 4) == [MET, MISSED, MISSED, MET]


def test_events_under_the_minimum_peak_are_not_covered() -> None:
    # 1 Gbps exactly is covered; 0.999999 is not, however slow its mitigation.
    assert statuses([5 * S, 5 * S, S], ["1", "0.999999", "1.0000000001"]) == [
        MISSED,
        NOT_COVERED,
        MET,
    ]


def test_unmitigated_events_are_pending_until_they_can_no_longer_be_met() -> None:
    assert statuses([None], ["5"], at=T0 + 2 * S - 1) == [PENDING]
    assert statuses([None], ["5"], at=T0 + 2 * S) == [MISSED]
    assert statuses([None], ["0.5"], at=T0) == [NOT_COVERED]


def test_no_minimum_covers_every_event() -> None:
    assert covered([Decimal("0"), Decimal("0.1")], None).tolist() == [True, True]


def test_counts_and_the_month() -> None:
    codes = np.array([MET, MET, NOT_COVERED, PENDING], dtype=np.int8)
    assert counts(codes) == {"met": 2, "missed": 0, "pending": 1, "not-covered": 1}
    assert month_met(codes) is True
    assert month_met(np.array([MET, MISSED], dtype=np.int8)) is False
    assert month_met(np.array([NOT_COVERED, PENDING], dtype=np.int8)) is None
    assert month_met(np.array([], dtype=np.int8)) is None


def test_an_event_belongs_to_the_month_it_was_detected_in() -> None:
    start, end = instant("2026-10-01T00:00:00Z"), instant("2026-11-01T00:00:00Z")
    detected = [start - 1, start, end - 1, end]
    assert in_period(detected, start, end).tolist() == [False, True, True, False]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**9),
            st.one_of(st.none(), st.integers(0, 5 * S)),
            st.decimals(min_value=0, max_value=10, places=3),
        ),
        max_size=40,
    ),
    st.integers(1, 5 * S),
    st.integers(0, 10**9 + 10 * S),
)
def test_statuses_equal_the_plain_rule(
    events: list[tuple[int, int | None, Decimal]], below: int, at: int
) -> None:
    minimum = Decimal("1.5")
    detected = np.array([d for d, _, _ in events], dtype=np.int64)
    mitigated = np.array(
        [NOT_MITIGATED if e is None else d + e for d, e, _ in events], dtype=np.int64
    )
    got = event_statuses(detected, mitigated, covered([p for *_, p in events], minimum), below, at)
    expected = []
    for d, e, peak in events:
        if peak < minimum:
            expected.append(NOT_COVERED)
        elif e is None:
            expected.append(PENDING if at < d + below else MISSED)
        else:
            expected.append(MET if e < below else MISSED)
    assert got.tolist() == expected


# ---- the commitment's result ---------------------------------------------------------------


def ddos(ident: str, detected: str, mitigated: str, peak: str) -> Ddos:
    return Ddos.model_validate(
        {
            "kind": "ddos",
            "id": ident,
            "location": "fra",
            "detected": detected,
            "mitigated": mitigated,
            "peak_gbps": peak,
        }
    )


def test_settled_month_lists_every_event_not_met_in_order() -> None:
    spec = PerEvent.model_validate(
        {"kind": "per-event", "records": "ddos", "below": "2s", "covers": {"min_peak_gbps": "1"}}
    )
    events = [
        ddos("D-2", "2026-10-09T03:00:00Z", "2026-10-09T03:00:02Z", "3.2"),  # exactly 2 s
        ddos("D-1", "2026-10-02T12:00:00Z", "2026-10-02T12:00:01.999999Z", "40"),
        ddos("D-3", "2026-10-20T08:00:00Z", "2026-10-20T08:00:09Z", "0.4"),
        ddos("D-0", "2026-09-30T23:59:59Z", "2026-10-01T00:00:05Z", "9"),  # September's
    ]
    october = Period(instant("2026-10-01T00:00:00Z"), instant("2026-11-01T00:00:00Z"))
    result = evaluate_per_event("ddos-mitigation", spec, events, october, october.end)
    assert result.as_dict() == {
        "commitment": "ddos-mitigation",
        "kind": "per-event",
        "met": False,
        "counts": {"met": 1, "missed": 1, "pending": 0, "not-covered": 1},
        "items": [
            {
                "id": "D-2",
                "start": "2026-10-09T03:00:00Z",
                "due": "2026-10-09T03:00:02Z",
                "end": "2026-10-09T03:00:02Z",
                "elapsed_seconds": "2",
                "status": "missed",
                "late_hours": None,
            },
            {
                "id": "D-3",
                "start": "2026-10-20T08:00:00Z",
                "due": "2026-10-20T08:00:02Z",
                "end": "2026-10-20T08:00:09Z",
                "elapsed_seconds": "9",
                "status": "not-covered",
                "late_hours": None,
            },
        ],
    }
    empty = evaluate_per_event("ddos-mitigation", spec, [], october, october.end)
    assert (empty.met, empty.counts, empty.items) == (
        None,
        {"met": 0, "missed": 0, "pending": 0, "not-covered": 0},
        (),
    )
