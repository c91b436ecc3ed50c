"""Deadline commitments: each incident done within so much open time, and hours late.

``SETTLEMENT-SEMANTICS.md``: ``due = due(diagnosed, within)`` in the commitment's calendar;
a swap is ``late`` iff ``replaced > due``, by ⌈(replaced − due) / 1 h⌉ late hours of
wall-clock time (DECISION: each started hour counts). Not yet replaced: ``pending`` while
the evaluation instant is not past ``due`` (DECISION: at the due instant itself nothing is
late yet), else ``late`` with the hours accruing up to the evaluation instant. A swap
belongs to the month in which it was replaced; one still open belongs to the month being
evaluated when the evaluation instant falls in it (``start < at <= end``: the default
instant, the end of the month, counts as in it).
"""

from __future__ import annotations

import numpy as np

from slaledger.core.business_calendar import BusinessCalendar
from slaledger.core.commitment_results import CommitmentResult, ItemResult, Status, seconds, verdict
from slaledger.core.commitment_spec import Deadline, open_time_us
from slaledger.core.periods import Period
from slaledger.core.record_columns import NEVER, IntArray, SwapColumns
from slaledger.core.timebase import US_PER_HOUR


def late_hours(late_us: IntArray) -> IntArray:
    """⌈late / 1 h⌉ for each (``0`` where not late)."""
    return np.where(late_us > 0, -((-late_us) // US_PER_HOUR), 0)


def evaluate_deadline(
    name: str,
    spec: Deadline,
    calendar: BusinessCalendar,
    swaps: SwapColumns,
    period: Period,
    at: int,
) -> CommitmentResult:
    """The swaps replaced in ``period`` (and those still open, when ``at`` is in it)."""
    within = open_time_us(spec.within, calendar.week)
    done = swaps.replaced != NEVER
    in_month = done & (swaps.replaced >= period.start) & (swaps.replaced < period.end)
    if period.start < at <= period.end:
        in_month |= ~done & (swaps.diagnosed <= at)
    rows = np.flatnonzero(in_month)
    diagnosed = swaps.diagnosed[rows]
    replaced = swaps.replaced[rows]
    finished = done[rows]
    due = calendar.due_many(diagnosed, within)
    stopped = np.where(finished, replaced, np.maximum(diagnosed, at))
    met = finished & (replaced <= due)
    pending = ~finished & (at <= due)
    late = ~met & ~pending
    counts = {
        "met": int(np.count_nonzero(met)),
        "late": int(np.count_nonzero(late)),
        "pending": int(np.count_nonzero(pending)),
        "not-covered": 0,
    }
    hours = late_hours(stopped - due)
    listed = np.flatnonzero(~met)
    listed = listed[np.argsort(diagnosed[listed], kind="stable")]
    elapsed = calendar.open_many(diagnosed[listed], stopped[listed])
    items = []
    for position, index in enumerate(listed.tolist()):
        row = int(rows[index])
        status: Status = "late" if late[index] else "pending"
        items.append(
            ItemResult(
                id=swaps.ids[row],
                start=int(diagnosed[index]),
                due=int(due[index]),
                end=int(replaced[index]) if finished[index] else None,
                elapsed_seconds=seconds(int(elapsed[position])),
                status=status,
                late_hours=int(hours[index]) if status == "late" else None,
                customer=swaps.customers[row],
            )
        )
    return CommitmentResult(name, "deadline", verdict(counts), counts, tuple(items))
