"""The long-term tier: a day of one (service, location) as minute runs, kept for years.

When raw observations leave their retention, each day's segments are classified and
collapsed into runs (``slaledger.core.classified``) and replaced by one ``minute_runs`` row,
in the same transaction: no day is ever in neither tier. A run is five numbers: its minute
of the day, its first observation's offset in that minute, the span to its last one, its
outcome and how many observations it holds. Healthy days compress to a few hundred bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import zstandard
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select

from slaledger.core.classified import Classified
from slaledger.core.timebase import US_PER_DAY, US_PER_MINUTE
from slaledger.store import schema
from slaledger.store.segments import day_of

_FORMAT = 1
_HEAD = struct.Struct("<HI")
"""format, rows."""
_COLUMNS = (
    ("minute", "<u2"),
    ("offset", "<u4"),
    ("span", "<u4"),
    ("outcome", "<i1"),
    ("weight", "<u4"),
)


@dataclass(frozen=True, eq=False)
class DayRuns:
    """One (service, location, day) of runs, in time order."""

    first: NDArray[np.int64]
    last: NDArray[np.int64]
    outcome: NDArray[np.int8]
    weight: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.first.size)


def _planes(values: NDArray[np.int64], kind: str) -> bytes:
    """``values`` as ``kind``, byte planes first: the high bytes of small numbers are runs of
    zeros that compress to nothing."""
    width = np.dtype(kind).itemsize
    return np.frombuffer(values.astype(kind).tobytes(), np.uint8).reshape(-1, width).T.tobytes()


def _from_planes(body: NDArray[np.uint8], at: int, rows: int, kind: str) -> NDArray[Any]:
    """The column of ``rows`` values of ``kind`` stored as byte planes at ``at``."""
    width = np.dtype(kind).itemsize
    planes = body[at : at + rows * width].reshape(width, rows)
    return planes.T.copy().view(kind).ravel()


def pack_runs(day: int, runs: DayRuns) -> bytes:
    """Columns as byte planes, zstd-compressed: minute of the day (as steps from the previous
    run's), offset of the first observation in its minute, span to the last, outcome, count."""
    since = runs.first - day * US_PER_DAY
    minute = since // US_PER_MINUTE
    columns = {
        "minute": np.diff(minute, prepend=0),
        "offset": since % US_PER_MINUTE,
        "span": runs.last - runs.first,
        "outcome": runs.outcome.astype(np.int64),
        "weight": runs.weight,
    }
    body = b"".join(_planes(columns[name], kind) for name, kind in _COLUMNS)
    return _HEAD.pack(_FORMAT, len(runs)) + zstandard.ZstdCompressor(level=9).compress(body)


def rows_of(blob: bytes) -> int:
    fmt, rows = _HEAD.unpack_from(blob)
    if fmt != _FORMAT:
        raise ValueError(f"unknown minute-run format {fmt}")
    return int(rows)


def unpack_into(day: int, blob: bytes, out: DayRuns, lo: int) -> int:
    """Decode ``blob`` into ``out``'s arrays from row ``lo``; returns the row after it."""
    rows = rows_of(blob)
    body = np.frombuffer(zstandard.ZstdDecompressor().decompress(blob[_HEAD.size :]), np.uint8)
    columns: dict[str, NDArray[Any]] = {}
    at = 0
    for name, kind in _COLUMNS:
        columns[name] = _from_planes(body, at, rows, kind)
        at += np.dtype(kind).itemsize * rows
    hi = lo + rows
    first = out.first[lo:hi]
    np.cumsum(columns["minute"], out=first)
    first *= US_PER_MINUTE
    first += columns["offset"]
    first += day * US_PER_DAY
    np.add(first, columns["span"], out=out.last[lo:hi])
    out.outcome[lo:hi] = columns["outcome"]
    out.weight[lo:hi] = columns["weight"]
    return hi


def empty_runs(rows: int) -> DayRuns:
    return DayRuns(
        first=np.empty(rows, np.int64),
        last=np.empty(rows, np.int64),
        outcome=np.empty(rows, np.int8),
        weight=np.empty(rows, np.int64),
    )


def unpack_runs(day: int, blob: bytes) -> DayRuns:
    out = empty_runs(rows_of(blob))
    unpack_into(day, blob, out, 0)
    return out


@dataclass(frozen=True)
class StoredRuns:
    """Runs read for a period, and the classification each service's runs were made with."""

    runs: Classified
    fingerprints: dict[str, set[str]]


class MinuteTier:
    """Minute runs in the ``minute_runs`` table, next to the raw segments they replace."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def first_instant(self) -> int | None:
        """The earliest day's start (or hot row) held in any tier; ``None`` when empty."""
        with self._engine.connect() as connection:
            days = [
                connection.execute(select(func.min(table.c.day))).scalar_one()
                for table in (schema.segments, schema.minute_runs)
            ]
            hot = connection.execute(select(func.min(schema.observations.c.ts))).scalar_one()
        found = [int(day) * US_PER_DAY for day in days if day is not None]
        found += [] if hot is None else [int(hot)]
        return min(found) if found else None

    def raw_days_before(self, day: int, services: Collection[str]) -> list[int]:
        """Days (since the epoch) before ``day`` that still hold raw segments of
        ``services``, oldest first."""
        seg, svc = schema.segments.c, schema.services.c
        query = (
            select(seg.day)
            .distinct()
            .join_from(schema.segments, schema.services, svc.id == seg.service_id)
            .where(seg.day < day, svc.name.in_(list(services)))
            .order_by(seg.day)
        )
        with self._engine.connect() as connection:
            return [int(value) for value in connection.execute(query).scalars()]

    def segment_sizes(self, day: int, services: Collection[str]) -> dict[tuple[str, str], int]:
        """Rows of each raw segment of ``services`` on ``day``, by (service, location)."""
        with self._engine.connect() as connection:
            return _sizes(connection, day, services)

    def replace_raw_day(
        self,
        day: int,
        runs: Classified,
        fingerprints: Mapping[str, str],
        sizes: Mapping[tuple[str, str], int],
    ) -> bool:
        """Store ``runs`` (the whole of ``day`` for the series of ``sizes``) and delete those
        raw segments, in one transaction. Returns ``False``, changing nothing, when the
        segments are no longer those of ``sizes`` (another writer merged rows in meanwhile):
        roll up again."""
        assert runs.weight is not None
        assert runs.last is not None
        if len(runs) and not bool(np.all(runs.timestamp // US_PER_DAY == day)):
            raise ValueError(f"runs outside day {day}")
        services = {service for service, _location in sizes}
        try:
            with self._engine.begin() as connection:
                lock_segments(connection)  # from here no other writer changes segments
                if _sizes(connection, day, services) != dict(sizes):
                    raise _SegmentsChangedError
                self._write_runs(connection, day, runs, fingerprints, sizes)
        except _SegmentsChangedError:
            return False
        return True

    def _write_runs(
        self,
        connection: Connection,
        day: int,
        runs: Classified,
        fingerprints: Mapping[str, str],
        sizes: Mapping[tuple[str, str], int],
    ) -> None:
        assert runs.weight is not None
        assert runs.last is not None
        ids = _ids(connection)
        fresh: list[dict[str, object]] = []
        service_ids, location_ids = ids.service_id, ids.location_id
        key = runs.service.astype(np.int64) * max(len(runs.locations), 1) + runs.location
        # Runs come grouped by (service, location) in time order (collapse_runs); one
        # stable sort makes sure of it, then each group is one slice.
        order = np.argsort(key, kind="stable")
        key = key[order]
        bounds = np.flatnonzero(np.diff(key)) + 1
        for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), key.size], strict=True):
            rows = order[lo:hi]
            if rows.size == 0:
                continue
            service = runs.services[int(runs.service[rows[0]])]
            location = runs.locations[int(runs.location[rows[0]])]
            part = DayRuns(
                runs.timestamp[rows], runs.last[rows], runs.outcome[rows], runs.weight[rows]
            )
            fresh.append(
                {
                    "service_id": service_ids[service],
                    "location_id": location_ids[location],
                    "day": day,
                    "rows": len(part),
                    "outcomes": fingerprints[service],
                    "data": pack_runs(day, part),
                }
            )
        mr, seg = schema.minute_runs.c, schema.segments.c
        for service, location in sizes:
            series = (
                (mr.service_id == service_ids[service])
                & (mr.location_id == location_ids[location])
                & (mr.day == day)
            )
            connection.execute(delete(schema.minute_runs).where(series))
            connection.execute(
                delete(schema.segments).where(
                    (seg.service_id == service_ids[service])
                    & (seg.location_id == location_ids[location])
                    & (seg.day == day)
                )
            )
        if fresh:
            connection.execute(insert(schema.minute_runs), fresh)

    def prune_before(self, day: int) -> int:
        """Delete minute runs of days before ``day``; returns how many rows."""
        with self._engine.begin() as connection:
            result = connection.execute(
                delete(schema.minute_runs).where(schema.minute_runs.c.day < day)
            )
            return int(result.rowcount or 0)

    def load(self, start: int, end: int, services: Collection[str] | None = None) -> StoredRuns:
        """Runs of ``[start, end)`` of every (service, location, day) kept only as runs."""
        mr = schema.minute_runs.c
        with self._engine.connect() as connection:
            ids = _ids(connection)
            rows = connection.execute(
                select(mr.service_id, mr.location_id, mr.day, mr.outcomes, mr.data)
                .where(and_(mr.day >= day_of(start), mr.day <= day_of(end - 1)))
                .order_by(mr.service_id, mr.location_id, mr.day)
            ).all()
        services_seen: dict[str, int] = {}
        locations_seen: dict[str, int] = {}
        fingerprints: dict[str, set[str]] = {}
        kept: list[tuple[int, int, int, bytes]] = []
        for service_id, location_id, day, outcomes, data in rows:
            service = ids.services[service_id]
            if services is not None and service not in services:
                continue
            location = ids.locations[location_id]
            fingerprints.setdefault(service, set()).add(outcomes)
            s = services_seen.setdefault(service, len(services_seen))
            loc = locations_seen.setdefault(location, len(locations_seen))
            kept.append((s, loc, int(day), bytes(data)))
        sizes = np.array([rows_of(blob) for *_, blob in kept], dtype=np.int64)
        out = empty_runs(int(sizes.sum()))
        at = 0
        for _s, _loc, day, blob in kept:  # decoded straight into one set of arrays
            at = unpack_into(day, blob, out, at)
        inside = (out.first >= start) & (out.first < end)
        runs = Classified(
            timestamp=out.first,
            service=np.repeat(np.array([k[0] for k in kept], np.int32), sizes),
            location=np.repeat(np.array([k[1] for k in kept], np.int16), sizes),
            outcome=out.outcome,
            services=tuple(services_seen),
            locations=tuple(locations_seen),
            weight=out.weight,
            last=out.last,
        )
        return StoredRuns(runs if bool(inside.all()) else runs.take(inside), fingerprints)


