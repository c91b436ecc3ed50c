from zoneinfo import ZoneInfo

import pytest

from slaledger.core.periods import calendar_month, parse_month, trailing_days
from slaledger.core.timebase import format_instant, to_instant


def test_utc_month() -> None:
    p = calendar_month(2026, 10, ZoneInfo("UTC"))
    assert p.as_dict() == {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    assert p.minutes == 44640


def test_berlin_months_across_dst() -> None:
    october = calendar_month(2026, 10, ZoneInfo("Europe/Berlin"))
    assert format_instant(october.start) == "2026-09-30T22:00:00Z"
    assert format_instant(october.end) == "2026-10-31T23:00:00Z"
    assert october.minutes == 44700
    assert calendar_month(2026, 3, ZoneInfo("Europe/Berlin")).minutes == 44580


def test_december_rolls_into_next_year() -> None:
    p = calendar_month(2026, 12, ZoneInfo("UTC"))
    assert p.as_dict()["end"] == "2027-01-01T00:00:00Z"


def test_trailing_days() -> None:
    from datetime import UTC, datetime

    end = to_instant(datetime(2026, 11, 15, 12, tzinfo=UTC))
    assert trailing_days(end, 30).as_dict() == {
        "start": "2026-10-16T12:00:00Z",
        "end": "2026-11-15T12:00:00Z",
    }


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-10", "2026-10-01", ""])
def test_month_form(text: str) -> None:
    with pytest.raises(ValueError, match="expected a month as YYYY-MM"):
        parse_month(text)
