"""What every downtime rule receives: one group of services' observations, already classified."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from slaledger.core.intervals import IntervalSet
from slaledger.core.periods import Period
from slaledger.core.report import Episode
from slaledger.core.windows import ServiceWindows

ResultKey = tuple[int, int | None]
"""(service index within the group, location code for per-location results, else None)."""


@dataclass(frozen=True, eq=False)
class RuleInput:
    """Observations of the services one rule settles together, with their excluded time.

    ``service`` holds indexes into ``windows`` (one entry per service of the group);
    ``location`` holds codes into ``locations``; ``outcome`` holds up/down/excluded codes.
    """

    timestamp: NDArray[np.int64]
    service: NDArray[np.int32]
    location: NDArray[np.int16]
    outcome: NDArray[np.int8]
    windows: tuple[ServiceWindows, ...]
    locations: tuple[str, ...]
    period: Period
    per_location: bool
    known_until: int | None = None
    """When the data ends: an interval still open then stops there (default: the period's
    end). Month-to-date figures pass the current instant."""
    weight: NDArray[np.int64] | None = None
    """How many observations each row stands for (minute runs); ``None``: one each."""
    outages: Mapping[tuple[int, int], IntervalSet] = field(default_factory=dict)
    """Recorded down time per (service index, location code), merged with the probes'
    (:mod:`slaledger.core.outages`)."""

    @property
    def open_intervals_end(self) -> int:
        if self.known_until is None:
            return self.period.end
        return max(self.period.start, min(self.period.end, self.known_until))

    def excluded_for(self, service: int, location: int | None) -> IntervalSet:
        """Excluded time that applies to a whole result (service-wide, or one location)."""
        own = self.windows[service]
        return own.everywhere if location is None else own.for_location(self.locations[location])


@dataclass(frozen=True)
class RuleOutcome:
    """Counted downtime minutes and the episodes a rule saw, for one result."""

    downtime_minutes: int
    episodes: tuple[Episode, ...]
