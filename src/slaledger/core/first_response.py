"""First-response commitments: a human reply within so much open time of a calendar.

``SETTLEMENT-SEMANTICS.md``: the clock runs from ``opened``; the first ``by: human`` response
stops it (auto-acknowledgements never do). ``due = due(opened, within)`` in the commitment's
calendar. A ticket is ``met`` iff that response is at or before ``due``; without one it is
``pending`` while the evaluation instant is not past ``due`` (DECISION: at the due instant
itself nothing is late yet, as a reply at that instant would be met), else ``missed``. A
ticket belongs to the month (contract time zone) in which it was opened.

Vectorised: a month of tickets is a mask, one ``due_many``, a few comparisons, and one
``open_many`` for the items that are listed (every one not met).
"""

from __future__ import annotations

import numpy as np

from slaledger.core.business_calendar import BusinessCalendar
from slaledger.core.commitment_results import (
    CommitmentResult,
    ItemResult,
    seconds,
    verdict,
)
from slaledger.core.commitment_spec import FirstResponse, open_time_us
from slaledger.core.periods import Period
from slaledger.core.record_columns import NEVER, BoolArray, IntArray, TicketColumns


def evaluate_first_response(
    name: str,
    spec: FirstResponse,
    calendar: BusinessCalendar,
    tickets: TicketColumns,
    period: Period,
    at: int,
) -> CommitmentResult:
    """The tickets of ``spec.severity`` opened in ``period``, judged at the instant ``at``."""
    within = open_time_us(spec.within, calendar.week)
    rows = np.flatnonzero(
        (tickets.severities == spec.severity)
        & (tickets.opened >= period.start)
        & (tickets.opened < period.end)
    )
    opened = tickets.opened[rows]
    responded = tickets.responded[rows]
    due = calendar.due_many(opened, within)
    answered = responded != NEVER
    met = answered & (responded <= due)
    pending = ~answered & (at <= due)
    missed = ~met & ~pending
    counts = {
        "met": int(np.count_nonzero(met)),
        "missed": int(np.count_nonzero(missed)),
        "pending": int(np.count_nonzero(pending)),
        "not-covered": 0,
    }
    listed = np.flatnonzero(~met)
    listed = listed[np.argsort(opened[listed], kind="stable")]
    stopped = np.where(answered, responded, np.maximum(opened, at))
    items = _items(tickets, rows, listed, opened, due, stopped, answered, missed, calendar)
    return CommitmentResult(name, "first-response", verdict(counts), counts, items)


def _items(
    tickets: TicketColumns,
    rows: IntArray,
    listed: IntArray,
    opened: IntArray,
    due: IntArray,
    stopped: IntArray,
    answered: BoolArray,
    missed: BoolArray,
    calendar: BusinessCalendar,
) -> tuple[ItemResult, ...]:
    elapsed = calendar.open_many(opened[listed], stopped[listed]).tolist()
    ids, customers = tickets.ids, tickets.customers
    starts, dues = opened[listed].tolist(), due[listed].tolist()
    ends = stopped[listed].tolist()
    replied, late = answered[listed].tolist(), missed[listed].tolist()
    return tuple(
        ItemResult(
            id=ids[row],
            start=starts[position],
            due=dues[position],
            end=ends[position] if replied[position] else None,
            elapsed_seconds=seconds(elapsed[position]),
            status="missed" if late[position] else "pending",
            customer=customers[row],
        )
        for position, row in enumerate(rows[listed].tolist())
    )
