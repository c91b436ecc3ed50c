"""Month-to-date figures: coverage and error budgets, worked out by hand. October 2026."""

from __future__ import annotations

from typing import Any

from builders import (
    contract,
    events,
    exclusion,
    instant,
    observations,
    one_service_contract,
    settle_rows,
    steady,
)

from slaledger.core.live import elapsed_buckets, live_report
from slaledger.core.observations import Observations
from slaledger.core.periods import Period
from slaledger.core.report import Report

OCTOBER_START = instant("2026-10-01T00:00:00Z")
CF = {"rule": "continuous-failure", "min_duration": "5m", "confirm": 1}
FF = {"rule": "first-fail-to-first-success", "confirm": 1}
LIVE_FIELDS = {"coverage", "error_budget_minutes", "error_budget_probes"}


def live(report: Report, data: Observations, at: str) -> dict[str, Any]:
    return live_report(report, data, instant(at)).as_dict()


def test_elapsed_buckets_count_whole_minutes_up_to_now_and_stop_at_the_period_end() -> None:
    october = Period(OCTOBER_START, instant("2026-11-01T00:00:00Z"))
    assert elapsed_buckets(october, instant("2026-10-01T00:09:59.999999Z")) == (
        OCTOBER_START,
        instant("2026-10-01T00:09:00Z"),
    )
    assert elapsed_buckets(october, instant("2026-12-05T00:00:00Z"))[1] == october.end
    # Before the period starts: nothing has elapsed.
    assert elapsed_buckets(october, instant("2026-09-30T12:00:00Z")) == (
        OCTOBER_START,
        OCTOBER_START,
    )
    # A period that starts mid-minute (a trailing window) counts from its first whole bucket.
    trailing = Period(instant("2026-10-01T00:00:30Z"), instant("2026-10-31T00:00:30Z"))
    assert elapsed_buckets(trailing, instant("2026-10-01T00:03:10Z")) == (
        instant("2026-10-01T00:01:00Z"),
        instant("2026-10-01T00:03:00Z"),
    )


