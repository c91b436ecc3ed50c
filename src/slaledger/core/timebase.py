"""Instants as integer microseconds since the Unix epoch (UTC), and conversions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_instant(moment: datetime) -> int:
    """Exact microseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: slaledger only handles timezone-aware instants")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def from_instant(instant: int) -> datetime:
    """The aware UTC datetime of an instant."""
    return _EPOCH + timedelta(microseconds=int(instant))


def format_instant(instant: int) -> str:
    """ISO 8601 in UTC with ``Z``; fractional seconds only when present."""
    moment = from_instant(instant)
    # The year is padded by hand: strftime's %Y writes year 26 as "26".
    text = f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def floor_minute(instant: int) -> int:
    """Start of the UTC minute bucket holding ``instant``."""
    return instant - instant % US_PER_MINUTE


def ceil_minute(instant: int) -> int:
    """Start of the first UTC minute bucket that begins at or after ``instant``."""
    return -((-instant) // US_PER_MINUTE) * US_PER_MINUTE
