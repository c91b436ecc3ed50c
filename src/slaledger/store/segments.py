"""Packing a (service, location, day) of observations into one compressed blob, and back.

A segment holds parallel columns sorted by (timestamp, check): timestamps as deltas (they
compress well) and status, error class and Retry-After as one code, which
is all settlement reads; check codes and latency follow in a part of their own.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import zstandard
from numpy.typing import NDArray

from slaledger.core.timebase import US_PER_DAY

_FORMAT = 1
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


_HEAD = struct.Struct("<HBIqIII")
"""format, flags, rows, first instant, and the byte lengths of the three frames."""
_WIDE = 1
"""Flag: time deltas are 8 bytes (a gap of 35 minutes or more), else 4."""
_RAW_DELTAS = 2
"""Flag: time deltas are stored as they are: probe jitter leaves little to compress, and
reading them needs no decompression."""
_STATUSES = 600


def encode_code(
    status: NDArray[np.int16], error: NDArray[np.int8], retry_after: NDArray[np.bool_]
) -> NDArray[np.uint16]:
    """Status, error class and Retry-After in one number (the outcome tables' key)."""
    valid = np.where((status >= 0) & (status < _STATUSES), status, 0)
    code = error.astype(np.uint16) * _STATUSES + valid.astype(np.uint16)
    return np.asarray(code * 2 + retry_after, dtype=np.uint16)


def decode_code(
    code: NDArray[np.uint16],
) -> tuple[NDArray[np.int16], NDArray[np.int8], NDArray[np.bool_]]:
    rest = code >> 1
    return (
        (rest % _STATUSES).astype(np.int16),
        (rest // _STATUSES).astype(np.int8),
        (code & 1).astype(bool),
    )


def pack(rows: SegmentRows) -> bytes:
    """Header, then three zstd frames: time deltas and result codes (all that settlement
    reads), then check codes and latency."""
    compressor = zstandard.ZstdCompressor(level=3)
    deltas = np.diff(rows.timestamp, prepend=rows.timestamp[:1])
    wide = bool(deltas.size) and bool(np.abs(deltas).max() >= 2**31)
    delta_bytes = deltas.astype("<i8" if wide else "<i4").tobytes()
    squeezed = compressor.compress(delta_bytes)
    raw = len(squeezed) > 0.8 * len(delta_bytes)
    flags = (_WIDE if wide else 0) | (_RAW_DELTAS if raw else 0)
    if not raw:
        delta_bytes = squeezed
    frames = (
        delta_bytes,
        compressor.compress(
            encode_code(rows.status, rows.error, rows.retry_after).astype("<u2").tobytes()
        ),
        compressor.compress(
            rows.check.astype("<i4").tobytes() + rows.latency_ms.astype("<f4").tobytes()
        ),
    )
    first = int(rows.timestamp[0]) if len(rows) else 0
    head = _HEAD.pack(_FORMAT, flags, len(rows), first, *(len(f) for f in frames))
    return head + b"".join(frames)


@dataclass(frozen=True)
class Frames:
    """A segment's header fields and its still-compressed frames."""

    rows: int
    wide: bool
    raw_deltas: bool
    first: int
    deltas: bytes
    codes: bytes
    extra: bytes

    @classmethod
    def of(cls, blob: bytes) -> Frames:
        fmt, flags, rows, first, n_deltas, n_codes, n_extra = _HEAD.unpack_from(blob)
        if fmt != _FORMAT:
            raise ValueError(f"unknown segment format {fmt}")
        at = _HEAD.size
        return cls(
            rows,
            bool(flags & _WIDE),
            bool(flags & _RAW_DELTAS),
            first,
            blob[at : at + n_deltas],
            blob[at + n_deltas : at + n_deltas + n_codes],
            blob[at + n_deltas + n_codes : at + n_deltas + n_codes + n_extra],
        )


def _time_deltas(frames: Frames, d: zstandard.ZstdDecompressor) -> NDArray[np.signedinteger]:
    data = frames.deltas if frames.raw_deltas else d.decompress(frames.deltas)
    return np.frombuffer(data, "<i8" if frames.wide else "<i4")


def unpack(blob: bytes) -> SegmentRows:
    frames = Frames.of(blob)
    d = zstandard.ZstdDecompressor()
    deltas = _time_deltas(frames, d)
    timestamp = np.cumsum(deltas, dtype=np.int64)
    timestamp += frames.first - (int(deltas[0]) if deltas.size else 0)
    status, error, retry_after = decode_code(np.frombuffer(d.decompress(frames.codes), "<u2"))
    extra = d.decompress(frames.extra)
    n = frames.rows
    return SegmentRows(
        timestamp=timestamp,
        check=np.frombuffer(extra, "<i4", count=n).astype(np.int32),
        status=status,
        error=error,
        retry_after=retry_after,
        latency_ms=np.frombuffer(extra, "<f4", count=n, offset=4 * n).astype(np.float32),
    )


def decode_settlement_columns(
    blobs: Sequence[bytes], extra: int = 0
) -> tuple[
    NDArray[np.int64], NDArray[np.int16], NDArray[np.int8], NDArray[np.bool_], NDArray[np.int64]
]:
    """Timestamps, status, error and Retry-After of many segments, back to back, and each
    segment's row count. Only the two frames settlement needs are read; the work is done in
    place or in chunks, so a month of thousands of series needs no whole-size temporaries.
    The columns have ``extra`` rows of room after the decoded ones (left unset)."""
    frames = [Frames.of(blob) for blob in blobs]
    sizes = np.array([f.rows for f in frames], dtype=np.int64)
    total = int(sizes.sum())
    d = zstandard.ZstdDecompressor()
    columns = (
        np.empty(total + extra, dtype=np.int64),
        np.empty(total + extra, dtype=np.int16),
        np.empty(total + extra, dtype=np.int8),
        np.empty(total + extra, dtype=bool),
    )
    timestamp = columns[0][:total]
    if all(not f.wide for f in frames):
        joined = b"".join(f.deltas if f.raw_deltas else d.decompress(f.deltas) for f in frames)
        timestamp[:] = np.frombuffer(joined, "<i4")
    else:
        offset = 0
        for f in frames:
            timestamp[offset : offset + f.rows] = _time_deltas(f, d)
            offset += f.rows
    # One running sum for all segments: each segment's first delta (stored as 0) becomes the
    # step from the previous segment's last instant to its own first one.
    nonempty = np.flatnonzero(sizes)
    starts = (np.cumsum(sizes) - sizes)[nonempty]
    if starts.size:
        firsts = np.array([frames[i].first for i in nonempty.tolist()], dtype=np.int64)
        spans = np.add.reduceat(timestamp, starts)
        lasts = firsts + spans
        timestamp[starts] = firsts - np.concatenate([[0], lasts[:-1]])
        np.cumsum(timestamp, out=timestamp)
    codes = np.frombuffer(b"".join(d.decompress(f.codes) for f in frames), "<u2")
    status, error, retry_after = columns[1], columns[2], columns[3]
    for lo in range(0, total, _DECODE_CHUNK):
        hi = min(total, lo + _DECODE_CHUNK)
        status[lo:hi], error[lo:hi], retry_after[lo:hi] = decode_code(codes[lo:hi])
    return columns[0], status, error, retry_after, sizes


_DECODE_CHUNK = 1 << 20
