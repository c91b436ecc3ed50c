"""Edges of the downtime rules and of exclusions, each worked out by hand.

October 2026: 44 640 minutes.
"""

from __future__ import annotations

from typing import Any

import pytest
from builders import (
    THREE_LOCATIONS,
    episode,
    events,
    exclusion,
    instant,
    load_example,
    maintenance,
    minute_result,
    observations,
    one_service_contract,
    result,
    settle_rows,
    steady,
)
from pydantic import ValidationError

from slaledger.core.events import Events
from slaledger.core.settle import settle
from slaledger.core.windows import check_events

CF = "continuous-failure"
FF = "first-fail-to-first-success"
OCTOBER_MINUTES = 44_640
CONFIRMED_2 = "; confirmed by at least 2 locations"
BREAKER_OUTCOMES = [
    {"match": {"status": 503, "retry_after": "present"}, "outcome": "excluded"},
    {"match": {"error": "any"}, "outcome": "down"},
    {"match": {"status": "5xx"}, "outcome": "down"},
]


def figures(**given: Any) -> dict[str, Any]:
    """An expected ``api`` result, October, target 99.9, no credits section."""
    rule = given.pop("rule")
    given.setdefault("total", OCTOBER_MINUTES)
    given.setdefault("excluded", 0)
    given.setdefault("credit", 0)
    return minute_result("api", rule, "99.9", **given)


# ---- location-bound windows on service-level results ----------------------------------------


def cf_contract(confirm: int = 2, **extra: Any) -> Any:
    return one_service_contract(
        {"rule": CF, "min_duration": "5m", "confirm": confirm},
        excludable_causes=["force-majeure"],
        **extra,
    )


FRA_EXCLUDED = events(
    exclusions=[
        exclusion("2026-10-05T10:00:00Z", "2026-10-05T10:07:00Z", "force-majeure", location="fra")
    ]
)


def test_continuous_location_window_leaves_enough_other_votes() -> None:
    # Down 10:00 .. 10:09 at fra, ams and hel; fra's vote is void 10:00 .. 10:06, but ams and
    # hel still confirm every bucket: all 10 count. fra's 7 probes in its window are excluded.
    rows = steady("api", ["fra", "ams", "hel"], "2026-10-05T09:58:00Z", 20, down=range(2, 12))
    report = settle_rows(cf_contract(), rows, FRA_EXCLUDED)
    assert result(report, "api") == figures(
        rule=CF,
        downtime=10,
        availability="99.977599",
        met=True,
        probes=(30, 23, 7),
        episodes=[
            episode(
                "2026-10-05T10:00:00Z",
                "2026-10-05T10:10:00Z",
                10,
                "counted",
                "10 min down (minimum 5m)" + CONFIRMED_2,
            )
        ],
    )


def test_continuous_location_window_removes_a_needed_vote() -> None:
    # Only fra and ams: 10:00 .. 10:06 keep one vote, not confirmed; 10:07 .. 10:09 count.
    # The raw 10-minute run is still what is judged and reported.
    rows = steady("api", ["fra", "ams"], "2026-10-05T09:58:00Z", 20, down=range(2, 12))
    report = settle_rows(cf_contract(), rows, FRA_EXCLUDED)
    # (44640 − 3) / 44640 × 100 = 99.99327956…; a service-level result counts no minutes
    # excluded by a location-bound window.
    assert result(report, "api") == figures(
        rule=CF,
        downtime=3,
        availability="99.993280",
        met=True,
        probes=(20, 13, 7),
        episodes=[
            episode(
                "2026-10-05T10:00:00Z",
                "2026-10-05T10:10:00Z",
                3,
                "counted",
                "10 min down (minimum 5m); 7 min excluded" + CONFIRMED_2,
            )
        ],
    )


def test_first_fail_location_window_is_cut_before_the_overlap() -> None:
    contract = one_service_contract({"rule": FF, "confirm": 2}, excludable_causes=["force-majeure"])
    window = exclusion(
        "2026-10-07T10:00:00Z", "2026-10-07T10:08:00Z", "force-majeure", location="ams"
    )
    report = settle_rows(contract, THREE_LOCATIONS, events(exclusions=[window]))
    # ams counts from 10:08 only: fra ∩ ams 10:08 .. 10:10:30 (2m30s → 3), ams ∩ hel
    # 10:15:20 .. 10:20 (4m40s → 5). ams's probes at 10:04 and 10:05 are excluded.
    # (44640 − 8) / 44640 × 100 = 99.98207885…
    assert result(report, "api") == figures(
        rule=FF,
        downtime=8,
        availability="99.982079",
        met=True,
        probes=(5, 2, 2),
        episodes=[
            episode(
                "2026-10-07T10:05:00Z",
                "2026-10-07T10:10:30Z",
                3,
                "counted",
                "down 5m30s from first failed to first successful probe; "
                "2m30s counted, rounded up to 3 min" + CONFIRMED_2,
            ),
            episode(
                "2026-10-07T10:15:20Z",
                "2026-10-07T10:20:00Z",
                5,
                "counted",
                "down 4m40s from first failed to first successful probe; "
                "4m40s counted, rounded up to 5 min" + CONFIRMED_2,
            ),
        ],
    )


