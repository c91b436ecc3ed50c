"""Rendering a settled report as JSON, CSV, or a table for people."""

from __future__ import annotations

import csv
import io
import json
from typing import Literal

from slaledger.core.report import Report, Result
from slaledger.core.timebase import format_instant
from slaledger.files.commitments_render import commitments_csv, commitments_table
from slaledger.files.credits_render import credits_csv, credits_table

ReportFormat = Literal["table", "json", "csv"]
FORMATS: tuple[ReportFormat, ...] = ("table", "json", "csv")

CSV_COLUMNS = (
    "contract",
    "service",
    "location",
    "rule",
    "period_start",
    "period_end",
    "target",
    "total_minutes",
    "downtime_minutes",
    "excluded_minutes",
    "availability",
    "met",
    "credit_percent",
    "probes_up",
    "probes_down",
    "probes_excluded",
    "episodes",
    "episodes_counted",
)


def render_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_csv(report: Report) -> str:
    """One row per result; episodes are counted here and listed in full in JSON. With
    commitments, a blank line and their own table follow (:mod:`commitments_render`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.results:
        period = r.period.as_dict()
        writer.writerow(
            _cell(v)
            for v in (
                report.contract,
                r.service,
                r.location,
                r.rule,
                period["start"],
                period["end"],
                r.target,
                r.total_minutes,
                r.downtime_minutes,
                r.excluded_minutes,
                r.availability_text,
                r.met,
                r.credit_percent,
                r.probes.up,
                r.probes.down,
                r.probes.excluded,
                len(r.episodes),
                sum(1 for e in r.episodes if e.counted_minutes),
            )
        )
    if report.commitments is not None:  # a second table, after a blank line
        out.write("\n" + commitments_csv(report.commitments))
    if report.credits is not None:  # and the credits, after another blank line
        out.write("\n" + credits_csv(report.credits))
    return out.getvalue()


_TABLE_COLUMNS = (
    "service",
    "location",
    "rule",
    "availability",
    "target",
    "met",
    "credit",
    "down min",
    "excl. min",
    "probes up/down/excl.",
)
_RIGHT = {"availability", "target", "credit", "down min", "excl. min", "probes up/down/excl."}


def _row(r: Result) -> tuple[str, ...]:
    met = "no data" if r.met is None else ("yes" if r.met else "NO")
    return (
        r.service,
        r.location or "-",
        r.rule,
        "-" if r.availability_text is None else f"{r.availability_text} %",
        f"{r.target} %",
        met,
        f"{r.credit_percent} %",
        _cell(r.downtime_minutes) or "-",
        _cell(r.excluded_minutes) or "-",
        f"{r.probes.up}/{r.probes.down}/{r.probes.excluded}",
    )


def _episode_lines(r: Result) -> list[str]:
    lines = [
        f"    {format_instant(e.start)} -> {format_instant(e.end)}  "
        f"{e.status}, {e.counted_minutes} min: {e.reason}"
        for e in r.episodes
        if e.counted_minutes
    ]
    skipped: dict[str, int] = {}
    for e in r.episodes:
        if not e.counted_minutes:
            skipped[e.status] = skipped.get(e.status, 0) + 1
    if skipped:
        listed = ", ".join(f"{n} {status}" for status, n in sorted(skipped.items()))
        lines.append(f"    (not counted: {listed}; all episodes are in --format json)")
    return lines


def render_table(report: Report) -> str:
    """One row per result with its counted episodes listed under it."""
    period = report.period.as_dict()
    rows = [_row(r) for r in report.results]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(_TABLE_COLUMNS)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(w) if name in _RIGHT else cell.ljust(w)
            for name, cell, w in zip(_TABLE_COLUMNS, cells, widths, strict=True)
        ).rstrip()

    out = [f"{report.contract}  {period['start']} -> {period['end']}", ""]
    out.append(line(_TABLE_COLUMNS))
    out.append(line(tuple("-" * w for w in widths)))
    for r, row in zip(report.results, rows, strict=True):
        out.append(line(row))
        out.extend(_episode_lines(r))
    if report.commitments is not None:
        out.extend(commitments_table(report.commitments, report.evaluated_at))
    if report.credits is not None:
        out.extend(credits_table(report.credits))
    return "\n".join(out) + "\n"


def render_report(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "table":
        return render_table(report)
    raise ValueError(f"unknown report format {fmt!r}")
