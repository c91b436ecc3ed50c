"""UptimeRobot exports: the API v2 ``getMonitors`` JSON with ``logs=1``, and the dashboard CSV.

Both are state logs (a monitor went down, came up, was paused), turned into observations by
:mod:`.intervals_to_observations`. Which of the two a file is, is decided by its content: a
file starting with ``{`` or ``[`` is the JSON.
"""

from __future__ import annotations

import csv
import http
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from slaledger.core.observations import NO_STATUS, Observations
from slaledger.core.timebase import US_PER_MINUTE, US_PER_SECOND, to_instant
from slaledger.errors import ObservationsError, Problem, UsageError
from slaledger.files.imports.intervals_to_observations import (
    DOWN,
    NO_DATA,
    UNKNOWN_END,
    UP,
    ImportedFile,
    ImportTarget,
    StateEvents,
    build_observations,
    map_monitors,
    rows_from_states,
    state_rows,
)
from slaledger.files.imports.json_source import (
    JsonDocument,
    JsonPath,
    keys_found,
    looks_like_json,
    pages,
    read_text,
    shown,
)

LOG_TYPES = {1: DOWN, 2: UP, 98: NO_DATA, 99: NO_DATA}
"""API log ``type``: 1 down, 2 up, 98 started (not checked yet), 99 paused."""

CSV_EVENTS = {"down": DOWN, "up": UP, "started": NO_DATA, "paused": NO_DATA}
"""Dashboard CSV ``Event`` values (any letter case)."""

MAX_SECONDS = 253_402_300_800
"""Seconds from the epoch to the year 10000: later instants and longer durations are errors."""

_HTTP_PHRASES = {status.phrase.lower(): status.value for status in http.HTTPStatus}
_LEADING_STATUS = re.compile(r"^([1-5][0-9]{2})(?![0-9])")


def read_uptimerobot(path: Path, target: ImportTarget, timezone: str | None) -> ImportedFile:
    """Observations from an UptimeRobot export; ``timezone`` is needed by the CSV only."""
    source = str(path)
    text = read_text(path)
    if looks_like_json(text):
        return _read_api(JsonDocument.parse(source, text), target)
    return _read_dashboard_csv(source, text, target, timezone)


@dataclass
class _Events:
    """Events being collected, one stream per monitor."""

    stream: list[int] = field(default_factory=list)
    time: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    state: list[int] = field(default_factory=list)
    status: list[int] = field(default_factory=list)

    def add(self, stream: int, time: int, end: int, state: int, status: int) -> None:
        self.stream.append(stream)
        self.time.append(time)
        self.end.append(end)
        self.state.append(state)
        self.status.append(status)

    def observations(
        self,
        stream_service: Sequence[str],
        target: ImportTarget,
        source: str,
        *,
        ends_are_exact: bool,
    ) -> Observations:
        if not self.time:
            return Observations.empty()
        events = StateEvents(
            stream=np.array(self.stream, np.int64),
            time=np.array(self.time, np.int64),
            end=np.array(self.end, np.int64),
            state=np.array(self.state, np.int8),
            status=np.array(self.status, np.int16),
        )
        service_ids = list(target.contract.services)
        codes = np.array([service_ids.index(s) for s in stream_service], np.int64)
        rows = state_rows(events, ends_are_exact=ends_are_exact)
        return build_observations(
            rows_from_states(rows, codes, service_ids, target.location_name), source
        )


# --------------------------------------------------------------------------------------
# API v2 getMonitors JSON


def _read_api(document: JsonDocument, target: ImportTarget) -> ImportedFile:
    value = document.value
    if isinstance(value, dict) and value.get("stat") == "fail":
        error = value.get("error")
        detail = error.get("message") if isinstance(error, dict) else None
        document.fail(("stat",), f"the API answered 'fail'{f': {detail}' if detail else ''}")
    monitors: list[tuple[JsonPath, dict[str, Any]]] = []
    for where, items in pages(document, "monitors", "an UptimeRobot getMonitors response"):
        for index, monitor in enumerate(items):
            at = (*where, index)
            if not isinstance(monitor, dict):
                document.fail(at, f"expected a monitor object, got {shown(monitor)}")
            monitors.append((at, monitor))
    names = [_monitor_name(document, at, monitor) for at, monitor in monitors]
    services = map_monitors(
        target,
        names,
        lambda index, message: document.fail((*monitors[index][0], "friendly_name"), message),
    )
    kept = [pair for pair, service in zip(monitors, services, strict=True) if service]
    events = _Events()
    for stream, (at, monitor) in enumerate(kept):
        logs = monitor.get("logs")
        if "logs" not in monitor:
            document.fail(
                (*at, "logs"), f"missing; request getMonitors with logs=1; {keys_found(monitor)}"
            )
        if not isinstance(logs, list):
            document.fail((*at, "logs"), f"expected a list of logs, got {shown(logs)}")
        for index, log in enumerate(logs):
            _add_log(document, (*at, "logs", index), log, stream, events)
            problem = target.instant_problem(events.time[-1], events.end[-1])
            if problem is not None:
                document.fail((*at, "logs", index, "datetime"), problem)
    observations = events.observations(
        [service for service in services if service], target, document.source, ends_are_exact=True
    )
    return ImportedFile(observations, _skipped(names, services))