# ---- windows, totals and exclusion checks ------------------------------------------------------


def test_overlapping_windows_exclude_their_union_and_total_can_shrink() -> None:
    contract = one_service_contract(
        {"rule": CF, "min_duration": "5m", "confirm": 1}, exclude_from=["downtime", "total"]
    )
    windows = [
        maintenance("2026-10-05T10:00:00Z", "2026-10-05T10:30:00Z", "2026-10-01T00:00:00Z"),
        maintenance("2026-10-05T10:20:00Z", "2026-10-05T10:50:00Z", "2026-10-01T00:00:00Z"),
    ]
    # Probes 09:50 .. 10:59 at fra; down 10:45 .. 10:52 (8 minutes), 5 of them excluded.
    rows = steady("api", "fra", "2026-10-05T09:50:00Z", 70, down=range(55, 63))
    report = settle_rows(contract, rows, events(maintenance=windows))
    # Union 10:00 .. 10:50: 50 minutes, taken from the total too: 44 590.
    # (44590 − 3) / 44590 × 100 = 99.99327203…
    assert result(report, "api") == figures(
        rule=CF,
        total=44_590,
        downtime=3,
        excluded=50,
        availability="99.993272",
        met=True,
        probes=(17, 3, 50),
        episodes=[
            episode(
                "2026-10-05T10:45:00Z",
                "2026-10-05T10:53:00Z",
                3,
                "counted",
                "8 min down (minimum 5m); 5 min excluded",
            )
        ],
    )


def test_excluded_minutes_count_bucket_starts_inside_the_window() -> None:
    contract = one_service_contract({"rule": CF, "min_duration": "5m", "confirm": 1})
    # 10:00:30 .. 10:01:30 holds one bucket start (10:01); 11:00:00 .. 11:00:59 holds 11:00.
    windows = [
        maintenance("2026-10-05T10:00:30Z", "2026-10-05T10:01:30Z", "2026-10-01T00:00:00Z"),
        maintenance("2026-10-05T11:00:00Z", "2026-10-05T11:00:59Z", "2026-10-01T00:00:00Z"),
    ]
    rows = steady("api", "fra", "2026-10-05T10:00:00Z", 3)
    report = settle_rows(contract, rows, events(maintenance=windows))
    # The probe at 10:01:00 lies in the first window.
    assert result(report, "api") == figures(
        rule=CF, downtime=0, excluded=2, availability="100.000000", met=True, probes=(2, 0, 1)
    )


def test_maintenance_without_a_notice_policy_always_counts() -> None:
    contract = one_service_contract(
        {"rule": CF, "min_duration": "5m", "confirm": 1}, maintenance=None
    )
    window = maintenance(
        "2026-10-05T10:00:00Z", "2026-10-05T10:30:00Z", "2026-10-01T00:00:00Z", title="Patch"
    )
    rows = steady("api", "fra", "2026-10-05T09:50:00Z", 30, down=range(15, 22))
    report = settle_rows(contract, rows, events(maintenance=[window]))
    assert result(report, "api") == figures(
        rule=CF,
        downtime=7,
        availability="99.984319",
        met=True,
        probes=(23, 7, 0),
        episodes=[
            episode(
                "2026-10-05T10:05:00Z",
                "2026-10-05T10:12:00Z",
                7,
                "emergency-maintenance",
                "7 min down (minimum 5m); during maintenance 'Patch': "
                "the contract excludes no maintenance for this service",
            )
        ],
    )


def test_hosting_lets_no_cause_be_excluded() -> None:
    hosting = load_example("hosting-pop")
    window = exclusion(
        "2026-10-05T10:00:00Z", "2026-10-05T10:07:00Z", "force-majeure", services="network"
    )
    problems = check_events(hosting, events(exclusions=[window]))
    assert [(p.path, p.message) for p in problems] == [
        (
            ("exclusions", 0, "cause"),
            "contract 'hosting-pop' does not let service 'network' exclude cause "
            "'force-majeure' (allowed: none)",
        )
    ]


def test_a_window_must_end_after_it_starts() -> None:
    window = maintenance("2026-10-05T10:00:00Z", "2026-10-05T10:00:00Z", "2026-10-01T00:00:00Z")
    expected = "expected an end after start 2026-10-05T10:00:00Z, got 2026-10-05T10:00:00Z"
    with pytest.raises(ValidationError, match=expected):
        events(maintenance=[window])


