"""``slaledger calendar``: one figure, then each day's reasoning; bad input is one line, exit 2."""

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Run


def test_due_for_the_christmas_p1(run_cli: Callable[..., Run], contracts: Path) -> None:
    run = run_cli(
        "calendar", contracts / "itstabyl.yaml", "uk-office", "--due", "2026-12-24T17:30:00Z", "1h"
    )
    assert (run.code, run.err) == (0, "")
    assert run.out == (
        "due 2026-12-29T09:30:00Z\n"
        "calendar uk-office: UTC; mon-fri 09:00-18:00; public holidays GB-ENG\n"
        "1h of open time from 2026-12-24T17:30:00Z\n"
        "Thu 2026-12-24  open 17:30-18:00  30m\n"
        "Fri 2026-12-25  closed: Christmas Day\n"
        "Sat 2026-12-26  closed: weekend; Boxing Day\n"
        "Sun 2026-12-27  closed: weekend\n"
        "Mon 2026-12-28  closed: Boxing Day (observed)\n"
        "Tue 2026-12-29  open 09:00-09:30  30m\n"
    )


def test_due_in_berlin_across_the_october_dst_change(
    run_cli: Callable[..., Run], contracts: Path
) -> None:
    run = run_cli(
        "calendar",
        contracts / "hosting-pop.yaml",
        "cet-support",
        "--due",
        "2026-10-23T20:00:00+02:00",
        "4h",
    )
    assert (run.code, run.err) == (0, "")
    assert run.out == (
        "due 2026-10-26T10:00:00Z (Mon 2026-10-26 11:00 Europe/Berlin)\n"
        "calendar cet-support: Europe/Berlin; mon-fri 09:00-22:00\n"
        "4h of open time from 2026-10-23T18:00:00Z (Fri 2026-10-23 20:00 Europe/Berlin)\n"
        "Fri 2026-10-23  open 20:00-22:00  2h\n"
        "Sat 2026-10-24  closed: weekend\n"
        "Sun 2026-10-25  closed: weekend\n"
        "Mon 2026-10-26  open 09:00-11:00  2h\n"
    )


def test_business_days_and_the_closing_time(run_cli: Callable[..., Run], contracts: Path) -> None:
    run = run_cli(
        "calendar", contracts / "itstabyl.yaml", "uk-office", "--due", "2026-12-29T09:00:00Z", "1bd"
    )
    assert run.out.splitlines() == [
        "due 2026-12-29T18:00:00Z",
        "calendar uk-office: UTC; mon-fri 09:00-18:00; public holidays GB-ENG",
        "9h of open time from 2026-12-29T09:00:00Z",
        "Tue 2026-12-29  open 09:00-18:00  9h",
    ]


def test_open_time_between_two_instants(run_cli: Callable[..., Run], contracts: Path) -> None:
    run = run_cli(
        "calendar",
        contracts / "itstabyl.yaml",
        "uk-office",
        "--open",
        "2026-12-31T16:59:59.5Z",
        "2027-01-04T09:00:00+01:00",
    )
    assert (run.code, run.err) == (0, "")
    assert run.out == (
        "open 1h0m0.5s (3600.5 s)\n"
        "calendar uk-office: UTC; mon-fri 09:00-18:00; public holidays GB-ENG\n"
        "from 2026-12-31T16:59:59.5Z to 2027-01-04T08:00:00Z\n"
        "Thu 2026-12-31  open 16:59:59.5-18:00  1h0m0.5s\n"
        "Fri 2027-01-01  closed: New Year's Day\n"
        "Sat 2027-01-02  closed: weekend\n"
        "Sun 2027-01-03  closed: weekend\n"
        "Mon 2027-01-04  open 09:00-18:00; none of it in the span\n"
    )


def test_always_is_built_in(run_cli: Callable[..., Run], contracts: Path) -> None:
    run = run_cli(
        "calendar", contracts / "hosting-pop.yaml", "always", "--due", "2026-12-24T23:50:00Z", "15m"
    )
    assert run.out == (
        "due 2026-12-25T00:05:00Z\n"
        "calendar always: open 24/7, no holidays\n"
        "15m of open time from 2026-12-24T23:50:00Z\n"
        "Thu 2026-12-24  open 23:50-24:00  10m\n"
        "Fri 2026-12-25  open 00:00-00:05  5m\n"
    )


def test_a_long_span_lists_at_most_400_days(run_cli: Callable[..., Run], contracts: Path) -> None:
    run = run_cli(
        "calendar",
        contracts / "itstabyl.yaml",
        "uk-office",
        "--open",
        "2026-01-01T00:00:00Z",
        "2028-01-01T00:00:00Z",
    )
    lines = run.out.splitlines()
    # 261 weekdays a year, 8 of them bank holidays in England: 2 × 253 open days of 9 h
    assert lines[0] == "open 4554h (16394400 s)"
    assert len(lines) == 3 + 400 + 1
    assert lines[-1] == "… 330 more days not shown"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("uk-offic", "--due", "2026-12-24T17:30:00Z", "1h"),
            "error: NAME: unknown calendar 'uk-offic'; the contract has: uk-office, always",
        ),
        (
            ("uk-office", "--due", "2026-12-24T17:30:00", "1h"),
            "error: --due: expected an ISO 8601 instant with Z or an offset, "
            "e.g. 2026-11-01T00:00:00Z, got '2026-12-24T17:30:00'",
        ),
        (
            ("uk-office", "--due", "2026-12-24T17:30:00Z", "60"),
            "error: --due: expected a duration of open time like 15m, 4h or 2bd, got '60'",
        ),
        (
            ("uk-office", "--open", "2026-12-24T17:30:00Z", "2026-12-24T17:00:00Z"),
            "error: --open: expected B at or after A, got 2026-12-24T17:00:00Z before "
            "2026-12-24T17:30:00Z",
        ),
        (("uk-office",), "error: expected exactly one of --due START DURATION or --open A B"),
        (
            ("uk-office", "--due", "2026-12-24T17:30:00Z", "10000bd"),
            "error: --due: expected at most ten years of open time, got '10000bd'",
        ),
        (
            ("uk-office", "--open", "1969-12-24T17:30:00Z", "2026-12-24T17:30:00Z"),
            "error: --open: instants must lie in the years 1971 to 9998",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    run_cli: Callable[..., Run], contracts: Path, args: tuple[str, ...], message: str
) -> None:
    run = run_cli("calendar", contracts / "itstabyl.yaml", *args)
    assert (run.code, run.out, run.err) == (2, "", message + "\n")


def test_bd_where_open_days_differ(run_cli: Callable[..., Run], tmp_path: Path) -> None:
    contract = tmp_path / "c.yaml"
    contract.write_text(
        "contract: c\nname: C\nservices:\n"
        '  api: {name: API, target: "99.9", downtime: {rule: probe-ratio}}\n'
        "calendars:\n"
        '  desk: {timezone: UTC, open: {mon-fri: "09:00-18:00", sat: "10:00-12:00"}}\n',
        encoding="utf-8",
    )
    run = run_cli("calendar", contract, "desk", "--due", "2026-12-24T17:30:00Z", "2bd")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: --due: '2bd': a business day has no single length in a calendar whose open "
        "days differ; write the duration in hours or minutes\n"
    )
