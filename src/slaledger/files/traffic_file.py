"""Hourly traffic counts CSV (``hour,service,requests``) for ``maintenance suggest``.

``hour`` is the start of a UTC hour, ISO 8601 with ``Z`` or an offset
(``2026-10-12T03:00:00Z``, ``2026-10-12T05:00:00+02:00``); ``requests`` a whole number of
requests in that hour. Extra columns are ignored; every bad row is an error naming its
line and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from pathlib import Path

from slaledger.core.timebase import US_PER_HOUR, parse_typed_instant
from slaledger.errors import Problem, UserError
from slaledger.files.atomic import decode_utf8, read_input

COLUMNS = ("hour", "service", "requests")
Traffic = dict[str, dict[int, int]]
"""Service → start of the hour (µs) → requests in it."""


class TrafficError(UserError):
    """A traffic counts file is invalid."""


def read_traffic(path: Path, service_ids: Collection[str]) -> Traffic:
    """The counts in ``path``, by service and hour; each service must be in ``service_ids``."""
    source = str(path)
    text = decode_utf8(read_input(path, TrafficError), source, TrafficError).removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    traffic: Traffic = {}
    seen: dict[tuple[str, int], int] = {}
    known = ", ".join(sorted(service_ids)) or "no services"
    try:
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            found = ", ".join(repr(n) for n in header if n) or "nothing"
            raise TrafficError(
                Problem(f"missing required column; the header has: {found}", source, 1, missing[0])
            )
        at = {name: header.index(name) for name in COLUMNS}
        line = reader.line_num
        for row in reader:
            first, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(header):
                raise TrafficError(
                    Problem(
                        f"expected {len(header)} fields as in the header, found {len(row)}",
                        source,
                        first,
                    )
                )
            hour_text, service, count_text = (row[at[name]].strip() for name in COLUMNS)
            hour = _hour(hour_text, source, first)
            if service not in service_ids:
                raise TrafficError(
                    Problem(
                        f"unknown service {service!r}; the contract has: {known}",
                        source,
                        first,
                        "service",
                    )
                )
            if not count_text.isascii() or not count_text.isdigit():
                raise TrafficError(
                    Problem(
                        f"expected a whole number of requests (0 or more), got {count_text!r}",
                        source,
                        first,
                        "requests",
                    )
                )
            if (service, hour) in seen:
                raise TrafficError(
                    Problem(
                        f"this hour of {service} is already given on line {seen[service, hour]}",
                        source,
                        first,
                        "hour",
                    )
                )
            seen[service, hour] = first
            traffic.setdefault(service, {})[hour] = int(count_text)
    except csv.Error as error:
        raise TrafficError(
            Problem(f"expected a well-formed CSV row ({error})", source, reader.line_num)
        ) from None
    return traffic


def _hour(text: str, source: str, line: int) -> int:
    expected = "expected the start of a UTC hour in ISO 8601 with Z or an offset"
    instant = parse_typed_instant(text) if "T" in text else None
    if instant is None:
        raise TrafficError(
            Problem(f"{expected}, e.g. 2026-10-12T03:00:00Z, got {text!r}", source, line, "hour")
        )
    if instant % US_PER_HOUR:
        raise TrafficError(
            Problem(f"{expected} (minutes and seconds zero), got {text!r}", source, line, "hour")
        )
    return instant