def test_trailing_30_days_report_their_own_period() -> None:
    contract = cf_contract(window="trailing-30d")
    rows = steady("api", ["fra", "ams"], "2026-10-05T09:58:00Z", 20, down=range(2, 12))
    report = settle_rows(contract, rows, at="2026-10-20T00:00:00Z")
    # 2026-09-20 .. 2026-10-20: 43 200 minutes. (43200 − 10) / 43200 × 100 = 99.97685185…
    expected = figures(
        rule=CF,
        total=43_200,
        downtime=10,
        availability="99.976852",
        met=True,
        probes=(20, 20, 0),
        episodes=[
            episode(
                "2026-10-05T10:00:00Z",
                "2026-10-05T10:10:00Z",
                10,
                "counted",
                "10 min down (minimum 5m)" + CONFIRMED_2,
            )
        ],
    )
    expected["period"] = {"start": "2026-09-20T00:00:00Z", "end": "2026-10-20T00:00:00Z"}
    assert report.as_dict()["period"] == {
        "start": "2026-10-01T00:00:00Z",
        "end": "2026-11-01T00:00:00Z",
    }
    assert result(report, "api") == expected


# ---- first-fail details ---------------------------------------------------------------------


def test_first_fail_excluded_probes_neither_open_nor_close() -> None:
    contract = one_service_contract({"rule": FF, "confirm": 1}, outcomes=BREAKER_OUTCOMES)
    rows = [
        ("2026-10-07T10:00:00Z", "api", "fra", 200),
        ("2026-10-07T10:01:00Z", "api", "fra", 500),
        ("2026-10-07T10:02:00Z", "api", "fra", 503, None, True),  # does not close
        ("2026-10-07T10:04:00Z", "api", "fra", 200),
        ("2026-10-07T10:10:00Z", "api", "fra", 200),
        ("2026-10-07T10:11:00Z", "api", "fra", 503, None, True),  # does not open
        ("2026-10-07T10:12:00Z", "api", "fra", 200),
    ]
    report = settle_rows(contract, rows)
    # (44640 − 3) / 44640 × 100 = 99.99327956…
    assert result(report, "api") == figures(
        rule=FF,
        downtime=3,
        availability="99.993280",
        met=True,
        probes=(4, 1, 2),
        episodes=[
            episode(
                "2026-10-07T10:01:00Z",
                "2026-10-07T10:04:00Z",
                3,
                "counted",
                "down 3m00s from first failed to first successful probe; "
                "3m00s counted, rounded up to 3 min",
            )
        ],
    )


def test_first_fail_downtime_is_capped_at_the_total() -> None:
    hosting = load_example("hosting-pop")
    rows = [
        ("2026-10-01T00:00:00Z", "network", "fra", 500),
        ("2026-10-01T00:00:30Z", "network", "fra", 200),  # 30 s → 1 minute
        ("2026-10-01T00:00:40Z", "network", "fra", 500),  # open to the end: 44 639 min 20 s
    ]
    report = settle_rows(hosting, rows)
    # 1 + 44 640 rounded minutes, capped at the month's 44 640: availability 0.
    assert result(report, "network", "fra") == minute_result(
        "network",
        FF,
        "99.99",
        location="fra",
        total=OCTOBER_MINUTES,
        downtime=OCTOBER_MINUTES,
        excluded=0,
        availability="0.000000",
        met=False,
        credit=100,
        probes=(1, 2, 0),
        episodes=[
            episode(
                "2026-10-01T00:00:00Z",
                "2026-10-01T00:00:30Z",
                1,
                "counted",
                "down 0m30s from first failed to first successful probe; "
                "0m30s counted, rounded up to 1 min",
            ),
            episode(
                "2026-10-01T00:00:40Z",
                "2026-11-01T00:00:00Z",
                OCTOBER_MINUTES,
                "counted",
                "down 743h59m20s from first failed to first successful probe; "
                "743h59m20s counted, rounded up to 44640 min",
            ),
        ],
    )


SIMULTANEOUS = [
    ("2026-10-07T10:00:00Z", "api", "fra", 200),
    ("2026-10-07T10:01:00Z", "api", "fra", 500),
    ("2026-10-07T10:01:00Z", "api", "fra", 200),
    ("2026-10-07T10:05:00Z", "api", "fra", 200),
]


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (0, 2, 1, 3), (3, 2, 1, 0)])
def test_first_fail_simultaneous_probes_are_read_pessimistically(
    order: tuple[int, ...],
) -> None:
    # A failure and a success at 10:01:00 at fra, in any row order: the success does not
    # come after the failure, so fra is down from 10:01 to the next success at 10:05.
    contract = one_service_contract({"rule": FF, "confirm": 1})
    report = settle_rows(contract, [SIMULTANEOUS[i] for i in order])
    assert result(report, "api") == figures(
        rule=FF,
        downtime=4,
        availability="99.991039",
        met=True,
        probes=(3, 1, 0),
        episodes=[
            episode(
                "2026-10-07T10:01:00Z",
                "2026-10-07T10:05:00Z",
                4,
                "counted",
                "down 4m00s from first failed to first successful probe; "
                "4m00s counted, rounded up to 4 min",
            )
        ],
    )


