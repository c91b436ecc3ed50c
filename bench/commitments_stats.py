"""Per-event and percentile commitments: 100,000 DDoS events, 1 million provisioning records.

DDoS: 100,000 events in October 2026 with peaks of 0–10 Gbps (about 10 % under the 1 Gbps
minimum) and activation times of 0.1–3 s (about a third at or over the 2 s threshold). Times
the array rule alone (``event_statuses`` over numpy arrays) and the whole commitment from
record objects (``evaluate_per_event``: every event not met listed as an item).

Provisioning: 1,000,000 requests spread over September and October 2026 (so every
trailing-30-day window of October is full, about 500,000 records), ``ready − requested``
log-normal around 70 s, 0.5 % failed, the rest ready (some after the end of their day, so
not ready at ``T``). Times: laying out the arrays from record objects (the dispatcher's
cost), sorting them, the month's 31 daily trailing-30-day medians (and 95th percentiles),
and the 90-day series the status page charts. Two days are checked against a plain
per-record computation with sorted lists.

Run: ``.venv/bin/python bench/commitments_stats.py`` (about 15 s; ``--quick`` for a tenth
of the records).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from slaledger.core.commitment_spec import Percentile, PerEvent
from slaledger.core.commitments import RecordSet, settle_commitments
from slaledger.core.contract import Contract
from slaledger.core.per_event import covered, evaluate_per_event, event_statuses
from slaledger.core.percentile import (
    NOT_READY,
    Provisioning,
    daily_series,
    evaluate_percentile,
    provisioning_arrays,
)
from slaledger.core.periods import calendar_month
from slaledger.core.records import Ddos
from slaledger.core.records import Provisioning as ProvisioningRecord
from slaledger.core.timebase import US_PER_DAY, US_PER_SECOND

UTC = ZoneInfo("UTC")
_FF = {"rule": "first-fail-to-first-success"}
OCTOBER = calendar_month(2026, 10, UTC)
SEPTEMBER = calendar_month(2026, 9, UTC)
DDOS = PerEvent.model_validate(
    {"kind": "per-event", "records": "ddos", "below": "2s", "covers": {"min_peak_gbps": "1"}}
)
MEDIAN = Percentile.model_validate(
    {
        "kind": "percentile",
        "records": "provisioning",
        "statistic": "median",
        "below": "90s",
        "window": "30d",
    }
)
P95 = MEDIAN.model_copy(
    update={"statistic": MEDIAN.statistic.model_copy(update={"percentile": Decimal(95)})}
)


def best(function: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return min(times)


def ddos(n: int, repeat: int, rng: np.random.Generator) -> list[Ddos]:
    detected = OCTOBER.start + rng.integers(0, OCTOBER.end - OCTOBER.start, n, dtype=np.int64)
    elapsed = rng.integers(US_PER_SECOND // 10, 3 * US_PER_SECOND, n, dtype=np.int64)
    tenths = rng.integers(0, 100, n)
    peaks = [Decimal(int(t)).scaleb(-1) for t in tenths.tolist()]
    events = [
        Ddos.model_construct(
            kind="ddos",
            id=f"D-{i}",
            customer=None,
            location="fra",
            detected=d,
            mitigated=m,
            peak_gbps=p,
        )
        for i, (d, m, p) in enumerate(
            zip(detected.tolist(), (detected + elapsed).tolist(), peaks, strict=True)
        )
    ]
    mitigated = detected + elapsed
    cover = covered(peaks, DDOS.covers.min_peak_gbps)
    array_s = best(
        lambda: event_statuses(detected, mitigated, cover, DDOS.below, OCTOBER.end), repeat
    )
    cover_s = best(lambda: covered(peaks, DDOS.covers.min_peak_gbps), repeat)
    whole_s = best(lambda: evaluate_per_event("ddos", DDOS, events, OCTOBER, OCTOBER.end), repeat)
    result = evaluate_per_event("ddos", DDOS, events, OCTOBER, OCTOBER.end)
    expected_met = int(np.count_nonzero(cover & (elapsed < DDOS.below)))
    assert result.counts["met"] == expected_met, (result.counts, expected_met)
    print(f"DDoS events: {n:,}; {result.counts}")
    print(f"  statuses over arrays       {array_s * 1000:8.1f} ms")
    print(f"  coverage (Decimal peaks)   {cover_s * 1000:8.1f} ms")
    print(f"  evaluate_per_event         {whole_s * 1000:8.1f} ms  ({len(result.items):,} items)")
    return events


def provisioning(n: int, repeat: int, rng: np.random.Generator) -> list[ProvisioningRecord]:
    span = OCTOBER.end - SEPTEMBER.start
    requested = SEPTEMBER.start + rng.integers(0, span, n, dtype=np.int64)
    took = np.exp(rng.normal(np.log(70), 0.35, n)) * US_PER_SECOND
    ready = requested + took.astype(np.int64)
    failed = rng.random(n) < 0.005
    ready[failed] = NOT_READY
    records = [
        ProvisioningRecord.model_construct(
            kind="provisioning",
            id=f"vps-{i}",
            customer=None,
            location="fra",
            requested=r,
            ready=None if f else d,
            failed=f,
        )
        for i, (r, d, f) in enumerate(
            zip(requested.tolist(), ready.tolist(), failed.tolist(), strict=True)
        )
    ]
    layout_s = best(lambda: provisioning_arrays(records), repeat)
    sort_s = best(lambda: Provisioning.from_arrays(requested, ready, failed), repeat)
    order = np.argsort(requested)
    in_order = requested[order], ready[order], failed[order]
    sorted_s = best(lambda: Provisioning.from_arrays(*in_order), repeat)
    data = Provisioning.from_arrays(requested, ready, failed)
    month_s = best(
        lambda: evaluate_percentile("vps", MEDIAN, data, OCTOBER, UTC, OCTOBER.end), repeat
    )
    p95_s = best(lambda: evaluate_percentile("vps", P95, data, OCTOBER, UTC, OCTOBER.end), repeat)
    series_s = best(lambda: daily_series(data, MEDIAN, UTC, OCTOBER.end), repeat)
    result = evaluate_percentile("vps", MEDIAN, data, OCTOBER, UTC, OCTOBER.end)
    for day in (result.days[0], result.days[-1]):
        assert day.value_seconds == _plain_median(requested, ready, failed, day.at)
    counts = [day.count for day in result.days]
    print(f"Provisioning records: {n:,}; windows of {min(counts):,}–{max(counts):,} records")
    print(f"  arrays from record objects {layout_s * 1000:8.1f} ms")
    print(f"  sort by requested          {sort_s * 1000:8.1f} ms")
    print(f"  the same, already in order {sorted_s * 1000:8.1f} ms")
    print(f"  31 daily medians (30 d)    {month_s * 1000:8.1f} ms  (met: {result.met})")
    print(f"  31 daily 95th percentiles  {p95_s * 1000:8.1f} ms")
    print(f"  90-day series of medians   {series_s * 1000:8.1f} ms")
    print(
        "  first and last day checked against the plain rule: "
        f"{result.days[0].value_seconds} s, {result.days[-1].value_seconds} s"
    )
    return records


def _plain_median(requested: Any, ready: Any, failed: Any, at: int) -> Decimal:
    """The median at ``at`` by the words of the rule: Python ints, one sorted list."""
    inf = float("inf")
    values: list[float | int] = []
    for r, d, f in zip(requested.tolist(), ready.tolist(), failed.tolist(), strict=True):
        if at - 30 * US_PER_DAY <= r < at:
            values.append(inf if f else min(d, at) - r)
    values.sort()
    n = len(values)
    middle = values[n // 2 : n // 2 + 1] if n % 2 else values[n // 2 - 1 : n // 2 + 1]
    if inf in middle:
        return Decimal("Infinity")
    mean = Fraction(int(sum(middle)), len(middle)) / US_PER_SECOND
    return Decimal(mean.numerator) / Decimal(mean.denominator)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the records")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    arguments = parser.parse_args()
    scale = 10 if arguments.quick else 1
    rng = np.random.default_rng(2026)
    events = ddos(100_000 // scale, arguments.repeat, rng)
    records = provisioning(1_000_000 // scale, arguments.repeat, rng)
    contract = Contract.model_validate(
        {
            "contract": "bench",
            "name": "Bench",
            "services": {"power": {"name": "Power", "target": "99.99", "downtime": _FF}},
            "commitments": {
                "ddos-mitigation": DDOS.model_dump(mode="json"),
                "vps-provisioning": MEDIAN.model_dump(mode="json"),
            },
        }
    )
    record_set = RecordSet(ddos=tuple(events), provisioning=tuple(records))
    whole_s = best(
        lambda: settle_commitments(contract, {}, record_set, OCTOBER, OCTOBER.end),
        arguments.repeat,
    )
    print(f"Both through settle_commitments (from record objects): {whole_s * 1000:.1f} ms")


if __name__ == "__main__":
    main()
