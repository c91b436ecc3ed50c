"""Observations CSV files: read them fast and strictly, write them atomically.

Reading is columnar: polars parses every column as text, then each column is validated
with whole-array operations (timestamps are decoded from their bytes with numpy). Only
when something is wrong does the reader look for the first bad row to name it.

Files with double quotes, blank lines or rows of the wrong width take a slower, exact
path through Python's :mod:`csv` module, so that every row's line number stays right.

The name tables of the returned :class:`Observations` are sorted: ``services`` holds the
services that occur in the file, ``locations`` the locations (``default`` for an empty one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from slaledger.core.instant_bounds import InstantBounds
from slaledger.core.observations import DEFAULT_LOCATION, ERROR_CODES, NO_STATUS, Observations
from slaledger.errors import ObservationsError, Problem
from slaledger.files.atomic import atomic_writer, decode_utf8, read_input
from slaledger.files.iso_instants import US_PER_SECOND, BoolArray, parse_timestamps

REQUIRED_COLUMNS = ("timestamp", "service", "status", "error")
OPTIONAL_COLUMNS = ("location", "latency_ms", "retry_after")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
WRITTEN_COLUMNS = ("timestamp", "service", "location", "status", "error", "retry_after")

MAX_LOCATIONS = int(np.iinfo(np.int16).max)

_TIMESTAMP_EXPECTED = "expected an ISO 8601 instant with Z or an offset, e.g. 2026-10-01T00:00:00Z"
_STATUS_EXPECTED = "expected empty or an HTTP status code from 100 to 599"
_ERROR_EXPECTED = "expected empty or one of " + ", ".join(ERROR_CODES)
_LATENCY_EXPECTED = "expected empty or a non-negative number of milliseconds"
_ERROR_NAMES = ("", *sorted(ERROR_CODES, key=ERROR_CODES.__getitem__))
"""Error class names by code, with the empty name at code 0 (no error)."""
_BOM = b"\xef\xbb\xbf"
_SHOWN_CHARS = 60
"""Longer bad values are cut short in messages, which stay one line."""


# --------------------------------------------------------------------------------------
# Reading


def read_observations(
    path: Path, service_ids: Collection[str], bounds: InstantBounds | None = None
) -> Observations:
    """Read and validate an observations CSV; every service must be in ``service_ids`` and,
    given ``bounds``, every timestamp within them.

    Raises :class:`ObservationsError` with one problem naming the first bad row (file
    order), its column and what was expected; the count of further bad rows is appended.
    """
    source = str(path)
    data = read_input(path, ObservationsError)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    table = _parse_fast(data, source) or _parse_exact(data, source)
    return _validate(table, frozenset(service_ids), source, bounds)


@dataclass(frozen=True)
class _Table:
    """The known columns of a file as stripped text, and where each row is."""

    columns: dict[str, pl.Series]
    """Known column name → its values (String, no nulls), in the file's column order."""
    height: int
    header_width: int
    row_lines: NDArray[np.int64] | None = None
    """Line each row starts on; ``None`` means row ``i`` is on line ``i + 2``."""
    field_counts: NDArray[np.int64] | None = None
    """Fields found in each row, when some row's width differs from the header's."""

    def line_of(self, row: int) -> int:
        return row + 2 if self.row_lines is None else int(self.row_lines[row])


