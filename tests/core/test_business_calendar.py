"""Business calendars: hand-worked due instants, properties, and a minute-by-minute oracle."""

from __future__ import annotations

import random
from bisect import bisect_left
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slaledger.core.business_calendar import (
    BusinessCalendar,
    HolidaysOfYear,
    Week,
    parse_business_duration,
)
from slaledger.core.calendar_spec import CalendarSpec, HolidaySource
from slaledger.core.timebase import US_PER_HOUR, US_PER_MINUTE, format_instant, to_instant
from slaledger.files.business_calendars import holidays_of_year

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = US_PER_HOUR
M = US_PER_MINUTE


def at(text: str) -> int:
    return to_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))


def spec(**fields: object) -> CalendarSpec:
    return CalendarSpec.model_validate(fields)


def uk_office() -> BusinessCalendar:
    return BusinessCalendar(
        ZoneInfo("UTC"),
        spec(timezone="UTC", open={"mon-fri": "09:00-18:00"}).week,
        holidays_of_year=holidays_of_year(HolidaySource(country="GB", subdivision="ENG")),
    )


def cet_support() -> BusinessCalendar:
    return BusinessCalendar(
        BERLIN, spec(timezone="Europe/Berlin", open={"mon-fri": "09:00-22:00"}).week
    )


UK = uk_office()
CET = cet_support()


# --- Hand-worked ------------------------------------------------------------------------


def test_england_2026_christmas_as_the_holidays_library_gives_it() -> None:
    of_year = holidays_of_year(HolidaySource(country="GB", subdivision="ENG"))
    december = {day: name for day, name in of_year(2026).items() if day.month == 12}
    assert december == {
        date(2026, 12, 25): "Christmas Day",  # a Friday
        date(2026, 12, 26): "Boxing Day",  # a Saturday
        date(2026, 12, 28): "Boxing Day (observed)",  # the substitute Monday
    }


def test_christmas_p1_is_due_the_tuesday_after() -> None:
    # Thu 17:30 + 30 min to closing; Fri Christmas, the weekend, Mon the observed Boxing Day
    # are closed; the other 30 min run Tue 09:00-09:30.
    start = at("2026-12-24T17:30:00Z")
    due = UK.due(start, 1 * H)
    assert format_instant(due) == "2026-12-29T09:30:00Z"
    assert UK.open(start, due) == 1 * H
    accounts, left_out = UK.account(start, due)
    assert left_out == 0
    assert [(a.day.day, a.closed, a.counted_us) for a in accounts] == [
        (24, (), 30 * M),
        (25, ("Christmas Day",), 0),
        (26, ("weekend", "Boxing Day"), 0),
        (27, ("weekend",), 0),
        (28, ("Boxing Day (observed)",), 0),
        (29, (), 30 * M),
    ]


def test_tier2_ticket_on_friday_evening_before_the_october_dst_change() -> None:
    # Fri 2026-10-23 20:00 CEST: 2 h to 22:00 CEST; Sun 25 Oct clocks go back; Mon 09:00 CET
    # (08:00Z) + 2 h = 11:00 CET = 10:00Z.
    start = to_instant(datetime(2026, 10, 23, 20, 0, tzinfo=BERLIN))
    assert format_instant(start) == "2026-10-23T18:00:00Z"
    assert format_instant(CET.due(start, 4 * H)) == "2026-10-26T10:00:00Z"


def test_a_budget_used_up_at_closing_is_due_at_closing() -> None:
    assert format_instant(UK.due(at("2026-12-29T09:00:00Z"), 9 * H)) == "2026-12-29T18:00:00Z"
    assert format_instant(UK.due(at("2026-12-29T17:00:00Z"), 1 * H)) == "2026-12-29T18:00:00Z"
    # One microsecond more is due a microsecond after the next opening.
    assert format_instant(UK.due(at("2026-12-29T17:00:00Z"), 1 * H + 1)) == (
        "2026-12-30T09:00:00.000001Z"
    )


def test_a_clock_started_while_closed_starts_at_the_next_opening() -> None:
    assert format_instant(UK.due(at("2026-12-26T12:00:00Z"), 15 * M)) == "2026-12-29T09:15:00Z"
    assert format_instant(UK.due(at("2026-12-29T06:00:00Z"), 15 * M)) == "2026-12-29T09:15:00Z"


def test_a_zero_budget_is_due_at_the_start() -> None:
    assert UK.due(at("2026-12-26T12:00:00Z"), 0) == at("2026-12-26T12:00:00Z")


