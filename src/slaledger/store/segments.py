"""Packing a (service, location, day) of observations into one compressed blob, and back.

A segment holds parallel columns sorted by (timestamp, check): timestamps as deltas (they
compress to a few bytes a probe), check codes, status, error class, Retry-After and latency.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slaledger.core.timebase import US_PER_DAY

_FORMAT = 1
_HEADER = np.dtype([("format", "<u2"), ("rows", "<u4")])
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("timestamp", "<i8"),
    ("check", "<i4"),
    ("status", "<i2"),
    ("error", "<i1"),
    ("retry_after", "?"),
    ("latency_ms", "<f4"),
)


@dataclass(frozen=True, eq=False)
class SegmentRows:
    """One segment's columns, sorted by (timestamp, check), without duplicates."""

    timestamp: NDArray[np.int64]
    check: NDArray[np.int32]
    status: NDArray[np.int16]
    error: NDArray[np.int8]
    retry_after: NDArray[np.bool_]
    latency_ms: NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.timestamp.size)

    @classmethod
    def merged(cls, parts: list[SegmentRows]) -> SegmentRows:
        """All rows of ``parts``; for a repeated (timestamp, check) the first part wins."""
        columns = {name: np.concatenate([getattr(p, name) for p in parts]) for name, _ in _COLUMNS}
        order = np.lexsort((columns["check"], columns["timestamp"]))
        ts, check = columns["timestamp"][order], columns["check"][order]
        keep = np.ones(order.size, dtype=bool)
        keep[1:] = (ts[1:] != ts[:-1]) | (check[1:] != check[:-1])
        # lexsort is stable, so among equal keys the earliest part comes first and is kept.
        chosen = order[keep]
        return cls(**{name: columns[name][chosen] for name, _ in _COLUMNS})


def day_of(instant: int) -> int:
    """Days since the epoch of the UTC day holding ``instant``."""
    return instant // US_PER_DAY


def pack(rows: SegmentRows) -> bytes:
    header = np.array([(_FORMAT, len(rows))], dtype=_HEADER).tobytes()
    timestamp = np.diff(rows.timestamp, prepend=np.int64(0))
    body = [timestamp.astype("<i8").tobytes()]
    body += [getattr(rows, name).astype(dtype).tobytes() for name, dtype in _COLUMNS[1:]]
    return header + zlib.compress(b"".join(body), level=1)


def unpack(blob: bytes) -> SegmentRows:
    header = np.frombuffer(blob[: _HEADER.itemsize], dtype=_HEADER)[0]
    if int(header["format"]) != _FORMAT:
        raise ValueError(f"unknown segment format {int(header['format'])}")
    rows = int(header["rows"])
    body = zlib.decompress(blob[_HEADER.itemsize :])
    columns: dict[str, NDArray[np.generic]] = {}
    offset = 0
    for name, dtype in _COLUMNS:
        size = np.dtype(dtype).itemsize * rows
        columns[name] = np.frombuffer(body, dtype=dtype, count=rows, offset=offset)
        offset += size
    columns["timestamp"] = np.cumsum(columns["timestamp"], dtype=np.int64)
    return SegmentRows(
        timestamp=columns["timestamp"].astype(np.int64, copy=False),
        check=columns["check"].astype(np.int32, copy=False),
        status=columns["status"].astype(np.int16, copy=False),
        error=columns["error"].astype(np.int8, copy=False),
        retry_after=columns["retry_after"].astype(bool, copy=False),
        latency_ms=columns["latency_ms"].astype(np.float32, copy=False),
    )