def _parse_fast(data: bytes, source: str) -> _Table | None:
    """Parse with polars when every line is one row; ``None`` asks for the exact path.

    That holds when the file is UTF-8, has no line break inside quotes, and has as many
    separators (commas outside quotes) as the header's count times the number of lines:
    polars rejects rows with too many fields, so no row can be short (or blank) either.
    """
    header = _first_line_fields(data)
    if header is None or not any(header):
        return None  # the exact path words the problem
    positions = _column_positions(header, source)
    try:
        frame = pl.read_csv(
            data,
            has_header=True,
            infer_schema=False,
            empty_string_is_null=False,
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None  # ragged rows, bad UTF-8: the exact path finds the row
    separators = _separator_count(data)
    if frame.width != len(header) or separators != (len(header) - 1) * (frame.height + 1):
        return None
    strip = b" " in data or b"\t" in data
    columns = {}
    for name, position in positions.items():
        series = frame.to_series(position).fill_null("").alias(name)
        columns[name] = series.str.strip_chars() if strip else series
    return _Table(columns, frame.height, len(header))


def _first_line_fields(data: bytes) -> list[str] | None:
    """The stripped fields of the first line, or ``None`` if it is not UTF-8 or not whole."""
    end = data.find(b"\n")
    try:
        line = (data if end < 0 else data[:end]).decode("utf-8")
        return [name.strip() for name in next(csv.reader([line], strict=True), [])]
    except (UnicodeDecodeError, csv.Error):
        return None


def _separator_count(data: bytes) -> int | None:
    """Commas outside quotes; ``None`` when a quoted field holds a line break.

    A byte is inside quotes when an odd number of quote characters precede it (an escaped
    ``""`` counts twice, so it changes nothing); the running count only needs its parity,
    so it is kept in wrapping 8-bit integers.
    """
    if b'"' not in data:
        return data.count(b",")
    text = np.frombuffer(data, np.uint8)
    inside = np.cumsum(text == ord('"'), dtype=np.uint8) & np.uint8(1)
    if np.any((text == ord("\n")) & (inside == 1)):
        return None
    return int(np.count_nonzero((text == ord(",")) & (inside == 0)))


def _parse_exact(data: bytes, source: str) -> _Table:
    """Parse with :mod:`csv`, keeping each row's line; blank lines are skipped."""
    text = decode_utf8(data, source, ObservationsError)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous_line = 0
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            expected = ", ".join(REQUIRED_COLUMNS)
            raise ObservationsError(
                Problem(f"expected a header row with the columns {expected}", source, 1)
            )
        positions = _column_positions(header, source)
        values: dict[str, list[str]] = {name: [] for name in positions}
        wanted = list(positions.items())
        row_lines: list[int] = []
        field_counts: list[int] = []
        previous_line = reader.line_num
        for row in reader:
            if row:
                row_lines.append(previous_line + 1)
                field_counts.append(len(row))
                for name, position in wanted:
                    values[name].append(row[position] if position < len(row) else "")
            previous_line = reader.line_num
    except csv.Error as error:
        raise ObservationsError(
            Problem(f"expected a well-formed CSV row ({error})", source, previous_line + 1)
        ) from None
    columns = {
        name: pl.Series(name, column, dtype=pl.String).str.strip_chars()
        for name, column in values.items()
    }
    counts = np.array(field_counts, dtype=np.int64)
    return _Table(
        columns,
        len(row_lines),
        len(header),
        row_lines=np.array(row_lines, dtype=np.int64),
        field_counts=None if np.all(counts == len(header)) else counts,
    )


def _column_positions(header: list[str], source: str) -> dict[str, int]:
    """Known column name → its index, in the file's order; checks required columns."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name in KNOWN_COLUMNS:
            if name in positions:
                raise ObservationsError(
                    Problem(
                        "expected the column once in the header, found it twice", source, 1, name
                    )
                )
            positions[name] = index
    for name in REQUIRED_COLUMNS:
        if name not in positions:
            found = ", ".join(_shown(n) for n in header)
            raise ObservationsError(
                Problem(f"missing required column; the header has: {found}", source, 1, name)
            )
    return positions


# --------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class _Check:
    """Rows that fail one test, and how to word the failure of one of them."""

    field: str | None
    bad: BoolArray
    describe: Callable[[int], str]


def _validate(
    table: _Table, service_ids: frozenset[str], source: str, bounds: InstantBounds | None
) -> Observations:
    if table.height == 0:
        return Observations.empty()
    columns = table.columns
    checks: list[_Check] = []
    if table.field_counts is not None:
        counts, width = table.field_counts, table.header_width
        checks.append(
            _Check(
                None,
                counts != width,
                lambda row: f"expected {width} fields as in the header, found {counts[row]}",
            )
        )
    timestamp, timestamp_bad = parse_timestamps(columns["timestamp"])
    derived = _derive_columns(columns, service_ids)
    bad_rows_of: dict[str, tuple[BoolArray | None, Callable[[int], str]]] = {
        "timestamp": (timestamp_bad, _expected(columns["timestamp"], _TIMESTAMP_EXPECTED)),
        "service": (derived.service_bad, _service_problem(columns["service"], service_ids)),
        "status": (derived.status_bad, _expected(columns["status"], _STATUS_EXPECTED)),
        "error": (derived.error_bad, _expected(columns["error"], _ERROR_EXPECTED)),
        "latency_ms": (
            derived.latency_bad,
            _expected(columns.get("latency_ms"), _LATENCY_EXPECTED),
        ),
    }
    for name in columns:  # the file's column order decides which problem a row reports
        if name in bad_rows_of:
            bad, describe = bad_rows_of[name]
            if bad is not None:
                checks.append(_Check(name, bad, describe))
    if bounds is not None:
        outside = ~timestamp_bad & bounds.outside(timestamp)
        checks.append(_Check("timestamp", outside, lambda row: bounds.problem(int(timestamp[row]))))
    _raise_first_bad_row(checks, table, source)

    service_names, service_codes = _compact_codes(derived.service_code, sorted(service_ids))
    location_names, location_codes = _location_codes(columns.get("location"), table.height)
    if len(location_names) > MAX_LOCATIONS:
        raise ObservationsError(
            Problem(
                f"expected at most {MAX_LOCATIONS} distinct locations, found {len(location_names)}",
                source,
                field="location",
            )
        )
    return Observations(
        timestamp=timestamp,
        service=service_codes.astype(np.int32),
        location=location_codes.astype(np.int16),
        status=derived.status.astype(np.int16),
        error=derived.error.astype(np.int8),
        retry_after=derived.retry_after,
        services=tuple(service_names),
        locations=tuple(location_names),
    )


@dataclass(frozen=True)
class _Derived:
    """Codes and bad-row masks of every column but the timestamp."""

    service_code: NDArray[np.integer[Any]]
    service_bad: BoolArray
    status: NDArray[np.integer[Any]]
    status_bad: BoolArray
    error: NDArray[np.integer[Any]]
    error_bad: BoolArray
    latency_bad: BoolArray | None
    retry_after: BoolArray


def _derive_columns(columns: dict[str, pl.Series], service_ids: frozenset[str]) -> _Derived:
    """All columns but the timestamp, decoded and checked in one (parallel) polars select."""
    frame = pl.DataFrame(list(columns.values()))
    service = pl.col("service").cast(pl.Enum(sorted(service_ids)), strict=False)
    status_text = pl.col("status")
    status = status_text.str.to_integer(strict=False)
    status_empty = status_text.str.len_bytes() == 0
    status_bad = ~status_empty & (
        status.is_null() | (status_text.str.len_bytes() != 3) | ~status.is_between(100, 599)
    )
    error = pl.col("error").cast(pl.Enum(_ERROR_NAMES), strict=False)
    exprs = [
        service.to_physical().fill_null(0).alias("service_code"),
        service.is_null().alias("service_bad"),
        pl.when(status_empty).then(NO_STATUS).otherwise(status).fill_null(0).alias("status"),
        status_bad.fill_null(True).alias("status_bad"),
        error.to_physical().fill_null(0).alias("error"),
        error.is_null().alias("error_bad"),
    ]
    if "latency_ms" in columns:
        latency_text = pl.col("latency_ms")
        latency = latency_text.cast(pl.Float64, strict=False)
        latency_bad = (latency_text.str.len_bytes() > 0) & (
            latency.is_null() | ~latency.is_finite() | (latency < 0)
        )
        exprs.append(latency_bad.fill_null(True).alias("latency_bad"))
    if "retry_after" in columns:
        exprs.append((pl.col("retry_after").str.len_bytes() > 0).alias("retry_after"))
    derived = frame.select(exprs)
    arrays = {name: derived.get_column(name).to_numpy() for name in derived.columns}
    return _Derived(
        service_code=arrays["service_code"],
        service_bad=arrays["service_bad"],
        status=arrays["status"],
        status_bad=arrays["status_bad"],
        error=arrays["error"],
        error_bad=arrays["error_bad"],
        latency_bad=arrays.get("latency_bad"),
        retry_after=arrays.get("retry_after", np.zeros(frame.height, np.bool_)),
    )


def _raise_first_bad_row(checks: list[_Check], table: _Table, source: str) -> None:
    failing = [check for check in checks if check.bad.any()]
    if not failing:
        return
    first_row = min(int(np.argmax(check.bad)) for check in failing)
    bad_rows = np.zeros(table.height, np.bool_)
    for check in failing:
        bad_rows |= check.bad
    more = int(np.count_nonzero(bad_rows)) - 1
    check = next(check for check in failing if check.bad[first_row])
    message = check.describe(first_row)
    if more:
        message += f" (and {more} more bad row{'s' if more > 1 else ''})"
    raise ObservationsError(Problem(message, source, table.line_of(first_row), check.field))


def _expected(values: pl.Series | None, expectation: str) -> Callable[[int], str]:
    return lambda row: f"{expectation}, got {_shown('' if values is None else values[row])}"


def _service_problem(values: pl.Series, service_ids: frozenset[str]) -> Callable[[int], str]:
    known = ", ".join(sorted(service_ids)) if service_ids else "no services"
    return lambda row: f"unknown service {_shown(values[row])}; the contract has: {known}"


def _shown(value: str) -> str:
    """A value quoted for a one-line message, cut short when long."""
    if len(value) > _SHOWN_CHARS:
        value = value[: _SHOWN_CHARS - 1] + "…"
    return repr(value)


def _compact_codes(
    codes: NDArray[np.generic], names: list[str]
) -> tuple[list[str], NDArray[np.int64]]:
    """Drop the names no row uses and renumber the codes, keeping the names' order."""
    codes = codes.astype(np.int64)
    used = np.bincount(codes, minlength=len(names)) > 0
    renumber = np.cumsum(used) - 1
    return [name for name, keep in zip(names, used, strict=True) if keep], renumber[codes]


def _location_codes(values: pl.Series | None, height: int) -> tuple[list[str], NDArray[np.generic]]:
    if values is None:
        return [DEFAULT_LOCATION], np.zeros(height, np.int64)
    named = pl.select(
        pl.when(values.str.len_bytes() == 0).then(pl.lit(DEFAULT_LOCATION)).otherwise(values)
    ).to_series()
    names = sorted(named.unique().to_list())
    if len(names) > MAX_LOCATIONS:
        return names, np.zeros(height, np.int64)
    return names, named.cast(pl.Enum(names)).to_physical().to_numpy()


def write_observations(path: Path, observations: Observations) -> None:
    """Write ``observations`` as our CSV format, replacing ``path`` atomically.

    Columns: timestamp (UTC, ``Z``, ``.ffffff`` only when not a whole second), service,
    location, status, error, retry_after (``1`` when a Retry-After header came back);
    empty cells for no status, no error and no Retry-After.
    """
    instants = pl.Series(observations.timestamp, dtype=pl.Int64)
    frame = pl.DataFrame(
        {
            "instant": instants,
            "moment": instants.cast(pl.Datetime("us", "UTC")),
            "service": _names(observations.services, observations.service),
            "location": _names(observations.locations, observations.location),
            "status": pl.Series(observations.status, dtype=pl.Int16),
            "error": _names((None, *_ERROR_NAMES[1:]), observations.error),
            "retry_after": pl.Series(observations.retry_after, dtype=pl.Boolean),
        }
    )
    moment = pl.col("moment")
    written = frame.select(
        pl.when(pl.col("instant") % US_PER_SECOND == 0)
        .then(moment.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        .otherwise(moment.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
        .alias("timestamp"),
        "service",
        "location",
        pl.when(pl.col("status") != NO_STATUS).then(pl.col("status")).alias("status"),
        "error",
        pl.when(pl.col("retry_after")).then(pl.lit("1")).alias("retry_after"),
    )
    with atomic_writer(path, "wb") as file:
        written.write_csv(file)


def _names(table: tuple[str | None, ...], codes: NDArray[np.generic]) -> pl.Series:
    """The name of each code: a gather from the small name table."""
    if not table:
        return pl.Series([None] * len(codes), dtype=pl.String)
    return pl.Series(list(table), dtype=pl.String).gather(codes.astype(np.int64))
