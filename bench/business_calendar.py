"""Business-calendar benchmark: ``due()`` for 1 million tickets on the Itstabyl calendar.

The calendar is ``uk-office`` from ``examples/contracts/itstabyl.yaml`` (09:00-18:00 UTC
Mon-Fri, bank holidays of England). Tickets open at random microseconds over 2026 with the
support budgets of the seed (P1 1 h, P2 4 h, P3 1 business day = 9 h). Prints the time to lay
out the calendar's table, then tickets per second for the vectorised ``due_many`` and
``open_many``, and for a plain per-ticket loop calling ``due()`` on a sample, with the ratio.
The vectorised results are checked against the loop on that sample.
Run: ``.venv/bin/python bench/business_calendar.py`` (not ``calendar.py``: a script of that
name would shadow the standard library module it runs beside).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from slaledger.core.timebase import US_PER_HOUR, to_instant
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract

CONTRACT = Path(__file__).resolve().parents[1] / "examples" / "contracts" / "itstabyl.yaml"
BUDGETS = np.array([1, 4, 9], dtype=np.int64) * US_PER_HOUR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--loop-sample", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    arguments = parser.parse_args()

    rng = np.random.default_rng(2026)
    year_start = to_instant(datetime(2026, 1, 1, tzinfo=UTC))
    year_us = to_instant(datetime(2027, 1, 1, tzinfo=UTC)) - year_start
    starts = year_start + rng.integers(0, year_us, arguments.tickets, dtype=np.int64)
    budgets = BUDGETS[rng.integers(0, 3, arguments.tickets)]

    began = time.perf_counter()
    calendar = calendar_of(load_contract(CONTRACT), "uk-office")
    calendar.due(int(starts[0]), int(budgets[0]))  # lays out the table for 2026-2027
    calendar.due_many(starts, budgets)
    table_s = time.perf_counter() - began

    due_s = min(_timed(lambda: calendar.due_many(starts, budgets)) for _ in range(arguments.repeat))
    due = calendar.due_many(starts, budgets)
    open_s = min(_timed(lambda: calendar.open_many(starts, due)) for _ in range(arguments.repeat))
    assert np.array_equal(calendar.open_many(starts, due), budgets)

    sample = min(arguments.loop_sample, arguments.tickets)
    began = time.perf_counter()
    looped = [
        calendar.due(int(s), int(d)) for s, d in zip(starts[:sample], budgets[:sample], strict=True)
    ]
    loop_s = time.perf_counter() - began
    assert looped == due[:sample].tolist()

    due_rate = arguments.tickets / due_s
    loop_rate = sample / loop_s
    print(f"calendar uk-office, {arguments.tickets:,} tickets over 2026, budgets 1h/4h/9h")
    print(f"table (load contract, holidays, lay out the years): {table_s:.3f} s")
    print(f"due_many:  {due_s:.3f} s  {due_rate / 1e6:.2f} M tickets/s")
    print(f"open_many: {open_s:.3f} s  {arguments.tickets / open_s / 1e6:.2f} M tickets/s")
    print(
        f"per-ticket loop of due() on {sample:,}: {loop_s:.3f} s  {loop_rate / 1e3:.1f} k tickets/s"
    )
    print(f"vectorised / loop: {due_rate / loop_rate:.0f} x")


def _timed(work: object) -> float:
    assert callable(work)
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