def test_minute_rule_coverage_and_minutes_left() -> None:
    terms = one_service_contract(CF, target="99.9")
    # Ten minutes elapsed at 00:10:30; probes in 7 of them (two in 00:03, from two locations;
    # none in 00:04, 00:05, 00:08); the one in the running minute 00:10 does not count yet.
    rows = [
        (0, "api", "fra"),
        (1, "api", "fra"),
        (2, "api", "fra"),
        (3, "api", "fra"),
        ("2026-10-01T00:03:30Z", "api", "ams"),
        (6, "api", "fra", 500),
        (7, "api", "fra", 500),
        (9, "api", "fra"),
        (10, "api", "fra"),
    ]
    data = observations(rows)
    report = settle_rows(terms, data)
    figures = live(report, data, "2026-10-01T00:10:30Z")
    (api,) = figures["results"]
    assert figures["at"] == "2026-10-01T00:10:30Z"
    assert figures["period"] == {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    assert api["coverage"] == "70.000000"  # 7 of 10 minutes
    # 44 640 × 0.1 % = 44.64 → 44 whole minutes allowed; the 2-minute run (00:06-00:07) is
    # too short to count.
    assert (api["downtime_minutes"], api["error_budget_minutes"]) == (0, 44)
    assert api["error_budget_probes"] is None
    settled = report.results[0].as_dict(report.period)
    assert {k: v for k, v in api.items() if k not in LIVE_FIELDS} == settled


def test_counted_downtime_comes_out_of_the_budget_and_may_overdraw_it() -> None:
    terms = one_service_contract(CF, target="99.99")
    rows = steady("api", "fra", "2026-10-01T00:00:00Z", 20, down=range(2, 9))
    data = observations(rows)
    (api,) = live(settle_rows(terms, data), data, "2026-10-01T00:20:00Z")["results"]
    # 44 640 × 0.01 % = 4.464 → 4 minutes allowed, 7 counted: 3 over.
    assert (api["downtime_minutes"], api["error_budget_minutes"]) == (7, -3)
    assert api["coverage"] == "100.000000"


def test_exclusions_from_the_total_shrink_the_budget() -> None:
    terms = one_service_contract(
        CF,
        target="99.9",
        excludable_causes=["force-majeure"],
        exclude_from=["downtime", "total"],
    )
    window = exclusion("2026-10-02T00:00:00Z", "2026-10-03T00:00:00Z", "force-majeure")
    data = observations(steady("api", "fra", "2026-10-01T00:00:00Z", 3))
    report = settle_rows(terms, data, events(exclusions=[window]))
    (api,) = live(report, data, "2026-10-01T00:03:00Z")["results"]
    # (44 640 − 1 440) × 0.1 % = 43.2 → 43.
    assert (api["total_minutes"], api["error_budget_minutes"]) == (43_200, 43)


def test_probe_ratio_budget_counts_down_probes_still_allowed() -> None:
    terms = one_service_contract({"rule": "probe-ratio"}, target="99.5")
    # 998 judged probes, 3 of them down.
    rows = steady("api", "fra", "2026-10-01T00:00:00Z", 998, down=(10, 20, 30))
    data = observations(rows)
    (api,) = live(settle_rows(terms, data), data, "2026-10-01T16:38:00Z")["results"]
    # floor(998 × 0.5 / 100) = floor(4.99) = 4 allowed, 3 used → 1 left.
    assert api["probes"] == {"up": 995, "down": 3, "excluded": 0}
    assert (api["error_budget_probes"], api["error_budget_minutes"]) == (1, None)
    assert api["coverage"] == "100.000000"

    worse = observations(steady("api", "fra", "2026-10-01T00:00:00Z", 100, down=range(5)))
    (over,) = live(settle_rows(terms, worse), worse, "2026-10-01T01:40:00Z")["results"]
    # floor(100 × 0.5 / 100) = 0 allowed, 5 down.
    assert over["error_budget_probes"] == -5


def test_no_probes_yet_has_zero_coverage_and_the_whole_budget() -> None:
    terms = one_service_contract({"rule": "probe-ratio"}, target="99.5")
    empty = Observations.empty()
    (api,) = live(settle_rows(terms, empty), empty, "2026-10-05T00:00:00Z")["results"]
    assert api["availability"] is None
    assert (api["coverage"], api["error_budget_probes"]) == ("0.000000", 0)


def test_coverage_is_null_before_a_whole_minute_has_passed() -> None:
    terms = one_service_contract(CF)
    data = observations([("2026-10-01T00:00:10Z", "api", "fra")])
    (api,) = live(settle_rows(terms, data), data, "2026-10-01T00:00:50Z")["results"]
    assert api["coverage"] is None


def test_pooled_coverage_joins_locations_and_per_location_coverage_does_not() -> None:
    terms = contract(
        {
            "contract": "two",
            "name": "Two services",
            "services": {
                "pooled": {"name": "Pooled", "target": "99.9", "downtime": FF},
                "pops": {"name": "PoPs", "target": "99.9", "per_location": True, "downtime": FF},
            },
        }
    )
    # fra probes minutes 0-4, ams minutes 3-7: pooled 8 of 12 minutes, fra 5, ams 5.
    rows = [
        *steady("pooled", "fra", "2026-10-01T00:00:00Z", 5),
        *steady("pooled", "ams", "2026-10-01T00:03:00Z", 5),
        *steady("pops", "fra", "2026-10-01T00:00:00Z", 5),
        *steady("pops", "ams", "2026-10-01T00:03:00Z", 5),
    ]
    data = observations(rows)
    figures = live(settle_rows(terms, data), data, "2026-10-01T00:12:00Z")
    coverage = {(r["service"], r["location"]): r["coverage"] for r in figures["results"]}
    assert coverage == {
        ("pooled", None): "66.666667",
        ("pops", "ams"): "41.666667",
        ("pops", "fra"): "41.666667",
    }


def test_after_the_period_coverage_counts_every_minute_of_it() -> None:
    terms = one_service_contract(CF)
    data = observations(steady("api", "fra", "2026-10-31T23:50:00Z", 10))
    report = settle_rows(terms, data)
    (api,) = live(report, data, "2026-11-02T00:00:00Z")["results"]
    assert api["coverage"] == "0.022401"  # 10 / 44 640 × 100 = 0.0224014…
