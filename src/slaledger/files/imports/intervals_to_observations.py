"""From a monitor's state changes (up, down, no data) to observations the rules settle exactly.

A state log says "down from 10:15:05 for 7 minutes", not "this probe failed". Each interval
becomes:

- one observation at its start, the exact instant of the state change, so
  ``first-fail-to-first-success`` gets exact boundaries; and
- one observation at the start of every minute bucket that begins inside it, so the minute
  rules see the state continuously (a bucket with no observation would break a run).

No-data intervals (paused, not yet checked) produce nothing. Everything is whole-array work:
a month of one monitor is 44,640 rows.

Also here: turning import rows into :class:`Observations` in a fixed order without duplicates,
and finding the contract service a monitor stands for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from slaledger.core.contract import Contract
from slaledger.core.instant_bounds import InstantBounds
from slaledger.core.observations import DEFAULT_LOCATION, ERROR_CODES, NO_STATUS, Observations
from slaledger.core.timebase import US_PER_MINUTE
from slaledger.errors import ObservationsError, Problem, UsageError

NO_DATA, UP, DOWN = 0, 1, 2
"""Monitor states of an event."""

UNKNOWN_END = -1
"""End of an event whose length is not given: it lasts until the next event."""

CONNECT = ERROR_CODES["connect"]
MAX_LOCATIONS = int(np.iinfo(np.int16).max)

_TIE_RANK = np.array([0, 1, 2], dtype=np.int8)
"""Of two events at one instant the one that lasted longer wins; equal, down > up > no data."""


@dataclass(frozen=True)
class StateEvents:
    """State changes of one or more monitors (``stream``), in any order.

    ``end`` is where the event's state stops (``UNKNOWN_END``: at the next event). ``status``
    is an HTTP status to put on down observations, or ``NO_STATUS``.
    """

    stream: NDArray[np.int64]
    time: NDArray[np.int64]
    end: NDArray[np.int64]
    state: NDArray[np.int8]
    status: NDArray[np.int16]


@dataclass(frozen=True)
class ObservationRows:
    """Rows derived from state intervals: stream, instant, down or up, status for down rows."""

    stream: NDArray[np.int64]
    timestamp: NDArray[np.int64]
    down: NDArray[np.bool_]
    status: NDArray[np.int16]


def state_rows(events: StateEvents, *, ends_are_exact: bool = True) -> ObservationRows:
    """Observation rows of every up and down interval the events describe.

    Per stream, events are ordered by time; an event lasts until its ``end`` but never past
    the next event, and one with an unknown end lasts until the next event (the last one:
    only its instant is known). With ``ends_are_exact`` false (durations rounded to whole
    minutes), an event with a successor lasts exactly until it.
    """
    stream, start, end, state, status = _resolve(events, ends_are_exact=ends_are_exact)
    keep = state != NO_DATA
    stream, start, end, state, status = (
        stream[keep],
        start[keep],
        end[keep],
        state[keep],
        status[keep],
    )
    first_bucket = start - start % US_PER_MINUTE + US_PER_MINUTE
    buckets = np.maximum(0, (end - first_bucket + US_PER_MINUTE - 1) // US_PER_MINUTE)
    per_interval = buckets + 1
    total = int(per_interval.sum())
    interval = np.repeat(np.arange(start.size), per_interval)
    first_row = np.cumsum(per_interval) - per_interval
    offset = np.arange(total, dtype=np.int64) - first_row[interval]
    timestamp = np.where(
        offset == 0, start[interval], first_bucket[interval] + (offset - 1) * US_PER_MINUTE
    )
    down = state[interval] == DOWN
    return ObservationRows(
        stream=stream[interval],
        timestamp=timestamp.astype(np.int64),
        down=down,
        status=np.where(down, status[interval], NO_STATUS).astype(np.int16),
    )


def _resolve(
    events: StateEvents, *, ends_are_exact: bool
) -> tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int8], NDArray[np.int16]
]:
    """Intervals ``(stream, start, end, state, status)``: one per instant of each stream."""
    order = np.lexsort((_TIE_RANK[events.state], events.end, events.time, events.stream))
    stream, time, end, state, status = (
        events.stream[order],
        events.time[order],
        events.end[order],
        events.state[order],
        events.status[order],
    )
    size = time.size
    last_at_instant = np.ones(size, np.bool_)
    last_at_instant[:-1] = (stream[1:] != stream[:-1]) | (time[1:] != time[:-1])
    stream, time, end, state, status = (
        stream[last_at_instant],
        time[last_at_instant],
        end[last_at_instant],
        state[last_at_instant],
        status[last_at_instant],
    )
    size = time.size
    has_next = np.zeros(size, np.bool_)
    has_next[:-1] = stream[1:] == stream[:-1]
    next_time = np.empty(size, np.int64)
    next_time[:-1] = time[1:]
    next_time[-1:] = time[-1:]
    known = end != UNKNOWN_END
    if ends_are_exact:
        stop = np.where(known, end, np.where(has_next, next_time, time))
        stop = np.where(has_next, np.minimum(stop, next_time), stop)
    else:
        stop = np.where(has_next, next_time, np.where(known, end, time))
    return stream, time, stop, state, status


# --------------------------------------------------------------------------------------
# Assembling observations


@dataclass(frozen=True)
class ImportRows:
    """Observations before name tables are fixed: services and locations by table index."""

    service: NDArray[np.int64]
    location: NDArray[np.int64]
    timestamp: NDArray[np.int64]
    status: NDArray[np.int16]
    error: NDArray[np.int8]
    retry_after: NDArray[np.bool_]
    services: Sequence[str]
    locations: Sequence[str]


def build_observations(rows: ImportRows, source: str) -> Observations:
    """Observations sorted by (service, location, time), one per (service, location, instant).

    Name tables are the names used, sorted. Of rows at the same instant the failing one is
    kept: an error first, then the higher status, then one without Retry-After.
    """
    service_names, service = _used_names(rows.services, rows.service)
    location_names, location = _used_names(rows.locations, rows.location)
    if len(location_names) > MAX_LOCATIONS:
        raise ObservationsError(
            Problem(
                f"expected at most {MAX_LOCATIONS} distinct locations, found {len(location_names)}",
                source,
                field="location",
            )
        )
    order = np.lexsort(
        (
            rows.retry_after,
            -rows.status.astype(np.int32),
            -rows.error.astype(np.int32),
            rows.timestamp,
            location,
            service,
        )
    )
    service, location, timestamp = service[order], location[order], rows.timestamp[order]
    first = np.ones(order.size, np.bool_)
    first[1:] = (
        (service[1:] != service[:-1])
        | (location[1:] != location[:-1])
        | (timestamp[1:] != timestamp[:-1])
    )
    kept = order[first]
    return Observations(
        timestamp=timestamp[first],
        service=service[first].astype(np.int32),
        location=location[first].astype(np.int16),
        status=rows.status[kept],
        error=rows.error[kept],
        retry_after=rows.retry_after[kept],
        services=tuple(service_names),
        locations=tuple(location_names),
    )


def _used_names(
    names: Sequence[str], codes: NDArray[np.int64]
) -> tuple[list[str], NDArray[np.int64]]:
    """The names ``codes`` use, sorted, and the codes renumbered into that list."""
    used = np.unique(codes)
    table = sorted({names[int(code)] for code in used})
    position = {name: index for index, name in enumerate(table)}
    renumber = np.zeros(max(len(names), 1), np.int64)
    for code in used:
        renumber[int(code)] = position[names[int(code)]]
    return table, renumber[codes] if codes.size else codes.astype(np.int64)


def rows_from_states(
    state: ObservationRows,
    stream_service: NDArray[np.int64],
    services: Sequence[str],
    location: str,
) -> ImportRows:
    """Import rows of state-derived observations: every stream at one ``location``; down
    rows carry the ``connect`` error and their status."""
    size = state.timestamp.size
    return ImportRows(
        service=stream_service[state.stream] if size else np.empty(0, np.int64),
        location=np.zeros(size, np.int64),
        timestamp=state.timestamp,
        status=state.status,
        error=np.where(state.down, CONNECT, 0).astype(np.int8),
        retry_after=np.zeros(size, np.bool_),
        services=services,
        locations=(location,),
    )


# --------------------------------------------------------------------------------------
# Monitors and services


@dataclass(frozen=True)
class ImportTarget:
    """What an import maps onto: the contract, and the ``--service``/``--location`` given;
    ``bounds`` are the instants it may hold (``None``: any); ``mapping`` is ``--map``
    (monitor name → service id), ``skip_unmapped`` ``--skip-unmapped``."""

    contract: Contract
    service: str | None
    location: str | None
    bounds: InstantBounds | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    skip_unmapped: bool = False

    def instant_problem(self, start: int, end: int = UNKNOWN_END) -> str | None:
        """Why an event at ``start`` (lasting to ``end``) may not be imported, or ``None``."""
        if self.bounds is None:
            return None
        return self.bounds.check(start, None if end == UNKNOWN_END else end)

    @property
    def location_name(self) -> str:
        return self.location if self.location else DEFAULT_LOCATION

    def services_text(self) -> str:
        return ", ".join(
            f"{sid} ({service.name})" if service.name != sid else sid
            for sid, service in self.contract.services.items()
        )

    def named(self, monitor: str) -> list[str]:
        """The services a monitor named ``monitor`` may stand for: ``--service``, else its
        ``--map``, else the service with that id, else the services with that name."""
        if self.service is not None:
            return [self.service]
        if monitor in self.mapping:
            return [self.mapping[monitor]]
        if monitor in self.contract.services:
            return [monitor]
        return [sid for sid, service in self.contract.services.items() if service.name == monitor]


@dataclass(frozen=True)
class ImportedFile:
    """What an import file gave: its observations, and the monitors ``--skip-unmapped`` left
    out (in the order the file names them)."""

    observations: Observations
    skipped: tuple[str, ...] = ()


def map_monitors(
    target: ImportTarget,
    monitors: Sequence[str],
    fail: Callable[[int, str], NoReturn],
) -> list[str | None]:
    """The service of each monitor, in order (``None``: skipped); ``fail(index, message)``
    raises for a monitor.

    With ``--service`` the file must hold one monitor; otherwise a monitor's name must be in
    ``--map``, a service id or a service's name, and two monitors may not stand for one
    service. Monitors that are none of these are refused all together, naming each, unless
    ``--skip-unmapped``; every ``--map`` name must be a monitor of the file.
    """
    distinct = list(dict.fromkeys(monitors))
    if target.service is not None and len(distinct) > 1:
        fail(
            monitors.index(distinct[1]),
            f"--service {target.service} maps one monitor, but the file has {len(distinct)}: "
            f"{_names(distinct)}; import each monitor on its own, or map each with --map",
        )
    absent = [name for name in target.mapping if name not in distinct]
    if absent:
        raise UsageError(
            Problem(
                f"the file has no monitor named {absent[0]!r}; its monitors: "
                f"{_names(distinct) or 'none'}",
                field="--map",
            )
        )
    service_of: dict[str, str | None] = {}
    monitor_of: dict[str, str] = {}
    unmapped: list[str] = []
    for monitor in distinct:
        candidates = target.named(monitor)
        if len(candidates) > 1:
            fail(
                monitors.index(monitor),
                f"monitor {monitor!r} is the name of services {', '.join(candidates)}; give "
                f"--map {_map_example(monitor)}",
            )
        if not candidates:
            unmapped.append(monitor)
            service_of[monitor] = None
            continue
        service = candidates[0]
        other = monitor_of.setdefault(service, monitor)
        if other != monitor:
            fail(
                monitors.index(monitor),
                f"monitors {other!r} and {monitor!r} both stand for service {service}; "
                "keep one of them in the file",
            )
        service_of[monitor] = service
    if unmapped and not target.skip_unmapped:
        fail(monitors.index(unmapped[0]), _unmapped_message(target, distinct, unmapped))
    return [service_of[monitor] for monitor in monitors]


def _unmapped_message(target: ImportTarget, distinct: Sequence[str], unmapped: list[str]) -> str:
    of = f"of contract {target.contract.contract}"
    example = _map_example(unmapped[0])
    services = target.services_text()
    if len(distinct) == 1:
        return (
            f"monitor {unmapped[0]!r} is neither a service id nor a service name {of}; give "
            f"--service or --map {example}, or name the monitor after one of: {services}"
        )
    if len(unmapped) == 1:
        return (
            f"monitor {unmapped[0]!r} is neither a service id nor a service name {of}; give "
            f"--map {example}, or --skip-unmapped to leave it out; the services: {services}"
        )
    return (
        f"{len(unmapped)} monitors are neither service ids nor service names {of}: "
        f"{_names(unmapped)}; give --map {example} for each, or --skip-unmapped to leave "
        f"them out; the services: {services}"
    )


def _map_example(monitor: str) -> str:
    text = f"{monitor}=SERVICE"
    return f"'{text}'" if "'" not in text else f'"{text}"'


def _names(names: Sequence[str], shown: int = 10) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(repr(name) for name in names[:shown]) + more