def _skipped(monitors: Sequence[str], services: Sequence[str | None]) -> tuple[str, ...]:
    """The monitors ``--skip-unmapped`` left out, each once, in file order."""
    return tuple(dict.fromkeys(m for m, s in zip(monitors, services, strict=True) if s is None))


def _monitor_name(document: JsonDocument, at: JsonPath, monitor: dict[str, Any]) -> str:
    name = monitor.get("friendly_name")
    if not isinstance(name, str) or not name.strip():
        where = (*at, "friendly_name") if "friendly_name" in monitor else at
        found = f"got {shown(name)}" if "friendly_name" in monitor else keys_found(monitor)
        document.fail(where, f"expected the monitor's friendly_name, a non-empty string; {found}")
    return name.strip()


def _add_log(document: JsonDocument, at: JsonPath, log: Any, stream: int, events: _Events) -> None:
    if not isinstance(log, dict):
        document.fail(
            at, f"expected a log object with type, datetime and duration, got {shown(log)}"
        )

    def require(key: str) -> Any:
        if key not in log:
            document.fail((*at, key), f"missing; {keys_found(log)}")
        return log[key]

    kind = require("type")
    if not _is_int(kind) or kind not in LOG_TYPES:
        document.fail(
            (*at, "type"),
            f"expected 1 (down), 2 (up), 98 (started) or 99 (paused), got {shown(kind)}",
        )
    moment = require("datetime")
    if not _is_int(moment) or not 0 <= moment < MAX_SECONDS:
        document.fail(
            (*at, "datetime"), f"expected Unix time in whole seconds, got {shown(moment)}"
        )
    start = moment * US_PER_SECOND
    duration = log.get("duration")
    end = UNKNOWN_END
    if duration is not None:
        if not _is_int(duration) or not 0 <= duration < MAX_SECONDS:
            document.fail(
                (*at, "duration"), f"expected whole seconds, 0 or more, got {shown(duration)}"
            )
        end = start + duration * US_PER_SECOND
    events.add(stream, start, end, LOG_TYPES[kind], _reason_status(document, at, log))


def _reason_status(document: JsonDocument, at: JsonPath, log: dict[str, Any]) -> int:
    """The HTTP status in ``reason.code`` (``"503"`` or ``503``), else ``NO_STATUS``."""
    reason = log.get("reason")
    if reason is None:
        return NO_STATUS
    if not isinstance(reason, dict):
        document.fail(
            (*at, "reason"), f"expected an object with code and detail, got {shown(reason)}"
        )
    code = reason.get("code")
    if isinstance(code, str) and re.fullmatch(r" *[0-9]{3} *", code):
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
        return code
    return NO_STATUS


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------
# Dashboard CSV

_EVENT, _MONITOR, _DATE_TIME, _REASON = "Event", "Monitor", "Date-Time", "Reason"
_MINUTES, _DURATION = "Duration (in mins.)", "Duration"
_LOCAL_TIME = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?$"
)
_DURATION_PART = re.compile(
    r"^([0-9]+) *(days?|hrs?|hours?|mins?|minutes?|secs?|seconds?)$", re.IGNORECASE
)
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_LOCAL_EXPECTED = "expected a local date and time like 2026-10-09 10:15:05 (no offset)"
_DURATION_EXPECTED = "expected minutes like 12, or a duration like '1 hrs, 2 mins'"


