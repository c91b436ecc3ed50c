"""Records as columns: numpy arrays of instants, one row per record, for evaluating millions.

The evaluators (:mod:`slaledger.core.first_response`, :mod:`slaledger.core.deadline`) work on
these columns so that a month of a million tickets is a few vectorised passes, not a million
Python objects. :func:`ticket_columns` and :func:`swap_columns` build them from validated
records; a store or a benchmark may build them directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slaledger.core.records import HardwareSwap, Ticket

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

NEVER = np.iinfo(np.int64).max
"""The instant of a clock that has not stopped (no human response, not replaced)."""


@dataclass(frozen=True)
class TicketColumns:
    """Tickets: id, customer and severity, when opened, and the first human response."""

    ids: Sequence[str]
    customers: Sequence[str | None]
    severities: NDArray[np.str_]
    opened: IntArray
    responded: IntArray
    """The first ``by: human`` response, :data:`NEVER` when there is none."""

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, rows: IntArray) -> TicketColumns:
        return TicketColumns(
            [self.ids[row] for row in rows.tolist()],
            [self.customers[row] for row in rows.tolist()],
            self.severities[rows],
            self.opened[rows],
            self.responded[rows],
        )


@dataclass(frozen=True)
class SwapColumns:
    """Hardware swaps: id, customer and location, when diagnosed and when replaced."""

    ids: Sequence[str]
    customers: Sequence[str | None]
    locations: Sequence[str | None]
    diagnosed: IntArray
    replaced: IntArray
    """:data:`NEVER` while not replaced."""

    def __len__(self) -> int:
        return len(self.ids)


def ticket_columns(tickets: Iterable[Ticket]) -> TicketColumns:
    rows = list(tickets)
    responded = [ticket.first_human_response for ticket in rows]
    return TicketColumns(
        [ticket.id for ticket in rows],
        [ticket.customer for ticket in rows],
        np.array([ticket.severity for ticket in rows], dtype=np.str_),
        np.array([ticket.opened for ticket in rows], dtype=np.int64),
        np.array([NEVER if at is None else at for at in responded], dtype=np.int64),
    )


def swap_columns(swaps: Iterable[HardwareSwap]) -> SwapColumns:
    rows = list(swaps)
    return SwapColumns(
        [swap.id for swap in rows],
        [swap.customer for swap in rows],
        [swap.location for swap in rows],
        np.array([swap.diagnosed for swap in rows], dtype=np.int64),
        np.array([NEVER if swap.replaced is None else swap.replaced for swap in rows], np.int64),
    )
