"""First-response and deadline commitments: 1 million tickets on the Itstabyl calendar and
the hosting seed's hardware swaps.

Tickets: 1,000,000 opened at random microseconds over December 2026 on Itstabyl's
``uk-office`` calendar (09:00-18:00 UTC Mon-Fri, bank holidays of England: Christmas and
the observed Boxing Day fall in the month), a third each P1 (1 h), P2 (4 h) and P3 (1 bd =
9 h); 98 % got a human reply after 0-105 % of their budget (about 5 % late), the rest none
(pending or missed at the end of the month). ``--worst``: 90 % replied after 0-10 open hours,
so more than half of the tickets are missed and listed.

Swaps: 10,000 diagnosed over October 2026 on the hosting seed's
``cet-support`` calendar (09:00-22:00 Berlin time, with the DST change), replaced 1-8 h
later, 2 % not yet. Times: the columns from record objects (what a records file costs after
it is read), then ``settle_commitments`` for Itstabyl's three support commitments and
the hosting swap deadline from columns, best of three; every item not met is built as an
``ItemResult`` with its exact elapsed open time. One severity is checked against a plain
per-ticket loop of ``due()`` on a sample.

Run: ``.venv/bin/python bench/commitments.py`` (about 20 s; ``--tickets`` to change).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from slaledger.core.commitments import RecordSet, calendar_names, settle_commitments
from slaledger.core.periods import calendar_month
from slaledger.core.record_columns import NEVER, SwapColumns, TicketColumns, ticket_columns
from slaledger.core.records import Response, Ticket
from slaledger.core.timebase import US_PER_HOUR
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract
from slaledger.files.records_jsonl import read_records

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "contracts"
SEVERITIES = np.array(["P1", "P2", "P3"])
BUDGETS = np.array([1, 4, 9], dtype=np.int64) * US_PER_HOUR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--swaps", type=int, default=10_000)
    parser.add_argument("--objects", type=int, default=100_000, help="record objects timed")
    parser.add_argument(
        "--read", type=int, default=0, help="also time reading this many ticket lines"
    )
    parser.add_argument(
        "--worst", action="store_true", help="replies after 0-10 open hours: most missed"
    )
    arguments = parser.parse_args()
    rng = np.random.default_rng(2026)

    itstabyl = load_contract(EXAMPLES / "itstabyl.yaml")
    itstabyl = itstabyl.model_copy(
        update={
            "commitments": {
                name: spec
                for name, spec in itstabyl.commitments.items()
                if name.startswith("support-")
            }
        }
    )
    december = calendar_month(2026, 12, itstabyl.zone)
    calendar = calendar_of(itstabyl, "uk-office")
    n = arguments.tickets
    opened = december.start + rng.integers(0, december.end - december.start, n, dtype=np.int64)
    opened.sort()
    severities = SEVERITIES[rng.integers(0, 3, n)]
    budgets = BUDGETS[np.searchsorted(SEVERITIES, severities)]
    if arguments.worst:
        answered = rng.random(n) < 0.9
        reply_open_us = rng.integers(0, 10 * US_PER_HOUR, n, dtype=np.int64)
    else:
        answered = rng.random(n) < 0.98
        reply_open_us = (budgets * rng.uniform(0, 1.05, n)).astype(np.int64)
    responded = np.where(answered, calendar.due_many(opened, reply_open_us), NEVER)
    ids = [f"T-{index}" for index in range(n)]
    tickets = TicketColumns(ids, ["acme"] * n, severities, opened, responded)
    records = RecordSet(tickets=tickets)
    calendars = {name: calendar_of(itstabyl, name) for name in calendar_names(itstabyl)}
    settle_commitments(itstabyl, calendars, records, december, december.end)  # lays out tables

    began = time.perf_counter()
    results = settle_commitments(itstabyl, calendars, records, december, december.end)
    first_s = min(
        [time.perf_counter() - began]
        + [
            _timed(lambda: settle_commitments(itstabyl, calendars, records, december, december.end))
            for _ in range(2)
        ]
    )
    listed = sum(len(result.items) for result in results)
    _check_against_loop(results, tickets, calendar)

    swap_s, swap_result = _swaps(arguments.swaps, rng)

    k = min(arguments.objects, n)
    objects = [
        Ticket.model_construct(
            kind="ticket",
            id=ids[i],
            customer="acme",
            severity=str(severities[i]),
            opened=int(opened[i]),
            responses=(Response.model_construct(at=int(responded[i]), by="human"),)
            if answered[i]
            else (),
        )
        for i in range(k)
    ]
    columns_s = _timed(lambda: ticket_columns(objects))

    print(f"itstabyl support, {n:,} tickets in December 2026 (uk-office calendar)")
    for result in results:
        print(f"  {result.commitment}: {result.counts}")
    print(
        f"settle_commitments (3 first-response commitments, {listed:,} items listed): "
        f"{first_s:.3f} s  {n / first_s / 1e6:.2f} M tickets/s"
    )
    print(
        f"hosting hardware swaps, {arguments.swaps:,} in October 2026 (cet-support): "
        f"{swap_result.counts}"
    )
    print(f"settle_commitments (deadline): {swap_s * 1000:.1f} ms")
    print(
        f"ticket columns from {k:,} record objects: {columns_s:.3f} s "
        f"({k / columns_s / 1e6:.2f} M/s)"
    )
    if arguments.read:
        _time_reading(arguments.read)


def _swaps(m: int, rng: np.random.Generator) -> tuple[float, Any]:
    """The hosting seed's swap deadline over ``m`` swaps in October: best time and result."""
    hosting = load_contract(EXAMPLES / "hosting-pop.yaml")
    hosting = hosting.model_copy(
        update={
            "commitments": {
                name: spec for name, spec in hosting.commitments.items() if spec.kind == "deadline"
            }
        }
    )
    october = calendar_month(2026, 10, hosting.zone)
    diagnosed = october.start + rng.integers(0, october.end - october.start - 9 * US_PER_HOUR, m)
    replaced = diagnosed + rng.integers(US_PER_HOUR, 8 * US_PER_HOUR, m)
    replaced = np.where(rng.random(m) < 0.98, replaced, NEVER).astype(np.int64)
    swaps = SwapColumns(
        [f"HW-{i}" for i in range(m)], ["acme"] * m, ["fra1"] * m, diagnosed, replaced
    )
    hosting_calendars = {name: calendar_of(hosting, name) for name in calendar_names(hosting)}
    swap_records = RecordSet(swaps=swaps)
    settle_commitments(hosting, hosting_calendars, swap_records, october, october.end)
    swap_s = min(
        _timed(
            lambda: settle_commitments(
                hosting, hosting_calendars, swap_records, october, october.end
            )
        )
        for _ in range(3)
    )
    (swap_result,) = settle_commitments(
        hosting, hosting_calendars, swap_records, october, october.end
    )

    return swap_s, swap_result


def _time_reading(count: int) -> None:
    """Write ``count`` ticket lines (two responses each) and time :func:`read_records`."""
    line = json.dumps(
        {
            "kind": "ticket",
            "id": "T-0",
            "customer": "acme",
            "severity": "P1",
            "opened": "2026-12-24T17:30:00Z",
            "responses": [
                {"at": "2026-12-24T17:30:02Z", "by": "auto"},
                {"at": "2026-12-29T09:30:00.25Z", "by": "human"},
            ],
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.jsonl"
        path.write_text((line + "\n") * count, encoding="utf-8")
        began = time.perf_counter()
        read = read_records(path)
        took = time.perf_counter() - began
    print(f"read_records of {len(read):,} ticket lines: {took:.2f} s ({count / took:,.0f}/s)")


def _replies(at: int) -> tuple[Response, ...]:
    return (Response.model_construct(at=at, by="human"),)


def _check_against_loop(results: Any, tickets: TicketColumns, calendar: Any) -> None:
    """P1's first 2,000 listed items against ``due()`` one ticket at a time."""
    p1 = results[0]
    for item in p1.items[:2000]:
        assert item.due == calendar.due(item.start, US_PER_HOUR)
    del tickets


def _timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
