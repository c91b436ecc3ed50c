"""A deterministic month of example probe data for a contract: pure, seeded, no clock reads.

Every service is probed once a minute from each location of the contract's script, at a
fixed second of the minute per location and service plus sub-second jitter. Answers are
2xx with a sprinkle of 4xx (up), a fixed number of isolated single failures per service
(one location, one minute, away from anything scripted, so they never confirm or extend
an incident), and the scripted incidents of :mod:`slaledger.demo.scripts`. Probes of a
scripted incident start exactly on their location's second (plus 0.25 s), so durations
measured between them are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.observations import Observations
from slaledger.core.periods import Period, calendar_month
from slaledger.core.timebase import US_PER_MINUTE, US_PER_SECOND, ceil_minute, to_instant
from slaledger.demo.incidents import Clock, Failure, Incident, Scenario
from slaledger.demo.scripts import scenario_for

LOCATION_SECOND = {"fra": 5, "ext-lon": 11, "ams": 17, "lon": 29, "hel": 41}
"""Second of the minute at which a location starts its probes; others follow the index."""

SERVICE_STAGGER = 3
"""Seconds between the probes of consecutive services at one location."""

PINNED_US = 250_000
"""Offset after its second at which a scripted probe starts."""

OK = 200
FOUR_XX = np.array([400, 401, 404, 429], dtype=np.int16)
FOUR_XX_RATE = 0.002

NOISE_FAILURES = (
    Failure(status=500),
    Failure(status=502),
    Failure(status=504),
    Failure(error="timeout"),
    Failure(error="connect"),
)
NOISE_MARGIN = 15
"""Minutes kept free of noise around each scripted incident and event window."""


@dataclass(frozen=True)
class DemoData:
    """A generated month: observations, the events file's content and what was scripted."""

    observations: Observations
    events: Events
    incidents: tuple[str, ...]


def demo_month(contract: Contract, year: int, month: int, seed: int = 7) -> DemoData:
    """The scripted month ``year``-``month`` of ``contract``; same seed, same arrays."""
    period = calendar_month(year, month, contract.zone)
    scenario = scenario_for(contract, Clock(period.start))
    grid = _Grid(tuple(contract.services), scenario.locations, period)
    rng = np.random.default_rng(seed)
    columns = grid.baseline(rng)
    for s, service in enumerate(grid.services):
        count = scenario.noise.get(service, 0)
        if count:
            quiet = _quiet_minutes(grid, scenario, service)
            _add_noise(columns, grid, s, quiet, count=count, rng=rng)
    extra = [part for incident in scenario.incidents for part in _apply(columns, grid, incident)]
    incidents = sorted(scenario.incidents, key=lambda i: (i.start, i.service))
    return DemoData(
        observations=_assemble(grid, [columns, *extra]),
        events=scenario.events,
        incidents=tuple(incident.describe() for incident in incidents),
    )


@dataclass
class _Columns:
    timestamp: NDArray[np.int64]
    service: NDArray[np.int32]
    location: NDArray[np.int16]
    status: NDArray[np.int16]
    error: NDArray[np.int8]
    retry_after: NDArray[np.bool_]

    @classmethod
    def filled(
        cls, timestamp: NDArray[np.int64], service: int, location: int, failure: Failure
    ) -> _Columns:
        size = timestamp.size
        return cls(
            timestamp=timestamp,
            service=np.full(size, service, np.int32),
            location=np.full(size, location, np.int16),
            status=np.full(size, failure.status, np.int16),
            error=np.full(size, failure.error_code, np.int8),
            retry_after=np.full(size, failure.retry_after, bool),
        )

    def fail(self, rows: NDArray[np.intp], failure: Failure) -> None:
        self.status[rows] = failure.status
        self.error[rows] = failure.error_code
        self.retry_after[rows] = failure.retry_after


