"""Concise builders for engine tests: contracts, observations, events, and settled results.

Observations are written as rows ``(time, service, location, status, error, retry_after)``;
trailing fields may be left off (status 200, no error, no Retry-After). ``time`` is a minute
offset (``int``) or a :class:`~datetime.timedelta` from a base instant, an ISO 8601 string
(``Z`` or offset) or an aware :class:`~datetime.datetime`. ``status`` ``None`` means no
response; ``location`` ``""`` or ``None`` means ``default``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.observations import DEFAULT_LOCATION, ERROR_CODES, Observations
from slaledger.core.report import Report
from slaledger.core.settle import settle
from slaledger.core.timebase import US_PER_MINUTE, to_instant
from slaledger.core.windows import check_events

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"

TimeSpec = int | timedelta | str | datetime
Row = tuple[Any, ...]
"""``(time, service, location[, status[, error[, retry_after]]])``."""

OCTOBER = (2026, 10)


def instant(value: TimeSpec, base: int | None = None) -> int:
    """Microseconds since the epoch of ``value``; offsets count from ``base``."""
    if isinstance(value, str):
        return to_instant(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if isinstance(value, datetime):
        return to_instant(value)
    if base is None:
        raise ValueError(f"offset {value!r} needs a base instant")
    if isinstance(value, timedelta):
        return base + (value // timedelta(microseconds=1))
    return base + value * US_PER_MINUTE


def utc(text: str) -> datetime:
    """An aware UTC datetime from ISO text such as ``2026-10-05T10:00:00Z``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def load_example(name: str) -> Contract:
    """One of ``examples/contracts/*.yaml``."""
    return Contract.model_validate(YAML(typ="safe").load(EXAMPLES / f"{name}.yaml"))


def contract(data: dict[str, Any]) -> Contract:
    return Contract.model_validate(data)


def one_service_contract(
    downtime: dict[str, Any],
    *,
    service: str = "api",
    timezone: str = "UTC",
    target: str = "99.9",
    per_location: bool = False,
    credits: dict[str, Any] | None = None,
    **extra: Any,
) -> Contract:
    """A contract with one service, ``service``, settled by ``downtime``."""
    data: dict[str, Any] = {
        "contract": "test",
        "name": "Test contract",
        "timezone": timezone,
        "services": {
            service: {
                "name": service,
                "target": target,
                "per_location": per_location,
                "downtime": downtime,
                "maintenance": {"notice": "48h"},
                **extra,
            }
        },
    }
    if credits is not None:
        data["credits"] = credits
    return contract(data)


def observations(rows: Iterable[Row], *, base: TimeSpec = "2026-10-01T00:00:00Z") -> Observations:
    """Observations from rows (see the module docstring), name tables in order of appearance."""
    origin = instant(base)
    services: dict[str, int] = {}
    locations: dict[str, int] = {}
    columns: list[tuple[int, int, int, int, int, bool]] = []
    for row in rows:
        time, service, location, *rest = row
        status, error, retry_after = (*rest, *(200, None, False)[len(rest) :])
        columns.append(
            (
                instant(time, origin),
                services.setdefault(service, len(services)),
                locations.setdefault(location or DEFAULT_LOCATION, len(locations)),
                0 if status is None else int(status),
                ERROR_CODES[error] if error else 0,
                bool(retry_after),
            )
        )
    if not columns:
        return Observations.empty(tuple(services), tuple(locations))
    t, s, loc, st, err, ra = zip(*columns, strict=True)
    return Observations(
        timestamp=np.array(t, dtype=np.int64),
        service=np.array(s, dtype=np.int32),
        location=np.array(loc, dtype=np.int16),
        status=np.array(st, dtype=np.int16),
        error=np.array(err, dtype=np.int8),
        retry_after=np.array(ra, dtype=bool),
        services=tuple(services),
        locations=tuple(locations),
    )


def steady(
    service: str,
    locations: str | Sequence[str],
    start: str,
    minutes: int,
    *,
    down: Iterable[int] = (),
    skip: Iterable[int] = (),
    second: int = 0,
    down_status: int | None = 500,
    down_error: str | None = None,
) -> list[Row]:
    """One probe a minute at each location from ``start`` (at ``second`` past each minute).

    Minute offsets in ``down`` fail (``down_status``/``down_error``), those in ``skip`` have
    no probe; the rest answer 200.
    """
    first = utc(start)
    failing, missing = set(down), set(skip)
    names = [locations] if isinstance(locations, str) else list(locations)
    rows: list[Row] = []
    for offset in range(minutes):
        if offset in missing:
            continue
        when = first + timedelta(minutes=offset, seconds=second)
        for location in names:
            if offset in failing:
                rows.append((when, service, location, down_status, down_error))
            else:
                rows.append((when, service, location, 200))
    return rows


