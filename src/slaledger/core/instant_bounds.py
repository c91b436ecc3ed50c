"""The instants an import may hold: none in the future, none before the contract starts.

Without ``effective_from`` the earliest instant is the oldest the long-term tier keeps: older
probes would be pruned on the next retention run, and once made the publisher issue a
statement for every month back to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slaledger.core.contract import Contract
from slaledger.core.timebase import US_PER_DAY, format_instant


@dataclass(frozen=True)
class InstantBounds:
    """Instants from ``earliest`` up to and including ``latest`` (now)."""

    earliest: int
    latest: int
    earliest_is: str
    """What the earliest instant is, for messages: ``the contract's effective_from``."""

    @classmethod
    def for_import(cls, contract: Contract, now: int, retention_days: int) -> InstantBounds:
        if contract.start is not None:
            return cls(contract.start, now, "the contract's effective_from")
        return cls(
            now - retention_days * US_PER_DAY,
            now,
            f"the long-term retention of {retention_days} days",
        )

    def outside(self, instants: NDArray[np.int64]) -> NDArray[np.bool_]:
        return (instants < self.earliest) | (instants > self.latest)

    def problem(self, instant: int) -> str:
        """Why ``instant`` (one :meth:`outside` found) may not be imported."""
        if instant > self.latest:
            return (
                f"{format_instant(instant)} is in the future (the import runs at "
                f"{format_instant(self.latest)})"
            )
        return (
            f"{format_instant(instant)} is before {self.earliest_is} "
            f"({format_instant(self.earliest)}); remove the lines before it"
        )

    def check(self, start: int, end: int | None = None) -> str | None:
        """Why an event from ``start`` (to ``end``, if known) may not be imported, or ``None``."""
        if start < self.earliest or start > self.latest:
            return self.problem(start)
        if end is not None and end > self.latest:
            return f"it lasts until {format_instant(end)}, in the future (the import runs at " + (
                f"{format_instant(self.latest)})"
            )
        return None