def test_a_business_day_in_uk_office_is_nine_hours() -> None:
    assert UK.business_day_us == 9 * H
    assert parse_business_duration("1bd", UK) == 9 * H
    assert parse_business_duration("15m", UK) == 15 * M
    assert format_instant(
        UK.due(at("2026-12-24T17:30:00Z"), parse_business_duration("2bd", UK))
    ) == ("2026-12-30T17:30:00Z")


def test_bd_is_an_error_where_open_days_differ() -> None:
    week = spec(timezone="UTC", open={"mon-fri": "09:00-18:00", "sat": "10:00-14:00"}).week
    calendar = BusinessCalendar(ZoneInfo("UTC"), week)
    assert calendar.business_day_us is None
    with pytest.raises(ValueError, match="a business day has no single length"):
        parse_business_duration("1bd", calendar)


@pytest.mark.parametrize("text", ["60", "1d", "h", "1.5h", ""])
def test_a_business_duration_needs_a_unit(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration of open time like 15m, 4h or 2bd"):
        parse_business_duration(text, UK)


def test_a_dst_change_inside_opening_hours_makes_the_day_longer_or_shorter() -> None:
    week = spec(timezone="Europe/Berlin", open={"mon-sun": "00:00-24:00"}).week
    berlin = BusinessCalendar(BERLIN, week)

    def day_length(day: date) -> int:
        start = to_instant(datetime(day.year, day.month, day.day, tzinfo=BERLIN))
        nxt = day + timedelta(days=1)
        return berlin.open(start, to_instant(datetime(nxt.year, nxt.month, nxt.day, tzinfo=BERLIN)))

    assert day_length(date(2026, 3, 29)) == 23 * H
    assert day_length(date(2026, 10, 25)) == 25 * H
    assert day_length(date(2026, 10, 26)) == 24 * H


def test_always_is_open_around_the_clock() -> None:
    always = BusinessCalendar.always()
    start = at("2026-12-24T17:30:00.5Z")
    assert always.due(start, 15 * M) == start + 15 * M
    assert always.open(start, start + 400 * 24 * H) == 400 * 24 * H
    assert always.business_day_us == 24 * H


def test_extra_closed_dates_and_weekday_hours_give_their_reasons() -> None:
    week = spec(timezone="UTC", open={"mon-tue": "09:00-18:00", "thu-fri": "09:00-18:00"}).week
    calendar = BusinessCalendar(ZoneInfo("UTC"), week, extra_closed=[date(2026, 12, 24)])
    assert calendar.closed_reasons(date(2026, 12, 24)) == ("extra closed date",)
    assert calendar.closed_reasons(date(2026, 12, 23)) == ("no opening hours on a Wednesday",)
    assert format_instant(calendar.due(at("2026-12-22T17:30:00Z"), 1 * H)) == (
        "2026-12-25T09:30:00Z"
    )


def test_several_intervals_a_day() -> None:
    week = spec(timezone="UTC", open={"mon-fri": ["08:00-12:00", "13:00-17:00"]}).week
    calendar = BusinessCalendar(ZoneInfo("UTC"), week)
    assert calendar.business_day_us == 8 * H
    assert format_instant(calendar.due(at("2026-12-01T11:30:00Z"), 1 * H)) == (
        "2026-12-01T13:30:00Z"
    )
    assert calendar.open(at("2026-12-01T00:00:00Z"), at("2026-12-02T00:00:00Z")) == 8 * H


def test_a_long_budget_grows_the_table_beyond_the_first_years() -> None:
    start = at("2026-12-24T17:30:00Z")
    due = UK.due(start, 2000 * 9 * H)  # about eight years of business days
    assert due > at("2034-01-01T00:00:00Z")
    assert UK.open(start, due) == 2000 * 9 * H


def test_vectorised_due_and_open_agree_with_the_scalar_ones() -> None:
    rng = np.random.default_rng(7)
    starts = at("2026-01-01T00:00:00Z") + rng.integers(0, 365 * 24 * H, 500)
    budgets = rng.integers(0, 40 * H, 500)
    due = UK.due_many(starts, budgets)
    assert due.tolist() == [UK.due(int(s), int(d)) for s, d in zip(starts, budgets, strict=True)]
    assert UK.open_many(starts, due).tolist() == budgets.tolist()
    assert UK.due_many(starts, 4 * H).tolist() == [UK.due(int(s), 4 * H) for s in starts]


# --- Properties ---------------------------------------------------------------------------

CALENDARS = {"uk": UK, "cet": CET}
instants = st.integers(at("2026-01-01T00:00:00Z"), at("2028-01-01T00:00:00Z"))
budgets = st.integers(0, 60 * H)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(CALENDARS)), instants, budgets)
def test_open_up_to_due_is_the_budget(name: str, start: int, budget: int) -> None:
    calendar = CALENDARS[name]
    due = calendar.due(start, budget)
    assert due >= start
    assert calendar.open(start, due) == budget
    if budget > 0:  # and it is the earliest such instant
        assert calendar.open(start, due - 1) == budget - 1


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(CALENDARS)), instants, instants, budgets, budgets)
def test_due_is_monotonic_in_start_and_budget(
    name: str, start_a: int, start_b: int, budget_a: int, budget_b: int
) -> None:
    calendar = CALENDARS[name]
    early, late = sorted((start_a, start_b))
    small, large = sorted((budget_a, budget_b))
    assert calendar.due(early, small) <= calendar.due(late, small)
    assert calendar.due(early, small) <= calendar.due(early, large)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(CALENDARS)), instants, instants, instants)
