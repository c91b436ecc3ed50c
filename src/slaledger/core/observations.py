"""Columnar probe observations: one row per probe result, as parallel numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slaledger.core.model_base import ERROR_CLASSES

NO_STATUS = 0
"""``status`` value of an observation that got no HTTP response (or is not HTTP)."""

ERROR_CODES: dict[str, int] = {name: code for code, name in enumerate(ERROR_CLASSES, start=1)}
"""``error`` codes: 0 is no error, then one code per error class."""

DEFAULT_LOCATION = "default"


@dataclass(frozen=True, eq=False)
class Observations:
    """Probe results. ``service`` and ``location`` index into the name tuples.

    ``timestamp`` is microseconds since the epoch (UTC); ``status`` is the HTTP status or
    :data:`NO_STATUS`; ``error`` is 0 or an :data:`ERROR_CODES` value; ``retry_after``
    says whether a Retry-After header came back.
    """

    timestamp: NDArray[np.int64]
    service: NDArray[np.int32]
    location: NDArray[np.int16]
    status: NDArray[np.int16]
    error: NDArray[np.int8]
    retry_after: NDArray[np.bool_]
    services: tuple[str, ...]
    locations: tuple[str, ...]

    def __post_init__(self) -> None:
        size = self.timestamp.size
        for name in ("service", "location", "status", "error", "retry_after"):
            if getattr(self, name).size != size:
                raise ValueError(f"column {name} has {getattr(self, name).size} rows, not {size}")

    def __len__(self) -> int:
        return int(self.timestamp.size)

    @classmethod
    def empty(cls, services: tuple[str, ...] = (), locations: tuple[str, ...] = ()) -> Observations:
        return cls(
            timestamp=np.empty(0, np.int64),
            service=np.empty(0, np.int32),
            location=np.empty(0, np.int16),
            status=np.empty(0, np.int16),
            error=np.empty(0, np.int8),
            retry_after=np.empty(0, bool),
            services=services,
            locations=locations,
        )

    def take(self, rows: NDArray[np.intp] | NDArray[np.bool_]) -> Observations:
        """The observations at ``rows`` (indices or a mask), same name tables."""
        return Observations(
            timestamp=self.timestamp[rows],
            service=self.service[rows],
            location=self.location[rows],
            status=self.status[rows],
            error=self.error[rows],
            retry_after=self.retry_after[rows],
            services=self.services,
            locations=self.locations,
        )

    @classmethod
    def concat(cls, parts: list[Observations]) -> Observations:
        """Join observation sets, re-coding services and locations to shared tables."""
        services = tuple(dict.fromkeys(name for p in parts for name in p.services))
        locations = tuple(dict.fromkeys(name for p in parts for name in p.locations))
        s_index = {name: i for i, name in enumerate(services)}
        l_index = {name: i for i, name in enumerate(locations)}
        service_cols, location_cols = [], []
        for part in parts:
            s_map = np.array([s_index[n] for n in part.services] or [0], dtype=np.int32)
            l_map = np.array([l_index[n] for n in part.locations] or [0], dtype=np.int16)
            service_cols.append(s_map[part.service])
            location_cols.append(l_map[part.location])
        if not parts:
            return cls.empty()
        return cls(
            timestamp=np.concatenate([p.timestamp for p in parts]),
            service=np.concatenate(service_cols),
            location=np.concatenate(location_cols),
            status=np.concatenate([p.status for p in parts]),
            error=np.concatenate([p.error for p in parts]),
            retry_after=np.concatenate([p.retry_after for p in parts]),
            services=services,
            locations=locations,
        )
