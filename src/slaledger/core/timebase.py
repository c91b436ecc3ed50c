"""Instants as integer microseconds since the Unix epoch (UTC), and conversions.

The one home of parsing an instant from text, one at a time (:func:`parse_instant`, strict;
:func:`parse_typed_instant`, as a person types it; :func:`yaml_timestamp`, YAML's form);
:mod:`slaledger.files.iso_instants` reads the strict form in bulk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

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
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def parse_instant(text: str) -> int:
    """Microseconds since the epoch of ``YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)``.

    The same strict form :mod:`slaledger.files.iso_instants` reads in bulk, one text at a
    time: an offset is required, at most six fractional digits, the date and time must exist.
    ``ValueError`` naming the expected form otherwise.
    """
    match = _ISO_INSTANT.match(text)
    if match is not None:
        year, month, day, hour, minute, second, fraction, zulu, sign, hours, minutes = (
            match.groups()
        )
        offset = 0 if zulu else (int(hours) * 60 + int(minutes)) * 60
        try:
            days = date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL
        except ValueError:
            days = None
        if (
            days is not None
            and int(hour) <= 23
            and int(minute) <= 59
            and int(second) <= 59
            and (zulu or (int(hours) <= 23 and int(minutes) <= 59))
        ):
            seconds = days * 86_400 + int(hour) * 3600 + int(minute) * 60 + int(second)
            seconds -= -offset if sign == "-" else offset
            micro = int(fraction.ljust(6, "0")) if fraction else 0
            return seconds * US_PER_SECOND + micro
    raise ValueError(
        f"expected an instant with Z or an offset, like {INSTANT_EXAMPLE}, got {text!r}"
    )


def floor_minute(instant: int) -> int:
    """Start of the UTC minute bucket holding ``instant``."""
    return instant - instant % US_PER_MINUTE


def ceil_minute(instant: int) -> int:
    """Start of the first UTC minute bucket that begins at or after ``instant``."""
    return -((-instant) // US_PER_MINUTE) * US_PER_MINUTE


def parse_typed_instant(text: str) -> int | None:
    """Microseconds since the epoch of one ISO 8601 instant with ``Z`` or an offset
    (``2026-11-01T00:00:00Z``, ``2026-11-01 01:00+01:00``), or ``None`` if it is not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return to_instant(moment)


_YAML_TIMESTAMP = re.compile(
    r"""^(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})
        (?:(?:[Tt]|[ \t]+)(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})
        (?:\.(?P<fraction>[0-9]*))?
        (?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9]{1,2})(?::(?P<tz_minute>[0-9]{2}))?))?
        )?$""",
    re.X,
)


def yaml_timestamp(text: str) -> datetime | None:
    """The ``datetime`` of a YAML 1.1 timestamp with a time of day (aware when the text has
    ``Z`` or an offset); ``None`` for a date alone, other text, or a date that does not
    exist (2026-02-30T00:00:00Z: validation reports it as not a timestamp)."""
    match = _YAML_TIMESTAMP.match(text)
    if match is None or match["hour"] is None:
        return None
    fraction = ((match["fraction"] or "") + "000000")[:6]
    tzinfo: timezone | None = None
    if match["tz_sign"]:
        offset = timedelta(hours=int(match["tz_hour"]), minutes=int(match["tz_minute"] or 0))
        tzinfo = timezone(-offset if match["tz_sign"] == "-" else offset)
    elif match["tz"]:
        tzinfo = UTC
    fields = ("year", "month", "day", "hour", "minute", "second")
    year, month, day, hour, minute, second = (int(match[name]) for name in fields)
    try:
        return datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=tzinfo)
    except ValueError:
        return None
