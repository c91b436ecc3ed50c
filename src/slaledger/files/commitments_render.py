"""The commitments of a report as a table for people and as CSV rows.

JSON is the results' own ``as_dict`` (:mod:`slaledger.core.commitment_results`). The table
and the CSV show each commitment's compliance with its counts, and under it every item that
was not met (missed, late, pending, not covered) with its due time; for a percentile
commitment, the days judged and each day that was not met.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from slaledger.core.commitment_results import CommitmentResult, seconds_text
from slaledger.core.timebase import format_instant

CSV_COLUMNS = (
    "commitment",
    "kind",
    "met",
    "items_met",
    "items_missed",
    "items_late",
    "items_pending",
    "items_not_covered",
    "id",
    "status",
    "start",
    "due",
    "end",
    "elapsed_seconds",
    "late_hours",
    "at",
    "count",
    "value_seconds",
)
"""A summary row per commitment (``id`` empty), then a row per item not met (``met`` and
the counts empty) or, for a percentile commitment, per day not met (``at``, ``count``,
``value_seconds``)."""

_COUNT_KEYS = ("met", "missed", "late", "pending", "not-covered")


def _verdict(met: bool | None) -> str:
    return "not judged" if met is None else ("yes" if met else "NO")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def commitments_csv(commitments: Sequence[CommitmentResult]) -> str:
    """The commitments as a CSV table of :data:`CSV_COLUMNS`."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for result in commitments:
        row: dict[str, str] = {
            "commitment": result.commitment,
            "kind": result.kind,
            "met": _text(result.met),
        }
        if result.kind != "percentile":
            for key in _COUNT_KEYS:
                row[f"items_{key.replace('-', '_')}"] = _text(result.counts.get(key))
        writer.writerow(row)
        for item in result.items:
            writer.writerow(
                {
                    "commitment": result.commitment,
                    "kind": result.kind,
                    "id": item.id,
                    "status": item.status,
                    "start": format_instant(item.start),
                    "due": "" if item.due is None else format_instant(item.due),
                    "end": "" if item.end is None else format_instant(item.end),
                    "elapsed_seconds": _text(seconds_text(item.elapsed_seconds)),
                    "late_hours": _text(item.late_hours),
                }
            )
        for day in result.days:
            if day.met is False:
                writer.writerow(
                    {
                        "commitment": result.commitment,
                        "kind": result.kind,
                        "status": "missed",
                        "at": format_instant(day.at),
                        "count": str(day.count),
                        "value_seconds": _text(seconds_text(day.value_seconds)),
                    }
                )
    return out.getvalue()


def _summary(result: CommitmentResult) -> str:
    if result.kind == "percentile":
        judged = [day for day in result.days if day.met is not None]
        met = sum(1 for day in judged if day.met)
        return f"{met} of {len(judged)} days judged met ({len(result.days)} days)"
    return ", ".join(f"{result.counts[key]} {key}" for key in _COUNT_KEYS if key in result.counts)


def commitments_table(commitments: Sequence[CommitmentResult], at: int | None) -> list[str]:
    """Lines of the commitments table: one row per commitment, its exceptions under it."""
    when = "" if at is None else f" (evaluated at {format_instant(at)})"
    lines = ["", f"commitments{when}:"]
    if not commitments:
        return [*lines, "  none in the contract"]
    names = max(len("commitment"), *(len(result.commitment) for result in commitments))
    kinds = max(len("first-response"), *(len(result.kind) for result in commitments))
    header = f"{'commitment'.ljust(names)}  {'kind'.ljust(kinds)}  {'met'.ljust(10)}  items"
    lines += [header, "-" * len(header)]
    for result in commitments:
        lines.append(
            f"{result.commitment.ljust(names)}  {result.kind.ljust(kinds)}  "
            f"{_verdict(result.met).ljust(10)}  {_summary(result)}"
        )
        for item in result.items:
            due = "-" if item.due is None else format_instant(item.due)
            end = "open" if item.end is None else format_instant(item.end)
            late = "" if item.late_hours is None else f", {item.late_hours} h late"
            lines.append(
                f"    {item.status:<11} {item.id}  start {format_instant(item.start)}  "
                f"due {due}  end {end}  elapsed {seconds_text(item.elapsed_seconds)} s{late}"
            )
        for day in result.days:
            if day.met is False:
                lines.append(
                    f"    {'missed':<11} day ending {format_instant(day.at)}  "
                    f"{day.count} records  value {seconds_text(day.value_seconds)} s"
                )
    return lines
