"""Settlement periods: calendar months in a contract's zone and trailing windows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slaledger.core.timebase import US_PER_DAY, US_PER_MINUTE, format_instant, to_instant

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    """A half-open period ``[start, end)`` of instants."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a period must end after it starts")

    @property
    def minutes(self) -> int:
        """Minute buckets whose start lies in the period."""
        first = -((-self.start) // US_PER_MINUTE)
        last = -((-self.end) // US_PER_MINUTE)
        return last - first

    def as_dict(self) -> dict[str, str]:
        return {"start": format_instant(self.start), "end": format_instant(self.end)}


def parse_month(text: str) -> tuple[int, int]:
    """``(year, month)`` from ``YYYY-MM``; ``ValueError`` otherwise."""
    match = _MONTH.match(text)
    if match is None:
        raise ValueError(f"expected a month as YYYY-MM, e.g. 2026-10, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def calendar_month(year: int, month: int, zone: ZoneInfo) -> Period:
    """The month from local midnight on the 1st to local midnight on the next 1st."""
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return Period(to_instant(start), to_instant(end))


def trailing_days(end: int, days: int) -> Period:
    """The ``days`` days ending at ``end``."""
    return Period(end - days * US_PER_DAY, end)
