"""The one-text instant parser: the strict ISO 8601 form, exact to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slaledger.core.timebase import parse_instant, to_instant

moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31, 23, 59, 59))
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@given(moments, offsets)
def test_equals_the_standard_library_on_any_aware_instant(moment: datetime, zone: timezone) -> None:
    aware = moment.replace(tzinfo=zone)
    text = aware.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    assert parse_instant(text) == to_instant(aware)
    if zone.utcoffset(None) == timedelta(0):
        assert parse_instant(text.replace("+00:00", "Z")) == to_instant(aware)


def test_fractions_and_offsets() -> None:
    assert parse_instant("2026-10-23T20:00:00.5-01:30") == to_instant(
        datetime(2026, 10, 23, 21, 30, 0, 500_000, tzinfo=UTC)
    )
    assert parse_instant("1969-12-31T23:59:59.999999Z") == -1


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T00:00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01 00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00.1234567Z",
        "2026-01-01T00:00:00z",
        "",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected an instant with Z or an offset"):
        parse_instant(text)
