"""``slaledger calendar``: when was it due, and how much open time lies between two instants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import click

from slaledger.app import check_contract, parse_instant_option
from slaledger.cli.user_errors import reports_user_errors
from slaledger.core.business_calendar import (
    WEEKDAYS,
    BusinessCalendar,
    DayAccount,
    parse_business_duration,
)
from slaledger.core.calendar_spec import ALWAYS, format_hours
from slaledger.core.contract import Contract
from slaledger.core.timebase import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_MINUTE,
    format_instant,
    from_instant,
)
from slaledger.errors import Problem, UsageError
from slaledger.files.business_calendars import calendar_of

DAYS_SHOWN = 400
"""Local dates listed at most; a longer span says how many more there were."""
MAX_BUDGET_US = 3653 * US_PER_DAY
"""The longest duration of open time asked for: ten years of it, far beyond any commitment."""


def format_open_time(us: int) -> str:
    """``9h30m``, ``45m``, ``1h0m12.5s``, ``0s``: hours, minutes and exact seconds."""
    hours, rest = divmod(us, US_PER_HOUR)
    minutes, rest = divmod(rest, US_PER_MINUTE)
    text = f"{hours}h" if hours else ""
    if minutes or (hours and rest):
        text += f"{minutes}m"
    if rest or not text:
        text += f"{_seconds(rest)}s"
    return text


def _seconds(us: int) -> str:
    return f"{(Decimal(us) / 1_000_000).normalize():f}"


def _clock(moment: datetime, day: date) -> str:
    """Wall time on ``day``: ``17:30``, ``17:30:05.25``, or ``24:00`` for the next midnight."""
    if moment.date() > day:
        return "24:00"
    text = moment.strftime("%H:%M")
    if moment.second or moment.microsecond:
        text += f":{moment.second:02d}"
        if moment.microsecond:
            text += f".{moment.microsecond:06d}".rstrip("0")
    return text


def _local(calendar: BusinessCalendar, instant: int) -> datetime:
    return from_instant(instant).astimezone(calendar.zone)


def _instant_text(calendar: BusinessCalendar, instant: int) -> str:
    text = format_instant(instant)
    if calendar.zone.key == "UTC":
        return text
    moment = _local(calendar, instant)
    return f"{text} ({moment:%a %Y-%m-%d} {_clock(moment, moment.date())} {calendar.zone.key})"


def _week_text(calendar: BusinessCalendar) -> str:
    runs: list[str] = []
    weekday = 0
    while weekday < 7:
        hours = calendar.week[weekday]
        last = weekday
        while last + 1 < 7 and calendar.week[last + 1] == hours:
            last += 1
        if hours:
            days = WEEKDAYS[weekday] if last == weekday else f"{WEEKDAYS[weekday]}-{WEEKDAYS[last]}"
            runs.append(f"{days} {format_hours(hours)}")
        weekday = last + 1
    return ", ".join(runs)


def describe_calendar(contract: Contract, name: str, calendar: BusinessCalendar) -> str:
    if name == ALWAYS:
        return f"calendar {ALWAYS}: open 24/7, no holidays"
    spec = contract.calendars[name]
    parts = [spec.timezone, _week_text(calendar)]
    if spec.holidays is not None:
        where = spec.holidays.country
        if spec.holidays.subdivision:
            where += f"-{spec.holidays.subdivision}"
        parts.append(f"public holidays {where}")
    if spec.extra_closed:
        parts.append("extra closed " + ", ".join(day.isoformat() for day in spec.extra_closed))
    return f"calendar {name}: " + "; ".join(parts)


def _day_line(calendar: BusinessCalendar, account: DayAccount) -> str:
    head = f"{account.day:%a %Y-%m-%d}"
    if account.closed:
        return f"{head}  closed: {'; '.join(account.closed)}"
    if not account.counted:
        return f"{head}  open {format_hours(account.hours)}; none of it in the span"
    pieces = ", ".join(
        f"{_clock(_local(calendar, lo), account.day)}-{_clock(_local(calendar, hi), account.day)}"
        for lo, hi in account.counted
    )
    return f"{head}  open {pieces}  {format_open_time(account.counted_us)}"


def _reasoning(calendar: BusinessCalendar, a: int, b: int) -> list[str]:
    accounts, left_out = calendar.account(a, b, limit=DAYS_SHOWN)
    lines = [_day_line(calendar, account) for account in accounts]
    if left_out:
        lines.append(f"… {left_out} more days not shown")
    return lines


def _computed(work: Callable[[], int], option: str) -> int:
    """``work()``; an instant outside the years a calendar covers is the user's mistake."""
    try:
        return work()
    except ValueError as error:
        raise UsageError(Problem(str(error), field=option)) from None


@click.command("calendar")
@click.argument("contract", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("name")
@click.option(
    "--due",
    "due",
    nargs=2,
    metavar="START DURATION",
    help="When DURATION of open time (15m, 4h, 2bd) from START is used up.",
)
@click.option("--open", "span", nargs=2, metavar="A B", help="The open time in [A, B).")
@reports_user_errors
def command(
    contract: Path, name: str, due: tuple[str, str] | None, span: tuple[str, str] | None
) -> None:
    """Business time in calendar NAME of CONTRACT (``always`` is built in), with reasoning.

    Prints one figure, then each local date of the span: the open time counted, or why the
    day was closed (weekend, the holiday's name, an extra closed date).
    """
    if (due is None) == (span is None):
        raise UsageError(Problem("expected exactly one of --due START DURATION or --open A B"))
    loaded = check_contract(contract)
    calendar = calendar_of(loaded, name, field="NAME")
    header = describe_calendar(loaded, name, calendar)
    if due is not None:
        start = parse_instant_option(due[0], "--due")
        try:
            budget = parse_business_duration(due[1], calendar)
        except ValueError as error:
            raise UsageError(Problem(str(error), field="--due")) from None
        if budget > MAX_BUDGET_US:
            raise UsageError(
                Problem(f"expected at most ten years of open time, got {due[1]!r}", field="--due")
            )
        end = _computed(lambda: calendar.due(start, budget), "--due")
        lines = [
            f"due {_instant_text(calendar, end)}",
            header,
            f"{format_open_time(budget)} of open time from {_instant_text(calendar, start)}",
        ]
    else:
        assert span is not None
        start = parse_instant_option(span[0], "--open")
        end = parse_instant_option(span[1], "--open")
        if end < start:
            raise UsageError(
                Problem(f"expected B at or after A, got {span[1]} before {span[0]}", field="--open")
            )
        measure = _computed(lambda: calendar.open(start, end), "--open")
        lines = [
            f"open {format_open_time(measure)} ({_seconds(measure)} s)",
            header,
            f"from {_instant_text(calendar, start)} to {_instant_text(calendar, end)}",
        ]
    lines.extend(_reasoning(calendar, start, end))
    click.echo("\n".join(lines))