@dataclass(frozen=True)
class _Grid:
    """One scheduled probe per service, location and minute; row = (s·L + l)·M + minute."""

    services: tuple[str, ...]
    locations: tuple[str, ...]
    period: Period

    @property
    def first(self) -> int:
        return ceil_minute(self.period.start)

    @property
    def minutes(self) -> int:
        return self.period.minutes

    def second(self, s: int, loc: int) -> int:
        base = LOCATION_SECOND.get(self.locations[loc], 7 + 13 * loc)
        return (base + SERVICE_STAGGER * s) % 58

    def row(self, s: int, loc: int, minute: int) -> int:
        return (s * len(self.locations) + loc) * self.minutes + minute

    def minute_of(self, instant: int) -> int:
        return (instant - self.first) // US_PER_MINUTE

    def baseline(self, rng: np.random.Generator) -> _Columns:
        """All scheduled probes answered 200, with jitter and the sprinkle of 4xx."""
        blocks = len(self.services) * len(self.locations)
        seconds = np.array(
            [
                self.second(s, loc)
                for s in range(len(self.services))
                for loc in range(len(self.locations))
            ],
            dtype=np.int64,
        )
        block = np.repeat(np.arange(blocks, dtype=np.int64), self.minutes)
        minute = np.tile(np.arange(self.minutes, dtype=np.int64), blocks)
        size = block.size
        timestamp = self.first + minute * US_PER_MINUTE + seconds[block] * US_PER_SECOND
        timestamp += rng.integers(0, US_PER_SECOND, size=size, dtype=np.int64)
        status = np.full(size, OK, np.int16)
        invalid = rng.random(size) < FOUR_XX_RATE
        status[invalid] = rng.choice(FOUR_XX, size=int(invalid.sum()))
        return _Columns(
            timestamp=timestamp,
            service=(block // len(self.locations)).astype(np.int32),
            location=(block % len(self.locations)).astype(np.int16),
            status=status,
            error=np.zeros(size, np.int8),
            retry_after=np.zeros(size, bool),
        )


def _quiet_minutes(grid: _Grid, scenario: Scenario, service: str) -> NDArray[np.intp]:
    """Minutes of ``service`` far from its incidents and from any window naming it."""
    busy = np.zeros(grid.minutes, bool)
    spans = [(i.start, i.end) for i in scenario.incidents if i.service == service]
    windows = (*scenario.events.maintenance, *scenario.events.exclusions)
    spans += [(to_instant(w.start), to_instant(w.end)) for w in windows if w.names(service)]
    for start, end in spans:
        low = max(0, grid.minute_of(start) - NOISE_MARGIN)
        high = min(grid.minutes, grid.minute_of(end - 1) + 1 + NOISE_MARGIN)
        if low < high:
            busy[low:high] = True
    return np.flatnonzero(~busy)


def _add_noise(
    columns: _Columns,
    grid: _Grid,
    s: int,
    quiet: NDArray[np.intp],
    *,
    count: int,
    rng: np.random.Generator,
) -> None:
    """``count`` single failures of service ``s``: distinct minutes, one location each."""
    minutes = np.sort(rng.choice(quiet, size=min(count, quiet.size), replace=False))
    locations = rng.integers(0, len(grid.locations), size=minutes.size)
    kinds = rng.integers(0, len(NOISE_FAILURES), size=minutes.size)
    rows = (s * len(grid.locations) + locations) * grid.minutes + minutes
    for kind, failure in enumerate(NOISE_FAILURES):
        columns.fail(rows[kinds == kind], failure)


def _apply(columns: _Columns, grid: _Grid, incident: Incident) -> list[_Columns]:
    """Fail the incident's scheduled probes; return its re-check probes as extra rows."""
    s = grid.services.index(incident.service)
    first = grid.minute_of(incident.start)
    minutes = np.arange(max(first, 0), min(first + incident.probes, grid.minutes), dtype=np.intp)
    extra: list[_Columns] = []
    for location in incident.locations:
        loc = grid.locations.index(location)
        rows = grid.row(s, loc, 0) + minutes
        pinned = grid.first + minutes.astype(np.int64) * US_PER_MINUTE
        pinned += grid.second(s, loc) * US_PER_SECOND + PINNED_US
        columns.timestamp[rows] = pinned
        columns.fail(rows, incident.failure)
        if incident.recheck is not None and minutes.size:
            rechecks = _Columns.filled(
                pinned + incident.recheck * US_PER_SECOND, s, loc, incident.failure
            )
            rechecks.fail(np.array([minutes.size - 1], np.intp), Failure(status=OK))
            extra.append(rechecks)
    return extra


def _assemble(grid: _Grid, flat: list[_Columns]) -> Observations:
    """All rows in time order (then service, location), as :class:`Observations`."""
    timestamp = np.concatenate([p.timestamp for p in flat])
    service = np.concatenate([p.service for p in flat])
    location = np.concatenate([p.location for p in flat])
    order = np.lexsort((location, service, timestamp))
    return Observations(
        timestamp=timestamp[order],
        service=service[order],
        location=location[order],
        status=np.concatenate([p.status for p in flat])[order],
        error=np.concatenate([p.error for p in flat])[order],
        retry_after=np.concatenate([p.retry_after for p in flat])[order],
        services=grid.services,
        locations=grid.locations,
    )