def _read_dashboard_csv(
    source: str, text: str, target: ImportTarget, timezone: str | None
) -> ImportedFile:
    if timezone is None:
        raise ObservationsError(
            Problem(
                "the UptimeRobot dashboard CSV has local times without an offset: give "
                "--timezone, the account's time zone (e.g. Europe/Berlin, or UTC)",
                source,
                1,
                _DATE_TIME,
            )
        )
    zone = _zone(timezone)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous_line = 0

    def fail(line: int, column: str | None, message: str) -> NoReturn:
        raise ObservationsError(Problem(message, source, line, column))

    try:
        header = [name.strip() for name in next(reader, [])]
        columns = _columns(header, lambda message: fail(1, None, message))
        previous_line = reader.line_num
        rows: list[tuple[int, list[str]]] = []
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append((previous_line + 1, row))
            previous_line = reader.line_num
    except csv.Error as error:
        fail(previous_line + 1, None, f"expected a well-formed CSV row ({error})")

    for line, row in rows:
        if len(row) != len(header):
            fail(line, None, f"expected {len(header)} fields as in the header, found {len(row)}")
    monitors = [row[columns[_MONITOR]].strip() for _, row in rows]
    for (line, _), monitor in zip(rows, monitors, strict=True):
        if not monitor:
            fail(line, _MONITOR, "expected the monitor's name, got ''")
    services = map_monitors(
        target, monitors, lambda index, message: fail(rows[index][0], _MONITOR, message)
    )
    kept = [service for service in dict.fromkeys(services) if service is not None]
    stream_of = {service: index for index, service in enumerate(kept)}
    events = _Events()
    for (line, row), service in zip(rows, services, strict=True):
        if service is None:
            continue
        cells = {name: row[position].strip() for name, position in columns.items()}
        state = CSV_EVENTS.get(cells[_EVENT].lower())
        if state is None:
            fail(line, _EVENT, f"expected Up, Down, Started or Paused, got {cells[_EVENT]!r}")

        def fail_time(message: str, line: int = line) -> NoReturn:
            fail(line, _DATE_TIME, message)

        start = _local_instant(cells[_DATE_TIME], zone, timezone, fail_time)
        duration_column = _MINUTES if _MINUTES in columns else _DURATION
        seconds = _duration_seconds(cells[duration_column])
        if seconds is None:
            fail(line, duration_column, f"{_DURATION_EXPECTED}, got {cells[duration_column]!r}")
        end = UNKNOWN_END if seconds < 0 else start + seconds * US_PER_SECOND
        problem = target.instant_problem(start, end)
        if problem is not None:
            fail(line, _DATE_TIME, problem)
        status = _phrase_status(cells.get(_REASON, ""))
        events.add(stream_of[service], start, end, state, status)
    observations = events.observations(kept, target, source, ends_are_exact=False)
    return ImportedFile(observations, _skipped(monitors, services))


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            Problem(
                f"expected an IANA time zone like UTC or Europe/Berlin, got {timezone!r}",
                field="--timezone",
            )
        ) from None


def _columns(header: list[str], fail: Callable[[str], NoReturn]) -> dict[str, int]:
    """Known column → position; names matched without regard to letter case."""
    wanted = (_EVENT, _MONITOR, _DATE_TIME, _REASON, _MINUTES, _DURATION)
    by_folded = {name.lower(): name for name in wanted}
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        known = by_folded.get(name.lower())
        if known is not None:
            if known in columns:
                fail(f"{known}: expected the column once in the header, found it twice")
            columns[known] = position
    missing = [name for name in (_EVENT, _MONITOR, _DATE_TIME) if name not in columns]
    if _MINUTES not in columns and _DURATION not in columns:
        missing.append(_MINUTES)
    if missing:
        found = ", ".join(repr(name) for name in header)
        fail(
            f"expected an UptimeRobot logs export with the columns Event, Monitor, Date-Time "
            f"and Duration (in mins.); missing {', '.join(missing)}; the header has: {found}"
        )
    return columns


def _local_instant(
    text: str, zone: ZoneInfo, zone_name: str, fail: Callable[[str], NoReturn]
) -> int:
    """Microseconds since the epoch of a wall-clock time in ``zone``.

    A time the clocks skipped, or one they showed twice (when they went back), cannot be
    placed: the file was then not written in ``zone``, or the hour is ambiguous.
    """
    match = _LOCAL_TIME.match(text)
    if match is None:
        fail(f"{_LOCAL_EXPECTED}, got {text!r}")
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        wall = datetime(year, month, day, hour, minute, second)
    except ValueError:
        fail(f"{_LOCAL_EXPECTED}, got {text!r}: no such date or time")
    first, second_reading = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second_reading.utcoffset():
        back = first.astimezone(UTC).astimezone(zone)
        if back.replace(tzinfo=None) != wall:
            fail(
                f"{text!r} does not exist in {zone_name} (the clocks skipped it); "
                "is --timezone the account's time zone?"
            )
        fail(
            f"{text!r} happened twice in {zone_name} (the clocks went back); set the account's "
            "time zone to UTC, export again and import with --timezone UTC"
        )
    return to_instant(first)


def _duration_seconds(text: str) -> int | None:
    """Seconds of ``12`` (minutes) or ``1 hrs, 2 mins``; -1 when empty; ``None`` when bad."""
    if not text:
        return -1
    if text.isdigit():
        return int(text) * (US_PER_MINUTE // US_PER_SECOND)
    total, seen = 0, set()
    for part in text.split(","):
        match = _DURATION_PART.match(part.strip())
        if match is None:
            return None
        unit = match.group(2)[0].lower()
        if unit in seen:
            return None
        seen.add(unit)
        total += int(match.group(1)) * _UNIT_SECONDS[unit]
    return total


def _phrase_status(reason: str) -> int:
    """The HTTP status a ``Reason`` names: ``503 Service Unavailable`` or ``Not Found``."""
    match = _LEADING_STATUS.match(reason)
    if match is not None:
        return int(match.group(1))
    return _HTTP_PHRASES.get(reason.lower(), NO_STATUS)
