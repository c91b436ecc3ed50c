"""Reading the hot table (rows not yet packed into day segments) fast, and placing its rows
after the packed ones of each series."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection

from slaledger.core.observations import Observations


def name_codes(names: dict[int, str]) -> tuple[tuple[str, ...], dict[int, int]]:
    """Names in id order, and each id's code (its index in that order)."""
    ids = sorted(names)
    return tuple(names[i] for i in ids), {i: code for code, i in enumerate(ids)}


@dataclass(frozen=True)
class HotColumns:
    """Hot rows as columns (latency left out: settlement does not read it)."""

    ts: NDArray[np.int64]
    service_id: NDArray[np.int64]
    location_id: NDArray[np.int64]
    check_id: NDArray[np.int64]
    status: NDArray[np.int64]
    error: NDArray[np.int64]
    retry_after: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.ts.size)

    def take(self, rows: NDArray[Any]) -> HotColumns:
        return HotColumns(*(column[rows] for column in self.fields()))

    def fields(self) -> tuple[NDArray[np.int64], ...]:
        return (
            self.ts,
            self.service_id,
            self.location_id,
            self.check_id,
            self.status,
            self.error,
            self.retry_after,
        )

    def columns(self) -> tuple[NDArray[Any], ...]:
        """In the hot table's column order, latency unknown."""
        return (*self.fields(), np.full(self.ts.size, np.nan))


def hot_columns(connection: Connection, start: int, end: int) -> HotColumns:
    """Hot rows of ``[start, end)`` through the driver's own cursor: no row objects."""
    raw = connection.connection.driver_connection
    assert raw is not None
    marker = "%s" if connection.dialect.name == "postgresql" else "?"
    cursor = raw.cursor()
    cursor.execute(
        "SELECT ts, service_id, location_id, check_id, status, error, "
        "CASE WHEN retry_after THEN 1 ELSE 0 END FROM observations "
        f"WHERE ts >= {marker} AND ts < {marker}",
        (start, end),
    )
    rows = cursor.fetchall()
    cursor.close()
    table = np.array(rows, dtype=np.int64).reshape(-1, 7)
    return HotColumns(*(np.ascontiguousarray(table[:, i]) for i in range(7)))


def append_hot(
    decoded: Observations,
    hot: HotColumns,
    last: dict[tuple[int, int], int],
    service_names: dict[int, str],
    location_names: dict[int, str],
) -> bool:
    """Write the hot rows into the room left at the end of ``decoded``'s columns, grouped by
    series in time order; ``False`` (nothing written) when a hot row is not later than the
    last packed row of its series: a repeat is possible, so rows must be merged one by one.

    The rules read rows in any order (the packed rows of a series and its hot ones need not
    be adjacent); copying every packed row to interleave them would cost more than all else.
    """
    n_hot = len(hot)
    order = np.lexsort((hot.ts, hot.location_id, hot.service_id))
    hot = hot.take(order)
    pair = hot.service_id * (1 << 32) + hot.location_id
    starts = np.flatnonzero(np.diff(pair, prepend=-1))
    for row in starts.tolist():
        packed = last.get((int(hot.service_id[row]), int(hot.location_id[row])))
        if packed is not None and int(hot.ts[row]) <= packed:
            return False
    _, service_code = name_codes(service_names)
    _, location_code = name_codes(location_names)
    if not (
        set(np.unique(hot.service_id).tolist()) <= service_code.keys()
        and set(np.unique(hot.location_id).tolist()) <= location_code.keys()
    ):
        return False  # a name stored after the names were read: take the merging path
    s_map = np.zeros(max(service_names, default=0) + 1, np.int64)
    s_map[list(service_code)] = list(service_code.values())
    l_map = np.zeros(max(location_names, default=0) + 1, np.int64)
    l_map[list(location_code)] = list(location_code.values())
    tail = slice(len(decoded) - n_hot, len(decoded))
    decoded.timestamp[tail] = hot.ts
    decoded.service[tail] = s_map[hot.service_id]
    decoded.location[tail] = l_map[hot.location_id]
    decoded.status[tail] = hot.status
    decoded.error[tail] = hot.error
    decoded.retry_after[tail] = hot.retry_after.astype(bool)
    return True