def test_open_is_additive_over_adjacent_intervals(name: str, a: int, b: int, c: int) -> None:
    calendar = CALENDARS[name]
    first, middle, last = sorted((a, b, c))
    assert calendar.open(first, last) == calendar.open(first, middle) + calendar.open(middle, last)
    assert calendar.open(last, first) == 0 or last == first


# --- Differential: a plain minute-by-minute oracle -------------------------------------------


def _oracle_minutes(
    zone: ZoneInfo, week: Week, holidays: HolidaysOfYear | None, first: int, minutes: int
) -> list[int]:
    """1 for each UTC minute from ``first`` whose local wall time lies in an opening interval
    of its local date, that date being neither a holiday nor a day without hours."""
    flags = []
    names: dict[date, str] = {}
    for year in (2025, 2026, 2027):
        names.update(holidays(year) if holidays else {})
    for index in range(minutes):
        local = datetime.fromtimestamp((first + index * M) // 1_000_000, UTC).astimezone(zone)
        minute_of_day = local.hour * 60 + local.minute
        open_now = local.date() not in names and any(
            start <= minute_of_day < end for start, end in week[local.weekday()]
        )
        flags.append(1 if open_now else 0)
    return flags


ORACLE_CASES = {
    # (zone, open, holidays); interval ends avoid the hour the clocks repeat or skip
    "uk-office": (ZoneInfo("UTC"), {"mon-fri": "09:00-18:00"}, ("GB", "ENG")),
    "berlin": (
        BERLIN,
        {"mon-fri": ["08:00-12:00", "13:00-17:30"], "sat": "01:00-05:00", "sun": "00:00-24:00"},
        ("DE", "BE"),
    ),
    "new-york": (NEW_YORK, {"mon-sat": "09:00-22:00", "sun": "00:30-04:00"}, ("US", "NY")),
}
WINDOWS = (  # DST changes in Europe and the US, Easter, Christmas and New Year
    ("2026-03-05T00:00:00Z", 40),
    ("2026-10-20T00:00:00Z", 20),
    ("2026-12-20T00:00:00Z", 18),
)


@pytest.mark.parametrize("case", sorted(ORACLE_CASES))
@pytest.mark.parametrize(("window_start", "days"), WINDOWS)
def test_agrees_with_a_minute_by_minute_oracle(case: str, window_start: str, days: int) -> None:
    zone, hours, (country, subdivision) = ORACLE_CASES[case]
    week = spec(timezone=zone.key, open=hours).week
    holidays = holidays_of_year(HolidaySource(country=country, subdivision=subdivision))
    calendar = BusinessCalendar(zone, week, holidays_of_year=holidays)
    first, minutes = at(window_start), days * 1440
    flags = _oracle_minutes(zone, week, holidays, first, minutes)
    open_before = [0, *accumulate(flags)]  # open minutes before each minute index
    rng = random.Random(f"{case}{window_start}")
    checked = 0
    for _ in range(700):
        a, b = sorted(rng.randrange(minutes + 1) for _ in range(2))
        assert calendar.open(first + a * M, first + b * M) == (open_before[b] - open_before[a]) * M
        budget = rng.randrange(0, 30 * 60)
        target = open_before[a] + budget
        if target > open_before[-1]:
            continue
        # The oracle's due: the end of the minute that brings the count to the target.
        oracle = a if budget == 0 else bisect_left(open_before, target)
        assert calendar.due(first + a * M, budget * M) == first + oracle * M
        checked += 1
    assert checked > 300
