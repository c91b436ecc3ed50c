"""StatusCake API v1 exports: ``/uptime/{id}/periods`` and ``/uptime/{id}/history`` JSON.

Which of the two a file is, is decided by its rows: periods have a ``status`` (``up`` or
``down``), history results a ``location``, ``status_code`` or ``performance``. Periods are a
state log, turned into observations by :mod:`.intervals_to_observations`; history results
are real probe results, one observation each.

Neither response names the check, so ``--service`` is required.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from slaledger.core.instant_bounds import InstantBounds
from slaledger.core.observations import NO_STATUS, Observations
from slaledger.errors import ObservationsError, Problem
from slaledger.files.imports.intervals_to_observations import (
    CONNECT,
    DOWN,
    UNKNOWN_END,
    UP,
    ImportRows,
    ImportTarget,
    StateEvents,
    build_observations,
    rows_from_states,
    state_rows,
)
from slaledger.files.imports.json_source import (
    JsonDocument,
    JsonPath,
    keys_found,
    pages,
    read_text,
    shown,
)
from slaledger.files.iso_instants import parse_timestamps

PERIOD_STATES = {"up": UP, "down": DOWN}
HISTORY_KEYS = ("location", "status_code", "performance")
US_PER_MS = 1_000
MAX_MS = 253_402_300_800_000
"""Milliseconds from the epoch to the year 10000: longer durations are errors."""

_INSTANT_EXPECTED = "expected an RFC 3339 instant like 2026-10-01T00:00:00Z"
_MISSING = object()
"""A key the row does not have."""
ABSENT, INVALID = -1, -2
""":func:`_integers` of a value that is absent or null, and of one that is not a count."""

BoolArray = NDArray[np.bool_]


def read_statuscake(path: Path, target: ImportTarget) -> Observations:
    """Observations from a StatusCake periods or history export, all for ``--service``."""
    document = JsonDocument.parse(str(path), read_text(path))
    if target.service is None:
        raise ObservationsError(
            Problem(
                "a StatusCake export does not name its check: give --service, one of: "
                + target.services_text(),
                document.source,
            )
        )
    columns = _Columns(document, pages(document, "data", "a StatusCake API v1 response"))
    if not columns.rows:
        return Observations.empty()
    first = columns.rows[0]
    if isinstance(first, dict) and "status" in first:
        return _periods(columns, target.service, target.location_name, target.bounds)
    if isinstance(first, dict) and any(key in first for key in HISTORY_KEYS):
        return _history(columns, target.service, target.location_name, target.bounds)
    found = keys_found(first) if isinstance(first, dict) else f"got {shown(first)}"
    return document.fail(
        columns.where(0),
        "expected an uptime period (created_at, status, ended_at, duration) or a history "
        f"result (created_at, location, status_code, performance); {found}",
    )


@dataclass(frozen=True)
class _Check:
    """Rows failing one test of one key, and how to word it for one row."""

    key: str | None
    bad: BoolArray
    describe: Callable[[int], str]


class _Columns:
    """The rows of every page, values of a key across them (``_MISSING`` where absent),
    and the checks whose first failure is reported."""

    def __init__(self, document: JsonDocument, lists: list[tuple[JsonPath, list[Any]]]) -> None:
        self.document = document
        self.lists = lists
        self.rows: list[Any] = list(chain.from_iterable(items for _, items in lists))
        self.starts = np.cumsum([0] + [len(items) for _, items in lists])
        not_object = np.fromiter((type(row) is not dict for row in self.rows), np.bool_)
        self.all_objects = not not_object.any()
        self.checks: list[_Check] = [
            _Check(None, not_object, lambda i: f"expected an object, got {shown(self.rows[i])}")
        ]

    def where(self, row: int) -> JsonPath:
        page = int(np.searchsorted(self.starts, row, side="right")) - 1
        return (*self.lists[page][0], row - int(self.starts[page]))

    def values(self, key: str) -> list[Any]:
        if self.all_objects:
            return [row.get(key, _MISSING) for row in self.rows]
        return [row.get(key, _MISSING) if type(row) is dict else None for row in self.rows]

    def check(self, key: str, bad: BoolArray, describe: Callable[[int], str]) -> None:
        self.checks.append(_Check(key, bad, describe))

    def instants(self, key: str, *, optional: bool) -> tuple[NDArray[np.int64], BoolArray]:
        """Instants of an RFC 3339 key, and where it has one (not absent, not null)."""
        values = self.values(key)
        instants, bad = parse_rfc3339([value if type(value) is str else "" for value in values])
        absent = np.fromiter((value is None or value is _MISSING for value in values), np.bool_)
        if optional:
            bad &= ~absent

        def describe(i: int) -> str:
            if values[i] is _MISSING:
                return f"missing; {_INSTANT_EXPECTED}"
            return f"{_INSTANT_EXPECTED}, got {shown(values[i])}"

        self.check(key, bad, describe)
        return instants, ~absent

    def check_bounds(
        self,
        key: str,
        instants: NDArray[np.int64],
        present: BoolArray,
        bounds: InstantBounds | None,
    ) -> None:
        """Each present instant of ``key`` within ``bounds``."""
        if bounds is not None:
            self.check(
                key,
                present & bounds.outside(instants),
                lambda i: bounds.problem(int(instants[i])),
            )

    def raise_first(self) -> None:
        """One problem at the first bad row in file order (its first bad key), if any."""
        failing = [check for check in self.checks if check.bad.any()]
        if not failing:
            return
        row = min(int(np.argmax(check.bad)) for check in failing)
        check = next(check for check in failing if check.bad[row])
        where = self.where(row)
        self.document.fail(where if check.key is None else (*where, check.key), check.describe(row))


def _integers(values: list[Any]) -> NDArray[np.int64]:
    """Each value if it is a whole number from 0 to ``MAX_MS``; -1 if absent or null; -2
    for anything else (a string, a fraction, a boolean, a negative number)."""
    return np.fromiter(
        (
            value
            if type(value) is int and 0 <= value < MAX_MS
            else (ABSENT if value is None or value is _MISSING else INVALID)
            for value in values
        ),
        np.int64,
        len(values),
    )


def parse_rfc3339(texts: list[str]) -> tuple[NDArray[np.int64], BoolArray]:
    """Microseconds of RFC 3339 instants; fractions beyond microseconds are cut off.

    Accepts what :func:`parse_timestamps` does, plus lowercase ``t``/``z``, a space between
    date and time, and 7 or more fractional digits (Go writes nanoseconds).
    """
    series = (
        pl.Series(texts, dtype=pl.String)
        .str.to_uppercase()
        .str.replace(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) ", "${1}T")
        .str.replace(r"(\.[0-9]{6})[0-9]+", "${1}")
    )
    return parse_timestamps(series)


# --------------------------------------------------------------------------------------
# Periods


def _periods(
    columns: _Columns, service: str, location: str, bounds: InstantBounds | None
) -> Observations:
    created, parsed = columns.instants("created_at", optional=False)
    columns.check_bounds("created_at", created, parsed, bounds)
    status = columns.values("status")
    state = np.fromiter(
        (PERIOD_STATES.get(value, 0) if type(value) is str else 0 for value in status),
        np.int8,
        len(status),
    )
    columns.check(
        "status",
        state == 0,
        lambda i: (
            "missing; expected up or down"
            if status[i] is _MISSING
            else f"expected up or down, got {shown(status[i])}"
        ),
    )
    ended, has_end = columns.instants("ended_at", optional=True)
    columns.check_bounds("ended_at", ended, has_end, bounds)
    columns.check(
        "ended_at",
        has_end & (ended < created),
        lambda i: (
            "expected an instant not before created_at, got " + shown(columns.values("ended_at")[i])
        ),
    )
    duration = columns.values("duration")
    lasts = _integers(duration)
    columns.check(
        "duration",
        lasts == INVALID,
        lambda i: f"expected whole milliseconds, 0 or more, got {shown(duration[i])}",
    )
    columns.raise_first()
    end = np.where(has_end, ended, np.where(lasts >= 0, created + lasts * US_PER_MS, UNKNOWN_END))
    events = StateEvents(
        stream=np.zeros(created.size, np.int64),
        time=created,
        end=end.astype(np.int64),
        state=state,
        status=np.full(created.size, NO_STATUS, np.int16),
    )
    rows = state_rows(events, ends_are_exact=True)
    return build_observations(
        rows_from_states(rows, np.zeros(1, np.int64), [service], location),
        columns.document.source,
    )


# --------------------------------------------------------------------------------------
# History


def _history(
    columns: _Columns, service: str, fallback_location: str, bounds: InstantBounds | None
) -> Observations:
    created, parsed = columns.instants("created_at", optional=False)
    columns.check_bounds("created_at", created, parsed, bounds)
    location = columns.values("location")
    columns.check(
        "location",
        np.fromiter(
            (not (value is None or value is _MISSING or type(value) is str) for value in location),
            np.bool_,
            len(location),
        ),
        lambda i: f"expected the location's name, got {shown(location[i])}",
    )
    codes = columns.values("status_code")
    code = _integers(codes)
    columns.check(
        "status_code",
        (code == INVALID) | ((code > 0) & ((code < 100) | (code > 599))),
        lambda i: f"expected an HTTP status code from 100 to 599, or 0, got {shown(codes[i])}",
    )
    columns.raise_first()
    status = np.where(code >= 100, code, NO_STATUS).astype(np.int16)
    names = (
        pl.Series([value if type(value) is str else None for value in location], dtype=pl.String)
        .str.strip_chars()
        .replace("", None)
        .fill_null(fallback_location)
    )
    table = sorted(names.unique().to_list())
    return build_observations(
        ImportRows(
            service=np.zeros(created.size, np.int64),
            location=names.cast(pl.Enum(table)).to_physical().to_numpy().astype(np.int64),
            timestamp=created,
            status=status,
            error=np.where(status == NO_STATUS, CONNECT, 0).astype(np.int8),
            retry_after=np.zeros(created.size, np.bool_),
            services=[service],
            locations=table,
        ),
        columns.document.source,
    )