class _SegmentsChangedError(Exception):
    """Raised inside the roll-up's transaction to undo it."""


def lock_segments(connection: Connection) -> None:
    """Take the write lock on segments for the rest of the transaction, before reading them:
    SQLite's driver begins a transaction only at the first write, and PostgreSQL's reads
    do not block writers."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE segments IN SHARE ROW EXCLUSIVE MODE")
    else:
        connection.exec_driver_sql("UPDATE segments SET rows = rows WHERE day < 0")


def _sizes(
    connection: Connection, day: int, services: Collection[str]
) -> dict[tuple[str, str], int]:
    seg, svc, loc = schema.segments.c, schema.services.c, schema.locations.c
    query = (
        select(svc.name, loc.name, seg.rows)
        .join_from(schema.segments, schema.services, svc.id == seg.service_id)
        .join(schema.locations, loc.id == seg.location_id)
        .where(seg.day == day, svc.name.in_(list(services)))
    )
    return {(s, loc_name): int(rows) for s, loc_name, rows in connection.execute(query)}


@dataclass(frozen=True)
class _Names:
    services: dict[int, str]
    locations: dict[int, str]

    @property
    def service_id(self) -> dict[str, int]:
        return {name: key for key, name in self.services.items()}

    @property
    def location_id(self) -> dict[str, int]:
        return {name: key for key, name in self.locations.items()}


def _ids(connection: Connection) -> _Names:
    execute = connection.execute
    return _Names(
        {row.id: row.name for row in execute(select(schema.services.c.id, schema.services.c.name))},
        {
            row.id: row.name
            for row in execute(select(schema.locations.c.id, schema.locations.c.name))
        },
    )