def test_first_fail_simultaneous_success_does_not_end_an_open_interval() -> None:
    # fra down from 10:01; at 10:03 a success and a failure together: still down until 10:05.
    contract = one_service_contract({"rule": FF, "confirm": 1})
    rows = [
        ("2026-10-07T10:01:00Z", "api", "fra", 500),
        ("2026-10-07T10:03:00Z", "api", "fra", 500),
        ("2026-10-07T10:03:00Z", "api", "fra", 200),
        ("2026-10-07T10:05:00Z", "api", "fra", 200),
    ]
    report = settle_rows(contract, rows)
    assert result(report, "api")["episodes"] == [
        episode(
            "2026-10-07T10:01:00Z",
            "2026-10-07T10:05:00Z",
            4,
            "counted",
            "down 4m00s from first failed to first successful probe; "
            "4m00s counted, rounded up to 4 min",
        )
    ]


# ---- emergency maintenance is about counted time ---------------------------------------------


def test_first_fail_emergency_outside_the_counted_time_is_not_emergency() -> None:
    contract = one_service_contract({"rule": FF, "confirm": 1})
    rows = [
        ("2026-09-30T23:40:00Z", "api", "fra", 200),
        ("2026-09-30T23:50:00Z", "api", "fra", 500),
        ("2026-10-01T00:10:00Z", "api", "fra", 200),
    ]
    window = maintenance(
        "2026-09-30T23:45:00Z", "2026-09-30T23:55:00Z", "2026-09-30T23:00:00Z", title="Hotfix"
    )
    report = settle_rows(contract, rows, events(maintenance=[window]))
    # Counted: 00:00 .. 00:10 in October, none of it during the September hotfix.
    assert result(report, "api") == figures(
        rule=FF,
        downtime=10,
        availability="99.977599",
        met=True,
        probes=(1, 0, 0),
        episodes=[
            episode(
                "2026-09-30T23:50:00Z",
                "2026-10-01T00:10:00Z",
                10,
                "counted",
                "down 20m00s from first failed to first successful probe; "
                "10m00s counted, rounded up to 10 min",
            )
        ],
    )


def test_continuous_emergency_reason_names_the_window_over_counted_minutes() -> None:
    windows = [
        maintenance(
            "2026-09-30T23:50:00Z", "2026-09-30T23:58:00Z", "2026-09-30T23:00:00Z", title="A"
        ),
        maintenance(
            "2026-10-01T00:02:00Z", "2026-10-01T00:03:00Z", "2026-09-30T23:00:00Z", title="B"
        ),
    ]
    # Down 23:55 .. 00:04 at fra and ams: 5 minutes in September (during A), 5 in October
    # (00:02 during B).
    rows = steady("api", ["fra", "ams"], "2026-09-30T23:50:00Z", 20, down=range(5, 15))
    report = settle_rows(cf_contract(), rows, events(maintenance=windows))
    # (44640 − 5) / 44640 × 100 = 99.98879928…
    assert result(report, "api") == figures(
        rule=CF,
        downtime=5,
        availability="99.988799",
        met=True,
        probes=(10, 10, 0),
        episodes=[
            episode(
                "2026-09-30T23:55:00Z",
                "2026-10-01T00:05:00Z",
                5,
                "emergency-maintenance",
                "10 min down (minimum 5m); 5 min outside the period; during emergency "
                "maintenance 'B': announced 1h02m before its start, less than the 48h notice"
                + CONFIRMED_2,
            )
        ],
    )


def test_figures_to_date_stop_an_open_interval_at_the_known_end() -> None:
    """Month to date: a location still down at ``known_until`` is down up to then only."""
    rows = [(0, "network", "fra", 200), (10, "network", "fra", None, "connect")]
    contract = load_example("hosting-pop")
    observed = observations(rows)
    now = instant("2026-10-01T00:20:30Z")
    to_date = settle(contract, observed, Events(), (2026, 10), known_until=now)
    settled = settle(contract, observed, Events(), (2026, 10))
    assert to_date.results[0].downtime_minutes == 11  # 00:10:00 to 00:20:30, rounded up
    assert settled.results[0].downtime_minutes == 44630  # open to the end of the month
