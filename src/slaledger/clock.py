"""The system's clock: the one place slaledger reads the time of day.

The composition root (:mod:`slaledger.app`) builds the clock every part is handed; nothing
below it calls :func:`wall_clock` except as a default for a part used on its own.
"""

from __future__ import annotations

import time

from slaledger.core.timebase import Clock


def wall_clock() -> int:
    """The system's clock in microseconds since the epoch."""
    return time.time_ns() // 1000


def replayed_clock(start: int, now: Clock = wall_clock) -> Clock:
    """A clock that reads ``start`` now and runs on from there (replays over a store recorded
    as of a fixed date)."""
    offset = start - now()

    def clock() -> int:
        return now() + offset

    return clock
