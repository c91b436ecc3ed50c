"""The vocabulary of a demo script: failures, scripted incidents and a month's scenario."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from slaledger.core.events import Events
from slaledger.core.observations import ERROR_CODES, NO_STATUS
from slaledger.core.timebase import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, from_instant


@dataclass(frozen=True)
class Failure:
    """What a failing probe got back: an HTTP status, an error class, or both."""

    status: int = NO_STATUS
    error: str | None = None
    retry_after: bool = False

    @property
    def error_code(self) -> int:
        return 0 if self.error is None else ERROR_CODES[self.error]


@dataclass(frozen=True)
class Incident:
    """``probes`` consecutive scheduled probes failing at each of ``locations``.

    The first failing probe is in the minute bucket starting at ``start``. With ``recheck``
    (seconds), the prober re-checks that long after each failed probe: every re-check fails
    but the last, which is the first successful probe after restoration.
    """

    service: str
    locations: tuple[str, ...]
    start: int
    probes: int
    failure: Failure
    summary: str
    recheck: int | None = None

    @property
    def end(self) -> int:
        """End of the last failing minute bucket."""
        return self.start + self.probes * US_PER_MINUTE

    def describe(self) -> str:
        """One human line: when, what, where, and what the contract makes of it."""
        first, last = from_instant(self.start), from_instant(self.end)
        span = f"{first:%Y-%m-%d %H:%M}–{last:%H:%M} UTC"
        return f"{span}  {self.service} at {'+'.join(self.locations)}: {self.summary}"


@dataclass(frozen=True)
class Scenario:
    """Everything scripted for one contract's month; the generator adds the noise."""

    locations: tuple[str, ...]
    incidents: tuple[Incident, ...] = ()
    events: Events = field(default_factory=Events)
    noise: Mapping[str, int] = field(default_factory=dict)
    """Isolated single failures (one location, one minute) per service."""


@dataclass(frozen=True)
class Clock:
    """Instants of a month written as day of month, hour and minute from its start."""

    origin: int

    def at(self, day: int, hour: int = 0, minute: int = 0) -> int:
        return self.origin + (day - 1) * US_PER_DAY + hour * US_PER_HOUR + minute * US_PER_MINUTE

    def moment(self, day: int, hour: int = 0, minute: int = 0) -> datetime:
        return from_instant(self.at(day, hour, minute))
