"""The ``calendars:`` section of a contract: business calendars as written, validated.

```yaml
calendars:
  uk-office:
    timezone: UTC
    open: {mon-fri: "09:00-18:00"}        # or a list: ["08:00-12:00", "13:00-17:00"]
    holidays: {country: GB, subdivision: ENG}
    extra_closed: [2026-12-24]
```

Keys of ``open`` are a weekday (``mon`` … ``sun``) or a range of them (``mon-fri``); a day
named by several keys gets all their intervals, which must not overlap. ``"24:00"`` may end
an interval. ``always`` is built in and cannot be redefined. Whether ``holidays.country`` and
``subdivision`` exist is checked where the ``holidays`` library is loaded (the contract file
adapter), so that this model stays free of it.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, field_validator

from slaledger.core.business_calendar import MINUTES_PER_DAY, WEEKDAYS, Hours, Week
from slaledger.core.model_base import StrictModel, ZoneName

ALWAYS = "always"
"""The built-in calendar: open 24/7/365."""

_INTERVAL = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
_INTERVAL_EXAMPLE = '"09:00-18:00"'


def _minute(hours: str, minutes: str, *, end: bool) -> int | None:
    hour, minute = int(hours), int(minutes)
    if end and (hour, minute) == (24, 0):
        return MINUTES_PER_DAY
    if hour > 23 or minute > 59:
        return None
    return hour * 60 + minute


def parse_interval(text: str) -> tuple[int, int]:
    """``"09:00-18:00"`` as minutes of the day ``(540, 1080)``; ``"24:00"`` may end one."""
    match = _INTERVAL.match(text.strip())
    start = end = None
    if match is not None:
        start = _minute(match[1], match[2], end=False)
        end = _minute(match[3], match[4], end=True)
    if start is None or end is None:
        raise ValueError(f"expected opening hours like {_INTERVAL_EXAMPLE}, got {text!r}")
    if end <= start:
        raise ValueError(f"expected an interval that ends after it starts, got {text!r}")
    return start, end


def _hours(value: Any) -> Hours:
    """One interval or a list of them, sorted; overlapping intervals are an error."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise ValueError(
            f"expected an interval like {_INTERVAL_EXAMPLE} or a list of them, got {value!r}"
        )
    return _sorted_disjoint([parse_interval(item) for item in items])


def _sorted_disjoint(intervals: list[tuple[int, int]], where: str = "one day") -> Hours:
    ordered = sorted(intervals)
    for (start_a, end_a), (start_b, end_b) in pairwise(ordered):
        if start_b < end_a:
            raise ValueError(
                f"overlapping opening intervals on {where}: {_text(start_a, end_a)} and "
                f"{_text(start_b, end_b)}"
            )
    return tuple(ordered)


def _text(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def format_hours(hours: Hours) -> str:
    """``09:00-12:00, 13:00-17:00``."""
    return ", ".join(_text(start, end) for start, end in hours)


def weekdays_of(key: str) -> tuple[int, ...]:
    """``mon-fri`` → ``(0, 1, 2, 3, 4)``; ``sat`` → ``(5,)``."""
    first, _, last = key.strip().lower().partition("-")
    if first not in WEEKDAYS or (last and last not in WEEKDAYS):
        raise ValueError(
            f"expected a weekday (mon, tue, … sun) or a range like mon-fri, got {key!r}"
        )
    start = WEEKDAYS.index(first)
    stop = WEEKDAYS.index(last) if last else start
    if stop < start:
        raise ValueError(f"expected a range from an earlier to a later weekday, got {key!r}")
    return tuple(range(start, stop + 1))


OpeningHours = Annotated[Hours, BeforeValidator(_hours)]


def _closed_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if isinstance(value, str) else _no_date(value)
    except ValueError:
        return _no_date(value)


def _no_date(value: Any) -> date:
    raise ValueError(f"expected a date like 2026-12-24, got {value!r}")


ClosedDate = Annotated[date, BeforeValidator(_closed_date)]


class HolidaySource(StrictModel):
    """Public holidays from the ``holidays`` library: ISO country code, optional subdivision."""

    country: str
    subdivision: str | None = None


class CalendarSpec(StrictModel):
    timezone: ZoneName
    open: dict[str, OpeningHours]
    holidays: HolidaySource | None = None
    extra_closed: tuple[ClosedDate, ...] = ()

    @field_validator("open")
    @classmethod
    def _week(cls, value: dict[str, Hours]) -> dict[str, Hours]:
        _week_of(value)
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def week(self) -> Week:
        return _week_of(self.open)


def _week_of(open_hours: dict[str, Hours]) -> Week:
    by_day: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    for key, hours in open_hours.items():
        for weekday in weekdays_of(key):
            by_day[weekday].extend(hours)
    if not any(by_day):
        raise ValueError("expected opening hours on at least one weekday")
    week = tuple(_sorted_disjoint(day, WEEKDAYS[weekday]) for weekday, day in enumerate(by_day))
    return cast(Week, week)
