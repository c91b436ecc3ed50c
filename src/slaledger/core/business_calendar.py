"""Business time: how much of a span a calendar is open, and when a budget of open time ends.

A :class:`BusinessCalendar` is a time zone, opening hours per weekday (minutes of the local
day, several intervals a day) and closed dates (public holidays, extra closed days). Wall-clock
hours are read in the zone on each local date and then measured in real elapsed time, so a
DST change inside opening hours makes that day an hour shorter or longer. A wall time in the
spring-forward gap is read with the offset in force before the change and an ambiguous one as
its first occurrence (Python's ``fold=0``); intervals are clipped so they never overlap.

Arithmetic is exact, in integer microseconds (:mod:`slaledger.core.timebase`):

- ``open(a, b)``: the measure of ``[a, b)`` ∩ open time;
- ``due(start, d)``: the earliest ``t >= start`` with ``open(start, t) == d``. A budget used
  up exactly at closing time is due at closing, not at the next opening.

Speed: the open intervals of whole local years are laid out once as numpy arrays (starts,
ends, open time before each interval), so both become a ``searchsorted`` and a little
arithmetic, vectorised over arrays of instants (:meth:`BusinessCalendar.open_many`,
:meth:`BusinessCalendar.due_many`). The table grows by whole years when an instant or a budget
falls outside it.

Purity: public holidays come from the ``holidays`` data library, which this module does not
import. The adapter that builds a calendar injects ``holidays_of_year``, a pure function from a
year to ``{date: name}``; it is called once per year the table covers, so the core reads no
clock, does no I/O and stays independent of where the dates come from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from slaledger.core.durations import parse_duration
from slaledger.core.timebase import US_PER_MINUTE, from_instant, to_instant

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_PER_DAY = 1440
FIRST_YEAR, LAST_YEAR = 1971, 9998
"""Years a table may cover (instants stay far inside int64 microseconds)."""

Hours = tuple[tuple[int, int], ...]
"""Opening intervals of one weekday: ``(start, end)`` minutes of the local day, sorted, disjoint,
``0 <= start < end <= 1440``."""

Week = tuple[Hours, Hours, Hours, Hours, Hours, Hours, Hours]
"""Opening hours from Monday to Sunday."""

HolidaysOfYear = Callable[[int], Mapping[date, str]]
"""A pure function: the public holidays of a year, with their names."""

IntArray = NDArray[np.int64]

_ALL_DAY: Hours = ((0, MINUTES_PER_DAY),)
ALWAYS_WEEK: Week = (_ALL_DAY, _ALL_DAY, _ALL_DAY, _ALL_DAY, _ALL_DAY, _ALL_DAY, _ALL_DAY)
"""Open around the clock, every day."""


@dataclass(frozen=True)
class DayAccount:
    """One local date of a span: what was open and counted, or why it was closed."""

    day: date
    closed: tuple[str, ...]
    """Why the day is closed (weekend, a holiday's name, extra closed); empty when open."""
    hours: Hours
    """The day's opening hours (empty when closed)."""
    counted: tuple[tuple[int, int], ...]
    """Instants ``[start, end)`` of open time inside the span on this date."""

    @property
    def counted_us(self) -> int:
        return sum(end - start for start, end in self.counted)


@dataclass(frozen=True)
class _Table:
    """Open intervals of the local years ``first..last``, as arrays."""

    first: int
    last: int
    lo: int
    """First instant covered (local midnight starting ``first``)."""
    hi: int
    """First instant after the table (local midnight starting ``last + 1``)."""
    starts: IntArray
    ends: IntArray
    before: IntArray
    """Open time from ``lo`` to each interval's start."""
    after: IntArray
    """Open time from ``lo`` to each interval's end."""

    @property
    def total(self) -> int:
        return int(self.after[-1]) if self.after.size else 0

    def open_before(self, instants: IntArray) -> IntArray:
        """Open time in ``[lo, t)`` for each ``t`` (all inside ``[lo, hi]``)."""
        k = np.searchsorted(self.starts, instants, side="right") - 1
        if not self.starts.size:
            return np.zeros_like(instants)
        index = np.maximum(k, 0)
        inside = np.minimum(instants - self.starts[index], self.after[index] - self.before[index])
        return np.where(k >= 0, self.before[index] + np.maximum(inside, 0), 0)

    def open_before_one(self, instant: int) -> int:
        """:meth:`open_before` of one instant, without arrays."""
        k = int(self.starts.searchsorted(instant, side="right")) - 1
        if k < 0:
            return 0
        start, before, after = int(self.starts[k]), int(self.before[k]), int(self.after[k])
        return before + min(instant - start, after - before)


class BusinessCalendar:
    """Opening hours in a zone, minus closed dates; see the module docstring."""

    def __init__(
        self,
        zone: ZoneInfo,
        week: Week,
        *,
        holidays_of_year: HolidaysOfYear | None = None,
        extra_closed: Iterable[date] = (),
    ) -> None:
        if len(week) != 7:
            raise ValueError("expected opening hours for 7 weekdays")
        for hours in week:
            _check_hours(hours)
        if not any(week):
            raise ValueError("expected opening hours on at least one weekday")
        self.zone = zone
        self.week = week
        self._holidays_of_year = holidays_of_year
        self._extra_closed = frozenset(extra_closed)
        self._holidays: dict[int, Mapping[date, str]] = {}
        self._table: _Table | None = None

    @classmethod
    def always(cls) -> BusinessCalendar:
        """The built-in ``always``: open 24/7/365."""
        return cls(ZoneInfo("UTC"), ALWAYS_WEEK)

    # --- Business days --------------------------------------------------------------------

    @property
    def business_day_us(self) -> int | None:
        """The length of one open day, or ``None`` when the open weekdays differ in length."""
        lengths = {sum(end - start for start, end in hours) for hours in self.week if hours}
        if len(lengths) != 1:
            return None
        return lengths.pop() * US_PER_MINUTE

    # --- Closed dates ---------------------------------------------------------------------

    def closed_reasons(self, day: date) -> tuple[str, ...]:
        """Why ``day`` (a local date) is closed; empty when it has opening hours."""
        reasons: list[str] = []
        if not self.week[day.weekday()]:
            weekday = day.weekday()
            reasons.append(
                "weekend" if weekday >= 5 else f"no opening hours on a {WEEKDAY_NAMES[weekday]}"
            )
        holiday = self._holidays_in(day.year).get(day)
        if holiday:
            reasons.append(holiday)
        if day in self._extra_closed:
            reasons.append("extra closed date")
        return tuple(reasons)

    def _holidays_in(self, year: int) -> Mapping[date, str]:
        if self._holidays_of_year is None:
            return {}
        if year not in self._holidays:
            self._holidays[year] = dict(self._holidays_of_year(year))
        return self._holidays[year]

    def _is_open_day(self, day: date) -> bool:
        return (
            bool(self.week[day.weekday()])
            and day not in self._extra_closed
            and day not in self._holidays_in(day.year)
        )

    # --- The table ------------------------------------------------------------------------

    def _local_year(self, instant: int) -> int:
        return from_instant(instant).astimezone(self.zone).year

    def _wall(self, day: date, minute: int) -> int:
        """The instant of ``minute`` (0-1440) of the local ``day``."""
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        return to_instant(datetime.combine(day, time(minute // 60, minute % 60), self.zone))

    def _build(self, first: int, last: int) -> _Table:
        starts: list[int] = []
        ends: list[int] = []
        day, stop = date(first, 1, 1), date(last, 12, 31)
        one = timedelta(days=1)
        while day <= stop:
            if self._is_open_day(day):
                for start, end in self.week[day.weekday()]:
                    starts.append(self._wall(day, start))
                    ends.append(self._wall(day, end))
            day += one
        start_array = np.array(starts, dtype=np.int64)
        end_array = np.array(ends, dtype=np.int64)
        if end_array.size:  # DST oddities: never let an interval reach back before another
            end_array = np.maximum.accumulate(np.maximum(end_array, start_array))
            start_array[1:] = np.maximum(start_array[1:], end_array[:-1])
        lengths = end_array - start_array
        after = np.cumsum(lengths, dtype=np.int64)
        return _Table(
            first,
            last,
            self._wall(date(first, 1, 1), 0),
            self._wall(date(last + 1, 1, 1), 0),
            start_array,
            end_array,
            after - lengths,
            after,
        )

    def _covering(self, lo: int, hi: int) -> _Table:
        """A table holding every instant in ``[lo, hi]``, grown by whole years as needed."""
        table = self._table
        if table is not None and table.lo <= lo and hi <= table.hi:
            return table
        first, last = self._local_year(lo), self._local_year(hi)
        if table is not None:
            first, last = min(first, table.first), max(last, table.last)
        if first < FIRST_YEAR or last > LAST_YEAR:
            raise ValueError(f"instants must lie in the years {FIRST_YEAR} to {LAST_YEAR}")
        self._table = self._build(first, last)
        return self._table

    # --- Open time ------------------------------------------------------------------------

    def open_many(self, a: ArrayLike, b: ArrayLike) -> IntArray:
        """``open(a[i], b[i])`` for arrays of instants; ``0`` where ``b <= a``."""
        starts, ends = np.broadcast_arrays(
            np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        )
        if starts.size == 0:
            return np.zeros(starts.shape, np.int64)
        table = self._covering(
            int(min(starts.min(), ends.min())), int(max(starts.max(), ends.max()))
        )
        measure = table.open_before(ends) - table.open_before(starts)
        return np.where(measure > 0, measure, 0).astype(np.int64)

    def open(self, a: int, b: int) -> int:
        """The open time in ``[a, b)``, in microseconds (``0`` when ``b <= a``)."""
        if b <= a:
            return 0
        table = self._covering(a, b)
        return table.open_before_one(b) - table.open_before_one(a)

    # --- Due instants ---------------------------------------------------------------------

    def due_many(self, start: ArrayLike, duration: ArrayLike) -> IntArray:
        """``due(start[i], duration[i])`` for arrays (or a scalar of either)."""
        starts, budgets = np.broadcast_arrays(
            np.asarray(start, dtype=np.int64), np.asarray(duration, dtype=np.int64)
        )
        if starts.size == 0:
            return np.empty(starts.shape, np.int64)
        if int(budgets.min()) < 0:
            raise ValueError("a duration of open time cannot be negative")
        table = self._covering(int(starts.min()), int(starts.max()))
        targets = table.open_before(starts) + budgets
        while int(targets.max()) > table.total:
            table = self._grown(table)
            targets = table.open_before(starts) + budgets
        k = np.searchsorted(table.after, targets, side="left")
        due = table.starts[k] + (targets - table.before[k])
        return np.where(budgets == 0, starts, due).astype(np.int64)

    def due(self, start: int, duration: int) -> int:
        """The earliest instant ``t >= start`` with ``open(start, t) == duration``."""
        if duration < 0:
            raise ValueError("a duration of open time cannot be negative")
        if duration == 0:
            return start
        table = self._covering(start, start)
        target = table.open_before_one(start) + duration
        while target > table.total:
            table = self._grown(table)
            target = table.open_before_one(start) + duration
        k = int(table.after.searchsorted(target, side="left"))
        return int(table.starts[k]) + target - int(table.before[k])

    def _grown(self, table: _Table) -> _Table:
        """``table`` over twice as many years (for budgets that run past its end)."""
        if table.last >= LAST_YEAR:
            raise ValueError(f"the calendar has too little open time before {LAST_YEAR + 1}")
        last = min(LAST_YEAR, 2 * table.last - table.first + 1)
        return self._covering(table.lo, self._wall(date(last, 12, 31), 0))

    # --- Reasoning ------------------------------------------------------------------------

    def account(self, a: int, b: int, *, limit: int = 400) -> tuple[list[DayAccount], int]:
        """Each local date from ``a``'s to ``b``'s (``b`` exclusive): open time counted or why
        closed. At most ``limit`` dates are returned, with the number left out."""
        first = from_instant(a).astimezone(self.zone).date()
        last_moment = from_instant(max(a, b - 1) if b > a else a).astimezone(self.zone)
        last = last_moment.date()
        days: list[DayAccount] = []
        day = first
        while day <= last and len(days) < limit:
            reasons = self.closed_reasons(day)
            if reasons:
                days.append(DayAccount(day, reasons, (), ()))
            else:
                hours = self.week[day.weekday()]
                counted = []
                for start, end in hours:
                    lo, hi = max(a, self._wall(day, start)), min(b, self._wall(day, end))
                    if hi > lo:
                        counted.append((lo, hi))
                days.append(DayAccount(day, (), hours, tuple(counted)))
            day += timedelta(days=1)
        left_out = (last - day).days + 1 if day <= last else 0
        return days, left_out


def _check_hours(hours: Hours) -> None:
    previous_end = 0
    for start, end in hours:
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise ValueError(f"expected an interval within one day, got {start}-{end} minutes")
        if start < previous_end:
            raise ValueError("opening intervals of one day must be sorted and must not overlap")
        previous_end = end


_BUSINESS_DAYS = re.compile(r"^(\d+)bd$")
_WHOLE_DAYS = re.compile(r"^\d+d$")
BUSINESS_DURATION_EXPECTED = "a duration of open time like 15m, 4h or 2bd"


def parse_business_duration(text: str, calendar: BusinessCalendar) -> int:
    """Microseconds of open time in ``15m``, ``4h`` or ``Nbd`` (N × one open day's length).

    ``bd`` is an error in a calendar whose open days differ in length; plain days (``2d``) are
    refused, since 24 hours of open time is not what anyone means by a day here.
    """
    stripped = text.strip()
    days = _BUSINESS_DAYS.match(stripped)
    if days is not None:
        length = calendar.business_day_us
        if length is None:
            raise ValueError(
                f"{text!r}: a business day has no single length in a calendar whose open "
                f"days differ; write the duration in hours or minutes"
            )
        return int(days.group(1)) * length
    if _WHOLE_DAYS.match(stripped):
        raise ValueError(
            f"expected {BUSINESS_DURATION_EXPECTED} (business days are written bd), got {text!r}"
        )
    try:
        return parse_duration(stripped)
    except ValueError:
        raise ValueError(f"expected {BUSINESS_DURATION_EXPECTED}, got {text!r}") from None