def maintenance(
    start: str,
    end: str,
    announced: str,
    *,
    services: str | list[str] = "*",
    location: str | None = None,
    title: str = "",
) -> dict[str, Any]:
    window: dict[str, Any] = {
        "services": services,
        "start": start,
        "end": end,
        "announced": announced,
        "title": title,
    }
    if location is not None:
        window["location"] = location
    return window


def exclusion(
    start: str,
    end: str,
    cause: str,
    *,
    services: str | list[str] = "*",
    location: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    window: dict[str, Any] = {
        "services": services,
        "start": start,
        "end": end,
        "cause": cause,
        "note": note,
    }
    if location is not None:
        window["location"] = location
    return window


def events(
    maintenance: Sequence[dict[str, Any]] = (), exclusions: Sequence[dict[str, Any]] = ()
) -> Events:
    return Events.model_validate({"maintenance": list(maintenance), "exclusions": list(exclusions)})


NO_EVENTS = Events()


def settle_rows(
    contract: Contract,
    rows: Iterable[Row] | Observations,
    event_set: Events = NO_EVENTS,
    month: tuple[int, int] = OCTOBER,
    *,
    at: TimeSpec | None = None,
) -> Report:
    """Settle ``rows`` for ``month``, after checking the events against the contract."""
    problems = check_events(contract, event_set)
    assert not problems, problems
    data = rows if isinstance(rows, Observations) else observations(rows)
    return settle(contract, data, event_set, month, at=None if at is None else instant(at))


def result(report: Report, service: str, location: str | None = None) -> dict[str, Any]:
    """One result of ``report`` in the JSON form (``period`` only when not the report's)."""
    found = [
        r.as_dict(report.period)
        for r in report.results
        if r.service == service and r.location == location
    ]
    assert len(found) == 1, f"{len(found)} results for {service}/{location}"
    return found[0]


def episode(start: str, end: str, counted: int, status: str, reason: str) -> dict[str, Any]:
    return {
        "start": start,
        "end": end,
        "counted_minutes": counted,
        "status": status,
        "reason": reason,
    }


def minute_result(
    service: str,
    rule: str,
    target: str,
    *,
    total: int,
    downtime: int,
    excluded: int,
    availability: str | None,
    met: bool | None,
    credit: int,
    probes: tuple[int, int, int],
    episodes: Sequence[dict[str, Any]] = (),
    location: str | None = None,
) -> dict[str, Any]:
    """The expected JSON of a minute-rule result, every field spelled out."""
    return {
        "service": service,
        "location": location,
        "rule": rule,
        "target": target,
        "total_minutes": total,
        "downtime_minutes": downtime,
        "excluded_minutes": excluded,
        "availability": availability,
        "met": met,
        "credit_percent": credit,
        "probes": {"up": probes[0], "down": probes[1], "excluded": probes[2]},
        "episodes": list(episodes),
    }


def ratio_result(
    service: str,
    target: str,
    *,
    availability: str | None,
    met: bool | None,
    credit: int,
    probes: tuple[int, int, int],
    location: str | None = None,
) -> dict[str, Any]:
    """The expected JSON of a probe-ratio result: no minute figures, no episodes."""
    return {
        "service": service,
        "location": location,
        "rule": "probe-ratio",
        "target": target,
        "total_minutes": None,
        "downtime_minutes": None,
        "excluded_minutes": None,
        "availability": availability,
        "met": met,
        "credit_percent": credit,
        "probes": {"up": probes[0], "down": probes[1], "excluded": probes[2]},
        "episodes": [],
    }


THREE_LOCATIONS: list[Row] = [
    # Service "api" on 2026-10-07 at three locations, for confirm tests.
    # fra down 10:00:00 .. 10:10:30
    ("2026-10-07T09:59:00Z", "api", "fra", 200),
    ("2026-10-07T10:00:00Z", "api", "fra", None, "timeout"),
    ("2026-10-07T10:10:30Z", "api", "fra", 200),
    # ams down 10:05:00 .. 10:20:00
    ("2026-10-07T10:04:00Z", "api", "ams", 200),
    ("2026-10-07T10:05:00Z", "api", "ams", 502),
    ("2026-10-07T10:20:00Z", "api", "ams", 200),
    # hel down 10:15:20 .. 10:25:00
    ("2026-10-07T10:15:00Z", "api", "hel", 200),
    ("2026-10-07T10:15:20Z", "api", "hel", None, "connect"),
    ("2026-10-07T10:25:00Z", "api", "hel", 200),
]
