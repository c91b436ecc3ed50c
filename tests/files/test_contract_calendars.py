"""The ``calendars:`` section of a contract file: read into models, every mistake located."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from slaledger.errors import ContractError, UserError
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"

HEAD = """\
contract: demo
name: Demo SLA
services:
  api: {name: API, target: "99.9", downtime: {rule: probe-ratio}}
calendars:
"""


def problems(tmp_path: Path, calendars: str) -> list[str]:
    path = tmp_path / "contract.yaml"
    path.write_text(HEAD + calendars, encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    return [str(problem).removeprefix(f"{path}:") for problem in caught.value.problems]


def test_the_seed_calendars_read_as_written() -> None:
    itstabyl = load_contract(EXAMPLES / "itstabyl.yaml").calendars["uk-office"]
    assert itstabyl.timezone == "UTC"
    assert itstabyl.week == (((540, 1080),),) * 5 + ((), ())
    assert itstabyl.holidays is not None
    assert (itstabyl.holidays.country, itstabyl.holidays.subdivision) == ("GB", "ENG")
    hosting = load_contract(EXAMPLES / "hosting-pop.yaml").calendars["cet-support"]
    assert (hosting.timezone, hosting.week[4], hosting.week[5]) == (
        "Europe/Berlin",
        ((540, 1320),),
        (),
    )


def test_days_intervals_and_extra_closed_dates(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(
        HEAD + "  desk:\n"
        "    timezone: Europe/London\n"
        '    open: {mon-thu: ["08:00-12:00", "13:00-17:00"], fri: "08:00-24:00",\n'
        "           sun: 10:00-12:00}\n"
        "    extra_closed: [2026-12-24, 2026-12-31]\n",
        encoding="utf-8",
    )
    desk = load_contract(path).calendars["desk"]
    assert desk.week[0] == ((480, 720), (780, 1020))
    assert desk.week[4] == ((480, 1440),)
    assert desk.week[5] == ()
    assert desk.week[6] == ((600, 720),)
    assert desk.extra_closed == (date(2026, 12, 24), date(2026, 12, 31))


def test_overlapping_intervals_on_one_day(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
        '  a:\n    timezone: UTC\n    open: {mon-fri: ["09:00-13:00", "12:00-18:00"]}\n'
        '  b:\n    timezone: UTC\n    open: {mon-fri: "09:00-18:00", wed: "17:00-19:00"}\n',
    ) == [
        "8: calendars.a.open.mon-fri: overlapping opening intervals on one day: 09:00-13:00 "
        "and 12:00-18:00",
        "11: calendars.b.open: overlapping opening intervals on wed: 09:00-18:00 and 17:00-19:00",
    ]


def test_bad_hours_zones_and_dates(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
        "  a:\n"
        "    timezone: Mars/Olympus\n"
        '    open: {mon-fri: "9-18", sat: "18:00-09:00", sun: "00:00-24:01"}\n'
        "    holidays: {country: GB, region: x}\n"
        '    extra_closed: [2026-02-30, "24 Dec"]\n'
        "  c:\n"
        "    timezone: UTC\n"
        "    open: {}\n",
    ) == [
        "7: calendars.a.timezone: expected an IANA time zone like UTC or Europe/Berlin, "
        "got 'Mars/Olympus'",
        "8: calendars.a.open.mon-fri: expected opening hours like \"09:00-18:00\", got '9-18'",
        "8: calendars.a.open.sat: expected an interval that ends after it starts, "
        "got '18:00-09:00'",
        "8: calendars.a.open.sun: expected opening hours like \"09:00-18:00\", got '00:00-24:01'",
        "9: calendars.a.holidays.region: unknown key 'region'; expected one of: country, "
        "subdivision",
        "10: calendars.a.extra_closed[0]: expected a date like 2026-12-24, got '2026-02-30'",
        "10: calendars.a.extra_closed[1]: expected a date like 2026-12-24, got '24 Dec'",
        "13: calendars.c.open: expected opening hours on at least one weekday",
    ]


def test_always_cannot_be_redefined(tmp_path: Path) -> None:
    assert problems(tmp_path, '  always:\n    timezone: UTC\n    open: {mon: "09:00-17:00"}\n') == [
        "5: calendars: 'always' is built in (open 24/7) and cannot be redefined"
    ]


def test_unknown_weekday_range(tmp_path: Path) -> None:
    assert problems(tmp_path, '  a:\n    timezone: UTC\n    open: {fri-mon: "10:00-11:00"}\n') == [
        "8: calendars.a.open: expected a range from an earlier to a later weekday, got 'fri-mon'"
    ]


def test_unknown_holiday_country_and_subdivision(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
        '  a:\n    timezone: UTC\n    open: {mon: "09:00-17:00"}\n    holidays: {country: XX}\n'
        '  b:\n    timezone: UTC\n    open: {mon: "09:00-17:00"}\n'
        "    holidays: {country: GB, subdivision: WAL}\n",
    ) == [
        "9: calendars.a.holidays.country: expected a country code the holidays library "
        "knows (GB, DE, US, …), got 'XX'",
        "13: calendars.b.holidays.subdivision: expected a subdivision of GB (ENG, NIR, SCT, "
        "WLS), got 'WAL'",
    ]


def test_unknown_calendar_name() -> None:
    contract = load_contract(EXAMPLES / "itstabyl.yaml")
    with pytest.raises(UserError) as caught:
        calendar_of(contract, "uk-ofice")
    assert str(caught.value) == "unknown calendar 'uk-ofice'; the contract has: uk-office, always"
    assert calendar_of(contract, "always").business_day_us == 24 * 3_600_000_000
