"""First-response and deadline evaluators against a plain per-record reading of the rules."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slaledger.core.business_calendar import BusinessCalendar
from slaledger.core.commitment_spec import Deadline, FirstResponse
from slaledger.core.deadline import evaluate_deadline
from slaledger.core.first_response import evaluate_first_response
from slaledger.core.periods import calendar_month
from slaledger.core.record_columns import NEVER, SwapColumns, TicketColumns
from slaledger.core.timebase import US_PER_HOUR
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"
BERLIN = ZoneInfo("Europe/Berlin")
OCTOBER = calendar_month(2026, 10, BERLIN)
SPAN = OCTOBER.end - OCTOBER.start
CALENDAR: BusinessCalendar = calendar_of(
    load_contract(EXAMPLES / "hosting-pop.yaml"), "cet-support"
)
TIER2 = FirstResponse(kind="first-response", severity="S", within="4h", calendar="cet-support")
SWAP = Deadline(kind="deadline", records="hardware-swap", within="4h", calendar="cet-support")
BUDGET = 4 * US_PER_HOUR

offsets = st.integers(-3 * 86_400_000_000, SPAN + 3 * 86_400_000_000)
delays = st.one_of(st.none(), st.integers(0, 5 * 86_400_000_000))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(offsets, delays, st.booleans()), max_size=40), offsets)
def test_first_response_matches_the_rule_ticket_by_ticket(
    rows: list[tuple[int, int | None, bool]], at_offset: int
) -> None:
    at = OCTOBER.start + at_offset
    opened = [OCTOBER.start + offset for offset, _, _ in rows]
    responded = [NEVER if d is None else o + d for o, (_, d, _) in zip(opened, rows, strict=True)]
    severities = ["S" if ours else "other" for _, _, ours in rows]
    tickets = TicketColumns(
        [f"T-{i}" for i in range(len(rows))],
        [None] * len(rows),
        np.array(severities, dtype=np.str_),
        np.array(opened, dtype=np.int64),
        np.array(responded, dtype=np.int64),
    )
    result = evaluate_first_response("s", TIER2, CALENDAR, tickets, OCTOBER, at)
    expected: dict[str, tuple[str, int, int | None, int]] = {}
    counts = {"met": 0, "missed": 0, "pending": 0, "not-covered": 0}
    for i, (start, reply, severity) in enumerate(zip(opened, responded, severities, strict=True)):
        if severity != "S" or not OCTOBER.start <= start < OCTOBER.end:
            continue
        due = CALENDAR.due(start, BUDGET)
        if reply != NEVER:
            status = "met" if reply <= due else "missed"
        else:
            status = "pending" if at <= due else "missed"
        counts[status] += 1
        if status != "met":
            end = None if reply == NEVER else reply
            stop = reply if reply != NEVER else max(start, at)
            expected[f"T-{i}"] = (status, due, end, CALENDAR.open(start, stop))
    assert result.counts == counts
    assert {
        item.id: (item.status, item.due, item.end, int(item.elapsed_seconds * 1_000_000))
        for item in result.items
    } == expected
    assert [item.start for item in result.items] == sorted(item.start for item in result.items)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(offsets, delays), max_size=40), offsets)
def test_deadline_matches_the_rule_swap_by_swap(
    rows: list[tuple[int, int | None]], at_offset: int
) -> None:
    at = OCTOBER.start + at_offset
    diagnosed = [OCTOBER.start + offset for offset, _ in rows]
    replaced = [NEVER if d is None else s + d for s, (_, d) in zip(diagnosed, rows, strict=True)]
    swaps = SwapColumns(
        [f"HW-{i}" for i in range(len(rows))],
        [None] * len(rows),
        [None] * len(rows),
        np.array(diagnosed, dtype=np.int64),
        np.array(replaced, dtype=np.int64),
    )
    result = evaluate_deadline("hw", SWAP, CALENDAR, swaps, OCTOBER, at)
    expected: dict[str, tuple[str, int | None]] = {}
    counts = {"met": 0, "late": 0, "pending": 0, "not-covered": 0}
    for i, (start, done) in enumerate(zip(diagnosed, replaced, strict=True)):
        if done != NEVER:
            if not OCTOBER.start <= done < OCTOBER.end:
                continue
        elif not (OCTOBER.start < at <= OCTOBER.end and start <= at):
            continue
        due = CALENDAR.due(start, BUDGET)
        stop = done if done != NEVER else max(start, at)
        if done != NEVER and done <= due:
            status = "met"
        elif done == NEVER and at <= due:
            status = "pending"
        else:
            status = "late"
        counts[status] += 1
        if status != "met":
            late = -(-(stop - due) // US_PER_HOUR) if status == "late" else None
            expected[f"HW-{i}"] = (status, late)
    assert result.counts == counts
    assert {item.id: (item.status, item.late_hours) for item in result.items} == expected
