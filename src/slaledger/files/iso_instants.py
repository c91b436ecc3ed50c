"""Strict, vectorised parsing of ISO 8601 instants (``2026-10-01T00:00:00[.ffffff](Z|±HH:MM)``)
into integer microseconds since the epoch, with a mask of the values that are not such.

The bulk half of instant parsing (observation files, monitor exports); one instant at a time
is parsed in :mod:`slaledger.core.timebase`, the other half, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

BoolArray = NDArray[np.bool_]
US_PER_SECOND = 1_000_000

_SHORTEST_TIMESTAMP = len("2026-10-01T00:00:00Z")
_LONGEST_TIMESTAMP = len("2026-10-01T00:00:00.123456+02:00")
_DATE_TIME_FIELDS = ((0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2))
"""Where year, month, day, hour, minute and second start, and how many digits each has."""
_SEPARATORS_AT = ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"))
_FRACTION_AT = 19
_MICROSECOND_DIGITS = 6

Position = int | NDArray[np.int64]
"""A byte position: the same in every row, or one per row."""


def _calendar_tables() -> tuple[
    NDArray[np.int64], NDArray[np.int32], NDArray[np.int64], NDArray[np.int64]
]:
    """Lookups instead of divisions, for the years 0-9999.

    Days from 1970-01-01 to 1 January of each year; each year's month key offset (16 in
    leap years, else 0); and by month key (offset + month, months 0 and 13-15 have no
    days), the days before the month in its year and the days in the month.
    """
    years = np.arange(10_000, dtype=np.int64)
    leap = ((years % 4 == 0) & (years % 100 != 0)) | (years % 400 == 0)
    days_before_year = np.concatenate(([0], np.cumsum(365 + leap.astype(np.int64))[:-1]))
    days_before_month = np.zeros(32, np.int64)
    days_in_month = np.zeros(32, np.int64)
    for offset, february in ((0, 28), (16, 29)):
        lengths = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        days_in_month[offset + 1 : offset + 13] = lengths
        days_before_month[offset + 1 : offset + 13] = np.cumsum([0, *lengths[:-1]])
    return (
        days_before_year - days_before_year[1970],
        np.where(leap, 16, 0).astype(np.int32),
        days_before_month,
        days_in_month,
    )


_YEAR_START, _MONTH_KEY_OFFSET, _DAYS_BEFORE_MONTH, _DAYS_IN_MONTH = _calendar_tables()


def _two_digit_table() -> NDArray[np.int16]:
    """Two ASCII bytes read as a little-endian uint16 → their value 0-99, or -1."""
    table = np.full(1 << 16, -1, np.int16)
    for tens in range(10):
        for units in range(10):
            table[(ord("0") + tens) | (ord("0") + units) << 8] = tens * 10 + units
    return table


_TWO_DIGITS = _two_digit_table()


def parse_timestamps(texts: pl.Series) -> tuple[NDArray[np.int64], BoolArray]:
    """Microseconds since the epoch of ``YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|±HH:MM)`` texts.

    Returns the instants (0 where bad) and the mask of texts that are not such an instant:
    wrong shape, no offset, more than 6 fractional digits, or a date or time that does not
    exist (2026-02-30, 24:00, a leap second 23:59:60).
    """
    if texts.len() == 0:
        return np.empty(0, np.int64), np.empty(0, np.bool_)
    text = _ByteMatrix.of(texts)
    good = (text.lengths >= _SHORTEST_TIMESTAMP) & (text.lengths <= _LONGEST_TIMESTAMP)
    for position, separator in _SEPARATORS_AT:
        good &= text.byte(position) == ord(separator)
    fields = [text.number(first, digits) for first, digits in _DATE_TIME_FIELDS]
    for _, digits_ok in fields:
        good &= digits_ok
    year, month, day, hour, minute, second = (value for value, _ in fields)

    zone_at, offset_seconds, zone_ok = _zones(text)
    microseconds, fraction_ok = _fractions(text, zone_at)
    good &= zone_ok & fraction_ok

    year = np.minimum(year, 9999)  # only bad rows exceed it
    month_key = _MONTH_KEY_OFFSET[year] + np.minimum(month, 15)
    good &= (day >= 1) & (day <= _DAYS_IN_MONTH[month_key])
    good &= (hour <= 23) & (minute <= 59) & (second <= 59)
    days = _YEAR_START[year] + _DAYS_BEFORE_MONTH[month_key] + (day - 1)
    seconds = days * 86_400 + (hour * 3600 + minute * 60 + second - offset_seconds)
    instants = seconds * US_PER_SECOND + microseconds
    return np.where(good, instants, 0), ~good


def _zones(
    text: _ByteMatrix,
) -> tuple[Position, NDArray[np.int32] | int, BoolArray | bool]:
    """Where each zone starts (a final ``Z``, or ``±HH:MM`` in the last six bytes), its
    offset from UTC in seconds, and whether it is well formed."""
    width = text.width
    last: Position = width - 1
    if text.lengths.min() != width:
        last = np.clip(text.lengths, 1, width) - 1
    zulu = text.byte(last) == ord("Z")
    if bool(zulu.all()):
        return last, 0, True
    zone_at = np.where(zulu, last, last - 5)
    offset_at = np.clip(zone_at, 0, width - 6)
    sign = text.byte(offset_at)
    hours, hours_ok = text.number(offset_at + 1, 2)
    minutes, minutes_ok = text.number(offset_at + 4, 2)
    offset_ok = (
        ((sign == ord("+")) | (sign == ord("-")))
        & hours_ok
        & minutes_ok
        & (text.byte(offset_at + 3) == ord(":"))
        & (hours <= 23)
        & (minutes <= 59)
    )
    offset_seconds = np.where(zulu, 0, hours * 3600 + minutes * 60)
    offset_seconds = np.where(sign == ord("-"), -offset_seconds, offset_seconds)
    return zone_at, offset_seconds, zulu | offset_ok


def _fractions(text: _ByteMatrix, zone_at: Position) -> tuple[NDArray[np.int32], BoolArray]:
    """Microseconds of the fraction before the zone: nothing, or a dot and 1 to 6 digits."""
    fraction_length = zone_at - _FRACTION_AT
    good = (fraction_length == 0) | (
        (fraction_length >= 2)
        & (fraction_length <= _MICROSECOND_DIGITS + 1)
        & (text.byte(_FRACTION_AT) == ord("."))
    )
    if isinstance(zone_at, int):  # every row has the same layout
        digits = min(max(zone_at - _FRACTION_AT - 1, 0), _MICROSECOND_DIGITS)
        value, digits_ok = text.number(_FRACTION_AT + 1, digits)
        return value * 10 ** (_MICROSECOND_DIGITS - digits), good & digits_ok
    microseconds = np.zeros(text.size, np.int32)
    for index in range(_MICROSECOND_DIGITS):
        position = _FRACTION_AT + 1 + index
        present = position < zone_at
        if position >= text.width or not np.any(present):
            microseconds *= 10 ** (_MICROSECOND_DIGITS - index)
            break
        digit = text.byte(position) - np.uint8(48)
        good &= ~present | (digit <= 9)
        microseconds = microseconds * 10 + digit * present
    return microseconds, good


@dataclass(frozen=True)
class _ByteMatrix:
    """Texts as rows of one ``(size, width)`` byte array, with their byte lengths.

    Texts shorter than the widest are padded with NUL bytes; texts that cannot fit (longer
    than any timestamp, or with multi-byte characters) become all NUL and fail the checks.
    """

    matrix: NDArray[np.uint8]
    lengths: NDArray[np.int64]

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def width(self) -> int:
        return int(self.matrix.shape[1])

    def byte(self, position: Position) -> NDArray[np.uint8]:
        """Each row's byte at ``position`` (one for all rows, or one per row)."""
        if isinstance(position, int):
            return self.matrix[:, position]
        return self.matrix[np.arange(self.size), position]

    def number(self, first: Position, digits: int) -> tuple[NDArray[np.int32], BoolArray]:
        """The decimal number in ``digits`` bytes from ``first``, and where they are digits.

        At a position shared by all rows, two digits at a time are looked up in a table
        through an (unaligned, strided) 16-bit view of the matrix.
        """
        value = np.zeros(self.size, np.int32)
        ok = np.ones(self.size, np.bool_)
        index = 0
        while index < digits:
            if isinstance(first, int) and index + 1 < digits:
                pair = _TWO_DIGITS[self._pairs_at(first + index)]
                ok &= pair >= 0
                value = value * 100 + pair
                index += 2
            else:
                digit = self.byte(first + index) - np.uint8(48)
                ok &= digit <= 9
                value = value * 10 + digit
                index += 1
        return value, ok

    def _pairs_at(self, position: int) -> NDArray[np.uint16]:
        """Bytes ``position`` and ``position + 1`` of every row as one little-endian uint16."""
        return np.ndarray(
            (self.size,),
            dtype="<u2",
            buffer=self.matrix,
            offset=position,
            strides=(self.width,),
        )

    @classmethod
    def of(cls, texts: pl.Series) -> _ByteMatrix:
        lengths = texts.str.len_bytes()
        longest = lengths.max()
        widest = int(longest) if isinstance(longest, int) else 0
        width = min(max(widest, _SHORTEST_TIMESTAMP), _LONGEST_TIMESTAMP)
        same_width = lengths.min() == width and widest == width
        padded = texts if same_width else texts.str.pad_end(width, "\0")
        if not same_width and (padded.str.len_bytes() != width).any():
            filler = "\0" * width
            padded = pl.select(
                pl.when(padded.str.len_bytes() == width).then(padded).otherwise(pl.lit(filler))
            ).to_series()
        fixed = padded.cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, width))
        matrix = fixed.to_numpy().reshape(len(texts), width)
        return cls(matrix, lengths.cast(pl.Int64).to_numpy())
