"""The observation store: ingest rows, pack closed days into segments, load months as arrays."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, Select, Table, and_, delete, func, insert, select

from slaledger.core.observations import Observations
from slaledger.core.timebase import US_PER_DAY
from slaledger.store import schema
from slaledger.store.hot_rows import append_hot, hot_columns, name_codes
from slaledger.store.minute_tier import lock_segments
from slaledger.store.segments import (
    SegmentRows,
    day_of,
    decode_settlement_columns,
    encode_code,
    pack,
    unpack,
)

_INSERT_CHUNK = 50_000
_HOT_COLUMNS = (
    "ts",
    "service_id",
    "location_id",
    "check_id",
    "status",
    "error",
    "retry_after",
    "latency_ms",
)
NO_CHECK = ""
"""Check name of observations that name no check, when nothing else is known."""


def anonymous_checks(observations: Observations) -> tuple[tuple[str, ...], NDArray[np.int32]]:
    """Check names for observations that name no check (files, imports): one per result.

    The store keeps one row per (time, service, location, check); naming such a row's check
    by its result keeps two different results at the same instant apart, while the same
    result imported twice is still stored once.
    """
    codes = encode_code(observations.status, observations.error, observations.retry_after)
    distinct, inverse = np.unique(codes, return_inverse=True)
    return tuple(f"~{int(c)}" for c in distinct.tolist()), inverse.astype(np.int32)


class BatchConflictError(Exception):
    """A batch id already stored with other rows: one id means one content."""

    def __init__(self, batch_id: str, source: str, received_at: int) -> None:
        super().__init__(f"batch {batch_id} was already stored with other rows")
        self.batch_id = batch_id
        self.source = source
        """Who sent the stored batch (``agent fra``)."""
        self.received_at = received_at


@dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int
    duplicate_batch: bool = False


class ObservationStore:
    """Observations of every service and location, in SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- names ---------------------------------------------------------------------------

    def _ids(self, connection: Connection, table: Table, names: Iterable[str]) -> dict[str, int]:
        wanted = set(names)
        known = {
            row.name: row.id
            for row in connection.execute(select(table.c.id, table.c.name)).all()
            if row.name in wanted
        }
        missing = sorted(wanted - known.keys())
        if missing:
            connection.execute(insert(table), [{"name": name} for name in missing])
            known.update(
                {
                    row.name: row.id
                    for row in connection.execute(
                        select(table.c.id, table.c.name).where(table.c.name.in_(missing))
                    )
                }
            )
        return known

    def _names(self, connection: Connection, table: Table) -> dict[int, str]:
        return {row.id: row.name for row in connection.execute(select(table.c.id, table.c.name))}

    # -- ingest --------------------------------------------------------------------------

    def has_batch(self, batch_id: str) -> bool:
        with self._engine.connect() as connection:
            return _stored_batch(connection, batch_id) is not None

    def ingest(
        self,
        observations: Observations,
        *,
        received_at: int,
        checks: Sequence[str] | None = None,
        check: NDArray[np.int32] | None = None,
        latency_ms: NDArray[np.float32] | None = None,
        batch_id: str | None = None,
        source: str = "",
        digest: str | None = None,
    ) -> IngestResult:
        """Store ``observations`` once: a repeated (time, service, location, check) is skipped,
        and a ``batch_id`` already stored makes the whole call a no-op. One transaction.

        ``digest`` (the SHA-256 of the batch's rows) is kept with the batch id: the same id
        with another digest raises :class:`BatchConflictError` and stores nothing.
        """
        size = len(observations)
        with self._engine.begin() as connection:
            stored_batch = None if batch_id is None else _stored_batch(connection, batch_id)
            if stored_batch is not None:
                assert batch_id is not None
                known = stored_batch.digest
                if known is not None and digest is not None and known != digest:
                    raise BatchConflictError(
                        batch_id, str(stored_batch.source), int(stored_batch.received_at)
                    )
                return IngestResult(size, 0, duplicate_batch=True)
            stored = 0
            if size:
                if check is None:
                    checks, check = anonymous_checks(observations)
                stored = self._insert_rows(
                    connection, observations, checks or (NO_CHECK,), check, latency_ms
                )
            if batch_id is not None:
                connection.execute(
                    insert(schema.ingest_batches),
                    {
                        "batch_id": batch_id,
                        "source": source,
                        "rows": size,
                        "received_at": received_at,
                        "digest": digest,
                    },
                )
        return IngestResult(size, stored)

    def _insert_rows(
        self,
        connection: Connection,
        observations: Observations,
        checks: Sequence[str],
        check: NDArray[np.int32] | None,
        latency_ms: NDArray[np.float32] | None,
    ) -> int:
        size = len(observations)
        service_ids = self._ids(connection, schema.services, observations.services)
        location_ids = self._ids(connection, schema.locations, observations.locations)
        check_ids = self._ids(connection, schema.checks, checks)
        service_map = np.array([service_ids[n] for n in observations.services], dtype=np.int64)
        location_map = np.array([location_ids[n] for n in observations.locations], dtype=np.int64)
        check_map = np.array([check_ids[n] for n in checks], dtype=np.int64)
        check_codes = np.zeros(size, np.int32) if check is None else check
        latency: list[float | None] = (
            [None] * size
            if latency_ms is None
            else [None if np.isnan(v) else v for v in latency_ms.astype(float).tolist()]
        )
        columns = (
            observations.timestamp.tolist(),
            service_map[observations.service].tolist(),
            location_map[observations.location].tolist(),
            check_map[check_codes].tolist(),
            observations.status.tolist(),
            observations.error.tolist(),
            observations.retry_after.tolist(),
            latency,
        )
        rows = list(zip(*columns, strict=True))
        raw = connection.connection.driver_connection
        assert raw is not None
        placeholders = ", ".join("?" * len(_HOT_COLUMNS))
        sql = (
            f"INSERT INTO observations ({', '.join(_HOT_COLUMNS)}) VALUES ({placeholders}) "
            "ON CONFLICT DO NOTHING"
        )
        if self._dialect == "postgresql":
            return self._copy_rows(raw, rows)
        cursor = raw.cursor()
        before = raw.total_changes
        for lo in range(0, size, _INSERT_CHUNK):
            cursor.executemany(sql, rows[lo : lo + _INSERT_CHUNK])
        cursor.close()
        return int(raw.total_changes - before)

    @staticmethod
    def _copy_rows(raw: object, rows: list[tuple[object, ...]]) -> int:
        """PostgreSQL: COPY into a temporary table, then insert what is new; returns how many."""
        cursor = raw.cursor()  # type: ignore[attr-defined]
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming (LIKE observations) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY incoming ({', '.join(_HOT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO observations SELECT {', '.join(_HOT_COLUMNS)} FROM incoming "
            "ON CONFLICT DO NOTHING"
        )
        stored = int(cursor.rowcount)
        cursor.execute("DELETE FROM incoming")
        cursor.close()
        return stored

    # -- compaction ----------------------------------------------------------------------

    def compact(self, before: int, *, whole_days: bool = True) -> int:
        """Pack hot rows into their day segments: those of every UTC day that ends at or
        before ``before``, or with ``whole_days=False`` every row before ``before`` (today's
        too, merged into today's segment: the hot table then stays small).

        Returns the rows moved. Each day is packed in its own transaction.
        """
        cutoff = day_of(before) * US_PER_DAY if whole_days else before
        moved = 0
        while True:
            with self._engine.begin() as connection:
                first = connection.execute(
                    select(func.min(schema.observations.c.ts)).where(
                        schema.observations.c.ts < cutoff
                    )
                ).scalar_one()
                if first is None:
                    return moved
                day = day_of(int(first))
                moved += self._pack_day(connection, day, cutoff)

    def _pack_day(self, connection: Connection, day: int, until: int) -> int:
        hot = schema.observations.c
        in_day = and_(hot.ts >= day * US_PER_DAY, hot.ts < min((day + 1) * US_PER_DAY, until))
        # Delete and read in one statement: exactly the rows removed are packed, even when
        # another writer commits rows of this day meanwhile.
        rows = connection.execute(
            delete(schema.observations)
            .where(in_day)
            .returning(*(hot[name] for name in _HOT_COLUMNS))
        ).all()
        groups = _hot_groups(rows)
        seg = schema.segments.c
        for (service_id, location_id), part in groups.items():
            key = and_(seg.service_id == service_id, seg.location_id == location_id, seg.day == day)
            existing = connection.execute(select(seg.data).where(key)).scalar_one_or_none()
            parts = [part] if existing is None else [unpack(existing), part]
            merged = SegmentRows.merged(parts)
            connection.execute(delete(schema.segments).where(key))
            connection.execute(
                insert(schema.segments),
                {
                    "service_id": service_id,
                    "location_id": location_id,
                    "day": day,
                    "rows": len(merged),
                    "data": pack(merged),
                },
            )
        return len(rows)

    def pack_history(self, observations: Observations) -> int:
        """Write ``observations`` straight into day segments, merging with stored ones.

        For history (imports of closed days): skips the hot table. Returns rows newly stored.
        A (service, location, day) already kept as minute runs takes no rows: its raw data is
        gone, so rows could not be told apart from those already counted. One transaction.
        """
        if len(observations) == 0:
            return 0
        with self._engine.begin() as connection:
            lock_segments(connection)  # read segments as no other writer can change them
            service_ids = self._ids(connection, schema.services, observations.services)
            location_ids = self._ids(connection, schema.locations, observations.locations)
            names, codes = anonymous_checks(observations)
            check_ids = self._ids(connection, schema.checks, names)
            check_map = np.array([check_ids[name] for name in names], dtype=np.int32)
            check_code = check_map[codes]
            s_map = np.array([service_ids[n] for n in observations.services], dtype=np.int64)
            l_map = np.array([location_ids[n] for n in observations.locations], dtype=np.int64)
            service = s_map[observations.service]
            location = l_map[observations.location]
            day = observations.timestamp // US_PER_DAY
            key = (service << 40) | (location << 20) | (day - int(day.min()))
            order = None if bool(np.all(key[1:] >= key[:-1])) else np.argsort(key, kind="stable")
            if order is not None:
                key = key[order]
            bounds = np.flatnonzero(np.diff(key)) + 1
            starts = np.concatenate([[0], bounds])
            ends = np.concatenate([bounds, [key.size]])
            seg = schema.segments.c
            existing = {
                (row.service_id, row.location_id, row.day)
                for row in connection.execute(
                    select(seg.service_id, seg.location_id, seg.day).where(
                        seg.day >= int(day.min()), seg.day <= int(day.max())
                    )
                )
            }
            mr = schema.minute_runs.c
            rolled_up = {
                (row.service_id, row.location_id, row.day)
                for row in connection.execute(
                    select(mr.service_id, mr.location_id, mr.day).where(
                        mr.day >= int(day.min()), mr.day <= int(day.max())
                    )
                )
            }
            stored = 0
            fresh: list[dict[str, object]] = []
            for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
                rows = np.arange(lo, hi) if order is None else order[lo:hi]
                ident = (int(service[rows[0]]), int(location[rows[0]]), int(day[rows[0]]))
                if ident in rolled_up:
                    continue
                part = SegmentRows(
                    timestamp=observations.timestamp[rows],
                    check=check_code[rows],
                    status=observations.status[rows],
                    error=observations.error[rows],
                    retry_after=observations.retry_after[rows],
                    latency_ms=np.full(rows.size, np.nan, dtype=np.float32),
                )
                where = and_(
                    seg.service_id == ident[0], seg.location_id == ident[1], seg.day == ident[2]
                )
                if ident in existing:
                    old = unpack(connection.execute(select(seg.data).where(where)).scalar_one())
                    merged = SegmentRows.merged([old, part])
                    stored += len(merged) - len(old)
                    connection.execute(delete(schema.segments).where(where))
                else:
                    merged = SegmentRows.merged([part])
                    stored += len(merged)
                fresh.append(
                    {
                        "service_id": ident[0],
                        "location_id": ident[1],
                        "day": ident[2],
                        "rows": len(merged),
                        "data": pack(merged),
                    }
                )
            if fresh:
                connection.execute(insert(schema.segments), fresh)
        return stored

    def prune_raw(self, before: int) -> int:
        """Delete segments of days that end at or before ``before``; returns how many."""
        with self._engine.begin() as connection:
            result = connection.execute(
                delete(schema.segments).where(schema.segments.c.day < day_of(before))
            )
            return int(result.rowcount or 0)

    # -- reading -------------------------------------------------------------------------

    def _segment_rows(self, connection: Connection, query: Select[Any]) -> list[_Segment]:
        """The segment rows of ``query``; on PostgreSQL in the binary protocol, which spares
        the hex encoding of every ``bytea`` (half the bytes, no decoding)."""
        if self._dialect != "postgresql":
            return [_Segment(*row) for row in connection.execute(query)]
        compiled = query.compile(dialect=connection.dialect)
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor(binary=True) as cursor:
            cursor.execute(str(compiled), compiled.params)
            return [_Segment(int(a), int(b), bytes(c)) for a, b, c in cursor.fetchall()]

    def load(self, start: int, end: int, services: Collection[str] | None = None) -> Observations:
        """Every stored observation in ``[start, end)``: packed rows grouped by (service,
        location) in time order, then rows not yet packed, grouped the same way."""
        with self._engine.connect() as connection:
            service_names = self._names(connection, schema.services)
            location_names = self._names(connection, schema.locations)
            wanted = (
                set(service_names)
                if services is None
                else {i for i, n in service_names.items() if n in services}
            )
            seg = schema.segments.c
            query = (
                select(seg.service_id, seg.location_id, seg.data)
                .where(seg.day >= day_of(start), seg.day <= day_of(end - 1))
                .order_by(seg.service_id, seg.location_id, seg.day)
            )
            # Hot rows first: a row compaction moves meanwhile is then read twice (and the
            # repeat dropped below), never missed.
            hot = hot_columns(connection, start, end)
            stored = [row for row in self._segment_rows(connection, query) if row[0] in wanted]
        keep = np.isin(hot.service_id, np.fromiter(wanted, np.int64, len(wanted)))
        if not keep.all():
            hot = hot.take(keep)
        decoded, last = _decode_segments(stored, service_names, location_names, len(hot))
        if len(hot) == 0:
            return _within(decoded, start, end)
        if append_hot(decoded, hot, last, service_names, location_names):
            return _within(decoded, start, end)
        # Rows not yet packed that fall among packed ones (a late batch): merge them into
        # their segments, dropping repeats (rare).
        recent = list(zip(*hot.columns(), strict=True))
        hot_groups = _hot_groups(recent)
        parts: dict[tuple[int, int], list[SegmentRows]] = {}
        for row in stored:
            parts.setdefault((row.service_id, row.location_id), []).append(unpack(row.data))
        for key, part in hot_groups.items():
            parts[key] = [SegmentRows.merged([*parts.get(key, []), part])]
        return _observations(parts, service_names, location_names, start, end)


class _Segment(NamedTuple):
    service_id: int
    location_id: int
    data: bytes


def _decode_segments(
    stored: Sequence[Any],
    service_names: dict[int, str],
    location_names: dict[int, str],
    extra: int = 0,
) -> tuple[Observations, dict[tuple[int, int], int]]:
    """Segments already in (service, location, day) order, decoded into one set of columns
    with ``extra`` rows of room at the end; and the last instant of each series."""
    services, service_code = name_codes(service_names)
    locations, location_code = name_codes(location_names)
    timestamp, status, error, retry_after, sizes = decode_settlement_columns(
        [row.data for row in stored], extra
    )
    service = np.empty(timestamp.size, dtype=np.int32)
    location = np.empty(timestamp.size, dtype=np.int16)
    last: dict[tuple[int, int], int] = {}
    # Segments of one (service, location) are adjacent: fill each series with one slice.
    ends = np.cumsum(sizes)
    begin = 0
    for index, row in enumerate(stored):
        final = index + 1 == len(stored)
        if final or (stored[index + 1].service_id, stored[index + 1].location_id) != (
            row.service_id,
            row.location_id,
        ):
            end_at = int(ends[index])
            service[begin:end_at] = service_code[row.service_id]
            location[begin:end_at] = location_code[row.location_id]
            if end_at > begin:
                last[(row.service_id, row.location_id)] = int(timestamp[end_at - 1])
            begin = end_at
    everything = Observations(
        timestamp=timestamp,
        service=service,
        location=location,
        status=status,
        error=error,
        retry_after=retry_after,
        services=services,
        locations=locations,
    )
    return everything, last


def _within(observations: Observations, start: int, end: int) -> Observations:
    if start % US_PER_DAY == 0 and end % US_PER_DAY == 0:
        return observations  # whole UTC days: every segment read lies inside
    inside = (observations.timestamp >= start) & (observations.timestamp < end)
    return observations if bool(inside.all()) else observations.take(inside)


def _stored_batch(connection: Connection, batch_id: str) -> Any:
    """The stored batch's source, time and digest, or ``None``."""
    b = schema.ingest_batches.c
    found = connection.execute(
        select(b.source, b.received_at, b.digest).where(b.batch_id == batch_id)
    )
    return found.first()


def _hot_groups(rows: Sequence[object]) -> dict[tuple[int, int], SegmentRows]:
    """Hot table rows grouped by (service id, location id) as sorted segment rows."""
    if not rows:
        return {}
    columns = list(zip(*rows, strict=True))
    ts = np.array(columns[0], dtype=np.int64)
    service = np.array(columns[1], dtype=np.int64)
    location = np.array(columns[2], dtype=np.int64)
    latency = np.array([np.nan if v is None else v for v in columns[7]], dtype=np.float32)
    full = SegmentRows(
        timestamp=ts,
        check=np.array(columns[3], dtype=np.int32),
        status=np.array(columns[4], dtype=np.int16),
        error=np.array(columns[5], dtype=np.int8),
        retry_after=np.array(columns[6], dtype=bool),
        latency_ms=latency,
    )
    keys = service << 32 | location
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    groups: dict[tuple[int, int], SegmentRows] = {}
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), keys.size], strict=True):
        rows_of = order[lo:hi]
        part = SegmentRows(
            **{name: getattr(full, name)[rows_of] for name in SegmentRows.__dataclass_fields__}
        )
        key = int(keys[lo])
        groups[(key >> 32, key & 0xFFFFFFFF)] = SegmentRows.merged([part])
    return groups


def _observations(
    parts: dict[tuple[int, int], list[SegmentRows]],
    service_names: dict[int, str],
    location_names: dict[int, str],
    start: int,
    end: int,
) -> Observations:
    services, service_code = name_codes(service_names)
    locations, location_code = name_codes(location_names)
    keys = sorted(parts)
    blocks = [p for key in keys for p in parts[key]]
    if not blocks:
        return Observations.empty(services, locations)
    sizes = np.array([len(b) for b in blocks], dtype=np.int64)
    timestamp = np.concatenate([b.timestamp for b in blocks])
    service = np.repeat(
        np.array([service_code[k[0]] for k in keys for _ in parts[k]], dtype=np.int32), sizes
    )
    location = np.repeat(
        np.array([location_code[k[1]] for k in keys for _ in parts[k]], dtype=np.int16), sizes
    )
    inside = (timestamp >= start) & (timestamp < end)
    everything = Observations(
        timestamp=timestamp,
        service=service,
        location=location,
        status=np.concatenate([b.status for b in blocks]),
        error=np.concatenate([b.error for b in blocks]),
        retry_after=np.concatenate([b.retry_after for b in blocks]),
        services=services,
        locations=locations,
    )
    return everything if bool(inside.all()) else everything.take(inside)
