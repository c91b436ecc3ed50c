"""Golden settlements: small inputs whose every figure is worked out by hand.

October 2026 has 31 days: 44 640 minutes; September 2026 has 43 200. Availability strings are
``(total − downtime) / total × 100`` (or ``up / (up + down) × 100``) rounded half-even to six
places, worked out longhand in the comment beside each case.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from builders import (
    THREE_LOCATIONS,
    episode,
    events,
    exclusion,
    load_example,
    maintenance,
    minute_result,
    one_service_contract,
    ratio_result,
    result,
    settle_rows,
    steady,
    utc,
)

from slaledger.core.contract import Contract

OCTOBER_MINUTES = 44_640
SEPTEMBER_MINUTES = 43_200
CF = "continuous-failure"
FF = "first-fail-to-first-success"
CONFIRMED_2 = "; confirmed by at least 2 locations"


@pytest.fixture(scope="module")
def heft() -> Contract:
    return load_example("heft-io")


@pytest.fixture(scope="module")
def itstabyl() -> Contract:
    return load_example("itstabyl")


@pytest.fixture(scope="module")
def hosting() -> Contract:
    return load_example("hosting-pop")


def no_data(service: str, rule: str, target: str, *, excluded: int = 0) -> dict[str, Any]:
    """A minute-rule service without observations: figures given, availability unknown."""
    return minute_result(
        service,
        rule,
        target,
        total=OCTOBER_MINUTES,
        downtime=0,
        excluded=excluded,
        availability=None,
        met=None,
        credit=0,
        probes=(0, 0, 0),
    )


# ---- heft-io: continuous-failure, 5 minutes, confirmed by 2 locations -----------------------


def test_heft_exactly_five_confirmed_minutes_count(heft: Contract) -> None:
    # fra and ams both fail 10:05..10:09: five confirmed buckets, a run of exactly 5 minutes.
    rows = steady("tracking-js", ["fra", "ams"], "2026-10-05T10:00:00Z", 20, down=range(5, 10))
    report = settle_rows(heft, rows)
    # (44640 − 5) / 44640 × 100 = 99.98879928…: below 99.99, and heft-io grants no credits.
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=5,
        excluded=0,
        availability="99.988799",
        met=False,
        credit=0,
        probes=(30, 10, 0),
        episodes=[
            episode(
                "2026-10-05T10:05:00Z",
                "2026-10-05T10:10:00Z",
                5,
                "counted",
                "5 min down (minimum 5m)" + CONFIRMED_2,
            )
        ],
    )
    # The other five services saw no probe: explicitly "no data".
    assert result(report, "static-app") == no_data("static-app", CF, "99.99")
    assert result(report, "data-api") == no_data("data-api", CF, "99.5")


def test_heft_four_confirmed_minutes_are_too_short(heft: Contract) -> None:
    rows = steady("tracking-js", ["fra", "ams"], "2026-10-05T10:00:00Z", 20, down=range(5, 9))
    report = settle_rows(heft, rows)
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=0,
        excluded=0,
        availability="100.000000",
        met=True,
        credit=0,
        probes=(32, 8, 0),
        episodes=[
            episode(
                "2026-10-05T10:05:00Z",
                "2026-10-05T10:09:00Z",
                0,
                "too-short",
                "4 min down, shorter than the 5m minimum" + CONFIRMED_2,
            )
        ],
    )


def test_heft_ten_minutes_at_one_location_are_not_confirmed(heft: Contract) -> None:
    rows = steady("tracking-js", "fra", "2026-10-05T10:00:00Z", 20, down=range(5, 15))
    rows += steady("tracking-js", "ams", "2026-10-05T10:00:00Z", 20)
    report = settle_rows(heft, rows)
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=0,
        excluded=0,
        availability="100.000000",
        met=True,
        credit=0,
        probes=(30, 10, 0),
    )


def test_heft_every_minute_of_the_run_must_be_confirmed(heft: Contract) -> None:
    # fra fails 10:05..10:14; ams fails the same minutes except 10:09, which it answers:
    # confirmed 10:05..10:08 (4, too short) and 10:10..10:14 (5, counted).
    rows = steady("tracking-js", "fra", "2026-10-05T10:00:00Z", 20, down=range(5, 15))
    rows += steady(
        "tracking-js", "ams", "2026-10-05T10:00:00Z", 20, down=[*range(5, 9), *range(10, 15)]
    )
    report = settle_rows(heft, rows)
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=5,
        excluded=0,
        availability="99.988799",
        met=False,
        credit=0,
        probes=(21, 19, 0),
        episodes=[
            episode(
                "2026-10-05T10:05:00Z",
                "2026-10-05T10:09:00Z",
                0,
                "too-short",
                "4 min down, shorter than the 5m minimum" + CONFIRMED_2,
            ),
            episode(
                "2026-10-05T10:10:00Z",
                "2026-10-05T10:15:00Z",
                5,
                "counted",
                "5 min down (minimum 5m)" + CONFIRMED_2,
            ),
        ],
    )


def test_heft_a_bucket_without_observations_breaks_the_run(heft: Contract) -> None:
    # Down 10:05..10:07 and 10:09..10:11 at both locations; nobody probed at 10:08.
    rows = steady(
        "tracking-js",
        ["fra", "ams"],
        "2026-10-05T10:00:00Z",
        20,
        down=[5, 6, 7, 9, 10, 11],
        skip=[8],
    )
    report = settle_rows(heft, rows)
    too_short = "3 min down, shorter than the 5m minimum" + CONFIRMED_2
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=0,
        excluded=0,
        availability="100.000000",
        met=True,
        credit=0,
        probes=(26, 12, 0),
        episodes=[
            episode("2026-10-05T10:05:00Z", "2026-10-05T10:08:00Z", 0, "too-short", too_short),
            episode("2026-10-05T10:09:00Z", "2026-10-05T10:12:00Z", 0, "too-short", too_short),
        ],
    )


def test_heft_the_same_run_with_the_gap_failing_counts_whole(heft: Contract) -> None:
    rows = steady("tracking-js", ["fra", "ams"], "2026-10-05T10:00:00Z", 20, down=range(5, 12))
    report = settle_rows(heft, rows)
    # (44640 − 7) / 44640 × 100 = 99.98431899…
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=7,
        excluded=0,
        availability="99.984319",
        met=False,
        credit=0,
        probes=(26, 14, 0),
        episodes=[
            episode(
                "2026-10-05T10:05:00Z",
                "2026-10-05T10:12:00Z",
                7,
                "counted",
                "7 min down (minimum 5m)" + CONFIRMED_2,
            )
        ],
    )


EDGE_ROWS = steady(
    # 23:50 .. 00:09; down 23:57, 23:58, 23:59 in September and 00:00 .. 00:03 in October.
    "tracking-js",
    ["fra", "ams"],
    "2026-09-30T23:50:00Z",
    20,
    down=range(7, 14),
)


def test_heft_outage_across_the_month_start_counts_its_october_minutes(heft: Contract) -> None:
    report = settle_rows(heft, EDGE_ROWS, month=(2026, 10))
    # The raw run is 7 minutes, so it counts; 4 of its buckets are in October.
    # (44640 − 4) / 44640 × 100 = 99.99103942…: meets 99.99.
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=4,
        excluded=0,
        availability="99.991039",
        met=True,
        credit=0,
        probes=(12, 8, 0),
        episodes=[
            episode(
                "2026-09-30T23:57:00Z",
                "2026-10-01T00:04:00Z",
                4,
                "counted",
                "7 min down (minimum 5m); 3 min outside the period" + CONFIRMED_2,
            )
        ],
    )


def test_heft_outage_across_the_month_end_counts_its_september_minutes(heft: Contract) -> None:
    report = settle_rows(heft, EDGE_ROWS, month=(2026, 9))
    # (43200 − 3) / 43200 × 100 = 99.99305555…
    assert report.as_dict()["period"] == {
        "start": "2026-09-01T00:00:00Z",
        "end": "2026-10-01T00:00:00Z",
    }
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=SEPTEMBER_MINUTES,
        downtime=3,
        excluded=0,
        availability="99.993056",
        met=True,
        credit=0,
        probes=(14, 6, 0),
        episodes=[
            episode(
                "2026-09-30T23:57:00Z",
                "2026-10-01T00:04:00Z",
                3,
                "counted",
                "7 min down (minimum 5m); 4 min outside the period" + CONFIRMED_2,
            )
        ],
    )


# 01:50 .. 02:29 at fra and ams, down 02:10 .. 02:19 (10 confirmed minutes).
MAINTENANCE_ROWS = steady(
    "tracking-js", ["fra", "ams"], "2026-10-14T01:50:00Z", 40, down=range(20, 30)
)


def test_heft_maintenance_announced_exactly_48h_ahead_is_scheduled(heft: Contract) -> None:
    window = maintenance(
        "2026-10-14T02:00:00Z",
        "2026-10-14T03:00:00Z",
        "2026-10-12T02:00:00Z",
        title="Database upgrade",
    )
    report = settle_rows(heft, MAINTENANCE_ROWS, events(maintenance=[window]))
    # Probes 02:00 .. 02:29 (30 minutes × 2 locations) fall in the window: excluded.
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=0,
        excluded=60,
        availability="100.000000",
        met=True,
        credit=0,
        probes=(20, 0, 60),
        episodes=[
            episode(
                "2026-10-14T02:10:00Z",
                "2026-10-14T02:20:00Z",
                0,
                "excluded",
                "10 min down, all 10 min in the period excluded" + CONFIRMED_2,
            )
        ],
    )
    # A "*" window excludes the hour for every service, with or without data.
    assert result(report, "authentication") == no_data("authentication", CF, "99.5", excluded=60)


def test_heft_maintenance_announced_47h59m_ahead_is_emergency(heft: Contract) -> None:
    window = maintenance(
        "2026-10-14T02:00:00Z",
        "2026-10-14T03:00:00Z",
        "2026-10-12T02:01:00Z",
        title="Database upgrade",
    )
    report = settle_rows(heft, MAINTENANCE_ROWS, events(maintenance=[window]))
    # Nothing excluded; (44640 − 10) / 44640 × 100 = 99.97759856…
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=10,
        excluded=0,
        availability="99.977599",
        met=False,
        credit=0,
        probes=(60, 20, 0),
        episodes=[
            episode(
                "2026-10-14T02:10:00Z",
                "2026-10-14T02:20:00Z",
                10,
                "emergency-maintenance",
                "10 min down (minimum 5m); during emergency maintenance 'Database upgrade': "
                "announced 47h59m before its start, less than the 48h notice" + CONFIRMED_2,
            )
        ],
    )
    assert result(report, "authentication") == no_data("authentication", CF, "99.5")


def test_heft_upstream_network_exclusion_cuts_the_run_it_covers(heft: Contract) -> None:
    # Down 08:25 .. 08:39 at fra and ams; upstream failure excluded 08:00 .. 08:30.
    rows = steady("tracking-js", ["fra", "ams"], "2026-10-20T07:50:00Z", 60, down=range(35, 50))
    window = exclusion(
        "2026-10-20T08:00:00Z",
        "2026-10-20T08:30:00Z",
        "upstream-network",
        services=["tracking-js"],
        note="Carrier outage",
    )
    report = settle_rows(heft, rows, events(exclusions=[window]))
    # The 15-minute run counts; 08:25 .. 08:29 start inside the exclusion, 10 minutes remain.
    # Probes 08:00 .. 08:29 (60) are excluded; 08:30 .. 08:39 down (20); the rest up (40).
    assert result(report, "tracking-js") == minute_result(
        "tracking-js",
        CF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=10,
        excluded=30,
        availability="99.977599",
        met=False,
        credit=0,
        probes=(40, 20, 60),
        episodes=[
            episode(
                "2026-10-20T08:25:00Z",
                "2026-10-20T08:40:00Z",
                10,
                "counted",
                "15 min down (minimum 5m); 5 min excluded" + CONFIRMED_2,
            )
        ],
    )
    # The exclusion names tracking-js only.
    assert result(report, "static-app") == no_data("static-app", CF, "99.99")


# ---- itstabyl: probe-ratio, tiers below 99.9 → 10, below 99.0 → 25, below 95.0 → 50 ---------


def series(service: str, *blocks: tuple[int, int | None, str | None, bool]) -> list[Any]:
    """Consecutive one-minute probes from ext-lon from 2026-10-03T00:00Z, block by block:
    ``(count, status, error, retry_after)``."""
    start = utc("2026-10-03T00:00:00Z")
    rows: list[Any] = []
    for count, status, error, retry_after in blocks:
        for _ in range(count):
            when = start + timedelta(minutes=len(rows))
            rows.append((when, service, "ext-lon", status, error, retry_after))
    return rows


def test_itstabyl_503_with_retry_after_leaves_both_sides(itstabyl: Contract) -> None:
    rows = series(
        "scan-api",
        (995, 200, None, False),
        (3, 500, None, False),
        (2, 503, None, False),  # a 503 without Retry-After is plain downtime
        (10, 503, None, True),  # the open circuit breaker: excluded
    )
    report = settle_rows(itstabyl, rows)
    # 995 / (995 + 5) × 100 = 99.5: below 99.9 only → 10 %.
    assert result(report, "scan-api") == ratio_result(
        "scan-api", "99.9", availability="99.500000", met=False, credit=10, probes=(995, 5, 10)
    )


def test_itstabyl_exactly_99_0_earns_10_not_25(itstabyl: Contract) -> None:
    rows = series("scan-api", (990, 200, None, False), (10, None, "timeout", False))
    report = settle_rows(itstabyl, rows)
    assert result(report, "scan-api") == ratio_result(
        "scan-api", "99.9", availability="99.000000", met=False, credit=10, probes=(990, 10, 0)
    )


def test_itstabyl_just_below_99_0_earns_25(itstabyl: Contract) -> None:
    # 989 / 1000 = 98.9 %.
    rows = series("scan-api", (989, 200, None, False), (11, 502, None, False))
    report = settle_rows(itstabyl, rows)
    assert result(report, "scan-api") == ratio_result(
        "scan-api", "99.9", availability="98.900000", met=False, credit=25, probes=(989, 11, 0)
    )


def test_itstabyl_exactly_99_9_is_met_without_credit(itstabyl: Contract) -> None:
    rows = series("scan-api", (999, 200, None, False), (1, None, "connect", False))
    report = settle_rows(itstabyl, rows)
    assert result(report, "scan-api") == ratio_result(
        "scan-api", "99.9", availability="99.900000", met=True, credit=0, probes=(999, 1, 0)
    )


def test_itstabyl_4xx_answers_count_as_up(itstabyl: Contract) -> None:
    rows = series(
        "dashboard",
        (500, 200, None, False),
        (200, 404, None, False),
        (200, 401, None, False),
        (99, 429, None, True),  # rate limited with Retry-After: up, not the breaker
        (1, 500, None, False),
    )
    report = settle_rows(itstabyl, rows)
    assert result(report, "dashboard") == ratio_result(
        "dashboard", "99.9", availability="99.900000", met=True, credit=0, probes=(999, 1, 0)
    )


def test_itstabyl_no_probes_is_unknown(itstabyl: Contract) -> None:
    # scan-api sees only the open breaker; dashboard sees nothing at all.
    report = settle_rows(itstabyl, series("scan-api", (5, 503, None, True)))
    assert result(report, "scan-api") == ratio_result(
        "scan-api", "99.9", availability=None, met=None, credit=0, probes=(0, 0, 5)
    )
    assert result(report, "dashboard") == ratio_result(
        "dashboard", "99.9", availability=None, met=None, credit=0, probes=(0, 0, 0)
    )


def test_itstabyl_scheduled_maintenance_removes_its_probes(itstabyl: Contract) -> None:
    # 1030 probes from 00:00; 01:00 .. 01:29 all fail inside scheduled maintenance; one more
    # failure at 08:20 (minute 500). 999 up, 1 down, 30 excluded: exactly 99.9 %.
    down = {*range(60, 90), 500}
    rows = [
        (t, s, loc, 500 if i in down else 200)
        for i, (t, s, loc, *_rest) in enumerate(series("scan-api", (1030, 200, None, False)))
    ]
    window = maintenance(
        "2026-10-03T01:00:00Z",
        "2026-10-03T01:30:00Z",
        "2026-10-01T01:00:00Z",
        services="scan-api",
    )
    report = settle_rows(itstabyl, rows, events(maintenance=[window]))
    assert result(report, "scan-api") == ratio_result(
        "scan-api", "99.9", availability="99.900000", met=True, credit=0, probes=(999, 1, 30)
    )


# ---- hosting-pop: first failed to first successful probe, per PoP ---------------------------


def ff_result(location: str, **figures: Any) -> dict[str, Any]:
    figures.setdefault("total", OCTOBER_MINUTES)
    figures.setdefault("excluded", 0)
    return minute_result("network", FF, "99.99", location=location, **figures)


def test_hosting_7m32s_is_8_minutes(hosting: Contract) -> None:
    rows: list[Any] = [("2026-10-09T10:04:05Z", "network", "fra", 200)]
    rows += [
        (f"2026-10-09T10:{minute:02d}:05Z", "network", "fra", None, "timeout")
        for minute in range(5, 13)
    ]
    rows += [
        ("2026-10-09T10:12:37Z", "network", "fra", 200),
        ("2026-10-09T10:13:05Z", "network", "fra", 200),
        ("2026-10-09T10:05:00Z", "network", "ams", 200),
    ]
    report = settle_rows(hosting, rows)
    # (44640 − 8) / 44640 × 100 = 99.98207885…: below 99.99 → 10 %.
    assert result(report, "network", "fra") == ff_result(
        "fra",
        downtime=8,
        availability="99.982079",
        met=False,
        credit=10,
        probes=(3, 8, 0),
        episodes=[
            episode(
                "2026-10-09T10:05:05Z",
                "2026-10-09T10:12:37Z",
                8,
                "counted",
                "down 7m32s from first failed to first successful probe; "
                "7m32s counted, rounded up to 8 min",
            )
        ],
    )
    assert result(report, "network", "ams") == ff_result(
        "ams", downtime=0, availability="100.000000", met=True, credit=0, probes=(1, 0, 0)
    )
    # One result per PoP with observations, sorted by name; power saw nothing.
    assert [(r.service, r.location) for r in report.results] == [
        ("network", "ams"),
        ("network", "fra"),
        ("power", None),
    ]
    assert result(report, "power") == minute_result(
        "power",
        FF,
        "99.99",
        total=OCTOBER_MINUTES,
        downtime=0,
        excluded=0,
        availability=None,
        met=None,
        credit=0,
        probes=(0, 0, 0),
    )


def test_hosting_two_intervals_round_up_separately(hosting: Contract) -> None:
    rows = [
        ("2026-10-12T11:00:00Z", "network", "fra", 200),
        ("2026-10-12T11:01:00Z", "network", "fra", 503),
        ("2026-10-12T11:03:10Z", "network", "fra", 200),  # 2m10s → 3
        ("2026-10-12T11:20:00Z", "network", "fra", None, "connect"),
        ("2026-10-12T11:20:30Z", "network", "fra", None, "connect"),
        ("2026-10-12T11:21:01Z", "network", "fra", 200),  # 1m01s → 2
    ]
    report = settle_rows(hosting, rows)
    # 3 + 2 = 5, not ceil(3m11s) = 4. (44640 − 5) / 44640 × 100 = 99.98879928…
    assert result(report, "network", "fra") == ff_result(
        "fra",
        downtime=5,
        availability="99.988799",
        met=False,
        credit=10,
        probes=(3, 3, 0),
        episodes=[
            episode(
                "2026-10-12T11:01:00Z",
                "2026-10-12T11:03:10Z",
                3,
                "counted",
                "down 2m10s from first failed to first successful probe; "
                "2m10s counted, rounded up to 3 min",
            ),
            episode(
                "2026-10-12T11:20:00Z",
                "2026-10-12T11:21:01Z",
                2,
                "counted",
                "down 1m01s from first failed to first successful probe; "
                "1m01s counted, rounded up to 2 min",
            ),
        ],
    )


def test_hosting_interval_open_at_end_of_data_runs_to_period_end(hosting: Contract) -> None:
    rows = [
        ("2026-10-20T11:59:00Z", "network", "fra", 200),
        ("2026-10-20T12:00:00Z", "network", "fra", None, "timeout"),
        ("2026-10-20T12:01:00Z", "network", "fra", None, "timeout"),
    ]
    report = settle_rows(hosting, rows)
    # 2026-10-20T12:00Z .. 2026-11-01T00:00Z = 11.5 days = 16 560 minutes.
    # (44640 − 16560) / 44640 × 100 = 28080 / 446.4 = 62.90322580…: below 99.0 → 100 %.
    assert result(report, "network", "fra") == ff_result(
        "fra",
        downtime=16_560,
        availability="62.903226",
        met=False,
        credit=100,
        probes=(1, 2, 0),
        episodes=[
            episode(
                "2026-10-20T12:00:00Z",
                "2026-11-01T00:00:00Z",
                16_560,
                "counted",
                "down 276h00m00s from first failed to first successful probe; "
                "276h00m00s counted, rounded up to 16560 min",
            )
        ],
    )


def test_hosting_scheduled_maintenance_is_cut_out_then_rounded(hosting: Contract) -> None:
    rows = [
        ("2026-10-27T01:24:10Z", "network", "fra", 200),
        ("2026-10-27T01:25:10Z", "network", "fra", None, "timeout"),
        ("2026-10-27T01:26:10Z", "network", "fra", None, "timeout"),
        ("2026-10-27T01:31:10Z", "network", "fra", None, "timeout"),
        ("2026-10-27T01:37:40Z", "network", "fra", 200),
        ("2026-10-27T01:10:00Z", "network", "ams", 200),
    ]
    window = maintenance(
        "2026-10-27T01:00:00Z",
        "2026-10-27T01:30:00Z",
        "2026-10-24T09:00:00Z",
        services="network",
        location="fra",
        title="Router swap",
    )
    report = settle_rows(hosting, rows, events(maintenance=[window]))
    # Down 01:25:10 .. 01:37:40 (12m30s); 01:25:10 .. 01:30:00 is maintenance; 7m40s → 8.
    # Probes at 01:24:10, 01:25:10 and 01:26:10 fall in the window: excluded.
    assert result(report, "network", "fra") == ff_result(
        "fra",
        downtime=8,
        excluded=30,
        availability="99.982079",
        met=False,
        credit=10,
        probes=(1, 1, 3),
        episodes=[
            episode(
                "2026-10-27T01:25:10Z",
                "2026-10-27T01:37:40Z",
                8,
                "counted",
                "down 12m30s from first failed to first successful probe; "
                "7m40s counted, rounded up to 8 min",
            )
        ],
    )
    # The window is bound to fra: ams keeps every minute.
    assert result(report, "network", "ams") == ff_result(
        "ams", downtime=0, availability="100.000000", met=True, credit=0, probes=(1, 0, 0)
    )


# ---- a contract in Europe/Berlin: months in local time, reported in UTC ----------------------


@pytest.fixture(scope="module")
def berlin() -> Contract:
    return one_service_contract(
        {"rule": FF, "rounding": "ceil-minute", "confirm": 1},
        timezone="Europe/Berlin",
        target="99.9",
    )


def test_berlin_october_has_44700_minutes(berlin: Contract) -> None:
    rows = [
        ("2026-09-30T21:50:00Z", "api", "", 200),  # September in Berlin
        ("2026-09-30T21:58:00Z", "api", "", None, "timeout"),  # 23:58 CEST, September
        ("2026-09-30T22:03:00Z", "api", "", 200),  # 00:03 CEST, October 1st
        ("2026-10-31T22:59:00Z", "api", "", 200),  # 23:59 CET, October 31st
        ("2026-10-31T23:00:00Z", "api", "", 200),  # November 1st in Berlin
    ]
    report = settle_rows(berlin, rows, month=(2026, 10))
    assert report.as_dict()["period"] == {
        "start": "2026-09-30T22:00:00Z",
        "end": "2026-10-31T23:00:00Z",
    }
    # 31 days plus the hour DST gives back: 44 700 minutes. Down 21:58 .. 22:03 UTC, clipped
    # to the period from 22:00: 3 minutes. (44700 − 3) / 44700 × 100 = 99.99328859…
    assert result(report, "api") == minute_result(
        "api",
        FF,
        "99.9",
        location=None,
        total=44_700,
        downtime=3,
        excluded=0,
        availability="99.993289",
        met=True,
        credit=0,
        probes=(2, 0, 0),
        episodes=[
            episode(
                "2026-09-30T21:58:00Z",
                "2026-09-30T22:03:00Z",
                3,
                "counted",
                "down 5m00s from first failed to first successful probe; "
                "3m00s counted, rounded up to 3 min",
            )
        ],
    )
    assert "period" not in result(report, "api")


def test_berlin_march_has_44580_minutes(berlin: Contract) -> None:
    rows = [
        ("2026-03-29T00:57:00Z", "api", "", 200),
        ("2026-03-29T00:58:30Z", "api", "", 500),  # 01:58:30 CET
        ("2026-03-29T01:03:00Z", "api", "", 200),  # 03:03 CEST: 4m30s later
    ]
    report = settle_rows(berlin, rows, month=(2026, 3))
    assert report.as_dict()["period"] == {
        "start": "2026-02-28T23:00:00Z",
        "end": "2026-03-31T22:00:00Z",
    }
    # 31 days less the hour DST skips: 44 580. (44580 − 5) / 44580 × 100 = 99.98878420…
    assert result(report, "api") == minute_result(
        "api",
        FF,
        "99.9",
        total=44_580,
        downtime=5,
        excluded=0,
        availability="99.988784",
        met=True,
        credit=0,
        probes=(2, 1, 0),
        episodes=[
            episode(
                "2026-03-29T00:58:30Z",
                "2026-03-29T01:03:00Z",
                5,
                "counted",
                "down 4m30s from first failed to first successful probe; "
                "4m30s counted, rounded up to 5 min",
            )
        ],
    )


# ---- first-fail, confirm 2 of three locations -------------------------------------------------


def three_location_contract(confirm: int) -> Contract:
    return one_service_contract({"rule": FF, "confirm": confirm}, target="99.9")


def test_first_fail_confirm_2_of_3_counts_where_two_overlap() -> None:
    report = settle_rows(three_location_contract(2), THREE_LOCATIONS)
    # fra ∩ ams: 10:05:00 .. 10:10:30 (5m30s → 6); ams ∩ hel: 10:15:20 .. 10:20:00 (4m40s → 5).
    # Between them only ams is down. (44640 − 11) / 44640 × 100 = 99.97535842…
    assert result(report, "api") == minute_result(
        "api",
        FF,
        "99.9",
        total=OCTOBER_MINUTES,
        downtime=11,
        excluded=0,
        availability="99.975358",
        met=True,
        credit=0,
        probes=(6, 3, 0),
        episodes=[
            episode(
                "2026-10-07T10:05:00Z",
                "2026-10-07T10:10:30Z",
                6,
                "counted",
                "down 5m30s from first failed to first successful probe; "
                "5m30s counted, rounded up to 6 min" + CONFIRMED_2,
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


def test_first_fail_confirm_3_of_3_never_overlaps() -> None:
    report = settle_rows(three_location_contract(3), THREE_LOCATIONS)
    assert result(report, "api") == minute_result(
        "api",
        FF,
        "99.9",
        total=OCTOBER_MINUTES,
        downtime=0,
        excluded=0,
        availability="100.000000",
        met=True,
        credit=0,
        probes=(6, 3, 0),
    )


def test_first_fail_confirm_1_takes_the_union() -> None:
    report = settle_rows(three_location_contract(1), THREE_LOCATIONS)
    # 10:00:00 .. 10:25:00: 25 minutes. (44640 − 25) / 44640 × 100 = 99.94399641…
    assert result(report, "api") == minute_result(
        "api",
        FF,
        "99.9",
        total=OCTOBER_MINUTES,
        downtime=25,
        excluded=0,
        availability="99.943996",
        met=True,
        credit=0,
        probes=(6, 3, 0),
        episodes=[
            episode(
                "2026-10-07T10:00:00Z",
                "2026-10-07T10:25:00Z",
                25,
                "counted",
                "down 25m00s from first failed to first successful probe; "
                "25m00s counted, rounded up to 25 min",
            )
        ],
    )
