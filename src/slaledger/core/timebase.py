"""Instants as integer microseconds since the Unix epoch (UTC), and conversions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR

Clock = Callable[[], int]
"""Returns the current instant in microseconds since the epoch. The core never calls one:
the composition root (:mod:`slaledger.app`) builds it and adapters are handed it."""

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


_ISO_INSTANT = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:(Z)|([+-])(\d\d):(\d\d))$"
)
INSTANT_EXAMPLE = "2026-10-01T09:30:00Z"


def parse_instant(text: str) -> int:
    """Microseconds since the epoch of ``YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)``.

    The same strict form :mod:`slaledger.files.iso_instants` reads in bulk, one text at a
    time: an offset is required, at most six fractional digits, the date and time must exist.
    ``ValueError`` naming the expected form otherwise.
    """
    match = _ISO_INSTANT.match(text)
    moment = None
    if match is not None:
        year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
        micro = int((match[7] or "").ljust(6, "0"))
        hours, minutes = (int(match[10]), int(match[11])) if match[9] else (0, 0)
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if match[9] == "-" else 1)
        try:
            if hours > 23 or minutes > 59:
                raise ValueError("no such offset")
            moment = datetime(year, month, day, hour, minute, second, micro, timezone(offset))
        except ValueError:
            moment = None
    if moment is None:
        raise ValueError(
            f"expected an instant with Z or an offset, like {INSTANT_EXAMPLE}, got {text!r}"
        )
    return to_instant(moment)


def floor_minute(instant: int) -> int:
    """Start of the UTC minute bucket holding ``instant``."""
    return instant - instant % US_PER_MINUTE


def ceil_minute(instant: int) -> int:
    """Start of the first UTC minute bucket that begins at or after ``instant``."""
    return -((-instant) // US_PER_MINUTE) * US_PER_MINUTE
