"""Notice checks (scheduled vs emergency, in words) and the lowest-traffic window."""

from __future__ import annotations

from fractions import Fraction

import pytest
from builders import contract, utc

from slaledger.core.maintenance_suggest import (
    Suggestion,
    describe_suggestion,
    notice_check,
    suggest_window,
)
from slaledger.core.timebase import US_PER_HOUR, to_instant
from slaledger.errors import UsageError

CONTRACT = contract(
    {
        "contract": "ops",
        "name": "Ops",
        "services": {
            "api": {
                "name": "API",
                "target": "99.9",
                "downtime": {"rule": "probe-ratio"},
                "maintenance": {"notice": "48h"},
            },
            "web": {
                "name": "Web",
                "target": "99.9",
                "downtime": {"rule": "probe-ratio"},
                "maintenance": {"notice": "24h"},
            },
            "db": {"name": "DB", "target": "99.9", "downtime": {"rule": "probe-ratio"}},
        },
    }
)
H = US_PER_HOUR


def at(text: str) -> int:
    return to_instant(utc(text))


START = at("2026-10-14T02:00:00Z")


def test_enough_notice_is_scheduled_and_says_so() -> None:
    check = notice_check(CONTRACT, ("api",), START, START + H, START - 48 * H)
    assert check.kind == "scheduled"
    assert check.reason == ""
    assert check.message == (
        "scheduled maintenance: announced 48h before its start; api needs 48h notice — "
        "excluded from downtime"
    )


def test_too_little_notice_is_emergency_maintenance() -> None:
    check = notice_check(CONTRACT, ("api",), START, START + H, START - 3 * H)
    assert check.kind == "emergency"
    assert (
        check.reason
        == check.message
        == (
            "emergency maintenance: announced 3h before its start; api needs 48h notice — "
            "this window counts as downtime"
        )
    )
    late = notice_check(CONTRACT, ("api",), START, START + H, START + 90 * 60_000_000)
    assert late.message == (
        "emergency maintenance: announced 1h30m after its start; api needs 48h notice — "
        "this window counts as downtime"
    )


def test_a_window_for_several_services_says_for_which_it_counts() -> None:
    check = notice_check(CONTRACT, "*", START, START + H, START - 30 * H - 15 * 60_000_000)
    assert check.kind == "emergency"
    assert check.message == (
        "emergency maintenance: announced 30h15m before its start; api needs 48h notice, "
        "web needs 24h notice, db excludes no maintenance — this window counts as downtime "
        "for api and db (it is excluded for web)"
    )
    both = notice_check(CONTRACT, ("api", "web"), START, START + H, START - 50 * H)
    assert both.message == (
        "scheduled maintenance: announced 50h before its start; api needs 48h notice, "
        "web needs 24h notice — excluded from downtime"
    )


def hourly(first: str, counts: list[int]) -> dict[int, int]:
    origin = at(first)
    return {origin + i * H: c for i, c in enumerate(counts)}


def test_the_quietest_window_far_enough_ahead_wins_and_ties_go_to_the_earliest() -> None:
    # Forecast hours from 2026-10-12T00:00Z: quiet at 03:00-05:00 and again at 08:00-10:00.
    traffic = hourly("2026-10-12T00:00:00Z", [50, 40, 30, 5, 5, 30, 40, 50, 5, 5, 60, 60])
    found = suggest_window(traffic, 2 * H, at("2026-10-12T00:00:00Z"), at("2026-10-13T00:00:00Z"))
    assert found == Suggestion(
        at("2026-10-12T03:00:00Z"), at("2026-10-12T05:00:00Z"), Fraction(10), 2, 0
    )
    # Not before 04:30: starts are rounded up to 05:00, so 08:00 is the quietest left.
    later = suggest_window(traffic, 2 * H, at("2026-10-12T04:30:00Z"), at("2026-10-13T00:00:00Z"))
    assert later is not None
    assert (later.start, later.expected_requests) == (at("2026-10-12T08:00:00Z"), 10)
    # Busy time (already scheduled maintenance) is avoided.
    busy = [(at("2026-10-12T03:30:00Z"), at("2026-10-12T04:00:00Z"))]
    avoided = suggest_window(
        traffic, 2 * H, at("2026-10-12T00:00:00Z"), at("2026-10-13T00:00:00Z"), busy
    )
    assert avoided is not None
    assert avoided.start == at("2026-10-12T08:00:00Z")


def test_history_is_projected_by_hour_of_the_week() -> None:
    # Two past weeks of one quiet hour a day pattern: Monday 04:00 is quietest (3 and 5).
    traffic: dict[int, int] = {}
    for week in range(2):
        base = at("2026-09-28T00:00:00Z") + week * 7 * 24 * H  # Mondays
        for hour in range(7 * 24):
            traffic[base + hour * H] = 100
        traffic[base + 4 * H] = 3 + 2 * week
    now = at("2026-10-09T12:00:00Z")  # a Friday; next Monday is 2026-10-12
    found = suggest_window(traffic, H, now + 48 * H, now + 14 * 24 * H)
    assert found == Suggestion(
        at("2026-10-12T04:00:00Z"), at("2026-10-12T05:00:00Z"), Fraction(4), 0, 2
    )
    assert describe_suggestion(CONTRACT, "api", found, now) == [
        "suggested maintenance for api: 2026-10-12T04:00:00Z → 2026-10-12T05:00:00Z (1h)",
        "expected requests: 4 (mean of 2 weeks at these hours of the week)",
        "notice: if created now (2026-10-09T12:00:00Z), scheduled maintenance: announced "
        "64h before its start; api needs 48h notice — excluded from downtime",
    ]


def test_no_estimable_window_and_partial_hours() -> None:
    traffic = hourly("2026-10-12T00:00:00Z", [1, 2, 3])
    assert (
        suggest_window(traffic, 4 * H, at("2026-10-12T00:00:00Z"), at("2026-10-12T06:00:00Z"))
        is None
    )
    with pytest.raises(UsageError) as raised:
        suggest_window(traffic, 90 * 60_000_000, 0, 10 * H)
    assert str(raised.value) == "--duration: expected a whole number of hours, e.g. 2h, got 90m"
